"""eflomal priors: counted from links, saved and read back, written in the binary's format, and
aligning small shards as well as the whole corpus; a run learns them once and keeps them."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO
from tests.helpers import toy_sentence_pair
from xproj.catalog import Lake
from xproj.projectors.aligners.priors import EflomalPriors
from xproj.schemas.errors import ConfigError, InputFormatError

SAMPLES = REPO / "data" / "samples" / "ner"


def _toy_priors() -> EflomalPriors:
    # source "A b C" / target "x Y", forward links 0-0, 2-1; reverse links 0-0, 1-1, 2-1
    return EflomalPriors.count(
        [(["A", "b", "C"], ["x", "Y"])],
        [{(0, 0), (2, 1)}],
        [{(0, 0), (2, 1), (1, 1)}],
        lowercase=True,
        src_prefix_len=0,
        tgt_prefix_len=0,
    )


def test_priors_count_lexical_jumps_and_fertility():
    priors = _toy_priors()
    assert priors.pairs == 1
    assert priors.lexical == {("a", "x"): 1, ("c", "y"): 1}
    # forward: targets 0, 1 at sources 0, 2: jumps +1 (from -1), +2, then 3 - 2 = +1 to the end
    assert priors.fwd_jumps == {1: 2, 2: 1}
    # reverse: sources 0, 1, 2 at targets 0, 1, 1: jumps +1, +1, 0, then 2 - 1 = +1 to the end
    assert priors.rev_jumps == {1: 3, 0: 1}
    assert priors.src_fertility == {("a", 1): 1, ("c", 1): 1}
    assert priors.tgt_fertility == {("x", 1): 1, ("y", 2): 1}


def test_priors_save_load_and_binary_file(tmp_path):
    priors = _toy_priors()
    digest = priors.save(tmp_path / "p.tsv")
    again = EflomalPriors.load(tmp_path / "p.tsv")
    assert list(again.lines()) == list(priors.lines())
    assert again.save(tmp_path / "q.tsv") == digest  # equal priors, equal files
    # the binary's format for a run whose vocabulary lacks "c": word ids from 1 (0 is NULL)
    n = priors.write_binary_file(tmp_path / "b.txt", {"a": 0, "b": 1}, {"x": 0, "y": 1})
    lines = (tmp_path / "b.txt").read_text().splitlines()
    assert n == 1 and lines[0] == "3 3 1 2 2 1 2"
    assert lines[1] == "1 1 1"  # a → x
    assert lines[2:4] == ["1 2", "2 1"] and lines[4:6] == ["0 1", "1 3"]
    assert lines[6:] == ["1 1 1", "1 1 1", "2 2 1"]
    with pytest.raises(ConfigError):
        priors.check_settings(True, 4, 4)
    (tmp_path / "bad.tsv").write_text(next(iter(priors.lines())) + "\nLEX\tonly-two\n")
    with pytest.raises(InputFormatError) as err:
        EflomalPriors.load(tmp_path / "bad.tsv")
    assert "bad.tsv:2" in str(err.value)


@pytest.mark.slow
def test_priors_let_small_shards_align_like_the_whole_corpus():
    """Shards of 10 toy pairs: alone, eflomal learns little; with priors learned once over the
    300 pairs it aligns them as the whole corpus does."""
    from xproj.projectors.aligners.eflomal import EflomalAligner

    rng = random.Random(3)
    data = [toy_sentence_pair(rng) for _ in range(300)]
    pairs = [(s, t) for s, t, _ in data]
    settings = {"src_prefix_len": 0, "tgt_prefix_len": 0}
    priors = EflomalAligner(**settings).learn_priors(pairs)
    assert priors.pairs == 300

    def precision(**extra) -> float:
        hit = total = 0
        for k in range(0, len(pairs), 10):
            aligner = EflomalAligner(**settings, **extra)
            for a, (_, _, gold) in zip(
                aligner.align(pairs[k : k + 10]), data[k : k + 10], strict=True
            ):
                hit, total = hit + len(a.links & gold), total + len(a.links)
        return hit / total

    alone, with_priors = precision(), precision(priors=priors)
    assert with_priors >= 0.95 and alone < 0.85, (alone, with_priors)


@pytest.mark.slow
def test_project_run_learns_priors_once_and_keeps_them(tmp_path, monkeypatch):
    """A run cut into shards learns the priors once (stored with the run); a run that resumes
    reads the same ones instead of learning new ones; one shard needs none."""
    from xproj.flows.config import ProjectParallelConfig
    from xproj.flows.project_parallel import ProjectParallel, project_parallel

    def config(**kw) -> ProjectParallelConfig:
        return ProjectParallelConfig(
            source={"path": str(SAMPLES / "sample.en.conll"), "lang": "en"},
            target={"path": str(SAMPLES / "sample.es.conll"), "lang": "es"},
            lake=str(tmp_path / "lake"),
            **kw,
        )

    summary = project_parallel.fn(config(shard_size=10))
    lake = Lake(tmp_path / "lake")
    (row,) = lake.read("aligner_priors").to_pylist()
    assert row["run_id"] == summary.run_id and row["pairs"] == 36 and row["tgt_lang"] == "es"
    assert EflomalPriors.load_text(row["priors"]).pairs == 36
    assert summary.metrics["attempt"]["shards_run"] == 4
    one = project_parallel.fn(config(name="one-shard"))
    assert one.rows.get("aligner_priors", 0) == 0

    # a resumed run: its staging area holds the priors it learned; learning again would fail
    plan = ProjectParallel(config(shard_size=10, force=True))
    run = SimpleNamespace(run_id="r", run_key="resumed")
    log = SimpleNamespace(info=lambda *a, **k: None)
    plan.prepare(run, log)
    first = plan._priors
    monkeypatch.setattr(
        "xproj.projectors.aligners.eflomal.EflomalAligner.learn_priors",
        lambda self, pairs: pytest.fail("learned again"),
    )
    plan.prepare(run, log)
    assert plan._priors == first
    assert Path(tmp_path / "lake" / "_staging" / "resumed" / "priors.es.tsv").exists()


@pytest.mark.slow
def test_translate_train_learns_priors_per_language_without_translating_twice(
    tiny_mt_models, tmp_path
):
    """translate-train learns one set of priors per target language from the translations of
    the input (through the cache), and the shards reuse those translations."""
    from tests.test_flows_translate_train import _config
    from xproj.flows.translate_train import translate_train

    summary = translate_train.fn(
        _config(tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", ["de", "es"])
    )
    rows = Lake(tmp_path / "lake").read("aligner_priors").to_pylist()
    assert sorted(r["tgt_lang"] for r in rows) == ["de", "es"]
    assert all(r["run_id"] == summary.run_id and 0 < r["pairs"] <= 36 for r in rows)
    assert summary.metrics["stats"]["translated"] == 72  # each sentence once per language
