"""Marker projection core (EasyProject style): insertion, parsing, label assignment."""

from __future__ import annotations

import random

import pytest

from xproj.projectors.markers import (
    CJK_QUOTE_VARIANTS,
    DEFAULT_VARIANTS,
    TITLE_MARK_VARIANTS,
    MarkerIssue,
    assign_labels,
    insert_markers,
    parse_markers,
    unassigned_targets,
)
from xproj.schemas.records import CharSpan, DropReason

MISMATCH = DropReason.MARKER_COUNT_MISMATCH
MALFORMED = DropReason.MALFORMED_MARKERS
UNMATCHED = DropReason.UNMATCHED


def spans_of(text: str, *words: str) -> list[CharSpan]:
    """Char spans of the given words (first occurrence after the previous one), labelled X."""
    out, pos = [], 0
    for word in words:
        start = text.index(word, pos)
        out.append(CharSpan(start, start + len(word), "X"))
        pos = start + len(word)
    return out


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("Ana lives in Rome.", ("Rome",), "Ana lives in [ Rome ]."),
        ("Ana lives in Rome .", ("Ana", "Rome"), "[ Ana ] lives in [ Rome ] ."),
        ("Rome", ("Rome",), "[ Rome ]"),
        ("New York City", ("New York", "City"), "[ New York ] [ City ]"),
        ("AB", ("A", "B"), "[ A ][ B ]"),
        ("no spans here", (), "no spans here"),
    ],
)
def test_markers_insert(text, words, expected):
    assert insert_markers(text, spans_of(text, *words)) == expected


def test_markers_insert_sorts_spans_and_other_markers():
    text = "Ana lives in Rome"
    spans = list(reversed(spans_of(text, "Ana", "Rome")))
    assert (
        insert_markers(text, spans, markers=("<e>", "</e>"))
        == "<e> Ana </e> lives in <e> Rome </e>"
    )


@pytest.mark.parametrize(
    ("text", "spans", "message"),
    [
        ("New York", [CharSpan(0, 5, "LOC"), CharSpan(4, 8, "ORG")], "overlapping spans LOC"),
        ("Rome", [CharSpan(0, 9, "LOC")], "outside"),
        ("in Rome", [CharSpan(2, 7, "LOC")], "whitespace"),
        ("a [b] c", [CharSpan(0, 1, "LOC")], "already contains"),
    ],
)
def test_markers_insert_rejects(text, spans, message):
    with pytest.raises(ValueError, match=message):
        insert_markers(text, spans)


@pytest.mark.parametrize("markers", [("[", "["), ("", "]"), (" [", "]")])
def test_markers_insert_rejects_bad_marker_pair(markers):
    with pytest.raises(ValueError, match="markers"):
        insert_markers("Rome", [CharSpan(0, 4, "LOC")], markers=markers)


@pytest.mark.parametrize(
    ("translated", "clean", "texts"),
    [
        ("Ana wohnt in [ Rom ].", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in [ Rom ] .", "Ana wohnt in Rom .", ("Rom",)),
        ("Ana wohnt in [Rom].", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in［Rom］.", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in 【 Rom 】.", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in 〔Rom〕.", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in [[ Rom ]].", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in [ [ Rom ] ].", "Ana wohnt in Rom.", ("Rom",)),
        ("Ana wohnt in[Rom]und", "Ana wohnt in Rom und", ("Rom",)),
        ("[ Ana ]wohnt", "Ana wohnt", ("Ana",)),
        ("北京【上海】是", "北京上海是", ("上海",)),
        ("[ Rom ][ Paris ]", "RomParis", ("Rom", "Paris")),
        ("[ Rom ] [ Paris ]", "Rom Paris", ("Rom", "Paris")),
        ("[   Rom  Paris   ]", "Rom  Paris", ("Rom  Paris",)),
        ("no markers", "no markers", ()),
        ("", "", ()),
    ],
)
def test_markers_parse_variants_and_glue(translated, clean, texts):
    parsed = parse_markers(translated)
    assert (parsed.clean, parsed.texts, parsed.problems) == (clean, texts, ())
    assert all(parsed.raw[parsed.clean_to_raw[i]] == ch for i, ch in enumerate(clean) if ch != " ")


@pytest.mark.parametrize(
    ("translated", "variants", "texts"),
    [
        ("「東京」に住む", None, ()),
        ("「東京」に住む", {**DEFAULT_VARIANTS, **CJK_QUOTE_VARIANTS}, ("東京",)),
        ("《红楼梦》", None, ()),
        ("《红楼梦》", {**DEFAULT_VARIANTS, **TITLE_MARK_VARIANTS}, ("红楼梦",)),
    ],
)
def test_markers_parse_optional_variants(translated, variants, texts):
    assert parse_markers(translated, variants=variants).texts == texts


def test_markers_parse_rejects_variant_for_unknown_marker():
    with pytest.raises(ValueError, match="variant"):
        parse_markers("x", variants={"{": "<"})


@pytest.mark.parametrize(
    ("translated", "clean", "texts", "issues"),
    [
        ("A [ B [ C ] D ] E", "A B C D E", ("C",), ["nested_open", "unopened_close"]),
        ("A ] B [ C", "A B C", (), ["unopened_close", "unclosed_open"]),
        ("A [ B", "A B", (), ["unclosed_open"]),
        ("A ] B", "A B", (), ["unopened_close"]),
        ("Ana [ ] lebt", "Ana lebt", (), ["empty_span"]),
        ("[ ]", "", (), ["empty_span"]),
        ("[ Rom ] ] [ Paris", "Rom Paris", ("Rom",), ["unclosed_open"]),
    ],
)
def test_markers_parse_reports_unbalanced(translated, clean, texts, issues):
    parsed = parse_markers(translated)
    assert (parsed.clean, parsed.texts) == (clean, texts)
    assert [p.issue for p in parsed.problems] == [MarkerIssue(i) for i in issues]
    assert not parsed.well_formed


def test_markers_parse_split_glued_off_keeps_subword_spans():
    text = "Romans and Bundestag"
    spans = [CharSpan(0, 3, "LOC"), CharSpan(17, 20, "X")]
    marked = insert_markers(text, spans)
    assert parse_markers(marked).clean != text
    parsed = parse_markers(marked, split_glued=False)
    assert parsed.clean == text
    assert parsed.spans == ((0, 3), (17, 20))


def test_markers_parse_custom_markers():
    parsed = parse_markers("Ana lebt in <e> Rom </e>.", markers=("<e>", "</e>"))
    assert (parsed.clean, parsed.texts) == ("Ana lebt in Rom.", ("Rom",))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Ana lives in Rome.", ("Rome",)),
        ("Rome", ("Rome",)),
        ("Ana lives in Rome", ("Ana", "Rome")),
        ("New York City", ("New York", "City")),
        ("AB", ("A", "B")),
        ("a  b   Rome  c", ("b", "Rome")),
        ("Peking ist 北京, das ist", ("北京",)),
        ("x", ()),
    ],
)
def test_markers_round_trip(text, words):
    spans = spans_of(text, *words)
    parsed = parse_markers(insert_markers(text, spans))
    assert parsed.clean == text
    assert parsed.spans == tuple((s.start, s.end) for s in spans)
    assert parsed.well_formed


