"""The run executor on a fake plan (no models, no Prefect): shards, fan-out, resume, summary."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from xproj.catalog import Lake, query
from xproj.catalog.lineage import InputRef
from xproj.executor.core import Identity, RunInterrupted, Shard, ShardOutput, execute
from xproj.executor.summary import RunSummary, Source, Tally, render
from xproj.schemas.errors import InputFormatError, Reject

#: What the fake plan counts: one `rejected` row per word it drops, by language.
DROPS = Tally("drops", (Source("rejected", reason="code", stage="stage"),), group="source")


class FakePlan:
    """Records are ints; a record is rejected at reading when negative. The step "projects"
    each record into one ``rejected`` row per key (a harmless declared table), drops multiples
    of 5 as rejects, and counts what it saw."""

    flow = "fake"
    title = "fake: a plan for tests"
    tables: tuple[str, ...] = ()
    tallies = (DROPS,)

    def __init__(self, records, *, shard_size=3, keys=None, fail_at=None, stop_at=None):
        self._records = records
        self.shard_size = shard_size
        self.keys = keys
        self.fail_at = fail_at
        self.stop_at = stop_at
        self.processed: list[str] = []
        self.prepared = 0

    def identity(self) -> Identity:
        params = {"records": len(self._records), "keys": self.keys, "shard": self.shard_size}
        return Identity(params, params, [InputRef("input", "fake", None, "ab" * 32)])

    def prepare(self, run: Any, log: Any) -> None:
        self.prepared += 1
        self.run_id = run.run_id

    def records(self):
        for r in self._records:
            if r < 0:
                yield Reject("read", "fake", f"record {r}", "XP101", "negative", str(r))
            else:
                yield r

    def process(self, shard: Shard) -> ShardOutput:
        if shard.id == self.fail_at:
            raise RuntimeError("simulated failure")
        if shard.id == self.stop_at:
            raise KeyboardInterrupt
        self.processed.append(shard.id)
        out = ShardOutput(stats={"seen": len(shard.records), "starts": {str(shard.start): 1}})
        for r in shard.records:
            if r % 5 == 0:
                out.rejects.append(
                    Reject("step", shard.key or "all", f"record {r}", "XP999", "fives", str(r))
                )
        return out

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


def test_executor_shards_fan_out_and_summary(lake_root):
    plan = FakePlan([1, 2, -3, 4, 5, 6, 7, -8, 10], keys=("de", "fr"))
    summary = execute(plan, lake=Lake(lake_root), progress=False)
    # 9 items in shards of 3: [1,2,-3] [4,5,6] [7,-8,10]; each shard × 2 keys
    assert plan.processed == ["0.de", "0.fr", "1.de", "1.fr", "2.de", "2.fr"]
    assert summary.records == {
        "read": 7,
        "rejected_at_read": 2,
        "processed": 14,
        "rejected": 4,  # 5 and 10, in both languages
        "used": 10,
    }
    assert summary.rejected == {"read.XP101": 2, "step.XP999": 4}
    assert summary.stats == {"seen": 14, "starts": {"0": 2, "2": 2, "5": 2}}
    assert summary.tallies["drops"]["by"]["de"]["dropped"] == {"step.XP999": 2}
    rows = query(Lake(lake_root), "SELECT count(*) AS n FROM rejected").to_pylist()
    assert rows == [{"n": 6}]
    assert "records: 7 read, 2 rejected at reading" in render(summary)
    assert "## drops" in render(summary, "markdown")


def test_executor_reuses_a_committed_run_without_preparing(lake_root):
    lake = Lake(lake_root)
    first = execute(FakePlan([1, 2, 3]), lake=lake, progress=False)
    again = FakePlan([1, 2, 3])
    second = execute(again, lake=lake, progress=False)
    assert second.reused and second.run_id == first.run_id and again.prepared == 0
    assert second.records == first.records
    forced = execute(FakePlan([1, 2, 3]), lake=lake, force=True, progress=False)
    assert not forced.reused and forced.run_id != first.run_id


def test_executor_resumes_after_a_failed_shard(lake_root):
    lake = Lake(lake_root)
    failing = FakePlan(list(range(1, 10)), fail_at="2")
    with pytest.raises(RuntimeError, match="simulated failure"):
        execute(failing, lake=lake, progress=False)
    assert lake.tables() == [] and failing.processed == ["0", "1"]
    resumed = FakePlan(list(range(1, 10)))
    summary = execute(resumed, lake=lake, progress=False)
    assert resumed.processed == ["2"]  # shards 0 and 1 came from the staging area
    assert summary.records["processed"] == 9 and summary.stats["seen"] == 9
    assert summary.attempt == {
        "shards_run": 1,
        "shards_reused": 2,
        "stats": {"seen": 3, "starts": {"6": 1}},
    }


def test_executor_interrupt_commits_nothing_and_says_how_to_resume(lake_root):
    lake = Lake(lake_root)
    with pytest.raises(RunInterrupted) as err:
        execute(FakePlan(list(range(1, 10)), stop_at="1"), lake=lake, progress=False)
    assert err.value.exit_code == 128 + signal.SIGINT
    assert "nothing was committed; 1 shard(s) are staged" in err.value.message
    assert "Run the same command again" in err.value.message
    assert lake.tables() == []


@pytest.mark.parametrize("records", [[], [-1, -2], [5, 10]], ids=["none", "read", "step"])
def test_executor_refuses_a_run_that_used_nothing(lake_root, records):
    lake = Lake(lake_root)
    with pytest.raises(InputFormatError) as err:
        execute(FakePlan(records), lake=lake, progress=False)
    assert err.value.code == "XP120" and err.value.file == "fake"
    assert lake.tables() == []
    summary = execute(FakePlan(records), lake=lake, allow_empty=True, progress=False)
    assert summary.used == 0 and "runs" in summary.versions


def test_executor_sealed_run_commits_without_reading_again(lake_root, monkeypatch):
    """A run whose shards were all staged (sealed) but whose commit failed goes straight to
    the commit on the rerun."""
    lake = Lake(lake_root)

    def broken(self, run, outputs):
        raise OSError("disk full")

    monkeypatch.setattr(Lake, "commit", broken)
    with pytest.raises(OSError):
        execute(FakePlan([1, 2, 3, 4]), lake=lake, progress=False)
    monkeypatch.undo()
    again = FakePlan([1, 2, 3, 4])
    summary = execute(again, lake=lake, progress=False)
    assert again.prepared == 0 and again.processed == []
    assert summary.records["read"] == 4 and len(lake.read("runs")) == 1


def test_executor_ray_backend_without_ray_is_a_coded_error(monkeypatch):
    import sys

    from xproj.executor.ray_backend import RayBackend
    from xproj.schemas.errors import BackendError

    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(BackendError) as err:
        next(RayBackend().map(None, iter([]), None))
    assert err.value.code == "XP501" and "xproj[ray]" in str(err.value)
