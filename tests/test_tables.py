"""Declared table schemas: round trips through the lake, and what ``conform`` refuses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from xproj.schemas.arrow import conform
from xproj.schemas.errors import E_SCHEMA_MISMATCH, E_UNKNOWN_TABLE, CatalogError
from xproj.schemas.tables import RECORDS, RUN_OUTPUTS, TABLES, Answers, empty

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _row(table: str, run_id: str, i: int) -> dict[str, Any]:
    pair = {"run_id": run_id, "pair_id": f"p{i}", "src_lang": "en", "tgt_lang": "de"}
    if table == "projected":
        return {
            **pair,
            "src_text": "Angela Merkel visited Paris",
            "src_tokens": ["Angela", "Merkel", "visited", "Paris"],
            "src_tags": ["B-PER", "I-PER", "O", "B-LOC"],
            "tgt_text": "Angela Merkel besuchte Paris",
            "tgt_tokens": ["Angela", "Merkel", "besuchte", "Paris"],
            "tgt_tags": ["B-PER", "I-PER", "O", "B-LOC"],
            "tgt_spans": [
                {"start": 0, "end": 2, "label": "PER"},
                {"start": 3, "end": 4, "label": "LOC"},
            ],
            "tgt_char_spans": [
                {"start": 0, "end": 13, "label": "PER"},
                {"start": 23, "end": 28, "label": "LOC"},
            ],
            "method": "align.v1",
            "aligner": "eflomal.v1",
            "aligner_model": None if i % 2 else "priors-en-de",
            "translation_model": "nllb-200-int8" if i % 2 else None,
            "tokenizer": "spacy.blank.de",
            "n_source_spans": 2,
            "n_projected": 2 - i % 2,
        }
    if table == "outcomes":
        dropped = i % 2 == 1
        return {
            **pair,
            "span_index": i,
            "label": "PER",
            "src_start": 0,
            "src_end": 2,
            "src_text": "Angela Merkel",
            "tgt_start": None if dropped else 0,
            "tgt_end": None if dropped else 2,
            "tgt_char_start": None if dropped else 0,
            "tgt_char_end": None if dropped else 13,
            "tgt_text": None if dropped else "Angela Merkel",
            "reason": "no_alignment" if dropped else None,
            "merged_into": None,
            "method": "align.v1",
            "score": None if dropped else -3.25,
            "detail": None if dropped else "largest group",
        }
    if table == "entitycs_en":
        return {"run_id": run_id, "id": f"P17:{i}", "en_sentence": f"<en>Paris</en> is {i}."}
    if table == "entitycs_cs":
        return {
            "run_id": run_id,
            "id": f"P17:{i}",
            "en_sentence": f"<en>Paris</en> is {i}.",
            "cs_sentence": f"<fr>Paris</fr> is {i}.",
            "language": "fr",
        }
    if table == "entitycs_entities":
        return {
            "run_id": run_id,
            "id": f"P17:{i}",
            "language": "ru",
            "qid": "Q90",
            "en_surface": "Paris",
            "switched_surface": "Париж",
        }
    if table == "entitycs_dropped":
        return {"run_id": run_id, "id": f"P17:{i}", "reason": "too_short"}
    if table == "paxqa":
        return {
            "run_id": run_id,
            "id": f"xquad:0:{i}:17-22",
            "source_id": f"xquad:0:{i}",
            "title": "Paris",
            "language": "de",
            "context_en": "It is in Paris.",
            "context_x": "Es liegt in Paris.",
            "question_en": "Where is it?",
            "question_x": "Wo liegt es?",
            "answers_en": {"text": ["Paris"], "answer_start": [9]},
            "answers_x": {"text": ["Paris"], "answer_start": [12]},
            "question_source": "generated",
            "answer_kind": "entity",
            "qg_score": None if i % 2 else -1.5,
            "translation_score": -0.75,
            "round_trip": None if i % 2 else 0.8,
            "constraints": ["Paris"] if i % 2 else [],
            "constraints_satisfied": ["Paris"] if i % 2 else [],
            "constraints_unsatisfied": [],
            "constraint_method": "n_best" if i % 2 else "plain",
        }
    if table == "paxqa_dropped":
        return {
            "run_id": run_id,
            "id": f"xquad:0:{i}:0-2",
            "source_id": f"xquad:0:{i}",
            "language": "de",
            "stage": "answer",
            "reason": "no_alignment",
            "detail": "tokens 0-1 not aligned",
            "answer_en": "It",
            "question_en": None,
            "question_x": None,
        }
    if table == "translations":
        return {
            "run_id": run_id,
            "sentence_id": f"s{i}",
            "src_lang": "en",
            "tgt_lang": "de",
            "source_text": f"Text {i}.",
            "translation": "" if i == 2 else f"Satz {i}.",
            "model_id": "nllb-200-int8",
            "quantization": "int8",
            "decoding": '{"beam_size": 1}',
            "flag": "too_long" if i == 2 else None,
            "segments": 0 if i == 2 else 1 + i,
            "truncated": i == 1,
            "marked": None if i % 2 else "[ Satz ] 1.",
        }
    if table == "alignments":
        return {
            **pair,
            "aligner": "simalign.argmax.v1",
            "links": [{"src": 0, "tgt": 0}, {"src": 1, "tgt": i}],
        }
    if table == "aligner_priors":
        return {
            "run_id": run_id,
            "src_lang": "en",
            "tgt_lang": "de",
            "aligner": "eflomal.v1",
            "pairs": 100 + i,
            "sha256": f"{i:064x}",
            "priors": f"xproj-eflomal-priors/1\tlowercase=1\tpairs={100 + i}\nLEX\tthe\tdie\t{i}\n",
        }
    if table == "rejected":
        return {
            "run_id": run_id,
            "stage": "read",
            "source": "data/en.conll",
            "locator": f"line {i + 1}",
            "code": "XP103",
            "reason": "3 tokens but 2 tags",
            "raw": "EU rejects German",
        }
    if table == "runs":
        return {
            "run_id": run_id,
            "run_key": "k" * 32,
            "flow": "project",
            "status": "ok",
            "started_at": T0,
            "finished_at": T0,
            "parameters": '{"method": "align.v1"}',
            "code_version": "xproj 0.1.0 (git abc1234)",
            "inputs": [
                {"name": "src", "ref": "data/en.conll", "version": None, "sha256": "ab" * 32},
                {"name": "pairs", "ref": "projected", "version": 3, "sha256": None},
            ],
            "outputs": [{"table": "projected", "version": i, "rows": 10}],
            "aligner": None if i % 2 else "eflomal.v1",
            "models": ["facebook/nllb-200-distilled-600M"],
            "metrics": '{"projection_rate": 0.9}',
            "timings": '{"total_s": 1.5}',
        }
    if table == "evaluations":
        return {
            "eval_id": f"e{i}",
            "run_id": None if i % 2 else run_id,
            "created_at": T0,
            "kind": "alignment",
            "dataset": "gold.en-de",
            "system": "simalign.argmax.v1",
            "label": "_all",
            "precision": 0.8,
            "recall": 0.7,
            "f1": 0.7466666666666667,
            "aer": 0.25 if i % 2 == 0 else None,
            "n_gold": 100,
            "n_pred": 90,
            "n_correct": 70,
            "params": "{}",
        }
    if table == "translation_cache":
        return {
            "key": f"{i:064x}",
            "model_id": "opus-mt-en-de",
            "quantization": "int8",
            "src_lang": "en",
            "tgt_lang": "de",
            "options": "v1:beam_size=1",
            "source": "Angela Merkel visited Paris",
            "translation": "" if i % 2 else "Angela Merkel besuchte Paris",
            "tokens": 0 if i % 2 else 6,
            "source_tokens": 0 if i % 2 else 8,
            "segments": 0 if i % 2 else 1,
            "flag": "too_long" if i % 2 else None,
            "truncated": False,
            "detail": "1 sentence over 512 tokens" if i % 2 else "",
            "created_at": T0,
            "run_id": None if i % 2 else run_id,
        }
    raise KeyError(table)


def sample_rows(table: str, run_id: str = "r1", n: int = 3) -> list[dict[str, Any]]:
    """``n`` hand-built rows of a declared table (shared with the catalog tests)."""
    return [_row(table, run_id, i) for i in range(n)]


def test_tables_every_declared_table_has_sample_rows():
    assert sorted(TABLES) == sorted(t for t in TABLES if sample_rows(t))


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_conform_rows_keeps_values_and_schema(table):
    rows = sample_rows(table)
    out = conform(table, rows)
    assert out.schema == TABLES[table]
    assert out.to_pylist() == rows


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_conform_reorders_and_narrows_arrow_columns(table):
    rows = sample_rows(table)
    wide = pa.Table.from_pylist(rows)  # inferred types: int64, large layouts, reversed order
    reversed_cols = wide.select(list(reversed(wide.column_names)))
    out = conform(table, reversed_cols)
    assert out.schema == TABLES[table]
    assert out.to_pylist() == rows


def _without(rows, column):
    return [{k: v for k, v in r.items() if k != column} for r in rows]


def _with(rows, column, value):
    return [{**r, column: value} for r in rows]


BAD_ROWS = [
    # (table, transform, column named in the error)
    ("rejected", lambda rows: _without(rows, "reason"), "reason"),
    ("rejected", lambda rows: _with(rows, "extra", 1), "extra"),
    ("rejected", lambda rows: _with(rows, "stage", None), "stage"),
    ("outcomes", lambda rows: _with(rows, "span_index", "first"), "span_index"),
    ("outcomes", lambda rows: _with(rows, "src_start", 2**40), "src_start"),
    ("projected", lambda rows: _with(rows, "src_tokens", "Angela Merkel"), "src_tokens"),
    ("runs", lambda rows: _with(rows, "started_at", "yesterday"), "started_at"),
    ("evaluations", lambda rows: _with(rows, "f1", "high"), "f1"),
]


@pytest.mark.parametrize(("table", "transform", "column"), BAD_ROWS)
def test_tables_conform_rows_refuses_with_table_and_column(table, transform, column):
    with pytest.raises(CatalogError) as err:
        conform(table, transform(sample_rows(table)))
    assert err.value.code == E_SCHEMA_MISMATCH
    assert repr(table) in str(err.value) and repr(column) in str(err.value)


BAD_COLUMNS = [
    ("rejected", lambda t: t.drop_columns(["raw"]), "raw"),
    ("rejected", lambda t: t.append_column("extra", pa.array([1, 2, 3])), "extra"),
    (
        "outcomes",
        lambda t: t.set_column(
            t.schema.get_field_index("span_index"), "span_index", pa.array(["0", "1", "2"])
        ),
        "span_index",
    ),
    (
        "outcomes",
        lambda t: t.set_column(
            t.schema.get_field_index("src_end"), "src_end", pa.array([1.5, 2.0, 3.0])
        ),
        "src_end",
    ),
    (
        "outcomes",
        lambda t: t.set_column(
            t.schema.get_field_index("src_start"), "src_start", pa.array([2**40, 1, 1])
        ),
        "src_start",
    ),
    (
        "projected",
        lambda t: t.set_column(
            t.schema.get_field_index("method"), "method", pa.array([None, "a", "b"], pa.string())
        ),
        "method",
    ),
]


@pytest.mark.parametrize(("table", "transform", "column"), BAD_COLUMNS)
def test_tables_conform_arrow_refuses_with_table_and_column(table, transform, column):
    data = transform(pa.Table.from_pylist(sample_rows(table)))
    with pytest.raises(CatalogError) as err:
        conform(table, data)
    assert err.value.code == E_SCHEMA_MISMATCH
    assert repr(table) in str(err.value) and repr(column) in str(err.value)


def test_tables_conform_unknown_table_lists_declared():
    with pytest.raises(CatalogError) as err:
        conform("translationz", [])
    assert err.value.code == E_UNKNOWN_TABLE
    assert "projected" in str(err.value)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_empty_has_declared_schema(table):
    assert empty(table).schema == TABLES[table]
    assert conform(table, []).num_rows == 0


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_round_trip_through_lake(table, lake_root):
    from xproj.catalog import InputRef, Lake, RunRecord

    lake = Lake(lake_root)
    inputs = [InputRef("src", "data/en.conll", None, "ab" * 32), InputRef("pairs", "projected", 3)]
    run = RunRecord.start(
        "roundtrip", {"table": table}, inputs, aligner="eflomal.v1", models=["m1", "m2"]
    )
    run.metrics = {"projection_rate": 0.5, "per_label": {"PER": 1}}
    rows = sample_rows(table, run_id=run.run_id)
    if table == "runs":  # commit writes runs itself: the committed row must round-trip
        lake.commit(run, {})
        expected = conform("runs", [run.to_row(run.outputs)])
        assert lake.read("runs").to_pylist() == expected.to_pylist()
        assert RunRecord.from_row(expected.to_pylist()[0]) == run
        return
    lake.commit(run, {table: rows})
    back = lake.read(table)
    assert back.schema == TABLES[table]
    assert back.to_pylist() == rows


def _records(table: str, rows: list[dict[str, Any]]) -> list[Any]:
    """The sample rows as records of the table's type (run outputs leave run_id out)."""
    record = RECORDS[table]
    drop = {"run_id"} if table in RUN_OUTPUTS else set()
    return [record(**{k: v for k, v in r.items() if k not in drop}) for r in rows]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_records_convert_like_rows(table):
    rows = sample_rows(table, run_id="r1")
    out = conform(table, _records(table, rows), run_id="r1")
    assert out.schema == TABLES[table]
    assert out.to_pylist() == conform(table, rows).to_pylist()


