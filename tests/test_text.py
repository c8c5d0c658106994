"""The simple Unicode tokenizer: splits, offsets and forced boundaries."""

from __future__ import annotations

import pytest

from xproj.text.simple import simple_tokenize

CASES = [
    ("Anna lives in Rome.", ["Anna", "lives", "in", "Rome", "."]),
    ("  spaced\tout \n", ["spaced", "out"]),
    ("", []),
    ("   ", []),
    ("don't", ["don", "'", "t"]),
    ("$3.50, 1,000 and 2.", ["$", "3.50", ",", "1,000", "and", "2", "."]),
    ("e-mail", ["e", "-", "mail"]),
    ("Zürich café", ["Zürich", "café"]),
    ("cafe\u0301!", ["cafe\u0301", "!"]),  # combining accent stays in the word
    ("हिन्दी भाषा।", ["हिन्दी", "भाषा", "।"]),  # Devanagari vowel signs and virama are marks
    ("مرحبا بالعالم", ["مرحبا", "بالعالم"]),
    ("我住在北京。", ["我", "住", "在", "北", "京", "。"]),
    ("東京タワーに行く", ["東", "京", "タ", "ワ", "ー", "に", "行", "く"]),
    ("한국어 텍스트", ["한국어", "텍스트"]),
    ("snake_case x", ["snake_case", "x"]),
    ("a\u200db", ["a\u200db"]),
    ("🙂ok", ["🙂", "ok"]),
]


@pytest.mark.parametrize(("text", "tokens"), CASES)
def test_text_simple_tokenize(text, tokens):
    result = simple_tokenize(text)
    assert [t for t, _, _ in result] == tokens
    assert all(text[s:e] == t for t, s, e in result)
    assert all(not any(c.isspace() for c in t) for t, _, _ in result)
    assert all(a[2] <= b[1] for a, b in zip(result, result[1:], strict=False))


@pytest.mark.parametrize(
    ("text", "boundaries", "tokens"),
    [
        ("NewYork", [3], ["New", "York"]),
        ("NewYork", [0, 7, 99, -1], ["NewYork"]),
        ("3.50", [2], ["3", ".", "50"]),
        ("3.50", [1], ["3", ".", "50"]),
        ("Ex-Yugoslavia's", [3, 13], ["Ex", "-", "Yugoslavia", "'", "s"]),
        ("a b", [1, 2], ["a", "b"]),  # a boundary inside whitespace changes nothing
    ],
)
def test_text_simple_tokenize_boundaries(text, boundaries, tokens):
    result = simple_tokenize(text, boundaries)
    assert [t for t, _, _ in result] == tokens
    edges = {s for _, s, _ in result} | {e for _, _, e in result}
    for b in boundaries:
        if 0 < b < len(text) and not text[b - 1].isspace() and not text[b].isspace():
            assert b in edges
