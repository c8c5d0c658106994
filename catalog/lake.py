"""The lake: one Delta table per declared table under a root folder, written a whole run at a time.

A run's outputs become new table versions in :meth:`Lake.commit`, followed by its row in ``runs``
(which names the versions it made). Commit happens in two phases, so a failure leaves no version:

1. Every output is conformed to its declared schema and written as Parquet data files into its
   table folder. Files that no log entry references are invisible to every Delta reader, so a
   failure here only deletes them again.
2. The log entries are committed, one Delta transaction per table (``create_write_transaction``,
   or ``create_table_with_add_actions`` for a new table), then the ``runs`` row. Delta has no
   transaction across tables, so if a later commit fails, each earlier one is rolled back: when
   the run's version is still the table's latest, its log entry and data files are deleted (the
   version disappears; a table the run created disappears); when another writer has committed on
   top in the meantime, a compensating commit removes the run's files instead (the table gains an
   add and a remove version, and its latest state holds none of the run's rows). Either way the
   run's ``runs`` row is never written, and the original error is raised as a ``CatalogError``
   whose message says what was rolled back. A reader that opened a table between a commit and its
   rollback may have seen the rolled-back version. A process killed during phase 2 cannot roll
   back: the versions it committed stay, without a ``runs`` row; :meth:`Lake.orphan_versions`
   finds them.

An output with no rows makes no version: the ``runs`` row lists it with ``version`` null and
``rows`` 0, and the dict returned by ``commit`` leaves it out.

A table that is no run's output (the translation cache, written shard by shard so that a crash
loses at most one shard) is written with :meth:`Lake.append`: one version per call, the same two
phases for that one table, and no ``runs`` row.

Only local paths are supported as roots for now.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pds
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import DeltaError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    PostCommitHookProperties,
    RemoveAction,
    create_table_with_add_actions,
)

from catalog.lineage import InputRef, OutputRef, RunRecord
from schemas.errors import (
    E_SCHEMA_MISMATCH,
    E_UNKNOWN_TABLE,
    E_UNKNOWN_VERSION,
    CatalogError,
    XprojError,
)
from schemas.tables import TABLES, conform, empty, schema_of

logger = logging.getLogger(__name__)

ENV_LAKE = "XPROJ_LAKE"
DEFAULT_ROOT = Path("data") / "lake"
RUNS = "runs"
STAGING_DIR = "_staging"
ROWS_PER_FILE = 1_000_000

_META_RUN_ID = "xproj.run_id"
_META_RUN_KEY = "xproj.run_key"
_META_FLOW = "xproj.flow"
_META_ROWS = "xproj.rows"
_META_COMMIT = "xproj.commit"
_META_WRITER = "xproj.writer"
_WRITER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NO_HOOKS = PostCommitHookProperties(create_checkpoint=False, cleanup_expired_logs=False)


@dataclass(frozen=True, slots=True)
class StagedFiles:
    """Parquet files already written (e.g. by ``Staging``), to be committed without loading them.

    ``Lake.commit`` links (or copies) each file into the table folder and commits them as one
    version, so committing a large run needs memory for one file's ``run_id`` column at a time.
    Every file must have the table's declared schema.
    """

    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a table: when and how it was made, by which run, with how many new rows."""

    version: int
    timestamp: datetime
    operation: str
    run_id: str | None
    rows_added: int | None


@dataclass(slots=True)
class _Staged:
    """Data files of one output written in phase 1, and what phase 2 made of them."""

    table: str
    rows: int
    adds: list[AddAction]
    created_dir: bool
    version: int | None = None
    created_table: bool = False