def test_tables_record_fields_are_the_columns():
    for table, record in RECORDS.items():
        names = [f.name for f in dataclasses.fields(record)]
        lead = ["run_id"] if table in RUN_OUTPUTS else []
        assert lead + names == TABLES[table].names, table


def test_tables_spans_and_links_convert_from_their_own_types():
    from xproj.schemas.records import CharSpan, TokenSpan
    from xproj.schemas.tables import AlignmentRow, PaxqaRow, ProjectedRow

    (row,) = _records("projected", sample_rows("projected", n=1))
    row = dataclasses.replace(
        row, tgt_spans=(TokenSpan(0, 2, "PER"),), tgt_char_spans=(CharSpan(0, 13, "PER"),)
    )
    out = conform("projected", [row], run_id="r").to_pylist()[0]
    assert out["tgt_spans"] == [{"start": 0, "end": 2, "label": "PER"}]
    assert out["tgt_char_spans"] == [{"start": 0, "end": 13, "label": "PER"}]
    links = AlignmentRow("p", "en", "de", "eflomal.v1", [(0, 1), (2, 0)])
    assert conform("alignments", [links], run_id="r").column("links").to_pylist() == [
        [{"src": 0, "tgt": 1}, {"src": 2, "tgt": 0}]
    ]
    (qa,) = _records("paxqa", sample_rows("paxqa", n=1))
    qa = dataclasses.replace(qa, answers_en=Answers(("Paris",), (3,)))
    got = conform("paxqa", [qa], run_id="r").column("answers_en").to_pylist()
    assert got == [{"text": ["Paris"], "answer_start": [3]}]
    assert isinstance(qa, PaxqaRow) and isinstance(row, ProjectedRow)


