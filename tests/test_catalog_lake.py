"""Lake: versions, pinned reads, root selection, error codes, and all-or-nothing commits."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from tests.test_tables import sample_rows
from xproj.catalog import InputRef, Lake, OutputRef, RunRecord, query
from xproj.catalog import files as files_module
from xproj.catalog import lake as lake_module
from xproj.catalog.lake import RUNS
from xproj.schemas.errors import (
    E_SCHEMA_MISMATCH,
    E_UNKNOWN_TABLE,
    E_UNKNOWN_VERSION,
    CatalogError,
)
from xproj.schemas.tables import TABLES


def _run(flow: str = "project", **params) -> RunRecord:
    return RunRecord.start(flow, params or {"method": "align.v1"})


def _commit(lake: Lake, tables: dict[str, int], run: RunRecord | None = None) -> RunRecord:
    run = run or _run(n=len(lake.versions("runs")))
    lake.commit(run, {t: sample_rows(t, run.run_id, n) for t, n in tables.items()})
    return run


def _parquet_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*.parquet") if "_delta_log" not in p.parts}


def _snapshot(lake: Lake) -> dict[str, int | None]:
    return {t: lake.latest_version(t) for t in TABLES}


def test_catalog_lake_versions_increase_and_record_run(lake_root):
    lake = Lake(lake_root)
    first = _commit(lake, {"projected": 2, "outcomes": 3})
    second = _commit(lake, {"projected": 1})
    infos = lake.versions("projected")
    assert [(v.version, v.run_id, v.rows_added) for v in infos] == [
        (0, first.run_id, 2),
        (1, second.run_id, 1),
    ]
    assert infos[0].timestamp <= infos[1].timestamp
    assert [v.run_id for v in lake.versions("runs")] == [first.run_id, second.run_id]
    assert lake.latest_version("outcomes") == 0
    assert lake.tables() == ["outcomes", "projected", "runs"]


def test_catalog_lake_commit_returns_versions_and_fills_run_outputs(lake_root):
    lake = Lake(lake_root)
    _commit(lake, {"projected": 1})
    run = _run(n=9)
    out = lake.commit(
        run,
        {
            "projected": sample_rows("projected", run.run_id, 2),
            "rejected": sample_rows("rejected", run.run_id, 1),
        },
    )
    assert out == {"projected": 1, "rejected": 0, "runs": 1}
    assert run.outputs == [OutputRef("projected", 1, 2), OutputRef("rejected", 0, 1)]
    assert run.status == "ok" and run.finished_at is not None
    row = next(r for r in lake.read("runs").to_pylist() if r["run_id"] == run.run_id)
    assert row["outputs"] == [
        {"table": "projected", "version": 1, "rows": 2},
        {"table": "rejected", "version": 0, "rows": 1},
    ]


@pytest.mark.parametrize(
    ("version", "expected_pairs"),
    [(0, ["p0", "p1"]), (1, ["p0", "p0", "p1"]), (None, ["p0", "p0", "p1"])],
)
def test_catalog_lake_pinned_read(lake_root, version, expected_pairs):
    lake = Lake(lake_root)
    _commit(lake, {"outcomes": 2})
    _commit(lake, {"outcomes": 1})
    assert sorted(lake.read("outcomes", version=version)["pair_id"].to_pylist()) == expected_pairs
    assert lake.dataset("outcomes", version=version).count_rows() == len(expected_pairs)


def test_catalog_lake_empty_output_makes_no_version(lake_root):
    lake = Lake(lake_root)
    run = _run()
    out = lake.commit(run, {"rejected": [], "outcomes": sample_rows("outcomes", run.run_id, 1)})
    assert out == {"outcomes": 0, "runs": 0}
    assert lake.latest_version("rejected") is None
    assert "rejected" not in lake.tables()
    assert lake.read("runs")["outputs"].to_pylist()[0] == [
        {"table": "rejected", "version": None, "rows": 0},
        {"table": "outcomes", "version": 0, "rows": 1},
    ]


@pytest.mark.parametrize(
    ("arg", "env", "expected"),
    [
        (None, None, "cwd/data/lake"),
        (None, "env_lake", "env_lake"),
        ("arg_lake", "env_lake", "arg_lake"),
        ("arg_lake", None, "arg_lake"),
    ],
)
def test_catalog_lake_root_from_argument_env_or_default(tmp_path, monkeypatch, arg, env, expected):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv(lake_module.ENV_LAKE, raising=False)
    if env:
        monkeypatch.setenv(lake_module.ENV_LAKE, str(tmp_path / env))
    lake = Lake(tmp_path / arg if arg else None)
    assert lake.root == tmp_path / expected
    _commit(lake, {"rejected": 1})
    assert (tmp_path / expected / "rejected" / "_delta_log").is_dir()


def test_catalog_lake_refuses_object_store_root():
    with pytest.raises(CatalogError, match="only local paths"):
        Lake("s3://bucket/lake")


@pytest.mark.parametrize(
    ("call", "code", "listed"),
    [
        (lambda lake: lake.read("projectd"), E_UNKNOWN_TABLE, "projected"),
        (lambda lake: lake.versions("nope"), E_UNKNOWN_TABLE, "outcomes"),
        (lambda lake: lake.latest_version("nope"), E_UNKNOWN_TABLE, "runs"),
        (lambda lake: lake.read("outcomes", version=5), E_UNKNOWN_VERSION, "versions: 0, 1"),
        (lambda lake: lake.read("outcomes", version=-1), E_UNKNOWN_VERSION, "versions: 0, 1"),
        (lambda lake: lake.dataset("outcomes", version="1"), E_UNKNOWN_VERSION, "versions: 0, 1"),
        (lambda lake: lake.read("rejected", version=0), E_UNKNOWN_TABLE, "outcomes, runs"),
        (lambda lake: lake.input_ref("rejected"), E_UNKNOWN_TABLE, "outcomes, runs"),
    ],
)
def test_catalog_lake_unknown_table_or_version_lists_what_exists(lake_root, call, code, listed):
    lake = Lake(lake_root)
    _commit(lake, {"outcomes": 1})
    _commit(lake, {"outcomes": 1})
    with pytest.raises(CatalogError) as err:
        call(lake)
    assert err.value.code == code
    assert listed in str(err.value)


def test_catalog_lake_declared_table_without_version_reads_empty(lake_root):
    lake = Lake(lake_root)
    assert lake.read("projected").schema == TABLES["projected"]
    assert lake.read("projected").num_rows == 0
    assert lake.versions("projected") == [] and lake.latest_version("projected") is None
    assert lake.find_run("anything") is None


def test_catalog_lake_find_run_by_key_and_status(lake_root):
    lake = Lake(lake_root)
    run = RunRecord.start("project", {"k": 1}, [InputRef("src", "a.conll", None, "00" * 32)])
    _commit(lake, {"projected": 2}, run)
    failed = RunRecord.start("project", {"k": 2})
    failed.finish("failed")
    lake.commit(failed, {})
    found = lake.find_run(run.run_key)
    assert found is not None and found.run_id == run.run_id
    assert found.outputs == [OutputRef("projected", 0, 2)]
    assert found.inputs == run.inputs
    assert lake.find_run(failed.run_key) is None
    assert lake.find_run(failed.run_key, status="failed").run_id == failed.run_id
    assert lake.find_run("0" * 32) is None


def test_catalog_lake_input_ref_pins_latest_or_given_version(lake_root):
    lake = Lake(lake_root)
    _commit(lake, {"projected": 1})
    _commit(lake, {"projected": 1})
    assert lake.input_ref("projected") == InputRef("projected", "projected", 1, None)
    assert lake.input_ref("projected", "pairs", 0) == InputRef("pairs", "projected", 0, None)


_OK = sample_rows("outcomes", "r1", 1)


@pytest.mark.parametrize(
    ("outputs", "code"),
    [
        ({"outcomes": _OK, "runs": []}, E_UNKNOWN_TABLE),
        ({"outcomes": _OK, "translationz": []}, E_UNKNOWN_TABLE),
        ({"outcomes": _OK, "rejected": "BAD"}, E_SCHEMA_MISMATCH),
        (
            {"outcomes": _OK, "rejected": sample_rows("rejected", "someone-else", 1)},
            E_SCHEMA_MISMATCH,
        ),
    ],
)
def test_catalog_lake_commit_refuses_bad_outputs_before_writing(lake_root, outputs, code):
    lake = Lake(lake_root)
    with pytest.raises(CatalogError) as err:
        lake.commit(RunRecord(flow="project", run_key="k", run_id="r1"), outputs)
    assert err.value.code == code
    assert not lake_root.exists() or not any(lake_root.iterdir())


def test_catalog_lake_commit_refuses_table_with_other_schema(lake_root):
    lake = Lake(lake_root)
    write_deltalake(str(lake_root / "rejected"), pa.table({"run_id": ["r"], "other": [1]}))
    run = _run()
    with pytest.raises(CatalogError) as err:
        lake.commit(run, {"rejected": sample_rows("rejected", run.run_id, 1)})
    assert err.value.code == E_SCHEMA_MISMATCH and "'rejected'" in str(err.value)
    assert DeltaTable(str(lake_root / "rejected")).version() == 0
    assert lake.latest_version("runs") is None


# Failure injection: the lake before the failing run has projected@0, runs@0; the failing run
# writes projected (existing table), outcomes (new table) and then runs.
FAILURES = [
    ("write", "outcomes"),  # phase 1, second output
    ("commit", "outcomes"),  # phase 2, second output (projected already committed)
    ("commit", "runs"),  # phase 2, the runs row (both outputs already committed)
    ("write", "runs"),
]


@pytest.mark.parametrize(("phase", "failing_table"), FAILURES)
def test_catalog_lake_failed_commit_leaves_no_version(lake_root, monkeypatch, phase, failing_table):
    lake = Lake(lake_root)
    _commit(lake, {"projected": 2})
    before_versions = _snapshot(lake)
    before_files = _parquet_files(lake_root)
    before_runs = lake.read("runs")

    method = "_write_files" if phase == "write" else "_commit_files"
    original = getattr(Lake, method)

    def failing(self, item, *args):
        if item.table == failing_table:
            raise RuntimeError(f"injected {phase} failure on {failing_table}")
        return original(self, item, *args)

    monkeypatch.setattr(Lake, method, failing)
    run = _run(n=2)
    with pytest.raises(CatalogError, match="injected") as err:
        lake.commit(
            run,
            {
                "projected": sample_rows("projected", run.run_id, 3),
                "outcomes": sample_rows("outcomes", run.run_id, 3),
            },
        )
    assert "rolled back" in str(err.value)
    assert _snapshot(lake) == before_versions
    assert _parquet_files(lake_root) == before_files
    assert not (lake_root / "outcomes").exists()
    assert lake.read("runs").equals(before_runs)
    assert lake.read("projected").num_rows == 2
    assert [v.version for v in lake.versions("projected")] == [0]


def test_catalog_lake_failed_commit_after_concurrent_write_is_compensated(lake_root, monkeypatch):
    lake = Lake(lake_root)
    _commit(lake, {"projected": 2})
    original = Lake._commit_files

    def interleaved(self, item, run):
        if item.table == "outcomes":
            # Another writer appends to projected after this run committed its version there.
            other = _run(flow="other")
            write_deltalake(
                str(lake_root / "projected"),
                pa.Table.from_pylist(
                    sample_rows("projected", other.run_id, 1), schema=TABLES["projected"]
                ),
                mode="append",
            )
            raise RuntimeError("injected failure")
        return original(self, item, run)

    monkeypatch.setattr(Lake, "_commit_files", interleaved)
    run = _run(n=2)
    with pytest.raises(CatalogError, match="removing commit"):
        lake.commit(
            run,
            {
                "projected": sample_rows("projected", run.run_id, 3),
                "outcomes": sample_rows("outcomes", run.run_id, 3),
            },
        )
    ops = [(v.version, v.run_id == run.run_id, v.rows_added) for v in lake.versions("projected")]
    assert ops[:2] == [(0, False, 2), (1, True, 3)]
    assert ops[3][2] == -3  # v2 is the other writer's, v3 removes this run's rows
    projected = lake.read("projected", committed_only=False)
    assert run.run_id not in projected["run_id"].to_pylist()
    assert projected.num_rows == 3
    # the other writer's row has no runs row: readers do not see it
    assert lake.read("projected").num_rows == 2
    assert lake.latest_version("outcomes") is None
    assert len(lake.read("runs")) == 1


def test_catalog_lake_commit_many_rows_split_into_files(lake_root, monkeypatch):
    monkeypatch.setattr(files_module, "ROWS_PER_FILE", 2)
    lake = Lake(lake_root)
    run = _run()
    lake.commit(run, {"rejected": sample_rows("rejected", run.run_id, 5)})
    assert len(_parquet_files(lake_root / "rejected")) == 3
    assert lake.read("rejected")["locator"].to_pylist() == [f"line {i}" for i in range(1, 6)]


def test_catalog_lake_orphan_versions_after_killed_commit(lake_root, monkeypatch):
    lake = Lake(lake_root)
    done = _commit(lake, {"projected": 1})
    assert lake.orphan_versions() == []
    original = Lake._commit_files

    def killed(self, item, run):
        if item.table == RUNS:
            raise KeyboardInterrupt("killed")
        return original(self, item, run)

    monkeypatch.setattr(Lake, "_commit_files", killed)
    monkeypatch.setattr(Lake, "_roll_back", lambda self, staged: "nothing (killed)")
    run = _run(n=2)
    with pytest.raises(KeyboardInterrupt):
        lake.commit(run, {"projected": sample_rows("projected", run.run_id, 2)})
    orphans = lake.orphan_versions()
    assert [(t, v.version, v.run_id) for t, v in orphans] == [("projected", 1, run.run_id)]
    assert done.run_id in lake.read("runs")["run_id"].to_pylist()


def test_catalog_lake_root_with_a_space_reads_back(tmp_path):
    lake = Lake(tmp_path / "my lake")
    run = _run()
    lake.commit(run, {"rejected": sample_rows("rejected", run.run_id, 2)})
    assert lake.read("rejected").num_rows == 2
    assert query(lake, "SELECT count(*) AS n FROM rejected").to_pylist() == [{"n": 2}]


def test_catalog_lake_commit_twice_writes_nothing_twice(lake_root):
    """A second commit of the same run (a rerun after a crash inside the first) finds every
    table already holding the run's rows and writes none again."""
    lake = Lake(lake_root)
    run = _run()
    outputs = {"rejected": sample_rows("rejected", run.run_id, 3)}
    first = lake.commit(run, outputs)
    again = lake.commit(run, outputs)
    assert again == first
    assert lake.read("rejected").num_rows == 3 and len(lake.read("runs")) == 1
    assert [v.version for v in lake.versions("rejected")] == [0]