class Lake:
    """Versioned tables under one root folder.

    The root is ``root`` if given, else ``$XPROJ_LAKE``, else ``./data/lake``.

    Example:
        >>> import tempfile
        >>> from catalog.lineage import RunRecord
        >>> lake = Lake(tempfile.mkdtemp())
        >>> run = RunRecord.start("demo", {"n": 1})
        >>> rows = [{"run_id": run.run_id, "stage": "read", "source": "a.conll",
        ...          "locator": "line 3", "code": "XP103", "reason": "tag count", "raw": ""}]
        >>> lake.commit(run, {"rejected": rows})
        {'rejected': 0, 'runs': 0}
        >>> lake.read("rejected").num_rows, lake.latest_version("rejected")
        (1, 0)
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        chosen = root if root is not None else os.environ.get(ENV_LAKE) or DEFAULT_ROOT
        text = os.fspath(chosen)
        if "://" in text and not text.startswith("file://"):
            raise CatalogError(
                f"lake root {text!r} is an object-store URI; only local paths are supported.",
                fix=f"pass a local folder (argument or ${ENV_LAKE}).",
            )
        self.root = Path(text.removeprefix("file://")).expanduser().absolute()

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    # Reading

    def path(self, table: str) -> Path:
        """The folder of ``table`` (whether or not it exists yet)."""
        return self.root / table

    def tables(self) -> list[str]:
        """Names of the tables that have at least one version, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(("_", ".")) and _is_table(p)
        )

    def _exists(self, table: str) -> bool:
        return _is_table(self.path(table))

    def _unknown_table(self, table: str) -> CatalogError:
        present = self.tables()
        return CatalogError(
            f"no table {table!r} in lake {self.root}; tables: {', '.join(present) or 'none'} "
            f"(declared: {', '.join(sorted(TABLES))}).",
            fix="check the table name; a declared table appears once a run writes rows to it.",
            code=E_UNKNOWN_TABLE,
        )

    def _check_name(self, table: str) -> None:
        if table not in TABLES and not self._exists(table):
            raise self._unknown_table(table)

    def _open(self, table: str, version: int | None = None) -> DeltaTable:
        if not self._exists(table):
            raise self._unknown_table(table)
        if version is not None:
            latest = DeltaTable(self.path(table)).version()
            if (
                not isinstance(version, int)
                or isinstance(version, bool)
                or not (0 <= version <= latest)
            ):
                raise self._unknown_version(table, version, latest)
        try:
            return DeltaTable(self.path(table), version=version)
        except DeltaError as exc:
            raise self._unknown_version(table, version, None, exc) from exc

    def _unknown_version(
        self, table: str, version: Any, latest: int | None, exc: Exception | None = None
    ) -> CatalogError:
        if latest is None:
            latest = DeltaTable(self.path(table)).version()
        known = ", ".join(str(v.version) for v in self.versions(table))
        detail = f" ({exc})" if exc else ""
        return CatalogError(
            f"table {table!r} has no version {version!r}; versions: {known}{detail}.",
            fix=f"pin a listed version, or leave the version out for the latest ({latest}).",
            code=E_UNKNOWN_VERSION,
        )

    def latest_version(self, table: str) -> int | None:
        """The latest version of ``table``, or None for a declared table with no version yet.

        Raises:
            CatalogError: XP401 for a name that is neither declared nor in the lake.
        """
        self._check_name(table)
        return DeltaTable(self.path(table)).version() if self._exists(table) else None

    def versions(self, table: str) -> list[VersionInfo]:
        """Every version of ``table``, oldest first (empty for a declared table never written)."""
        self._check_name(table)
        if not self._exists(table):
            return []
        infos = []
        for commit in DeltaTable(self.path(table)).history():
            rows = commit.get(_META_ROWS)
            if rows is None:
                rows = (commit.get("operationMetrics") or {}).get("num_added_rows")
            infos.append(
                VersionInfo(
                    version=int(commit["version"]),
                    timestamp=datetime.fromtimestamp(commit["timestamp"] / 1000, tz=UTC),
                    operation=str(commit.get("operation", "")),
                    run_id=commit.get(_META_RUN_ID),
                    rows_added=None if rows is None else int(rows),
                )
            )
        return sorted(infos, key=lambda v: v.version)

    def dataset(self, table: str, version: int | None = None) -> pds.Dataset:
        """A pyarrow dataset of ``table`` at ``version`` (latest by default), e.g. for DuckDB.

        Only the files of that version are in it: rows a later version removed stay out, rows
        of a rolled-back or uncommitted run never appear. A declared table with no version yet
        gives an empty dataset.
        """
        self._check_name(table)
        if not self._exists(table) and version is None:
            return pds.dataset(empty(table))
        return self._open(table, version).to_pyarrow_dataset()

    def read(self, table: str, version: int | None = None) -> pa.Table:
        """All rows of ``table`` at ``version`` (latest by default), typed as declared.

        Rows of one commit keep their order; the order of commits' rows is not defined (sort, or
        query with ORDER BY, when it matters).

        Raises:
            CatalogError: XP401 for an unknown table, XP402 for a version it does not have.
        """
        data = self.dataset(table, version).to_table()
        return conform(table, data) if table in TABLES else data

    def input_ref(
        self, table: str, name: str | None = None, version: int | None = None
    ) -> InputRef:
        """An :class:`InputRef` to ``table`` at ``version`` (latest by default), for lineage."""
        if version is None:
            version = self.latest_version(table)
            if version is None:
                raise self._unknown_table(table)
        else:
            self._open(table, version)
        return InputRef(name or table, table, version, None)

    def find_run(self, run_key: str, status: str = "ok") -> RunRecord | None:
        """The latest committed run with ``run_key`` and ``status``, or None.

        A flow calls this with its :attr:`RunRecord.run_key` to skip a run already done.
        """
        runs = self.read(RUNS)
        mask = pc.and_(pc.equal(runs["run_key"], run_key), pc.equal(runs["status"], status))
        hits = runs.filter(mask)
        if hits.num_rows == 0:
            return None
        latest = hits.sort_by([("finished_at", "descending")]).slice(0, 1).to_pylist()[0]
        return RunRecord.from_row(latest)

    def orphan_versions(self) -> list[tuple[str, VersionInfo]]:
        """Versions made by a commit whose run has no row in ``runs``.

        Only a process killed in the middle of :meth:`commit` (after some table commits, before
        the ``runs`` row) leaves these: rollback never ran. Their rows are visible to readers;
        remove them with Delta (e.g. ``DeltaTable(lake.path(t)).delete(f"run_id = '{id}'")``).
        """
        committed = set(self.read(RUNS)["run_id"].to_pylist())
        return [
            (table, info)
            for table in self.tables()
            if table != RUNS
            for info in self.versions(table)
            if info.run_id is not None and info.run_id not in committed and info.rows_added
        ]

    # Writing

    def commit(
        self,
        run: RunRecord,
        outputs: Mapping[str, pa.Table | list[dict[str, Any]] | StagedFiles],
    ) -> dict[str, int]:
        """Append each output as a new version of its table, then the run's row to ``runs``.

        All outputs are conformed first (nothing is written if one does not fit its schema). In
        tables whose ``run_id`` column is required, every row must carry ``run.run_id``. The run
        is marked finished now if it is not yet (status ``running`` becomes ``ok``), and
        ``run.outputs`` is set.

        Args:
            run: the lineage record of the run.
            outputs: table name → rows (Arrow table or row dicts) or ``StagedFiles`` (Parquet
                files written earlier, committed without loading them); ``runs`` is not
                allowed.

        Returns:
            Table name → the version this commit made, for each non-empty output and ``runs``.

        Raises:
            CatalogError: XP401 for an undeclared table, XP405 for data that does not fit, and,
                when a write or commit fails, a CatalogError saying what was rolled back.
        """
        if RUNS in outputs:
            raise CatalogError(
                f"{RUNS!r} cannot be an output: commit writes the run's row itself.",
                fix="pass the run's lineage as the RunRecord.",
                code=E_UNKNOWN_TABLE,
            )
        conformed = {
            name: data if isinstance(data, StagedFiles) else conform(name, data)
            for name, data in outputs.items()
        }
        for name, table in conformed.items():
            if isinstance(table, StagedFiles):
                self._check_staged_files(name, table, run.run_id)
            else:
                self._check_run_ids(name, table, run.run_id)
        if run.finished_at is None:
            run.finish("ok" if run.status == "running" else run.status)
        conform(RUNS, [run.to_row([OutputRef(n, None, 0) for n in conformed])])
        for name in [*conformed, RUNS]:
            self._check_schema(name)

        staged: list[_Staged] = []
        try:
            for name, table in conformed.items():
                if isinstance(table, StagedFiles):
                    self._link_files(self._stage_files(staged, name, table), table, run.run_id)
                else:
                    self._write_files(self._stage(staged, name, table), table, run.run_id)
            for item in staged:
                if item.rows:
                    self._commit_files(item, run)
            refs = [OutputRef(s.table, s.version, s.rows) for s in staged]
            runs_row = conform(RUNS, [run.to_row(refs)])
            runs_item = self._stage(staged, RUNS, runs_row)
            self._write_files(runs_item, runs_row, run.run_id)
            self._commit_files(runs_item, run)
        except BaseException as exc:
            report = self._roll_back(staged)
            if isinstance(exc, XprojError | KeyboardInterrupt | SystemExit):
                if isinstance(exc, XprojError):
                    exc.message += f" (commit of run {run.run_id} rolled back: {report})"
                raise
            raise CatalogError(
                f"commit of run {run.run_id} failed ({type(exc).__name__}: {exc}); "
                f"rolled back: {report}.",
                fix="fix the cause and rerun; staged shards, if any, are kept for resuming.",
            ) from exc
        run.outputs = refs
        for item in staged:
            if item.version:
                self._maybe_checkpoint(item.table, item.version)
        return {s.table: s.version for s in staged if s.version is not None}

    def append(
        self,
        table: str,
        parts: Sequence[pa.Table | list[dict[str, Any]]],
        *,
        writer: str,
    ) -> int | None:
        """Append rows to a table that is no run's output, as one new version outside any run.

        Run outputs appear together, through :meth:`commit`. A table that a long-lived
        component fills bit by bit instead (the translation cache appends after every shard, so
        a crash loses at most the shard in progress) is written here: the same two phases for
        one table (data files, then one Delta transaction; a failure deletes the files and
        leaves no version), no ``runs`` row, and commit metadata that names ``writer`` instead
        of a run (:meth:`versions` shows ``run_id`` None; :meth:`orphan_versions` ignores them).
        Concurrent appends to an existing table are serialised by Delta's optimistic commits.

        Args:
            table: a declared table with no required ``run_id`` column (tables with one are
                run outputs); ``runs`` is refused too.
            parts: rows, one Arrow table or list of row dicts per part; each non-empty part is
                written to its own data file(s), so rows read together can share a file.
            writer: who appends (1-64 of ``[A-Za-z0-9_.-]``), e.g. ``"translation_cache"``.

        Returns:
            The version made, or None when every part is empty (no version is made).

        Raises:
            CatalogError: XP401 for an undeclared table or a run-output table, XP405 for rows
                that do not fit, and a CatalogError saying what was rolled back when the write
                or the commit fails.

        Example:
            >>> import tempfile
            >>> from datetime import UTC, datetime
            >>> lake = Lake(tempfile.mkdtemp())
            >>> row = {"key": "0" * 64, "model_id": "m", "quantization": "int8",
            ...        "src_lang": "en", "tgt_lang": "de", "options": "v1", "source": "Hi",
            ...        "translation": "Hallo", "tokens": 2, "source_tokens": 3, "segments": 1,
            ...        "flag": None, "truncated": False, "detail": "",
            ...        "created_at": datetime.now(UTC), "run_id": None}
            >>> lake.append("translation_cache", [[row]], writer="doc")
            0
            >>> lake.versions("translation_cache")[0].run_id is None
            True
        """
        schema = schema_of(table)
        field = schema.field("run_id") if "run_id" in schema.names else None
        if table == RUNS or (field is not None and not field.nullable):
            raise CatalogError(
                f"table {table!r} holds run outputs; append is for tables written outside runs.",
                fix="write it with Lake.commit(run, {table: rows}).",
                code=E_UNKNOWN_TABLE,
            )
        if not _WRITER.match(writer):
            raise ValueError(f"writer {writer!r} must be 1-64 of [A-Za-z0-9_.-]")
        conformed = [conform(table, part) for part in parts]
        self._check_schema(table)
        rows = sum(part.num_rows for part in conformed)
        if rows == 0:
            return None
        item = _Staged(table, rows, [], created_dir=not self.path(table).exists())
        existed = self._exists(table)
        try:
            for part in conformed:
                self._write_files(item, part, writer)
            try:
                self._commit_files(item, None, writer)
            except DeltaError:
                if existed or not self._exists(table):
                    raise
                # Another writer created the table first: append to it instead.
                self._commit_files(item, None, writer)
        except BaseException as exc:
            report = self._roll_back([item])
            if isinstance(exc, XprojError | KeyboardInterrupt | SystemExit):
                raise
            raise CatalogError(
                f"append to {table!r} failed ({type(exc).__name__}: {exc}); rolled back: {report}.",
                fix="fix the cause and append again; the rows were not written.",
            ) from exc
        if item.version:
            self._maybe_checkpoint(table, item.version)
        return item.version

    @staticmethod
    def _check_run_ids(name: str, table: pa.Table, run_id: str) -> None:
        field = table.schema.field("run_id") if "run_id" in table.column_names else None
        if field is None or field.nullable or table.num_rows == 0:
            return
        others = pc.unique(table["run_id"].filter(pc.not_equal(table["run_id"], run_id)))
        if len(others):
            raise CatalogError(
                f"table {name!r}, column 'run_id': rows of run(s) {others.to_pylist()[:3]} in "
                f"the commit of run {run_id}.",
                fix="set run_id to the committing run's RunRecord.run_id in every row.",
                code=E_SCHEMA_MISMATCH,
            )

    def _check_schema(self, name: str) -> None:
        if not self._exists(name):
            return
        stored = DeltaTable(self.path(name)).schema().to_json()
        if json.loads(stored) != json.loads(DeltaSchema.from_arrow(schema_of(name)).to_json()):
            raise CatalogError(
                f"table {name!r} in lake {self.root} has a different schema than declared in "
                "schemas/tables.py.",
                fix="write to a new lake root, or migrate the table to the declared schema.",
                code=E_SCHEMA_MISMATCH,
            )

    def _stage(self, staged: list[_Staged], name: str, table: pa.Table) -> _Staged:
        item = _Staged(name, table.num_rows, [], created_dir=not self.path(name).exists())
        staged.append(item)
        return item

    def _stage_files(self, staged: list[_Staged], name: str, files: StagedFiles) -> _Staged:
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files.paths)
        item = _Staged(name, rows, [], created_dir=not self.path(name).exists())
        staged.append(item)
        return item

    def _check_staged_files(self, name: str, files: StagedFiles, run_id: str) -> None:
        declared = schema_of(name)
        for path in files.paths:
            found = pq.read_schema(path)
            if not found.equals(declared, check_metadata=False):
                raise CatalogError(
                    f"staged file {path} does not have the declared schema of table {name!r}.",
                    fix="stage rows through Staging.put, which conforms them.",
                    code=E_SCHEMA_MISMATCH,
                )
            if "run_id" in declared.names and not declared.field("run_id").nullable:
                self._check_run_ids(name, pq.read_table(path, columns=["run_id"]), run_id)

    def _link_files(self, item: _Staged, files: StagedFiles, run_id: str) -> None:
        """Phase 1 for staged files: hard-link (or copy) them into the table folder."""
        folder = self.path(item.table)
        folder.mkdir(parents=True, exist_ok=True)
        for source in files.paths:
            if pq.ParquetFile(source).metadata.num_rows == 0:
                continue
            file_name = f"part-{run_id}-{uuid.uuid4().hex[:12]}.parquet"
            target = folder / file_name
            try:
                try:
                    os.link(source, target)
                except OSError:  # another filesystem, or links not allowed: copy instead
                    shutil.copyfile(source, target)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            item.adds.append(
                AddAction(
                    path=file_name,
                    size=target.stat().st_size,
                    partition_values={},
                    modification_time=int(time.time() * 1000),
                    data_change=True,
                    stats=json.dumps({"numRecords": pq.ParquetFile(target).metadata.num_rows}),
                )
            )

    def _write_files(self, item: _Staged, table: pa.Table, run_id: str) -> None:
        """Phase 1: Parquet files in the table folder, referenced by no log entry yet."""
        if table.num_rows == 0:
            return
        folder = self.path(item.table)
        folder.mkdir(parents=True, exist_ok=True)
        for offset in range(0, table.num_rows, ROWS_PER_FILE):
            part = table.slice(offset, ROWS_PER_FILE)
            file_name = f"part-{run_id}-{uuid.uuid4().hex[:12]}.parquet"
            try:
                pq.write_table(part, folder / file_name, compression="zstd")
            except BaseException:
                (folder / file_name).unlink(missing_ok=True)
                raise
            item.adds.append(
                AddAction(
                    path=file_name,
                    size=(folder / file_name).stat().st_size,
                    partition_values={},
                    modification_time=int(time.time() * 1000),
                    data_change=True,
                    stats=_file_stats(part),
                )
            )

    def _commit_files(
        self, item: _Staged, run: RunRecord | None, writer: str | None = None
    ) -> None:
        """Phase 2: one Delta transaction adding ``item``'s files; sets ``item.version``.

        The commit's metadata names ``run``, or ``writer`` for an :meth:`append` outside a run.
        """
        token = uuid.uuid4().hex
        metadata: dict[str, Any] = {_META_ROWS: item.rows, _META_COMMIT: token}
        if run is not None:
            metadata |= {_META_RUN_ID: run.run_id, _META_RUN_KEY: run.run_key, _META_FLOW: run.flow}
        else:
            metadata[_META_WRITER] = writer
        props = CommitProperties(custom_metadata=metadata)
        schema = DeltaSchema.from_arrow(schema_of(item.table))
        path = self.path(item.table)
        if _is_table(path):
            DeltaTable(path).create_write_transaction(
                item.adds,
                "append",
                schema,
                commit_properties=props,
                post_commithook_properties=_NO_HOOKS,
            )
        else:
            create_table_with_add_actions(
                str(path),
                schema,
                item.adds,
                mode="error",
                name=item.table,
                commit_properties=props,
                post_commithook_properties=_NO_HOOKS,
            )
            item.created_table = True
        item.version = _find_commit(DeltaTable(path), token)

    def _roll_back(self, staged: list[_Staged]) -> str:
        """Undo phase 1 and 2 for every staged output; returns what was done, for the error."""
        done = []
        for item in reversed(staged):
            path = self.path(item.table)
            try:
                if item.version is None:
                    _unlink_files(path, item.adds)
                    if item.created_dir:
                        _remove_if_empty(path)
                    continue
                latest = DeltaTable(path).version()
                if latest == item.version:
                    for suffix in (".json", ".crc"):
                        (path / "_delta_log" / f"{item.version:020d}{suffix}").unlink(
                            missing_ok=True
                        )
                    _unlink_files(path, item.adds)
                    if item.created_table and item.created_dir:
                        shutil.rmtree(path)
                    done.append(f"{item.table} v{item.version} deleted")
                else:
                    self._compensate(item)
                    done.append(
                        f"{item.table} v{item.version} undone by a removing commit "
                        f"(other writers committed v{item.version + 1}..v{latest})"
                    )
            except (OSError, DeltaError) as exc:
                done.append(f"{item.table} v{item.version} NOT rolled back ({exc}); fix by hand")
        return "; ".join(done) or "nothing was committed"

    def _compensate(self, item: _Staged) -> None:
        now = int(time.time() * 1000)
        removes = [RemoveAction(a.path, True, now, a.size, {}) for a in item.adds]
        DeltaTable(self.path(item.table)).create_write_transaction(
            removes,
            "append",
            DeltaSchema.from_arrow(schema_of(item.table)),
            commit_properties=CommitProperties(custom_metadata={_META_ROWS: -item.rows}),
            post_commithook_properties=_NO_HOOKS,
        )

    def _maybe_checkpoint(self, table: str, version: int) -> None:
        """Checkpoint as Delta would have, had commits not disabled it (to keep rollback simple)."""
        dt = DeltaTable(self.path(table))
        interval = int(dt.metadata().configuration.get("delta.checkpointInterval") or 100)
        if version % interval == 0:
            try:
                dt.create_checkpoint()
            except DeltaError as exc:  # an optimisation only: the commit already succeeded
                logger.warning("checkpoint of %s v%d failed: %s", table, version, exc)


def _is_table(path: Path) -> bool:
    log = path / "_delta_log"
    return log.is_dir() and any(log.glob("*.json"))


def _find_commit(dt: DeltaTable, token: str) -> int:
    for commit in dt.history(limit=50):
        if commit.get(_META_COMMIT) == token:
            return int(commit["version"])
    raise CatalogError(
        f"the commit to {dt.table_uri} succeeded but cannot be found in its recent history.",
        fix="check for many concurrent writers on this lake.",
    )


def _file_stats(table: pa.Table) -> str:
    """Delta file statistics: the row count only.

    No per-column bounds: deltalake's ``to_pyarrow_dataset`` turns the stats of a file into a
    guarantee over every column, and a column without bounds becomes ``col >= null``, which prunes
    the file from any filtered scan (DuckDB then returns no rows for ``WHERE label = 'PER'``).
    Without bounds there is no pruning, and every filter is evaluated on the rows.
    """
    return json.dumps({"numRecords": table.num_rows})


def _unlink_files(folder: Path, adds: list[AddAction]) -> None:
    for add in adds:
        (folder / add.path).unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
