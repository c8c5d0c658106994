"""Character-level answer projection (generators.paxqa.answers) with hand-made alignments."""

from __future__ import annotations

import pytest

from generators.paxqa.answers import (
    REASONS,
    _merge_orphans,
    pair_sentences,
    paragraph_links,
    project_answer,
    sentence_pairing,
    split_sentences,
    trim_span,
)
from projectors.tokenize import tokenizer_for

EN = "The Panthers won 24 games in 2015, led by Cam Newton (QB)."
DE = "Die Panthers gewannen 2015 24 Spiele, angeführt von Cam Newton (QB)."


def _tokens(text: str, lang: str):
    return tokenizer_for(lang).tokenize(text)


def _idx(tokens, word: str, nth: int = 0) -> int:
    return [k for k, t in enumerate(tokens) if t[0] == word][nth]


@pytest.fixture(scope="module")
def toks():
    return _tokens(EN, "en"), _tokens(DE, "de")


def _links(en, de, pairs):
    return {(_idx(en, a), _idx(de, b)) for a, b in pairs}


@pytest.mark.parametrize(
    ("answer", "pairs", "expected"),
    [
        ("Cam Newton", [("Cam", "Cam"), ("Newton", "Newton")], "Cam Newton"),
        ("24 games", [("24", "24"), ("games", "Spiele")], "24 Spiele"),
        ("Panthers", [("Panthers", "Panthers")], "Panthers"),
        # partial English token: the whole token is projected
        ("anther", [("Panthers", "Panthers")], "Panthers"),
        # unaligned "games", but "24" is anchored by identical surface
        ("24", [], "24"),
        # brackets kept when balanced inside the span
        (
            "Cam Newton (QB)",
            [("Cam", "Cam"), ("(", "("), ("QB", "QB"), (")", ")")],
            "Cam Newton (QB)",
        ),
    ],
)
def test_projects_and_substring_invariant(toks, answer, pairs, expected):
    en, de = toks
    out = project_answer(EN, EN.index(answer), answer, DE, en, de, _links(en, de, pairs))
    assert out.projected, out.detail
    assert out.text == expected
    assert DE[out.start : out.start + len(out.text)] == out.text


def test_trailing_comma_trimmed(toks):
    en, de = toks
    links = _links(en, de, [("games", "Spiele"), ("games", ",")])
    out = project_answer(EN, EN.index("games"), "games", DE, en, de, links)
    assert out.text == "Spiele"
    assert DE[out.start : out.start + len(out.text)] == out.text


@pytest.mark.parametrize(
    ("start", "answer", "pairs", "reason"),
    [
        (0, "   ", [], "empty_answer"),
        (0, "Panthers", [], "answer_mismatch"),
        (-1, "T", [], "answer_mismatch"),
        (EN.index("led"), "led", [], "no_alignment"),
        (EN.index("led"), "led", [("led", ",")], "punctuation_only"),
    ],
)
def test_rejects_with_reason(toks, start, answer, pairs, reason):
    en, de = toks
    out = project_answer(EN, start, answer, DE, en, de, _links(en, de, pairs))
    assert not out.projected
    assert out.reason == reason and out.reason in REASONS
    assert out.text is None and out.start is None and out.detail


def test_empty_target_rejected(toks):
    en, _ = toks
    out = project_answer(EN, 4, "Panthers", "", en, [], set())
    assert out.reason == "empty_target"


def test_chinese_characters():
    en_text, zh_text = "He lives in Beijing.", "他住在北京。"
    en, zh = _tokens(en_text, "en"), _tokens(zh_text, "zh")
    assert [t for t, _, _ in zh][:5] == ["他", "住", "在", "北", "京"]
    links = {(3, 3), (3, 4), (0, 0)}
    out = project_answer(en_text, 12, "Beijing", zh_text, en, zh, links)
    assert (out.text, out.start) == ("北京", 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna left. Bob stayed! Why?", ["Anna left.", "Bob stayed!", "Why?"]),
        ("Mr. Smith met J. Doe. Fine.", ["Mr. Smith met J. Doe.", "Fine."]),
        ("他来了。她走了", ["他来了。", "她走了"]),
        ("No end", ["No end"]),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_pair_sentences_covers_everything():
    beads = pair_sentences([10, 20, 30, 5], [11, 52, 6])
    assert [i for b in beads for i in b[0]] == [0, 1, 2, 3]
    assert [j for b in beads for j in b[1]] == [0, 1, 2]
    assert beads[1] == ([1, 2], [1])


def test_paragraph_links_map_back_to_paragraph_tokens():
    en_text, de_text = "A cat sat. A dog ran.", "Eine Katze saß. Ein Hund lief."
    en, de = _tokens(en_text, "en"), _tokens(de_text, "de")
    pairing = sentence_pairing(en_text, de_text, en, de)
    assert len(pairing.pairs) == 2
    # bead-local (1, 1) in the second sentence is dog -> Hund
    links = paragraph_links(pairing, [set(), {(1, 1)}])
    ((i, j),) = links
    assert (en[i][0], de[j][0]) == ("dog", "Hund")
    out = project_answer(en_text, en_text.index("dog"), "dog", de_text, en, de, links)
    assert out.text == "Hund"


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("in Rome, Italy.", (3, 15), "Rome, Italy"),
        ("«Rom", (0, 4), "Rom"),
        ("«Rom»", (0, 5), "«Rom»"),
        ("a (QB) b", (2, 5), "(QB)"),
        ("(QB)", (0, 4), "(QB)"),
    ],
)
def test_trim_span(text, span, expected):
    s, e = trim_span(text, *span)
    assert text[s:e] == expected


@pytest.mark.parametrize(
    ("beads", "expected"),
    [
        ([([0], [0]), ([], [1]), ([1], [2])], [([0], [0, 1]), ([1], [2])]),
        ([([0], []), ([1], [0])], [([0, 1], [0])]),
        ([([0], [])], [([0], [])]),
        ([([0], [0])], [([0], [0])]),
    ],
)
def test_orphan_beads_join_a_neighbour(beads, expected):
    assert _merge_orphans(beads) == expected
