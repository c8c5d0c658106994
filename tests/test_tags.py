"""Tag schemes: parsing every scheme, invalid sequences, and writing tags back."""

from __future__ import annotations

import pickle

import pytest

from xproj.schemas.errors import InputFormatError
from xproj.schemas.records import TokenSpan
from xproj.schemas.tags import (
    TagSequenceError,
    detect_scheme,
    spans_from_tags,
    split_tag,
    tags_from_spans,
)

T = TokenSpan

VALID = [
    # (tags, scheme, spans)
    ([], "iob2", []),
    (["O", "O"], "iob2", []),
    (["B-PER", "I-PER", "O", "B-LOC"], "iob2", [T(0, 2, "PER"), T(3, 4, "LOC")]),
    (["B-PER", "B-PER", "I-PER"], "iob2", [T(0, 1, "PER"), T(1, 3, "PER")]),
    (["B-PER", "B-LOC", "I-LOC"], "iob2", [T(0, 1, "PER"), T(1, 3, "LOC")]),
    (["O", "B-ORG-X", "I-ORG-X"], "iob2", [T(1, 3, "ORG-X")]),
    (["b-per", "i-per", "o"], "iob2", [T(0, 2, "per")]),
    # iob1: I- starts unless it continues the same type; B- splits same-type neighbours
    (["I-PER", "I-PER", "O", "I-LOC"], "iob1", [T(0, 2, "PER"), T(3, 4, "LOC")]),
    (["I-PER", "B-PER", "I-PER"], "iob1", [T(0, 1, "PER"), T(1, 3, "PER")]),
    (["I-PER", "I-LOC"], "iob1", [T(0, 1, "PER"), T(1, 2, "LOC")]),
    (["O", "B-PER", "I-PER"], "iob1", [T(1, 3, "PER")]),  # valid IOB2 reads the same
    # bioes, with BILOU's L-/U- accepted
    (["B-PER", "I-PER", "E-PER", "S-LOC"], "bioes", [T(0, 3, "PER"), T(3, 4, "LOC")]),
    (["B-PER", "L-PER", "U-LOC", "O"], "bioes", [T(0, 2, "PER"), T(2, 3, "LOC")]),
    (["S-PER", "S-PER"], "bioes", [T(0, 1, "PER"), T(1, 2, "PER")]),
    (["O", "O"], "bioes", []),
    # auto: bioes when S/E/L/U appears, else lenient iob1
    (["B-PER", "E-PER", "O"], "auto", [T(0, 2, "PER")]),
    (["U-PER", "O"], "auto", [T(0, 1, "PER")]),
    (["B-PER", "I-PER", "O"], "auto", [T(0, 2, "PER")]),
    (["I-PER", "O", "I-LOC"], "auto", [T(0, 1, "PER"), T(2, 3, "LOC")]),
]


@pytest.mark.parametrize(("tags", "scheme", "spans"), VALID)
def test_tags_spans_from_tags_valid(tags, scheme, spans):
    assert spans_from_tags(tags, scheme) == spans


INVALID = [
    # (tags, scheme, bad index, bad tag)
    (["O", "I-PER"], "iob2", 1, "I-PER"),
    (["I-PER"], "iob2", 0, "I-PER"),
    (["B-PER", "I-LOC"], "iob2", 1, "I-LOC"),
    (["B-PER", "O", "I-PER"], "iob2", 2, "I-PER"),
    (["B-PER", "E-PER"], "iob2", 1, "E-PER"),
    (["S-PER"], "iob1", 0, "S-PER"),
    (["B-PER", "O"], "bioes", 1, "O"),  # O before the E- tag
    (["B-PER", "I-PER"], "bioes", 0, "B-PER"),  # sentence ends inside the entity
    (["B-PER", "O", "E-PER"], "bioes", 1, "O"),
    (["I-PER", "E-PER"], "bioes", 0, "I-PER"),
    (["E-PER"], "bioes", 0, "E-PER"),
    (["B-PER", "E-LOC"], "bioes", 1, "E-LOC"),
    (["B-PER", "S-PER"], "bioes", 1, "S-PER"),
    (["B-PER", "B-PER", "E-PER"], "bioes", 1, "B-PER"),
    (["S-PER", "I-PER"], "auto", 1, "I-PER"),  # auto picks bioes, which forbids this
    # malformed tags, whatever the scheme
    (["O", "B-"], "iob2", 1, "B-"),
    (["X-PER"], "auto", 0, "X-PER"),
    (["PER"], "iob1", 0, "PER"),
    (["O", "BB-PER"], "bioes", 1, "BB-PER"),
    (["", "O"], "iob2", 0, ""),
    (["B- "], "auto", 0, "B- "),
]


