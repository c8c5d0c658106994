"""JSONL/Parquet span records: tokenization, exact round trips, and every bad-record case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xproj.io.readers.spans import SpanFields, iter_spans, record_to_sentence
from xproj.schemas.errors import InputFormatError, Reject
from xproj.schemas.records import AnnotatedSentence, CharSpan, TokenSpan

T = TokenSpan


def _jsonl(tmp_path: Path, records: list, name: str = "ner.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _span(start: int, end: int, label: str) -> dict:
    return {"start": start, "end": end, "label": label}


GOOD = [
    # (record, tokens, spans, char spans after trimming)
    (
        {"text": "Anna lives in Rome.", "spans": [_span(14, 18, "LOC"), _span(0, 4, "PER")]},
        ("Anna", "lives", "in", "Rome", "."),
        (T(0, 1, "PER"), T(3, 4, "LOC")),
        [(0, 4), (14, 18)],
    ),
    # a span edge inside a word forces a token edge there
    (
        {"text": "Ex-Yugoslavia's army", "spans": [[3, 13, "LOC"]]},
        ("Ex", "-", "Yugoslavia", "'", "s", "army"),
        (T(2, 3, "LOC"),),
        [(3, 13)],
    ),
    (
        {"text": "NewYorkCity", "spans": [_span(3, 7, "LOC")]},
        ("New", "York", "City"),
        (T(1, 2, "LOC"),),
        [(3, 7)],
    ),
    # whitespace at span edges is trimmed
    (
        {"text": "see  Paris now", "spans": [_span(4, 11, "LOC")]},
        ("see", "Paris", "now"),
        (T(1, 2, "LOC"),),
        [(5, 10)],
    ),
    # CJK: one token per character
    (
        {"text": "我住在北京。", "spans": [_span(3, 5, "LOC")]},
        ("我", "住", "在", "北", "京", "。"),
        (T(3, 5, "LOC"),),
        [(3, 5)],
    ),
    # given tokens, with and without offsets
    (
        {
            "text": "Dr. Smith left",
            "tokens": ["Dr.", "Smith", "left"],
            "spans": [_span(0, 9, "PER")],
        },
        ("Dr.", "Smith", "left"),
        (T(0, 2, "PER"),),
        [(0, 9)],
    ),
    (
        {
            "text": "a  b",
            "tokens": ["a", "b"],
            "token_offsets": [[0, 1], [3, 4]],
            "spans": [_span(3, 4, "X")],
        },
        ("a", "b"),
        (T(1, 2, "X"),),
        [(3, 4)],
    ),
    ({"text": "no entities here", "spans": []}, ("no", "entities", "here"), (), []),
    # adjacent spans are not overlapping
    (
        {"text": "AnnaBob", "spans": [_span(0, 4, "PER"), _span(4, 7, "PER")]},
        ("Anna", "Bob"),
        (T(0, 1, "PER"), T(1, 2, "PER")),
        [(0, 4), (4, 7)],
    ),
]


@pytest.mark.parametrize(("record", "tokens", "spans", "chars"), GOOD)
def test_spans_record_to_sentence(record, tokens, spans, chars):
    sentence = record_to_sentence(record, "r:1", "en")
    assert sentence.tokens == tokens
    assert sentence.spans == spans
    assert sentence.text == record["text"]
    assert [(c.start, c.end) for c in sentence.char_spans] == chars


@pytest.mark.parametrize(("record", "tokens", "spans", "chars"), GOOD)
def test_spans_iter_spans_jsonl_and_parquet_agree(tmp_path, record, tokens, spans, chars):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    jsonl = _jsonl(tmp_path, [record])
    row = {
        "text": record["text"],
        "spans": [s if isinstance(s, dict) else _span(*s) for s in record["spans"]],
    }
    parquet = tmp_path / "ner.parquet"
    pq.write_table(pa.Table.from_pylist([row]), parquet)
    from_jsonl = next(iter_spans(jsonl, "en"))
    from_parquet = next(iter_spans(parquet, "en"))
    assert from_parquet.char_spans == tuple(
        CharSpan(s, e, sp.label) for (s, e), sp in zip(chars, spans, strict=True)
    )
    if "tokens" not in record:
        assert (from_jsonl.tokens, from_jsonl.spans) == (from_parquet.tokens, from_parquet.spans)
    assert from_jsonl.id == "ner:1" and from_parquet.id == "ner:1"


BAD = [
    # (record or raw line, code, needle)
    ("{not json", "XP101", "not valid JSON"),
    ("[1, 2]", "XP101", "not an object"),
    ({"spans": []}, "XP108", "'text'"),
    ({"text": "a b"}, "XP108", "'spans'"),
    ({"text": "a b", "spans": None}, "XP108", "'spans'"),
    ({"text": 5, "spans": []}, "XP101", "not a string"),
    ({"text": "", "spans": []}, "XP102", "empty"),
    ({"text": "   ", "spans": []}, "XP102", "empty"),
    ({"text": "a b", "spans": {"start": 0}}, "XP101", "not a list"),
    ({"text": "a b", "spans": [{"start": 0, "end": 1}]}, "XP108", "'label'"),
    ({"text": "a b", "spans": ["PER"]}, "XP101", "expected an object"),
    ({"text": "a b", "spans": [_span(0, 9, "X")]}, "XP105", "outside the text of 3 characters"),
    ({"text": "a b", "spans": [_span(-1, 1, "X")]}, "XP105", "outside the text"),
    ({"text": "a b", "spans": [_span(2, 2, "X")]}, "XP105", "ends at or before its start"),
    ({"text": "a b", "spans": [_span(2, 1, "X")]}, "XP105", "ends at or before its start"),
    ({"text": "a b", "spans": [_span(1, 2, "X")]}, "XP105", "only whitespace"),
    ({"text": "a b", "spans": [_span(0, 1.5, "X")]}, "XP105", "integers"),
    ({"text": "a b", "spans": [_span(0, 1, "")]}, "XP105", "label"),
    ({"text": "abc d", "spans": [_span(0, 3, "X"), _span(2, 5, "Y")]}, "XP105", "overlap"),
    ({"text": "abc", "spans": [_span(0, 3, "X"), _span(0, 3, "X")]}, "XP105", "overlap"),
    ({"text": "Dr. Smith", "tokens": ["Dr.", "Smith"], "spans": [_span(0, 2, "X")]}, "XP105",
     "token edges"),
    ({"text": "a b", "tokens": ["a", "c"], "spans": []}, "XP105", "do not match the text"),
    ({"text": "a b", "tokens": [], "spans": []}, "XP102", "empty token list"),
    ({"text": "a b", "tokens": ["a", ""], "spans": []}, "XP101", "non-empty strings"),
    ({"text": "a b", "tokens": ["a", "b"], "token_offsets": [[0, 1], [1, 2]], "spans": []},
     "XP105", "do not select it"),
    ({"text": "a b", "tokens": ["a", "b"], "token_offsets": [[0, 1]], "spans": []}, "XP101",
     "one [start, end] per token"),
]  # fmt: skip


@pytest.mark.parametrize(("record", "code", "needle"), BAD)
def test_spans_iter_spans_jsonl_bad_record_raises(tmp_path, record, code, needle):
    path = _jsonl(tmp_path, [{"text": "fine", "spans": []}, "", record])
    with pytest.raises(InputFormatError) as info:
        list(iter_spans(path, "en"))
    err = info.value
    assert err.code == code
    assert f"{path}:3" in str(err)  # the blank line 2 is not a record, but lines count
    assert "record ner:2" in str(err)
    assert needle in str(err)


@pytest.mark.parametrize(("record", "code", "needle"), BAD)
def test_spans_iter_spans_jsonl_bad_record_rejects(tmp_path, record, code, needle):
    path = _jsonl(tmp_path, [{"text": "fine", "spans": []}, record, {"text": "ok", "spans": []}])
    items = list(iter_spans(path, "en", on_error="reject"))
    assert [type(i) for i in items] == [AnnotatedSentence, Reject, AnnotatedSentence]
    reject = items[1]
    assert (reject.code, reject.locator, reject.source) == (code, "line 2", str(path))
    assert needle in reject.reason
    assert [items[0].id, items[2].id] == ["ner:1", "ner:3"]


def test_spans_iter_spans_record_id_used(tmp_path):
    path = _jsonl(
        tmp_path, [{"id": 0, "text": "a", "spans": []}, {"id": "x7", "text": "", "spans": []}]
    )
    items = list(iter_spans(path, "en", on_error="reject"))
    assert items[0].id == "0"
    with pytest.raises(InputFormatError) as info:
        list(iter_spans(path, "en"))
    assert "record x7" in str(info.value) and f"{path}:2" in str(info.value)


def test_spans_iter_spans_custom_fields(tmp_path):
    record = {"sent": "Anna sings", "ents": [{"s": 0, "e": 4, "type": "PER"}], "uid": "u1"}
    path = _jsonl(tmp_path, [record])
    fields = SpanFields(id="uid", text="sent", spans="ents", start="s", end="e", label="type")
    (sentence,) = iter_spans(path, "de", fields=fields)
    assert (sentence.id, sentence.lang, sentence.spans) == ("u1", "de", (T(0, 1, "PER"),))


PARQUET_BAD = [
    # (text, spans, code, needle)
    ("a b", [_span(0, 9, "X")], "XP105", "outside the text"),
    ("a b", [_span(2, 2, "X")], "XP105", "ends at or before its start"),
    ("a b", [_span(1, 2, "X")], "XP105", "only whitespace"),
    ("abc d", [_span(0, 3, "X"), _span(2, 5, "Y")], "XP105", "overlap"),
    ("", [], "XP102", "empty"),
]


@pytest.mark.parametrize(("text", "spans", "code", "needle"), PARQUET_BAD)
def test_spans_iter_spans_parquet_bad_record(tmp_path, text, spans, code, needle):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "bad.parquet"
    rows = [{"id": "r1", "text": "fine", "spans": [_span(0, 4, "X")]}]
    rows += [{"id": "r2", "text": text, "spans": spans}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    items = list(iter_spans(path, "en", on_error="reject"))
    assert isinstance(items[0], AnnotatedSentence) and isinstance(items[1], Reject)
    assert (items[1].code, items[1].locator, items[1].source) == (code, "r2 (row 2)", str(path))
    assert needle in items[1].reason
    with pytest.raises(InputFormatError) as info:
        list(iter_spans(path, "en"))
    assert info.value.code == code
    assert f"{path} record r2 (row 2)" in str(info.value)


def test_spans_iter_spans_parquet_missing_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist([{"sentence": "a", "spans": []}]), path)
    with pytest.raises(InputFormatError) as info:
        list(iter_spans(path, "en", on_error="reject"))
    assert info.value.code == "XP108" and "text" in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "code"),
    [
        ("data.csv", "text,spans\n", {}, "XP109"),
        ("data.parquet", "not parquet", {}, "XP109"),
        ("missing.jsonl", None, {}, "XP110"),
        ("missing.parquet", None, {}, "XP110"),
    ],
)
def test_spans_iter_spans_file_errors(tmp_path, name, content, kwargs, code):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFormatError) as info:
        list(iter_spans(path, "en", **kwargs))
    assert info.value.code == code and name in str(info.value)
