"""The ``paxqa`` flow end to end on tiny random models: tables, drops with reasons, export, errors.

The models are random (tests/tiny_mt.py): their questions and translations are token soup, so
these tests check the pipeline's bookkeeping and invariants, never the quality of what is written.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from xproj.schemas.errors import E_BITEXT_LINE_COUNT, InputFormatError
from xproj.testing.tiny_mt import MT_SAMPLE_TEXT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _bitext(tmp_path: Path, n: int = 12) -> Path:
    path = tmp_path / "ctx.en-de.tsv"
    lines = [
        f"{en}\t{de}" for en, de in zip(MT_SAMPLE_TEXT["en"], MT_SAMPLE_TEXT["de"], strict=True)
    ][:n]
    # a paragraph of three sentences, so that sentence pairing has work to do
    en3 = " ".join(MT_SAMPLE_TEXT["en"][:3])
    de3 = " ".join(MT_SAMPLE_TEXT["de"][:3])
    path.write_text("\n".join([*lines, f"{en3}\t{de3}"]) + "\n", encoding="utf-8")
    return path


def _config(tmp_path, tiny_mt_models, tiny_qg_model, contexts: dict, **over):
    from xproj.flows.paxqa import PaxqaConfig

    data = {
        "contexts": contexts,
        "lang": "de",
        "model": str(tiny_mt_models["nllb"]["ct2"]),
        "qg": {
            "model": str(tiny_qg_model),
            "max_decoding_length": 16,
            "min_decoding_length": 3,
            "beam_size": 2,
        },
        "max_decoding_length": 24,
        "filters": {"min_question_words": 1},
        "aligner_options": {"symmetrization": "grow-diag-final-and", "threads": 1},
        "lake": str(tmp_path / "lake"),
        "device": "cpu",
    }
    data.update(over)
    return PaxqaConfig(**data)


def _rows(lake_root: str, table: str, run_id: str) -> list[dict]:
    import pyarrow.compute as pc

    from xproj.catalog import Lake

    lake = Lake(lake_root)
    return lake.dataset(table).to_table(filter=pc.field("run_id") == run_id).to_pylist()


def _check_answers(row: dict) -> None:
    for side in ("en", "x"):
        context = row[f"context_{side}"]
        answers = row[f"answers_{side}"]
        assert answers["text"], row["id"]
        for text, start in zip(answers["text"], answers["answer_start"], strict=True):
            assert text and context[start : start + len(text)] == text, (row["id"], side)


def test_paxqa_bitext_run_tables_drops_and_export(tmp_path, tiny_mt_models, tiny_qg_model):
    from datasets import load_dataset

    from xproj.flows.paxqa import export_run, paxqa
    from xproj.generators.paxqa.candidates import find_candidates
    from xproj.io.readers.squad import SquadParagraph, iter_squad

    cfg = _config(tmp_path, tiny_mt_models, tiny_qg_model, {"path": str(_bitext(tmp_path))})
    result = paxqa(cfg)
    examples = _rows(cfg.lake, "paxqa", result.run_id)
    dropped = _rows(cfg.lake, "paxqa_dropped", result.run_id)
    m = result.metrics
    stats = m["stats"]
    assert stats["contexts"] == 13
    # every answer candidate the rules find is an example or a drop with a reason: nothing vanishes
    contexts = [line.split("\t")[0] for line in Path(cfg.contexts.path).read_text().splitlines()]
    expected = sum(len(c) for c in find_candidates(contexts, None, cfg.candidates))
    assert stats["candidates"] == expected > 0
    assert len(examples) + len(dropped) == expected
    assert m["tallies"]["candidates"]["kept"] == len(examples)
    assert m["tallies"]["candidates"]["total"] == expected
    assert all(d["reason"] and d["stage"] in ("answer", "question", "filter") for d in dropped)
    assert all(d["detail"] for d in dropped if d["stage"] != "question")
    assert examples, Counter((d["stage"], d["reason"]) for d in dropped)
    ids = [e["id"] for e in examples]
    assert len(ids) == len(set(ids))
    # ids name the input by its file name and content, never by where it sits on this machine
    assert all(i.startswith("ctx.en-de@") and str(tmp_path) not in i for i in ids)
    for row in examples:
        _check_answers(row)
        assert row["question_en"].strip() and row["question_x"].strip()
        assert row["language"] == "de" and row["question_source"] == "generated"
        assert sorted(row["constraints_satisfied"] + row["constraints_unsatisfied"]) == sorted(
            row["constraints"]
        )
        assert row["qg_score"] is not None and row["qg_score"] <= 0.0
        assert row["translation_score"] <= 0.0
        assert row["round_trip"] is not None and 0.0 <= row["round_trip"] <= 1.0
        assert row["constraint_method"] in ("plain", "n_best", "prefix")
    assert stats["constraints"] >= sum(len(e["constraints"]) for e in examples)
    assert stats["constraints_satisfied"] == sum(len(e["constraints_satisfied"]) for e in examples)

    # export: four directions, both layouts, every answer inside its context, loadable
    summaries = export_run(cfg.lake, result.run_id, tmp_path / "export")
    assert [s.language for s in summaries] == ["de"]
    files = summaries[0].files
    assert len(files) == 8
    for f in files:
        n = 0
        for item in iter_squad(f.path, on_error="raise"):
            assert isinstance(item, SquadParagraph)
            for q in item.questions:
                n += 1
                for a in q.answers:
                    assert item.context[a.start : a.start + len(a.text)] == a.text
        assert n == len(examples)
        if f.layout == "jsonl":
            ds = load_dataset("json", data_files=str(f.path), cache_dir=str(tmp_path / "hf"))
            assert ds["train"].num_rows == len(examples)
        else:
            raw = json.loads(f.path.read_text(encoding="utf-8"))
            assert raw["version"] == "1.1"

    # the same run again is reused; a forced rerun takes every model output from the cache
    again = paxqa(cfg)
    assert again.reused and again.run_id == result.run_id
    forced = paxqa(cfg.model_copy(update={"force": True}))
    assert forced.metrics["tallies"]["candidates"]["kept"] == len(examples)
    rerun = _rows(cfg.lake, "paxqa", forced.run_id)
    assert sorted((r["id"], r["question_en"], r["question_x"]) for r in rerun) == sorted(
        (r["id"], r["question_en"], r["question_x"]) for r in examples
    )
    # nothing was generated or translated again
    assert forced.metrics["stats"]["cache"]["qg"]["translated"] == 0
    assert forced.metrics["stats"]["cache"]["translation"]["translated"] == 0
    assert forced.metrics["stats"]["cache"]["constrained"]["translated"] == 0


def test_paxqa_squad_input_given_questions_and_rejects(tmp_path, tiny_mt_models, tiny_qg_model):
    from xproj.flows.paxqa import paxqa

    context = "Maria reads a book about the history of Paris."
    doc = {
        "version": "1.1",
        "data": [
            {
                "title": "Books",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": "q-ok",
                                "question": "What does Maria read about?",
                                "answers": [{"text": "Paris", "answer_start": 40}],
                            },
                            {
                                "id": "q-outside",
                                "question": "Who reads?",
                                "answers": [{"text": "Anna", "answer_start": 0}],
                            },
                            {
                                "id": "q-empty",
                                "question": "  ",
                                "answers": [{"text": "Maria", "answer_start": 0}],
                            },
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    cfg = _config(
        tmp_path,
        tiny_mt_models,
        tiny_qg_model,
        {"path": str(path), "format": "squad"},
        questions="given",
    )
    result = paxqa(cfg)
    rejected = _rows(cfg.lake, "rejected", result.run_id)
    assert sorted(r["code"] for r in rejected) == ["XP118", "XP119"]
    by_code = {r["code"]: r for r in rejected}
    assert "q-outside" in by_code["XP118"]["reason"] and "Anna" in by_code["XP118"]["reason"]
    assert all("squad.json" in r["source"] and r["locator"] for r in rejected)
    examples = _rows(cfg.lake, "paxqa", result.run_id)
    dropped = _rows(cfg.lake, "paxqa_dropped", result.run_id)
    assert len(examples) + len(dropped) == 1  # q-ok: an example, or a drop with its reason
    for row in examples:
        _check_answers(row)
        assert row["question_source"] == "given" and row["qg_score"] is None
        assert row["answers_en"] == {"text": ["Paris"], "answer_start": [40]}
    assert result.metrics["stats"]["contexts_translated"] == 1


def test_paxqa_bitext_files_of_different_lengths_fail_before_any_version(
    tmp_path, tiny_mt_models, tiny_qg_model
):
    from xproj.catalog import Lake
    from xproj.flows.paxqa import paxqa

    en, de = tmp_path / "c.en", tmp_path / "c.de"
    en.write_text("One sentence here.\nAnother one.\n", encoding="utf-8")
    de.write_text("Ein Satz hier.\n", encoding="utf-8")
    cfg = _config(
        tmp_path,
        tiny_mt_models,
        tiny_qg_model,
        {"path": str(en), "tgt_path": str(de)},
    )
    with pytest.raises(InputFormatError) as info:
        paxqa(cfg)
    assert info.value.code == E_BITEXT_LINE_COUNT
    lake = Lake(cfg.lake)
    assert lake.latest_version("paxqa") is None


def test_paxqa_contexts_over_the_qg_limit_are_dropped_with_a_reason(
    tmp_path, tiny_mt_models, tiny_qg_model
):
    from xproj.flows.paxqa import paxqa

    long_en = " ".join(MT_SAMPLE_TEXT["en"][:8])  # well over the tiny models' 64 tokens
    long_de = " ".join(MT_SAMPLE_TEXT["de"][:8])
    path = tmp_path / "long.tsv"
    path.write_text(f"{long_en}\t{long_de}\n", encoding="utf-8")
    cfg = _config(tmp_path, tiny_mt_models, tiny_qg_model, {"path": str(path)})
    result = paxqa(cfg)
    dropped = _rows(cfg.lake, "paxqa_dropped", result.run_id)
    too_long = [d for d in dropped if d["reason"] == "context_too_long"]
    assert too_long and all(d["stage"] == "question" for d in too_long)
    assert all("accepts at most 64" in d["detail"] for d in too_long)
    candidates = result.metrics["tallies"]["candidates"]
    assert candidates["kept"] + len(dropped) == result.metrics["stats"]["candidates"]
    assert candidates["total"] == result.metrics["stats"]["candidates"]
