"""Shard-level checkpoints of a run, so a rerun after a crash resumes instead of starting over.

The executor computes a run's outputs shard by shard and ``put``s each shard's tables here; a
rerun with the same ``run_key`` calls ``resume(run)`` (so its rows keep the first attempt's
``run_id``) and skips the shards that are ``done``. When all shards are in, the executor commits
each table's staged ``files`` to the lake in one run and ``clear``s the staging folder. Staged
data is never visible to lake readers: it sits under ``<lake root>/_staging/<run_key>/``, outside
every table.

A shard is written to a temporary folder and renamed into place, so it is either wholly there
(``done``) or not at all: a crash mid-``put`` leaves only a temporary folder, which ``load`` and
``done`` ignore and ``clear`` removes.

When every shard is in, the executor seals the staging area (:meth:`seal`) with the run's summary: a
rerun of a sealed run goes straight to the commit, without reading its inputs again.

Layout: ``_staging/<run_key>/shard-<id>/<table>.parquet`` (plus ``_meta.json``, the shard's counts),
``_staging/<run_key>/run_id`` and, once sealed, ``_staging/<run_key>/sealed.json``.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from xproj.catalog.files import StagedFiles
from xproj.schemas.arrow import conform
from xproj.schemas.errors import E_UNKNOWN_TABLE, CatalogError
from xproj.schemas.tables import TABLES, empty

if TYPE_CHECKING:
    from xproj.catalog.lake import Lake
    from xproj.catalog.lineage import RunRecord

#: The folder under the lake root that holds every run's staging area.
STAGING_DIR = "_staging"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SHARD_PREFIX = "shard-"
_TMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"
_META = "_meta.json"
_SEAL = "sealed.json"
_RUN_ID = "run_id"


def _natural_key(shard_id: str) -> list[Any]:
    """``shard-2`` before ``shard-10``: digit runs compare as numbers."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", shard_id)
        if part
    ]


