"""The lake: one Delta table per declared table under a root folder, written a whole run at a time.

A run's outputs become new table versions in :meth:`Lake.commit`, followed by its row in ``runs``
(which names the versions it made). The ``runs`` row is the commit record:

- **Readers see committed runs only.** :meth:`Lake.read` and ``xproj.catalog.query`` (and through them
  ``xproj query`` and every export) keep the rows of a run-output table whose ``run_id`` has a row
  in ``runs``. Rows of a run whose commit is still going on, failed, or was killed are never
  visible, whichever table versions they are in.
- **Each table is written at most once per run.** Every table commit carries a Delta application
  transaction ``(xproj.run.<run_id>, 1)``. Checking for it and writing happen under the lake's
  commit lock (``xproj.catalog.locks``), since delta-rs records these ids without enforcing them. A
  commit that finds a table already holding the run's transaction (an earlier attempt was killed
  after that table) skips it, so a rerun after a crash anywhere in the commit completes it
  without writing anything twice.
- **A failure rolls back.** The commit runs in two phases: data files first (invisible until a log
  entry names them), then one Delta transaction per table and the ``runs`` row. When an
  exception (or Ctrl-C) stops it, each table version it made is removed again: its log entry and
  files are deleted while it is still the latest version, otherwise a compensating commit removes
  its files. The original error is raised as a ``CatalogError`` that says what was rolled back.
- **What a killed commit leaves is hidden, then finished or cleaned.** A process killed during
  phase 2 cannot roll back: its table versions stay, hidden from readers because the run has no
  ``runs`` row. The rerun of the same run (its staged shards name the run id) completes the commit;
  :meth:`Lake.clean_orphans`, called by the executor before every commit, removes the files of
  such runs that no staging area can complete any more, and says so.

An output with no rows makes no version: the ``runs`` row lists it with ``version`` null and
``rows`` 0, and the dict returned by ``commit`` leaves it out.

A table that is no run's output (the translation cache, written shard by shard so that a crash
loses at most one shard) is written with :meth:`Lake.append`: one version per call, the same two
phases for that one table, and no ``runs`` row; its rows are never hidden.

Every read of a Delta table goes through ``to_table(use_threads=False)`` (or DuckDB): pyarrow's
threaded read of a delta-rs dataset can abort the interpreter at exit (delta-rs #2184).

Only local paths are supported as roots for now.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pds
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from pyarrow.fs import LocalFileSystem

from xproj.catalog import faults
from xproj.catalog.files import (
    _META_ROWS,
    _META_RUN_ID,
    _RUN_FILE,
    _WRITER,
    StagedFiles,
    TableFiles,
    _file_rows,
    _is_table,
    _Staged,
    data_file_paths,
)
from xproj.catalog.lineage import InputRef, OutputRef, RunRecord
from xproj.catalog.locks import commit_lock, signals_deferred
from xproj.catalog.staging import STAGING_DIR, staged_run_ids
from xproj.schemas.arrow import conform
from xproj.schemas.errors import (
    E_UNKNOWN_TABLE,
    E_UNKNOWN_VERSION,
    CatalogError,
    XprojError,
)
from xproj.schemas.tables import APPENDED_TABLES, TABLES, empty, schema_of

logger = logging.getLogger(__name__)

ENV_LAKE = "XPROJ_LAKE"
DEFAULT_ROOT = Path("data") / "lake"
RUNS = "runs"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a table: when and how it was made, by which run, with how many new rows."""

    version: int
    timestamp: datetime
    operation: str
    run_id: str | None
    rows_added: int | None


