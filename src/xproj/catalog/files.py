"""The two phases of every table write, and their undoing.

Phase 1 writes (or links) Parquet data files into a table's folder, where no reader sees them until a log entry names them; phase 2 commits one Delta transaction per table, carrying the run's application transaction ``(xproj.run.<run_id>, 1)`` and the commit metadata that :meth:`Lake.versions` reads. A failure undoes both: files are deleted, a version that is still the latest is deleted, a later one is compensated by a removing commit. Signals wait while a transaction is written and while a rollback runs (:func:`~xproj.catalog.locks.signals_deferred`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import DeltaError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    PostCommitHookProperties,
    RemoveAction,
    Transaction,
    create_table_with_add_actions,
)

from xproj.catalog import faults
from xproj.catalog.lineage import RunRecord
from xproj.catalog.locks import signals_deferred
from xproj.schemas.errors import (
    E_SCHEMA_MISMATCH,
    CatalogError,
)
from xproj.schemas.tables import schema_of

logger = logging.getLogger(__name__)

ROWS_PER_FILE = 1_000_000

_META_RUN_ID = "xproj.run_id"
_META_RUN_KEY = "xproj.run_key"
_META_FLOW = "xproj.flow"
_META_ROWS = "xproj.rows"
_META_COMMIT = "xproj.commit"
_META_WRITER = "xproj.writer"
_WRITER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RUN_FILE = re.compile(r"^part-([0-9a-f]{32})-[0-9a-f]{12}\.parquet$")
_TXN_PREFIX = "xproj.run."
_NO_HOOKS = PostCommitHookProperties(create_checkpoint=False, cleanup_expired_logs=False)


@dataclass(frozen=True, slots=True)
class StagedFiles:
    """Parquet files already written (e.g. by ``Staging``), to be committed without loading them.

    ``Lake.commit`` links (or copies) each file into the table folder and commits them as one
    version, so committing a large run needs memory for one file's ``run_id`` column at a time.
    Every file must have the table's declared schema.
    """

    paths: tuple[Path, ...]


@dataclass(slots=True)
class _Staged:
    """Data files of one output written in phase 1, and what phase 2 made of them."""

    table: str
    rows: int
    adds: list[AddAction]
    created_dir: bool
    version: int | None = None
    created_table: bool = False


def _file_rows(files: StagedFiles) -> list[int]:
    """The row count of each staged file, from its Parquet footer (read once per commit)."""
    return [pq.ParquetFile(f).metadata.num_rows for f in files.paths]


def data_file_paths(dt: DeltaTable) -> list[str]:
    """The local paths of the data files of ``dt``'s version, as its log lists them.

    ``DeltaTable.file_uris`` percent-encodes them (a lake under ``my lake/`` gives
    ``my%20lake/``), so they are decoded here, once, for every reader of data files.
    """
    return [unquote(uri.removeprefix("file://")) for uri in dt.file_uris()]


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


def _file_stats(rows: int) -> str:
    """Delta file statistics: the row count only.

    No per-column bounds: deltalake's ``to_pyarrow_dataset`` turns the stats of a file into a
    guarantee over every column, and a column without bounds becomes ``col >= null``, which prunes
    the file from any filtered scan (DuckDB then returns no rows for ``WHERE label = 'PER'``).
    Without bounds there is no pruning, and every filter is evaluated on the rows.
    """
    return json.dumps({"numRecords": rows})


def _add_action(folder: Path, file_name: str, rows: int) -> AddAction:
    """The log entry of a data file written (or linked) into ``folder``."""
    return AddAction(
        path=file_name,
        size=(folder / file_name).stat().st_size,
        partition_values={},
        modification_time=int(time.time() * 1000),
        data_change=True,
        stats=_file_stats(rows),
    )


def _unlink_files(folder: Path, adds: list[AddAction]) -> None:
    for add in adds:
        (folder / add.path).unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


class TableFiles:
    """How :class:`~xproj.catalog.lake.Lake` writes: data files first (phase 1), then one Delta transaction per table (phase 2), each with the run's application transaction; rollback and compensating removals."""

    def _run_versions(self, run_id: str, tables: Sequence[str]) -> dict[str, int]:
        """Table → version, for the tables that hold rows of ``run_id`` (committed by this run).

        A table holds the run's rows when its log has the run's application transaction and
        the run's data files are still in its latest version (a rollback or an orphan clean-up
        removes them again, and the table is then written anew).
        """
        app_id = _TXN_PREFIX + run_id
        prefix = f"part-{run_id}-"
        found = {}
        for name in tables:
            if not self._exists(name):
                continue
            dt = DeltaTable(self.path(name))
            if dt.transaction_version(app_id) is None:
                continue
            if not any(Path(uri).name.startswith(prefix) for uri in dt.file_uris()):
                continue
            found[name] = max(
                int(c["version"])
                for c in dt.history()
                if c.get(_META_RUN_ID) == run_id and int(c.get(_META_ROWS) or 0) > 0
            )
        return found

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

    def _stage(self, staged: list[_Staged], name: str, rows: int) -> _Staged:
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

    def _link_files(
        self, item: _Staged, files: StagedFiles, rows: Sequence[int], run_id: str
    ) -> None:
        """Phase 1 for staged files: hard-link (or copy) them into the table folder.

        ``rows`` holds each file's row count (:func:`_file_rows`); empty files are left out.
        """
        folder = self.path(item.table)
        for source, n in zip(files.paths, rows, strict=True):
            if n == 0:
                continue
            folder.mkdir(parents=True, exist_ok=True)  # no empty folder for a table without rows
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
            item.adds.append(_add_action(folder, file_name, n))

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
            item.adds.append(_add_action(folder, file_name, part.num_rows))

    def _commit_files(
        self, item: _Staged, run: RunRecord | None, writer: str | None = None
    ) -> None:
        """Phase 2: one Delta transaction adding ``item``'s files; sets ``item.version``.

        The commit's metadata names ``run``, or ``writer`` for an :meth:`append` outside a run.
        SIGINT and SIGTERM wait until ``item.version`` is known, so that a rollback finds the
        version (:func:`~xproj.catalog.locks.signals_deferred`).
        """
        with signals_deferred():
            faults.in_commit()
            self._commit_files_now(item, run, writer)

    def _commit_files_now(self, item: _Staged, run: RunRecord | None, writer: str | None) -> None:
        token = uuid.uuid4().hex
        metadata: dict[str, Any] = {_META_ROWS: item.rows, _META_COMMIT: token}
        txns = None
        if run is not None:
            metadata |= {_META_RUN_ID: run.run_id, _META_RUN_KEY: run.run_key, _META_FLOW: run.flow}
            txns = [Transaction(_TXN_PREFIX + run.run_id, 1)]
        else:
            metadata[_META_WRITER] = writer
        props = CommitProperties(custom_metadata=metadata, app_transactions=txns)
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
        """Undo phase 1 and 2 for every staged output; returns what was done, for the error.

        Signals wait until it is done: a rollback cut in two leaves what a crash leaves.
        """
        with signals_deferred():
            return self._roll_back_now(staged)

    def _roll_back_now(self, staged: list[_Staged]) -> str:
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
        self._remove_files(item.table, [a.path for a in item.adds], "rollback", rows=item.rows)

    def _remove_files(
        self, table: str, files: Sequence[str], why: str, rows: int | None = None
    ) -> None:
        """One commit that removes ``files`` (names in the table folder) from ``table``."""
        folder = self.path(table)
        if rows is None:
            rows = sum(pq.ParquetFile(folder / f).metadata.num_rows for f in files)
        now = int(time.time() * 1000)
        removes = [RemoveAction(f, True, now, (folder / f).stat().st_size, {}) for f in files]
        DeltaTable(folder).create_write_transaction(
            removes,
            "append",
            DeltaSchema.from_arrow(schema_of(table)),
            commit_properties=CommitProperties(
                custom_metadata={_META_ROWS: -rows, _META_WRITER: why.replace(" ", "_")[:64]}
            ),
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