class Staging:
    """Checkpointed shards of the run with key ``run_key`` in ``lake``.

    Example:
        >>> import tempfile
        >>> from xproj.catalog.lake import Lake
        >>> staging = Staging(Lake(tempfile.mkdtemp()), "k1")
        >>> rows = [{"run_id": "r", "stage": "read", "source": "a", "locator": "line 1",
        ...          "code": "XP101", "reason": "bad", "raw": ""}]
        >>> staging.put(0, {"rejected": rows})
        >>> staging.done(0), staging.done(1), staging.load("rejected").num_rows
        (True, False, 1)
    """

    def __init__(self, lake: Lake, run_key: str) -> None:
        if not _ID.match(run_key):
            raise ValueError(f"run_key {run_key!r} must be 1-128 of [A-Za-z0-9_.-]")
        self.lake = lake
        self.run_key = run_key
        self.folder = lake.root / STAGING_DIR / run_key

    def __repr__(self) -> str:
        return f"Staging({str(self.folder)!r})"

    def resume(self, run: RunRecord) -> RunRecord:
        """Tie ``run`` to this staging area; returns ``run``.

        The first attempt of a run records its ``run_id`` here; a later attempt (same
        ``run_key``) takes that ``run_id`` over, so the rows staged by earlier attempts and the
        run's row in ``runs`` name the same run.
        """
        if run.run_key != self.run_key:
            raise ValueError(f"run_key {run.run_key!r} is not this staging's {self.run_key!r}")
        staged_id = self.staged_run_id()
        if staged_id is not None:
            run.run_id = staged_id
        else:
            if self.folder.exists():  # shards without the run id that staged them: not usable
                shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
            tmp.write_text(run.run_id, encoding="utf-8")
            tmp.rename(self.folder / _RUN_ID)
        return run

    def staged_run_id(self) -> str | None:
        """The id of the run whose shards are staged here (None before the first :meth:`resume`)."""
        marker = self.folder / _RUN_ID
        return marker.read_text(encoding="utf-8").strip() if marker.is_file() else None

    def _shard_dir(self, shard_id: int | str) -> Path:
        sid = str(shard_id)
        if not _ID.match(sid):
            raise ValueError(f"shard id {sid!r} must be 1-128 of [A-Za-z0-9_.-]")
        return self.folder / f"{_SHARD_PREFIX}{sid}"

    def done(self, shard_id: int | str) -> bool:
        """Whether shard ``shard_id`` was staged completely."""
        return self._shard_dir(shard_id).is_dir()

    def shards(self) -> list[str]:
        """Ids of the staged shards, in natural order (``2`` before ``10``)."""
        if not self.folder.is_dir():
            return []
        ids = [
            p.name.removeprefix(_SHARD_PREFIX)
            for p in self.folder.iterdir()
            if p.is_dir() and p.name.startswith(_SHARD_PREFIX)
        ]
        return sorted(ids, key=_natural_key)

    def put(
        self,
        shard_id: int | str,
        tables: Mapping[str, pa.Table | list[dict[str, Any]]],
        *,
        replace: bool = False,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Stage one shard's tables, all or nothing.

        Declared tables are conformed to their schema (so a bad shard fails now, not at commit).

        Args:
            shard_id: the shard's id (int or ``[A-Za-z0-9_.-]`` string).
            tables: table name → rows of this shard (empty tables are kept, as empty files).
            replace: replace a shard that is already staged instead of refusing.
            meta: JSON-ready facts about the shard (its counts), kept with it (:meth:`meta`).

        Raises:
            CatalogError: XP400 when the shard is already staged and ``replace`` is false;
                XP405 when a table does not fit its declared schema.
        """
        target = self._shard_dir(shard_id)
        if target.exists() and not replace:
            raise CatalogError(
                f"shard {shard_id!r} of run {self.run_key} is already staged in {self.folder}.",
                fix="check done(shard_id) before computing a shard, or pass replace=True.",
            )
        typed = {
            name: conform(name, data) if name in TABLES else _as_table(name, data)
            for name, data in tables.items()
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            for name, table in typed.items():
                pq.write_table(table, tmp / f"{name}.parquet")
            if meta is not None:
                (tmp / _META).write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
            if replace and target.exists():
                # Not atomic with the rename below: a crash in between leaves the shard not done,
                # and the rerun recomputes it.
                shutil.rmtree(target)
            tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def tables(self, shard_id: int | str) -> list[str]:
        """The names of the tables staged with shard ``shard_id``, sorted (none when not staged)."""
        folder = self._shard_dir(shard_id)
        return sorted(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []

    def meta(self, shard_id: int | str) -> dict[str, Any] | None:
        """What :meth:`put` was given as ``meta`` for a staged shard (None when it had none)."""
        path = self._shard_dir(shard_id) / _META
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def seal(self, summary: Mapping[str, Any]) -> None:
        """Record that every shard is staged, with the run's summary (written atomically)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        tmp.write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
        tmp.rename(self.folder / _SEAL)

    def sealed(self) -> dict[str, Any] | None:
        """The summary :meth:`seal` recorded, or None while the run is not sealed."""
        path = self.folder / _SEAL
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def files(self, table: str) -> StagedFiles:
        """The staged Parquet files of ``table``, in shard order, for ``Lake.commit``.

        Committing these instead of :meth:`load` keeps memory flat in the number of shards.
        """
        paths = [self._shard_dir(sid) / f"{table}.parquet" for sid in self.shards()]
        return StagedFiles(tuple(p for p in paths if p.is_file()))

    def read_columns(self, table: str, columns: list[str]) -> pa.Table:
        """Some columns of ``table`` over every staged shard (for summaries, without the rest)."""
        parts = [pq.read_table(p, columns=columns) for p in self.files(table).paths]
        if parts:
            return pa.concat_tables(parts)
        return empty(table).select(columns)

    def count_by(self, table: str, columns: list[str]) -> Counter:
        """Row counts of ``table`` per distinct value tuple of ``columns``, over every shard.

        Counted shard by shard, so memory holds one shard's columns at a time.

        Example:
            >>> staging.count_by("outcomes", ["tgt_lang", "reason"])  # doctest: +SKIP
            Counter({('de', None): 41, ('de', 'no_alignment'): 2})
        """
        counts: Counter = Counter()
        for path in self.files(table).paths:
            part = pq.read_table(path, columns=columns)
            if part.num_rows == 0:
                continue
            grouped = part.group_by(columns, use_threads=False).aggregate([([], "count_all")])
            for row in grouped.to_pylist():
                counts[tuple(row[c] for c in columns)] += row["count_all"]
        return counts

    def load(self, table: str) -> pa.Table:
        """Rows of ``table`` from every staged shard, concatenated in shard order.

        Raises:
            CatalogError: XP401 when no shard has the table and it is not declared.
        """
        parts = []
        for sid in self.shards():
            path = self._shard_dir(sid) / f"{table}.parquet"
            if path.is_file():
                data = pq.read_table(path)
                parts.append(conform(table, data) if table in TABLES else data)
        if parts:
            return pa.concat_tables(parts)
        if table in TABLES:
            return empty(table)
        raise CatalogError(
            f"no staged shard of run {self.run_key} has table {table!r}.",
            fix="check the table name against what the flow puts.",
            code=E_UNKNOWN_TABLE,
        )

    def clear(self) -> None:
        """Delete this run's staged shards (after the run was committed).

        The folder is first renamed out of the way (atomically), so a clear cut short never
        leaves a half-deleted staging area that a later run of the same key could take over.
        """
        if self.folder.exists():
            trash = self.folder.parent / f"{_TRASH_PREFIX}{uuid.uuid4().hex}"
            try:
                self.folder.rename(trash)
            except FileNotFoundError:  # cleared by another process meanwhile
                return
            shutil.rmtree(trash, ignore_errors=True)
        _remove_trash(self.folder.parent)
        try:
            self.folder.parent.rmdir()  # only when empty
        except OSError:
            pass


def staged_run_ids(folder: Path) -> frozenset[str]:
    """Ids of the runs with a staging area under ``folder`` (the lake's :data:`STAGING_DIR`):
    a rerun of each can complete it. Areas being created or deleted are left out."""
    if not folder.is_dir():
        return frozenset()
    ids = set()
    for marker in folder.glob(f"*/{_RUN_ID}"):
        if marker.parent.name.startswith("."):  # a staging area being deleted
            continue
        try:
            ids.add(marker.read_text(encoding="utf-8").strip())
        except OSError:
            continue
    return frozenset(ids)


def _remove_trash(folder: Path) -> None:
    """Finish deleting staging areas whose clear was cut short."""
    if folder.is_dir():
        for trash in folder.glob(f"{_TRASH_PREFIX}*"):
            shutil.rmtree(trash, ignore_errors=True)


def _as_table(name: str, data: pa.Table | list[dict[str, Any]]) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, list) and data:
        return pa.Table.from_pylist(data)
    raise CatalogError(
        f"table {name!r} is not declared, so it must be an Arrow table or a non-empty list "
        "of rows.",
        fix="declare the table in schemas/tables.py, or pass a pyarrow Table.",
        code=E_UNKNOWN_TABLE,
    )
