"""Staging: shard checkpoints survive a crash, and a resumed run commits each row once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_tables import sample_rows
from xproj.catalog import Lake, RunRecord, Staging
from xproj.catalog import staging as staging_module
from xproj.schemas.errors import E_SCHEMA_MISMATCH, E_UNKNOWN_TABLE, CatalogError
from xproj.schemas.tables import TABLES

SHARDS = [0, 1, 2, 3]


def _shard_tables(run_id: str, shard: int) -> dict[str, list[dict]]:
    rows = sample_rows("outcomes", run_id, 2)
    for r in rows:
        r["pair_id"] = f"s{shard}-{r['pair_id']}"
    rejected = sample_rows("rejected", run_id, 1) if shard % 2 else []
    return {"outcomes": rows, "rejected": rejected}


def _flow(lake: Lake, run: RunRecord, crash_after: int | None = None) -> dict[str, int]:
    """A flow that stages each shard, and commits once all are staged."""
    staging = Staging(lake, run.run_key)
    staging.resume(run)
    for i, shard in enumerate(SHARDS):
        if crash_after is not None and i == crash_after:
            raise KeyboardInterrupt("simulated crash")
        if not staging.done(shard):
            staging.put(shard, _shard_tables(run.run_id, shard))
    versions = lake.commit(run, {t: staging.load(t) for t in ("outcomes", "rejected")})
    staging.clear()
    return versions


def test_catalog_staging_resume_after_crash_commits_rows_once(lake_root):
    lake = Lake(lake_root)
    first = RunRecord.start("project", {"k": 1})
    with pytest.raises(KeyboardInterrupt):
        _flow(lake, first, crash_after=2)
    assert lake.tables() == []  # nothing committed by the crashed run

    resumed = RunRecord.start("project", {"k": 1})
    staging = Staging(lake, resumed.run_key)
    assert [staging.done(s) for s in SHARDS] == [True, True, False, False]
    versions = _flow(lake, resumed)
    assert resumed.run_id == first.run_id  # taken over from the crashed attempt

    assert versions == {"outcomes": 0, "rejected": 0, "runs": 0}
    pairs = lake.read("outcomes")["pair_id"].to_pylist()
    assert sorted(pairs) == sorted(f"s{s}-p{i}" for s in SHARDS for i in range(2))
    assert lake.read("rejected").num_rows == 2
    assert not (lake_root / "_staging").exists()
    assert lake.tables() == ["outcomes", "rejected", "runs"]


def test_catalog_staging_load_in_natural_shard_order(lake_root):
    staging = Staging(Lake(lake_root), "key")
    for shard in [10, 2, "1"]:
        staging.put(shard, {"rejected": sample_rows("rejected", str(shard), 1)})
    assert staging.shards() == ["1", "2", "10"]
    assert staging.load("rejected")["run_id"].to_pylist() == ["1", "2", "10"]


def test_catalog_staging_crash_inside_put_leaves_shard_not_done(lake_root, monkeypatch):
    staging = Staging(Lake(lake_root), "key")
    calls = []

    def failing_write(table, where, **kwargs):
        calls.append(where)
        if len(calls) == 2:
            raise OSError("disk full")
        pq.write_table(table, where, **kwargs)

    monkeypatch.setattr(staging_module.pq, "write_table", failing_write)
    with pytest.raises(OSError, match="disk full"):
        staging.put(0, _shard_tables("r", 1))
    assert not staging.done(0)
    assert staging.shards() == []
    assert list(staging.folder.iterdir()) == []  # the temporary folder is gone


def test_catalog_staging_put_twice_refused_unless_replace(lake_root):
    staging = Staging(Lake(lake_root), "key")
    staging.put("a", {"rejected": sample_rows("rejected", "old", 1)})
    with pytest.raises(CatalogError, match="already staged"):
        staging.put("a", {"rejected": sample_rows("rejected", "new", 1)})
    staging.put("a", {"rejected": sample_rows("rejected", "new", 2)}, replace=True)
    assert staging.load("rejected")["run_id"].to_pylist() == ["new", "new"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [("projected", TABLES["projected"]), ("rejected", TABLES["rejected"])],
)
def test_catalog_staging_load_declared_table_without_rows_is_empty(lake_root, table, expected):
    staging = Staging(Lake(lake_root), "key")
    staging.put(0, {"rejected": []})
    loaded = staging.load(table)
    assert loaded.num_rows == 0 and loaded.schema == expected


def test_catalog_staging_undeclared_tables(lake_root):
    staging = Staging(Lake(lake_root), "key")
    staging.put(0, {"scratch": pa.table({"x": [1, 2]})})
    staging.put(1, {"scratch": [{"x": 3}]})
    assert staging.load("scratch")["x"].to_pylist() == [1, 2, 3]
    with pytest.raises(CatalogError) as err:
        staging.load("missing")
    assert err.value.code == E_UNKNOWN_TABLE


def test_catalog_staging_put_checks_schema_before_writing(lake_root):
    staging = Staging(Lake(lake_root), "key")
    with pytest.raises(CatalogError) as err:
        staging.put(0, {"rejected": [{"run_id": "r"}]})
    assert err.value.code == E_SCHEMA_MISMATCH
    assert not staging.done(0)


@pytest.mark.parametrize("bad", ["../up", "a/b", "", ".hidden", "x" * 200])
def test_catalog_staging_refuses_unsafe_ids(lake_root, bad):
    with pytest.raises(ValueError):
        Staging(Lake(lake_root), bad)
    with pytest.raises(ValueError):
        Staging(Lake(lake_root), "key").done(bad)


def test_catalog_staging_clear_keeps_other_runs(lake_root):
    lake = Lake(lake_root)
    a, b = Staging(lake, "a"), Staging(lake, "b")
    a.put(0, {"rejected": []})
    b.put(0, {"rejected": []})
    a.clear()
    assert not a.done(0) and b.done(0)
    b.clear()
    assert not (lake_root / "_staging").exists()


def test_catalog_staging_resume_refuses_other_run_key(lake_root):
    with pytest.raises(ValueError):
        Staging(Lake(lake_root), "key").resume(RunRecord(flow="f", run_key="other"))


def test_catalog_staging_files_commit_without_loading(lake_root):
    lake = Lake(lake_root)
    run = RunRecord.start("project", {"k": "files"})
    staging = Staging(lake, run.run_key)
    staging.resume(run)
    for shard in range(3):
        staging.put(shard, {"outcomes": sample_rows("outcomes", run.run_id, 2 + shard)})
    staging.put(3, {"outcomes": sample_rows("outcomes", run.run_id, 0)})
    files = staging.files("outcomes")
    assert len(files.paths) == 4
    versions = lake.commit(run, {"outcomes": files})
    assert versions["outcomes"] == 0
    assert lake.read("outcomes").num_rows == 9
    staging.clear()  # the committed table keeps its own links/copies of the files
    assert lake.read("outcomes").num_rows == 9
    assert staging.read_columns("outcomes", ["label"]).num_rows == 0


def test_catalog_staging_files_of_another_run_are_refused(lake_root):
    lake = Lake(lake_root)
    run = RunRecord.start("project", {"k": "other"})
    staging = Staging(lake, run.run_key)
    staging.put(0, {"outcomes": sample_rows("outcomes", "someone-else", 2)})
    with pytest.raises(CatalogError) as err:
        lake.commit(run, {"outcomes": staging.files("outcomes")})
    assert err.value.code == "XP405"
    assert lake.tables() == []


def test_catalog_staging_count_by_sums_over_shards(lake_root):
    lake = Lake(lake_root)
    staging = Staging(lake, "count")
    staging.put(0, {"outcomes": sample_rows("outcomes", "r1", 3)})
    staging.put(1, {"outcomes": sample_rows("outcomes", "r1", 2)})
    staging.put(2, {"outcomes": []})
    counts = staging.count_by("outcomes", ["label", "reason"])
    rows = sample_rows("outcomes", "r1", 3) + sample_rows("outcomes", "r1", 2)
    from collections import Counter

    assert counts == Counter((r["label"], r["reason"]) for r in rows)
    assert sum(counts.values()) == 5


def test_catalog_staging_shards_without_their_run_id_are_not_taken_over(lake_root):
    """A staging area that lost its run id (a clear cut short by an older version) holds rows
    of a run nobody can name: the next run of that key starts afresh instead of adopting them."""
    lake = Lake(lake_root)
    first = RunRecord.start("demo", {"n": 1})
    staging = Staging(lake, first.run_key)
    staging.resume(first)
    staging.put(0, {"rejected": sample_rows("rejected", first.run_id, 1)})
    (staging.folder / "run_id").unlink()
    second = RunRecord.start("demo", {"n": 1})
    Staging(lake, second.run_key).resume(second)
    assert second.run_id != first.run_id and staging.shards() == []


def test_catalog_staging_clear_renames_first(lake_root):
    staging = Staging(Lake(lake_root), "k1")
    staging.put(0, {"rejected": sample_rows("rejected", "r", 1)})
    staging.clear()
    assert not staging.folder.exists() and not (Path(lake_root) / "_staging").exists()


def test_catalog_staging_names_its_run_and_tables(lake_root):
    """What the executor and the lake ask a staging area: whose run it holds and which tables a
    shard staged; areas being deleted are not resumable."""
    lake = Lake(lake_root)
    run = RunRecord.start("demo", {"n": 1})
    staging = Staging(lake, run.run_key)
    assert staging.staged_run_id() is None and staging.tables(0) == []
    staging.resume(run)
    staging.put(0, {"rejected": sample_rows("rejected", run.run_id, 1), "outcomes": []})
    assert staging.staged_run_id() == run.run_id
    assert staging.tables(0) == ["outcomes", "rejected"]
    assert lake.resumable_runs() == {run.run_id}
    staging.folder.rename(staging.folder.parent / ".trash-x")
    assert lake.resumable_runs() == frozenset()