class Lake(TableFiles):
    """Versioned tables under one root folder.

    The root is ``root`` if given, else ``$XPROJ_LAKE``, else ``./data/lake``.

    Example:
        >>> import tempfile
        >>> from xproj.catalog.lineage import RunRecord
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
        """A pyarrow dataset of every row of ``table`` at ``version`` (latest by default).

        Only the files of that version are in it: rows a later version removed stay out. This
        is the raw table: in a table of run outputs it also holds rows of runs without a ``runs``
        row (a commit in progress, or one a killed process left). Readers go through
        :meth:`read` or ``xproj.catalog.query``, which keep committed runs only
        (:meth:`committed_filter`). A declared table with no version yet gives an empty dataset.
        """
        self._check_name(table)
        if not self._exists(table) and version is None:
            return pds.dataset(empty(table))
        return _local_dataset(self._open(table, version), table)

    def committed_filter(
        self, table: str, committed: frozenset[str] | None = None
    ) -> tuple[str, bool] | None:
        """How readers keep committed rows of ``table``: ``(column, nullable)`` when the table
        holds run outputs (keep rows whose ``run_id`` has a ``runs`` row, and null ones when
        ``nullable``), None for tables shown whole (``runs``, appended tables)."""
        schema = schema_of(table) if table in TABLES else self.dataset(table).schema
        if not _holds_run_outputs(table, schema):
            return None
        return "run_id", schema.field("run_id").nullable

    def read(
        self,
        table: str,
        version: int | None = None,
        *,
        columns: list[str] | None = None,
        filter: pc.Expression | None = None,
        committed_only: bool = True,
    ) -> pa.Table:
        """Rows of ``table`` at ``version`` (latest by default), typed as declared.

        In a table of run outputs only the rows of committed runs (those with a ``runs`` row)
        are returned, so rows of a run whose commit is in progress, failed or was killed never
        appear. Rows of one commit keep their order; the order of commits' rows is not defined
        (sort, or query with ORDER BY, when it matters).

        Args:
            table: the table name.
            version: the version to read (latest by default).
            columns: read only these columns (then the result is not conformed).
            filter: a pyarrow expression rows must satisfy.
            committed_only: keep rows of committed runs only (the default; ``False`` shows the
                raw table, e.g. for repairs and tests).

        Raises:
            CatalogError: XP401 for an unknown table, XP402 for a version it does not have.
        """
        keep = self.committed_filter(table) if committed_only else None
        wanted = columns
        if keep is not None and columns is not None and keep[0] not in columns:
            wanted = [*columns, keep[0]]
        data = read_dataset(self.dataset(table, version), columns=wanted, filter=filter)
        if keep is not None:
            column, nullable = keep
            ids = pa.array(sorted(self.committed_run_ids()), pa.string())
            mask = pc.is_in(data[column], value_set=ids)
            if nullable:
                mask = pc.or_(mask, pc.is_null(data[column]))
            data = data.filter(mask)
            if wanted is not columns:
                data = data.drop_columns([column])
        return conform(table, data) if table in TABLES and columns is None else data

    def committed_run_ids(self) -> frozenset[str]:
        """The ids of the runs that have a row in ``runs``."""
        if not self._exists(RUNS):
            return frozenset()
        runs = read_dataset(self.dataset(RUNS), columns=["run_id"])
        return frozenset(runs["run_id"].to_pylist())

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
        if runs.num_rows == 0:
            return None
        mask = pc.and_(pc.equal(runs["run_key"], run_key), pc.equal(runs["status"], status))
        hits = runs.filter(mask)
        if hits.num_rows == 0:
            return None
        latest = hits.sort_by([("finished_at", "descending")]).slice(0, 1).to_pylist()[0]
        return RunRecord.from_row(latest)

    def orphan_versions(self) -> list[tuple[str, VersionInfo]]:
        """Versions made by a commit whose run has no row in ``runs``.

        Only a process killed in the middle of :meth:`commit` (after some table commits, before
        the ``runs`` row) leaves these: rollback never ran. Their rows are hidden from readers;
        the rerun of the run completes the commit, or :meth:`clean_orphans` removes them.
        """
        orphans = self.orphan_runs()
        return [
            (table, info)
            for table in self.tables()
            if table != RUNS
            for info in self.versions(table)
            if info.run_id in orphans and table in orphans[info.run_id] and info.rows_added
        ]

    def orphan_runs(self) -> dict[str, dict[str, list[str]]]:
        """Run id → table → data files of runs that have rows in a table but no ``runs`` row.

        Found from the data files of each table's latest version (every run's files are named
        ``part-<run_id>-…``), so a run whose rows were removed again is not listed.
        """
        committed = self.committed_run_ids()
        found: dict[str, dict[str, list[str]]] = {}
        for table in self.tables():
            if table == RUNS or table in APPENDED_TABLES:
                continue
            for path in DeltaTable(self.path(table)).file_uris():
                match = _RUN_FILE.match(Path(path).name)
                if match and match.group(1) not in committed:
                    found.setdefault(match.group(1), {}).setdefault(table, []).append(
                        Path(path).name
                    )
        return found

    def resumable_runs(self) -> frozenset[str]:
        """Ids of the runs whose staged shards are in ``_staging`` (a rerun can complete them)."""
        return staged_run_ids(self.root / STAGING_DIR)

    def clean_orphans(self) -> list[str]:
        """Remove the rows of killed commits that no rerun can complete; returns what was done.

        A run killed inside :meth:`commit` leaves table versions without a ``runs`` row (hidden
        from readers). When the run's staged shards are still there (``resumable`` holds its id),
        rerunning it completes the commit, so its rows are kept; the message says so. Otherwise a
        compensating commit per table removes the run's files. Runs under the commit lock, so no
        commit in progress is mistaken for an orphan.

        Returns:
            One line per orphaned run, for the log.
        """
        lines: list[str] = []
        with commit_lock(self.root):
            resumable = self.resumable_runs()
            for run_id, tables in sorted(self.orphan_runs().items()):
                listing = ", ".join(f"{t} ({len(f)} file(s))" for t, f in sorted(tables.items()))
                if run_id in resumable:
                    lines.append(
                        f"run {run_id} was killed while committing; its rows in {listing} are "
                        "hidden until its rerun completes the commit"
                    )
                    continue
                for table, files in sorted(tables.items()):
                    self._remove_files(table, files, f"orphans of run {run_id}")
                lines.append(
                    f"removed the rows of run {run_id} from {listing}: its commit was killed "
                    "and no staged shards are left to complete it"
                )
        return lines

    # Writing

    def commit(
        self,
        run: RunRecord,
        outputs: Mapping[str, pa.Table | Sequence[Any] | StagedFiles],
    ) -> dict[str, int]:
        """Append each output as a new version of its table, then the run's row to ``runs``.

        All outputs are conformed first (nothing is written if one does not fit its schema). In
        tables whose ``run_id`` column is required, every row must carry ``run.run_id``. The run
        is marked finished now if it is not yet (status ``running`` becomes ``ok``), and
        ``run.outputs`` is set.

        The whole commit holds the lake's commit lock. A table that already holds this run's
        rows (an earlier attempt of the same run was killed after committing it) is not written
        again; when ``runs`` already holds the run, nothing is written at all. Either way the
        versions that hold the run's rows are returned.

        Args:
            run: the lineage record of the run.
            outputs: table name → rows (an Arrow table, the table's records with ``run_id``
                stamped from ``run``, or row dicts) or ``StagedFiles`` (Parquet files written
                earlier, committed without loading them); ``runs`` is not allowed.

        Returns:
            Table name → the version that holds the run's rows, for each non-empty output and
            ``runs``.

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
            name: data if isinstance(data, StagedFiles) else conform(name, data, run_id=run.run_id)
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
        with commit_lock(self.root):
            return self._commit_locked(run, conformed)

    def _commit_locked(
        self, run: RunRecord, conformed: dict[str, pa.Table | StagedFiles]
    ) -> dict[str, int]:
        done = self._run_versions(run.run_id, [*conformed, RUNS])
        if RUNS in done:  # committed before (by a process killed before it cleaned up)
            row = self.read(RUNS, filter=pc.field("run_id") == run.run_id).to_pylist()
            run.outputs = RunRecord.from_row(row[0]).outputs if row else []
            return done
        staged: list[_Staged] = []
        rows: dict[str, int] = {}
        try:
            for name, table in conformed.items():
                if isinstance(table, StagedFiles):
                    file_rows = _file_rows(table)
                    rows[name] = sum(file_rows)
                    if name not in done:
                        item = self._stage(staged, name, rows[name])
                        self._link_files(item, table, file_rows, run.run_id)
                else:
                    rows[name] = table.num_rows
                    if name not in done:
                        item = self._stage(staged, name, table.num_rows)
                        self._write_files(item, table, run.run_id)
            for item in staged:
                if item.rows:
                    self._commit_files(item, run)
                    faults.table_committed(item.table)
            versions = done | {s.table: s.version for s in staged if s.version is not None}
            refs = [OutputRef(name, versions.get(name), rows[name]) for name in conformed]
            runs_row = conform(RUNS, [run.to_row(refs)])
            runs_item = self._stage(staged, RUNS, runs_row.num_rows)
            self._write_files(runs_item, runs_row, run.run_id)
            self._commit_files(runs_item, run)
            faults.table_committed(RUNS)
        except BaseException as exc:
            report = self._roll_back(staged)
            if isinstance(exc, XprojError | KeyboardInterrupt | SystemExit):
                if isinstance(exc, XprojError):
                    exc.message += f" (commit of run {run.run_id} rolled back: {report})"
                raise
            if not isinstance(exc, Exception):  # an interrupt: roll back, then let it through
                raise
            raise CatalogError(
                f"commit of run {run.run_id} failed ({type(exc).__name__}: {exc}); "
                f"rolled back: {report}.",
                fix="fix the cause and rerun; staged shards, if any, are kept for resuming.",
            ) from exc
        run.outputs = refs
        with signals_deferred():  # the run is committed: an interrupt now must not look otherwise
            for item in staged:
                if item.version:
                    self._maybe_checkpoint(item.table, item.version)
        return {**versions, RUNS: runs_item.version}

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
            table: a table of ``xproj.schemas.tables.APPENDED_TABLES`` or one without a ``run_id``
                column (other tables hold run outputs); ``runs`` is refused too.
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
        if table == RUNS or (field is not None and table not in APPENDED_TABLES):
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


