"""translate-train with --projector codec|markers, and translate-test, end to end on the tiny
random NLLB-style model. Its output is garbage by construction: these tests check bookkeeping
(one outcome per span, reasons, spans inside the text they claim, versions, evaluation), never
projection quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from xproj.catalog import Lake, query
from xproj.flows.config import TranslateTestConfig, TranslateTrainConfig

SAMPLE_EN = REPO / "data" / "samples" / "ner" / "sample.en.conll"
SAMPLE_DE = REPO / "data" / "samples" / "ner" / "sample.de.conll"
pytestmark = pytest.mark.slow

MODEL_REASONS = {
    None,
    "marker_count_mismatch",
    "malformed_markers",
    "unmatched",
    "no_candidate",
    "not_in_original",
    "merged",
    "lost_overlap",
}


@pytest.fixture(scope="module", autouse=True)
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def spacy_pipeline(tmp_path_factory) -> Path:
    """A blank English pipeline whose entity ruler tags capitalised words (no trained model)."""
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PER", "pattern": [{"IS_TITLE": True}]}])
    path = tmp_path_factory.mktemp("spacy") / "en_ruler"
    nlp.to_disk(path)
    return path


def check_tables(lake: Lake, run_id: str, method: str) -> list[dict]:
    """Every projected pair has one outcome per source span, every span lies in its text."""
    rows = query(
        lake,
        "SELECT p.pair_id, p.tgt_text, p.tgt_char_spans, p.n_source_spans, p.aligner, "
        "count(o.span_index) AS n_out "
        "FROM projected p LEFT JOIN outcomes o USING (run_id, pair_id, tgt_lang) "
        f"WHERE p.run_id = '{run_id}' GROUP BY ALL",
    ).to_pylist()
    assert rows
    for r in rows:
        assert r["n_out"] == r["n_source_spans"]
        assert r["aligner"] is None
        for c in r["tgt_char_spans"]:
            assert 0 <= c["start"] < c["end"] <= len(r["tgt_text"])
    outcomes = query(
        lake, f"SELECT method, reason, detail FROM outcomes WHERE run_id = '{run_id}'"
    ).to_pylist()
    assert {o["method"] for o in outcomes} == {method}
    assert {o["reason"] for o in outcomes} <= MODEL_REASONS
    assert all(o["detail"] for o in outcomes if o["reason"])  # every drop says why
    return rows


@pytest.mark.parametrize("projector", ["codec", "markers"])
def test_translate_train_with_model_projector(tiny_mt_models, tmp_path, projector):
    from xproj.flows.translate_train import translate_train

    lake_root = tmp_path / "lake"
    cfg = TranslateTrainConfig(
        source={"path": str(SAMPLE_EN), "lang": "en"},
        target_langs=["de"],
        model=str(tiny_mt_models["nllb"]["ct2"]),
        lake=str(lake_root),
        shard_size=12,
        max_decoding_length=24,
        projector=projector,
    )
    result = translate_train(cfg)
    lake = Lake(lake_root)
    rows = check_tables(lake, result.run_id, f"{projector}.v1")
    rejected = lake.read("rejected").num_rows if "rejected" in lake.tables() else 0
    assert len(rows) + rejected == 36  # every sentence projected or rejected with a reason
    tallies = result.metrics["tallies"]
    spans = query(lake, "SELECT count(*) AS n FROM outcomes").column("n")[0].as_py()
    assert tallies["spans"]["by"]["de"]["total"] == spans
    assert tallies["translations"]["by"]["de"]["total"] == 36
    route = result.metrics["stats"]["route"]
    assert route["method"] == f"{projector}.v1"
    marked = query(lake, "SELECT count(marked) AS n FROM translations").column("n")[0].as_py()
    assert marked == 36  # the marked text of every sentence is kept for inspection
    if projector == "markers":  # no plain translation: only marked text went to the model
        assert route["sequences"]["translate_marked"] == 36
        assert "translate" not in route["sequences"]
    else:
        assert route["calls"]["score_delta"] == 3  # one per shard of 12
        assert route["sequences"]["score_search"] > 0 and route["candidates"] > 0


def test_translate_test_codec_round_trip_and_eval(tiny_mt_models, tmp_path, spacy_pipeline):
    from xproj.cli import app
    from xproj.flows.translate_test_flow import translate_test
    from xproj.io.readers.conll import iter_conll

    lake_root = tmp_path / "lake"
    cfg = TranslateTestConfig(
        input={"path": str(SAMPLE_DE), "lang": "de"},
        model=str(tiny_mt_models["nllb"]["ct2"]),
        spacy=str(spacy_pipeline),
        label_map={"PER": "PER"},
        lake=str(lake_root),
        shard_size=12,
        max_decoding_length=24,
    )
    result = translate_test(cfg)
    assert result.versions["projected"] == 0 and result.versions["runs"] == 0
    lake = Lake(lake_root)
    rows = check_tables(lake, result.run_id, "codec.v1")
    # the target side is the original German text, its own tokens kept
    originals = {s.id: s for s in iter_conll(SAMPLE_DE, "de")}
    for r in rows:
        original = originals[r["pair_id"].split("|", 1)[1]]
        assert r["tgt_text"] == original.text
    assert result.metrics["records"]["read"] == 36
    assert result.metrics["tallies"]["translations"]["by"]["en"]["total"] == 36
    assert result.metrics["gold"] is not None  # the input carries gold spans: scored in the run
    # and `xproj eval projection` scores the run's table against the gold file
    out = CliRunner().invoke(
        app,
        [
            "eval",
            "projection",
            "--gold",
            str(SAMPLE_DE),
            "--gold-lang",
            "de",
            "--run",
            result.run_id,
            "--lake",
            str(lake_root),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "_micro" in out.output
    assert "evaluations" in lake.tables()


def test_translate_test_two_steps_with_a_predictions_file(tiny_mt_models, tmp_path):
    from xproj.flows.translate_test_flow import translate_test

    lake_root = tmp_path / "lake"
    base = {
        "input": {"path": str(SAMPLE_DE), "lang": "de"},
        "model": str(tiny_mt_models["nllb"]["ct2"]),
        "lake": str(lake_root),
        "shard_size": 12,
        "max_decoding_length": 24,
        "limit": 12,
    }
    # step 1: no predictions: translate only
    first = translate_test(TranslateTestConfig(**base))
    assert "projected" not in first.versions and "translations" in first.versions
    lake = Lake(lake_root)
    english = query(
        lake, "SELECT sentence_id AS id, translation AS text FROM translations"
    ).to_pylist()
    # step 2: label the English (first word of each, one record left out) and project back
    preds = tmp_path / "pred.jsonl"
    with preds.open("w") as fh:
        for r in english[1:]:
            word = r["text"].split()[0]
            spans = [{"start": 0, "end": len(word), "label": "PER"}]
            fh.write(json.dumps({"id": r["id"], "text": r["text"], "spans": spans}) + "\n")
    second = translate_test(
        TranslateTestConfig(**base, predictions={"path": str(preds)}, projector="align")
    )
    assert second.metrics["stats"]["translated"] == 0  # every translation from the cache
    rejected = query(
        lake, f"SELECT code, locator FROM rejected WHERE run_id = '{second.run_id}'"
    ).to_pylist()
    assert rejected == [{"code": "XP116", "locator": f"record {english[0]['id']}"}]
    n = (
        query(lake, f"SELECT count(*) AS n FROM outcomes WHERE run_id = '{second.run_id}'")
        .column("n")[0]
        .as_py()
    )
    assert n == 11  # one outcome per predicted span of the 11 labeled records


def test_translate_test_refuses_both_predictions_and_spacy(tmp_path):
    from xproj.schemas.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        TranslateTestConfig(
            input={"path": "x.txt", "lang": "de", "format": "text"},
            model="m",
            predictions={"path": "p.jsonl"},
            spacy="en_core_web_sm",
        )
    assert err.value.code == "XP301"


def test_translate_test_markers_run_whose_every_record_is_rejected(tiny_mt_models, tmp_path):
    """Every record already holds the marker '[': each is rejected (XP115), so the run used
    nothing and says so (XP120, with the reject counts) instead of committing an empty run;
    with allow_empty it commits, and its summary counts the rejected records."""
    from xproj.executor.summary import render
    from xproj.flows.translate_test_flow import translate_test
    from xproj.schemas.errors import InputFormatError

    texts = tmp_path / "marked.de.jsonl"
    with texts.open("w") as fh:
        for k in range(6):
            fh.write(json.dumps({"id": f"r{k}", "text": f"Satz [{k}] hier", "spans": []}) + "\n")
    preds = tmp_path / "pred.jsonl"
    with preds.open("w") as fh:
        for k in range(6):
            spans = [{"start": 0, "end": 4, "label": "PER"}]
            fh.write(json.dumps({"id": f"r{k}", "text": "Anna [x] here", "spans": spans}) + "\n")
    base = {
        "input": {"path": str(texts), "lang": "de"},
        "model": str(tiny_mt_models["nllb"]["ct2"]),
        "predictions": {"path": str(preds)},
        "projector": "markers",
        "lake": str(tmp_path / "lake"),
        "max_decoding_length": 16,
    }
    with pytest.raises(InputFormatError) as err:
        translate_test(TranslateTestConfig(**base))
    assert err.value.code == "XP120" and "mark.XP115 6" in str(err.value)
    assert "projected" not in Lake(tmp_path / "lake").tables()
    result = translate_test(TranslateTestConfig(**base, allow_empty=True))
    assert result.metrics["records"] == {
        "read": 6,
        "rejected_at_read": 0,
        "processed": 6,
        "rejected": 6,
        "used": 0,
    }
    assert "6 processed, 6 rejected, 0 used (rejected: mark.XP115 6)" in render(result)