SRC = [("PER", "Ana"), ("LOC", "Rome"), ("ORG", "FIFA")]


@pytest.mark.parametrize(
    ("source", "translated", "translations", "expected"),
    [
        # one label only: by order, even when the texts differ
        (
            [("LOC", "Rome"), ("LOC", "Italy")],
            "[ Italien ] und [ Rom ]",
            None,
            [("Italien", "order"), ("Rom", "order")],
        ),
        # several labels: exact match on the span translations, whatever the target order
        (
            SRC,
            "[ FIFA ] sah [ Rom ] und [ Ana ]",
            ["Ana", "Rom", "FIFA"],
            [("Ana", "exact"), ("Rom", "exact"), ("FIFA", "exact")],
        ),
        # exact on the source text when no translation is given
        (
            SRC,
            "[ FIFA ] [ Rome ] [ Ana ]",
            None,
            [("Ana", "exact"), ("Rome", "exact"), ("FIFA", "exact")],
        ),
        # fuzzy: inflected forms
        (
            SRC,
            "[ Roms ] [ Anas ] [ der FIFA ]",
            ["Ana", "Rom", "FIFA"],
            [("Anas", "fuzzy"), ("Roms", "fuzzy"), ("der FIFA", "fuzzy")],
        ),
        # case and whitespace do not matter for exact
        (
            SRC,
            "[ fifa ] [ ROM ] [ ana ]",
            ["Ana", "Rom", "FIFA"],
            [("ana", "exact"), ("ROM", "exact"), ("fifa", "exact")],
        ),
        # one left on each side: it takes the remaining span
        (
            SRC,
            "[ Ana ] besuchte [ die Ewige Stadt ] mit [ FIFA ]",
            ["Ana", "Rom", "FIFA"],
            [("Ana", "exact"), ("die Ewige Stadt", "remaining"), ("FIFA", "exact")],
        ),
    ],
)
def test_markers_assign(source, translated, translations, expected):
    parsed = parse_markers(translated)
    out = assign_labels(source, parsed, span_translations=translations)
    got = [(parsed.clean[o.target.start : o.target.end], o.method) for o in out]
    assert got == expected
    assert [o.target.label for o in out] == [lab for lab, _ in source]
    assert [o.source_index for o in out] == list(range(len(source)))
    assert unassigned_targets(out, parsed) == []


def test_markers_assign_each_target_once():
    source = [("PER", "Ana"), ("LOC", "Ana"), ("ORG", "Bob")]
    parsed = parse_markers("[ Ana ] und [ Ana ] und [ Bob ]")
    out = assign_labels(source, parsed)
    assert [o.target_index for o in out] == [0, 1, 2]