def _local_dataset(dt: DeltaTable, table: str) -> pds.Dataset:
    """The files of ``dt``'s version as a dataset read with pyarrow's local filesystem.

    Not ``DeltaTable.to_pyarrow_dataset()``: its fragments carry the files' column statistics
    as guarantees, and a file that Delta itself rewrote (``DeltaTable.delete``) has string
    bounds typed ``string_view``, on which any filter fails ("no kernel matching input types
    (string, string_view)"); deltalake's filesystem handler can also abort the interpreter at
    exit. The declared schema (else the table's own) types the columns.
    """
    paths = data_file_paths(dt)
    schema = schema_of(table) if table in TABLES else dt.schema().to_arrow()
    if not isinstance(schema, pa.Schema):
        schema = pa.schema(schema)
    return pds.dataset(paths, schema=schema, format="parquet", filesystem=LocalFileSystem())


def read_dataset(
    data: pds.Dataset,
    *,
    columns: list[str] | None = None,
    filter: pc.Expression | None = None,
) -> pa.Table:
    """``data.to_table`` without threads: a threaded read of a delta-rs dataset can abort the
    interpreter at exit ("terminate called without an active exception", delta-rs #2184)."""
    return data.to_table(columns=columns, filter=filter, use_threads=False)


def _holds_run_outputs(table: str, schema: pa.Schema) -> bool:
    return table != RUNS and table not in APPENDED_TABLES and "run_id" in schema.names
