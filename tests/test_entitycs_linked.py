"""Entity-linked sentence reader: char and token mentions, QIDs and titles, every bad record a
reject with its line and reason."""

from __future__ import annotations

import json

import pytest

from xproj.generators.entitycs.linked import LinkedFields, iter_linked
from xproj.generators.entitycs.records import LinkedText
from xproj.schemas.errors import InputFormatError, Reject

GOOD = [
    (
        {
            "id": "a",
            "text": "Ada Lovelace was born in London.",
            "mentions": [
                {"start": 25, "end": 31, "title": "London"},
                {"start": 0, "end": 12, "qid": "Q7259"},
            ],
        },
        "Ada Lovelace was born in London.",
        [("Ada Lovelace", "", "Q7259"), ("London", "London", None)],
    ),
    (
        {
            "id": "b",
            "tokens": ["Ada", "Lovelace", "was", "born", "in", "London", "."],
            "mentions": [{"tokens": [0, 1], "qid": "Q7259"}, {"tokens": [5], "qid": "Q84"}],
        },
        "Ada Lovelace was born in London.",
        [("Ada Lovelace", "", "Q7259"), ("London", "", "Q84")],
    ),
]

BAD = [
    ({"id": "c", "text": "Hi", "mentions": [{"start": 0, "end": 5, "qid": "Q1"}]}, "XP105"),
    ({"id": "d", "text": "Hi there", "mentions": [{"start": 0, "end": 2, "qid": "X1"}]}, "XP101"),
    ({"id": "e", "text": "Hi there", "mentions": [{"start": 0, "end": 2}]}, "XP108"),
    (
        {
            "id": "f",
            "text": "Hi there",
            "mentions": [{"start": 0, "end": 5, "qid": "Q1"}, {"start": 3, "end": 8, "qid": "Q2"}],
        },
        "XP105",
    ),
    ({"id": "g", "mentions": []}, "XP108"),
    ({"id": "h", "text": "   ", "mentions": []}, "XP108"),
    ({"id": "i", "tokens": ["a", "b"], "mentions": [{"tokens": [4], "qid": "Q1"}]}, "XP105"),
]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_linked_reader_reads_good_and_rejects_bad(tmp_path, fmt):
    records = [r for r, *_ in GOOD] + [r for r, _ in BAD]
    if fmt == "jsonl":
        path = tmp_path / "linked.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "linked.parquet"
        rows = [{**r, "mentions": json.dumps(r.get("mentions"))} for r in records]
        pq.write_table(pa.Table.from_pylist(rows), path)
        path_json = path  # mentions stored as JSON strings are not lists: every row rejected
        got = list(iter_linked(path_json))
        assert all(isinstance(x, Reject) and x.code == "XP108" for x in got)
        # from_pylist takes its columns from the first row: give every row every column
        full = [{"id": None, "text": None, "tokens": None, **r} for r, *_ in GOOD]
        pq.write_table(pa.Table.from_pylist(full), path)
    items = list(iter_linked(path))
    good = [x for x in items if isinstance(x, LinkedText)]
    assert [g.text for g in good] == [text for _, text, _ in GOOD]
    for g, (_, _, links) in zip(good, GOOD, strict=True):
        assert [(g.text[k.start : k.end], k.target, k.qid) for k in g.links] == links
    if fmt == "jsonl":
        rejects = [x for x in items if isinstance(x, Reject)]
        assert [r.code for r in rejects] == [code for _, code in BAD] + ["XP101"]
        assert rejects[0].locator == "line 3" and rejects[-1].locator == f"line {len(records) + 1}"


def test_linked_reader_field_names_and_errors(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        json.dumps(
            {"key": "z", "sentence": "Paris is big.", "ents": [{"s": 0, "e": 5, "wd": "Q90"}]}
        )
        + "\n"
    )
    fields = LinkedFields(id="key", text="sentence", mentions="ents", start="s", end="e", qid="wd")
    (item,) = iter_linked(path, fields=fields)
    assert item.id == "z" and item.links[0].qid == "Q90"
    with pytest.raises(InputFormatError) as err:
        list(iter_linked(tmp_path / "x.txt"))
    assert err.value.code == "XP109"
    with pytest.raises(InputFormatError) as err:
        list(iter_linked(tmp_path / "missing.jsonl"))
    assert err.value.code == "XP110"


def test_linked_reader_rejects_a_line_that_is_not_utf8(tmp_path):
    # a bad byte used to become U+FFFD in the text, silently; now the line is a located reject
    path = tmp_path / "latin1.jsonl"
    good = {"id": "a", "text": "Ada here", "mentions": [{"start": 0, "end": 3, "qid": "Q1"}]}
    bad = json.dumps({**good, "id": "b", "text": "Ad\u00e9 here"}).replace("\\u00e9", "\u00e9")
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(good).encode() + b"\n" + bad.encode("latin-1") + b"\n"
    )
    first, second = iter_linked(path)
    assert isinstance(first, LinkedText) and first.text == "Ada here"
    assert isinstance(second, Reject)
    assert (second.code, second.locator) == ("XP101", "line 2")
    assert "not valid UTF-8" in second.reason and "\ufffd" in second.raw


def test_linked_reader_names_a_parquet_file_that_is_not_parquet(tmp_path):
    path = tmp_path / "linked.parquet"
    path.write_text("id,text\n")
    with pytest.raises(InputFormatError) as err:
        list(iter_linked(path))
    assert err.value.code == "XP109" and err.value.file == str(path)