def test_tables_records_of_another_table_are_refused():
    (reject,) = _records("rejected", sample_rows("rejected", n=1))
    with pytest.raises(CatalogError) as err:
        conform("outcomes", [reject], run_id="r")
    assert err.value.code == E_SCHEMA_MISMATCH
    assert "'outcomes'" in str(err.value) and "Reject" in str(err.value)


def test_tables_run_output_records_need_the_run_id():
    with pytest.raises(ValueError, match="run_id"):
        conform("rejected", _records("rejected", sample_rows("rejected", n=1)))


def test_tables_bad_record_value_names_table_and_column():
    (row,) = _records("outcomes", sample_rows("outcomes", n=1))
    with pytest.raises(CatalogError) as err:
        conform("outcomes", [dataclasses.replace(row, src_start=2**40)], run_id="r")
    assert err.value.code == E_SCHEMA_MISMATCH and "'src_start'" in str(err.value)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("links", [[0, 1]]),  # a JSON-style pair, not a (src, tgt) tuple or a dict
        ("links", [(0,)]),  # a pair with one member
        ("links", [7]),
    ],
)
def test_tables_struct_values_without_their_fields_are_refused_with_the_column(column, value):
    row = {"pair_id": "p", "src_lang": "en", "tgt_lang": "de", "aligner": "given.v1", column: value}
    with pytest.raises(CatalogError) as err:
        conform("alignments", [row], run_id="r")
    assert err.value.code == E_SCHEMA_MISMATCH
    assert "'alignments'" in str(err.value) and f"'{column}'" in str(err.value)


def test_tables_records_mixed_with_row_dicts_are_refused():
    (record,) = _records("rejected", sample_rows("rejected", n=1))
    with pytest.raises(CatalogError) as err:
        conform("rejected", [sample_rows("rejected", n=1, run_id="r")[0], record], run_id="r")
    assert err.value.code == E_SCHEMA_MISMATCH and "mixed" in str(err.value)