def test_markers_assign_fuzzy_takes_best_pair():
    source = [("PER", "Maria"), ("LOC", "Marias Haus")]
    parsed = parse_markers("[ la casa de Marías ] de [ Marías ]")
    out = assign_labels(source, parsed, span_translations=["María", "la casa de María"])
    assert [o.target_index for o in out] == [1, 0]
    assert all(o.method == "fuzzy" and o.score > 0.5 for o in out)


@pytest.mark.parametrize(
    ("translated", "strict", "reasons"),
    [
        ("[ Ana ] in [ Rom ]", True, [MISMATCH] * 3),
        ("[ Ana ] in [ Rom ]", False, [None, None, UNMATCHED]),
        ("keine Marker", True, [MISMATCH] * 3),
        ("keine Marker", False, [UNMATCHED] * 3),
        ("[ Ana ] [ Rom ] [ FIFA ] [ Paris ]", True, [MISMATCH] * 3),
        ("[ Ana ] [ Rom ] [ FIFA ] [ Paris ]", False, [None, None, None]),
        ("[ Ana [ Rom ] [ FIFA ] ]", True, [MALFORMED] * 3),
        ("[ Ana ] [ Rom ] [ ] [ FIFA ]", True, [MALFORMED] * 3),
        ("[ Ana ] [ Rom ] [ ] [ FIFA ]", False, [None, None, None]),
        ("[ xyz ] [ qqq ] [ FIFA ]", True, [UNMATCHED, UNMATCHED, None]),
    ],
)
def test_markers_assign_drops_with_reason(translated, strict, reasons):
    parsed = parse_markers(translated)
    out = assign_labels(SRC, parsed, span_translations=["Ana", "Rom", "FIFA"], strict=strict)
    assert [o.reason for o in out] == reasons
    assert all((o.target is None) == (o.reason is not None) for o in out)
    assert all(o.detail for o in out if o.reason is not None)


def test_markers_assign_unassigned_targets_listed():
    parsed = parse_markers("[ Ana ] [ Rom ] [ FIFA ] [ Paris ]")
    out = assign_labels(SRC, parsed, strict=False, span_translations=["Ana", "Rom", "FIFA"])
    assert unassigned_targets(out, parsed) == [3]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"span_translations": ["a"]}, "span translations"), ({"fuzzy_threshold": 1.0}, "fuzzy")],
)
def test_markers_assign_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        assign_labels(SRC, parse_markers("x"), **kwargs)


def test_markers_assign_no_source_spans():
    assert assign_labels([], parse_markers("[ Rom ]"), strict=False) == []


_WORDS = ["Ana", "Rom", "lebt", "in", "der", "Stadt", "FIFA", "北京", "x", ",", "."]
_JUNK = ["[", "]", "［", "】", "[[", "] ]", " ", "", "", "", ""]


def _random_case(rng: random.Random) -> tuple[str, list[CharSpan]]:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 8))]
    text = rng.choice([" ", "  "]).join(words) if rng.random() < 0.2 else " ".join(words)
    starts = [i for i, ch in enumerate(text) if not ch.isspace() and (i == 0 or text[i - 1] == " ")]
    chosen = sorted(rng.sample(starts, k=rng.randint(0, min(3, len(starts)))))
    spans = []
    for k, start in enumerate(chosen):
        end = text.find(" ", start)
        end = len(text) if end < 0 else end
        if k + 1 < len(chosen) and rng.random() < 0.5:
            nxt = text.find(" ", chosen[k + 1])
            end = len(text) if nxt < 0 else nxt
            spans.append(CharSpan(start, end, rng.choice(["PER", "LOC"])))
            break
        spans.append(CharSpan(start, end, rng.choice(["PER", "LOC"])))
    return text, spans


def test_markers_random_round_trip_and_invariants():
    rng = random.Random(13)
    for _ in range(400):
        text, spans = _random_case(rng)
        marked = insert_markers(text, spans)
        parsed = parse_markers(marked)
        assert parsed.clean == text, marked
        assert parsed.spans == tuple((s.start, s.end) for s in spans), marked
        source = [(s.label, text[s.start : s.end]) for s in spans]
        out = assign_labels(source, parsed)
        assert [o.projected for o in out] == [True] * len(spans)
        # mangle the marked text: drop, duplicate or add markers and glue
        chars = list(marked)
        for _ in range(rng.randint(1, 4)):
            chars.insert(rng.randint(0, len(chars)), rng.choice(_JUNK))
        mangled = "".join(chars)
        parsed = parse_markers(mangled)
        assert len(parsed.clean_to_raw) == len(parsed.clean)
        for start, end in parsed.spans:
            span_text = parsed.clean[start:end]
            assert span_text and span_text == span_text.strip(), mangled
        for strict in (True, False):
            out = assign_labels(source, parsed, strict=strict, span_translations=None)
            assert [o.source_index for o in out] == list(range(len(source))), mangled
            for o in out:
                assert (o.target is None) == (o.reason is not None)
                if o.target is not None:
                    assert (
                        parsed.clean[o.target.start : o.target.end] == parsed.texts[o.target_index]
                    )
            taken = [o.target_index for o in out if o.projected]
            assert len(taken) == len(set(taken)), mangled