@pytest.mark.parametrize(("tags", "scheme", "index", "tag"), INVALID)
def test_tags_spans_from_tags_invalid(tags, scheme, index, tag):
    with pytest.raises(TagSequenceError) as info:
        spans_from_tags(tags, scheme)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, InputFormatError)
    assert err.code == "XP104"
    assert (err.index, err.tag) == (index, tag)
    assert f"token {index}" in str(err) and repr(tag) in str(err)


def test_tags_spans_from_tags_unknown_scheme():
    with pytest.raises(TagSequenceError) as info:
        spans_from_tags(["O"], "bilou")  # type: ignore[arg-type]
    assert info.value.code == "XP104" and "bilou" in str(info.value)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("O", ("O", "")), ("o", ("O", "")), ("b-LOC", ("B", "LOC")), ("L-X", ("E", "X")),
     ("U-X", ("S", "X")), ("I-A-B", ("I", "A-B"))],
)  # fmt: skip
def test_tags_split_tag(tag, expected):
    assert split_tag(tag) == expected


@pytest.mark.parametrize(
    ("tags", "expected"),
    [(["B-X", "I-X"], "iob1"), (["O", "E-X"], "bioes"), (["U-X"], "bioes"), (["O"], "iob1"),
     (["S-X", "O"], "bioes")],
)  # fmt: skip
def test_tags_detect_scheme(tags, expected):
    assert detect_scheme(tags) == expected


WRITE = [
    # (n, spans, scheme, tags)
    (3, [], "iob2", ["O", "O", "O"]),
    (4, [T(0, 2, "PER"), T(3, 4, "LOC")], "iob2", ["B-PER", "I-PER", "O", "B-LOC"]),
    (4, [T(3, 4, "LOC"), T(0, 2, "PER")], "iob2", ["B-PER", "I-PER", "O", "B-LOC"]),
    (3, [T(0, 1, "PER"), T(1, 3, "PER")], "iob2", ["B-PER", "B-PER", "I-PER"]),
    (3, [T(0, 1, "PER"), T(1, 3, "PER")], "iob1", ["I-PER", "B-PER", "I-PER"]),
    (3, [T(0, 1, "PER"), T(1, 3, "LOC")], "iob1", ["I-PER", "I-LOC", "I-LOC"]),
    (5, [T(0, 3, "PER"), T(4, 5, "LOC")], "bioes", ["B-PER", "I-PER", "E-PER", "O", "S-LOC"]),
    (2, [T(0, 1, "PER"), T(1, 2, "PER")], "bioes", ["S-PER", "S-PER"]),
]


@pytest.mark.parametrize(("n", "spans", "scheme", "tags"), WRITE)
def test_tags_tags_from_spans(n, spans, scheme, tags):
    assert tags_from_spans(n, spans, scheme) == tags
    # and back again under the same scheme
    assert spans_from_tags(tags, scheme) == sorted(spans)


@pytest.mark.parametrize(
    ("n", "spans", "scheme", "code", "needle"),
    [
        (3, [T(0, 2, "PER"), T(1, 3, "LOC")], "iob2", "XP105", "overlap"),
        (3, [T(0, 2, "PER"), T(0, 1, "PER")], "bioes", "XP105", "overlap"),
        (2, [T(1, 3, "PER")], "iob2", "XP105", "past the 2 tokens"),
        (2, [T(0, 1, "")], "iob2", "XP104", "empty label"),
        (2, [T(0, 1, "X")], "auto", "XP104", "cannot write"),
    ],
)
def test_tags_tags_from_spans_errors(n, spans, scheme, code, needle):
    with pytest.raises(InputFormatError) as info:
        tags_from_spans(n, spans, scheme)
    assert info.value.code == code
    assert needle in str(info.value)


def test_tags_error_keeps_place_through_pickle():
    with pytest.raises(TagSequenceError) as info:
        spans_from_tags(["O", "I-PER"], "iob2")
    located = info.value.located(file="a.conll", line=7, record="a:1")
    copy = pickle.loads(pickle.dumps(located))
    assert (copy.index, copy.tag, copy.file, copy.line, copy.code) == (
        1,
        "I-PER",
        "a.conll",
        7,
        "XP104",
    )
    assert "a.conll:7" in str(copy)
