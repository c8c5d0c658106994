"""translate_train end to end on a tiny random NLLB-style model (its translations are garbage:
these tests check the pipeline — caching, versions, resume — never translation quality)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from xproj.catalog import Lake, query
from xproj.flows.config import TranslateTrainConfig

SAMPLE = REPO / "data" / "samples" / "ner" / "sample.en.conll"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _config(model: Path, lake: Path, langs: list[str], **kw) -> TranslateTrainConfig:
    return TranslateTrainConfig(
        source={"path": str(SAMPLE), "lang": "en"},
        target_langs=langs,
        model=str(model),
        lake=str(lake),
        shard_size=12,
        max_decoding_length=24,
        **kw,
    )


def test_flows_translate_train_cache_and_versions(tiny_mt_models, tmp_path):
    from xproj.flows.translate_train import translate_train

    model = tiny_mt_models["nllb"]["ct2"]
    lake_root = tmp_path / "lake"
    first = translate_train(_config(model, lake_root, ["de", "es"]))
    assert first.metrics["stats"]["translated"] == 72
    lake = Lake(lake_root)
    rows = query(
        lake,
        "SELECT tgt_lang, count(*) AS n, count(DISTINCT sentence_id) AS d "
        "FROM translations GROUP BY ALL ORDER BY tgt_lang",
    ).to_pylist()
    assert rows == [{"tgt_lang": "de", "n": 36, "d": 36}, {"tgt_lang": "es", "n": 36, "d": 36}]
    # every sentence and language is either projected or rejected with a reason
    n_projected = query(lake, "SELECT count(*) AS n FROM projected").column("n")[0].as_py()
    rejected = lake.read("rejected").num_rows if "rejected" in lake.tables() else 0
    assert n_projected + rejected == 72
    # one outcome per source span of every projected pair
    per_pair = query(
        lake,
        "SELECT p.n_source_spans AS want, count(o.span_index) AS got "
        "FROM projected p LEFT JOIN outcomes o USING (pair_id, tgt_lang) "
        "GROUP BY p.pair_id, p.tgt_lang, p.n_source_spans",
    ).to_pylist()
    assert per_pair and all(r["want"] == r["got"] for r in per_pair)
    # the run's metrics agree with the tables
    for lang in ("de", "es"):
        tallies = first.metrics["tallies"]
        m = {
            "sentences": tallies["translations"]["by"][lang]["total"],
            "spans": tallies["spans"]["by"][lang]["total"],
            "projected": tallies["spans"]["by"][lang]["kept"],
        }
        n = query(
            lake,
            f"SELECT count(*) AS n, count(*) FILTER (WHERE reason IS NULL) AS p "
            f"FROM outcomes WHERE tgt_lang = '{lang}'",
        ).to_pylist()[0]
        assert m["sentences"] == 36 and (m["spans"], m["projected"]) == (n["n"], n["p"])

    # the same input again, forced into a new run: every translation comes from the cache
    again = translate_train(_config(model, lake_root, ["de", "es"], force=True))
    assert again.metrics["stats"]["translated"] == 0
    assert again.versions["translations"] == first.versions["translations"] + 1
    # one more language: only that language is translated
    more = translate_train(_config(model, lake_root, ["de", "es", "fr"]))
    assert more.metrics["stats"]["translated"] == 36
    cached = query(lake, "SELECT count(*) AS n FROM translation_cache").column("n")[0].as_py()
    assert cached == 36 * 3


def test_flows_translate_train_identical_rerun_is_reused(tiny_mt_models, tmp_path):
    from xproj.flows.translate_train import translate_train

    cfg = _config(tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", ["de"])
    first = translate_train(cfg)
    second = translate_train(cfg)
    assert second.reused and second.run_id == first.run_id


def test_flows_translate_train_missing_model_is_a_coded_error(tmp_path):
    from xproj.flows.translate_train import translate_train
    from xproj.schemas.errors import XprojError

    with pytest.raises(XprojError) as err:
        translate_train(_config(tmp_path / "no-such-model", tmp_path / "lake", ["de"]))
    assert err.value.code in ("XP503", "XP504")
    assert "xproj models convert" in str(err.value)
    assert Lake(tmp_path / "lake").tables() == []


def test_flows_translate_train_killed_run_resumes_without_loss(tiny_mt_models, tmp_path):
    """SIGKILL a real `xproj translate-train` process mid-run, rerun it, check every row."""
    model = tiny_mt_models["nllb"]["ct2"]
    lake_root = tmp_path / "lake"
    source = tmp_path / "src.conll"
    text = SAMPLE.read_text().strip()
    source.write_text("\n\n".join([text] * 3) + "\n")  # 108 sentences
    cmd = [
        sys.executable,
        "-m",
        "xproj.cli",
        "translate-train",
        "--source",
        str(source),
        "--source-lang",
        "en",
        "--target-langs",
        "de,es",
        "--model",
        str(model),
        "--lake",
        str(lake_root),
        "--shard-size",
        "6",
    ]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    staging = lake_root / "_staging"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            shards = list(staging.glob("*/shard-*.*")) if staging.exists() else []
            if len([s for s in shards if not s.name.endswith(".read")]) >= 4:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no shard was staged in time")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (
        not (lake_root / "translations").exists()
        or Lake(lake_root).latest_version("translations") is None
    )
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lake = Lake(lake_root)
    rows = query(
        lake, "SELECT tgt_lang, sentence_id, count(*) AS n FROM translations GROUP BY ALL"
    ).to_pylist()
    assert len(rows) == 108 * 2 and all(r["n"] == 1 for r in rows)
    runs = query(lake, "SELECT run_id, metrics, parameters FROM runs").to_pylist()
    assert len(runs) == 1
    import json

    # the word tokenizer of each target language, with its version, is in the run's lineage
    tokenizers = json.loads(runs[0]["parameters"])["tokenizers"]
    assert set(tokenizers) == {"de", "es"}
    assert all(v.startswith(("spacy.blank:", "icu:")) and "(" in v for v in tokenizers.values())
    metrics = json.loads(runs[0]["metrics"])
    # the rerun reused what the killed attempt had staged and cached
    assert metrics["attempt"]["shards_reused"] >= 4
    assert metrics["attempt"]["stats"]["translated"] < 108 * 2
    # every shard's translations are counted, whichever attempt made them
    assert metrics["stats"]["translated"] <= 108 * 2
    assert {
        r["run_id"] for r in query(lake, "SELECT DISTINCT run_id FROM projected").to_pylist()
    } == {runs[0]["run_id"]}


def test_flows_translate_train_unsupported_language_fails_before_work(tiny_mt_models, tmp_path):
    from xproj.flows.translate_train import translate_train
    from xproj.schemas.errors import LanguageCodeError

    # the tiny Marian model translates en→de only
    cfg = _config(tiny_mt_models["marian"]["ct2"], tmp_path / "lake", ["de", "fr"])
    with pytest.raises(LanguageCodeError) as err:
        translate_train(cfg)
    assert err.value.code == "XP202" and "fr" in str(err.value)
    assert not (tmp_path / "lake" / "_staging").exists()
