"""eflomal and pairs over its 1023-token limit: cut into pieces, aligned, links shifted back."""

from __future__ import annotations

import logging
import random

import pytest

from tests.helpers import toy_sentence_pair
from xproj.projectors.aligners.eflomal import (
    MAX_TOKENS,
    EflomalAligner,
    sentence_ends,
    split_pair,
)
from xproj.schemas.errors import E_INPUT_TOO_LONG

FAST = {"iterations": (3, 3, 6), "n_samplers": 2}
LOGGER = "xproj.projectors.aligners.eflomal"


def _sentence(rng: random.Random, end: bool = True):
    """A toy sentence pair (:func:`tests.helpers.toy_sentence_pair`), ended by ``.`` on both
    sides when ``end``, with its gold links."""
    src, tgt, gold = toy_sentence_pair(rng)
    if end:
        gold.add((len(src), len(tgt)))
        src, tgt = [*src, "."], [*tgt, "."]
    return src, tgt, gold


def _long_pair(n_tokens: int, seed: int = 0, end: bool = True):
    """Toy sentences joined until the source has ``n_tokens``; gold links in pair indices."""
    rng = random.Random(seed)
    src: list[str] = []
    tgt: list[str] = []
    gold: set[tuple[int, int]] = set()
    while len(src) < n_tokens:
        s, t, g = _sentence(rng, end)
        gold |= {(i + len(src), j + len(tgt)) for i, j in g}
        src += s
        tgt += t
    return src, tgt, gold


def _short_pairs(n: int, seed: int = 1):
    rng = random.Random(seed)
    return [_sentence(rng)[:2] for _ in range(n)]


def _check_pieces(src, tgt, pieces, limit=MAX_TOKENS):
    """Consecutive pieces that cover both sides, each non-empty and within ``limit``."""
    assert pieces[0][0].start == 0 and pieces[0][1].start == 0
    assert pieces[-1][0].stop == len(src) and pieces[-1][1].stop == len(tgt)
    for (s1, t1), (s2, t2) in zip(pieces, pieces[1:], strict=False):
        assert s1.stop == s2.start and t1.stop == t2.start
    for s, t in pieces:
        assert 0 < len(s) <= limit and 0 < len(t) <= limit


# --- the split, without eflomal ---------------------------------------------------------------


def test_sentence_ends_finals_closers_and_scripts():
    tokens = ["Hi", "!", "Yes", ".", "”", "No", "?", "यह", "।", "好", "。", "a", ";", "b", "..."]
    assert sentence_ends(tokens) == [2, 5, 7, 9, 11, 13]
    # abbreviations and numbers stay whole in tokens, so they do not end a sentence
    assert sentence_ends(["Dr.", "Brown", "3.14", "e.g.", "x"]) == []


def test_split_pair_cuts_after_the_same_sentence_on_both_sides():
    src, tgt, _ = _long_pair(2500)
    assert len(src) > 2 * MAX_TOKENS and len(tgt) > 2 * MAX_TOKENS
    pieces, inside = split_pair(src, tgt)
    assert inside == 0 and len(pieces) == 3
    _check_pieces(src, tgt, pieces)
    for s, t in pieces[1:]:
        assert src[s.start - 1] == "." and tgt[t.start - 1] == "."
        assert src[: s.start].count(".") == tgt[: t.start].count(".")


def test_split_pair_takes_more_pieces_rather_than_cut_a_sentence():
    # sentences of 900, 200 and 900 tokens: two pieces would cut a sentence, three do not
    side = [*["a"] * 899, ".", *["b"] * 199, ".", *["c"] * 899, "."]
    pieces, inside = split_pair(side, side)
    assert inside == 0
    assert [(s.start, s.stop) for s, _ in pieces] == [(0, 900), (900, 1100), (1100, 2000)]


def test_split_pair_without_sentence_ends_cuts_between_tokens():
    src, tgt, _ = _long_pair(2500, end=False)
    assert sentence_ends(src) == [] and sentence_ends(tgt) == []
    pieces, inside = split_pair(src, tgt)
    assert len(pieces) == 3 and inside == 2 * (len(pieces) - 1)
    _check_pieces(src, tgt, pieces)


def test_split_pair_one_side_with_sentence_ends_leads():
    src, tgt, _ = _long_pair(2500)
    tgt = [t for t in tgt if t != "."]  # the target has none: only its cuts fall inside
    pieces, inside = split_pair(src, tgt)
    assert inside == len(pieces) - 1
    _check_pieces(src, tgt, pieces)
    assert all(src[s.start - 1] == "." for s, _ in pieces[1:])


def test_split_pair_fits_or_cannot_be_cut():
    assert split_pair(["a"] * 5, ["b"] * 3) == ([(range(5), range(3))], 0)
    assert split_pair(["a"] * (MAX_TOKENS + 1), ["b"]) is None  # two pieces, one target token
    pieces, _ = split_pair(["a"] * (MAX_TOKENS + 1), ["b", "c"])
    _check_pieces(["a"] * (MAX_TOKENS + 1), ["b", "c"], pieces)


@pytest.mark.parametrize("seed", range(20))
def test_split_pair_random_pieces_always_fit(seed):
    rng = random.Random(seed)
    limit = rng.randint(5, 40)
    sides = [
        [rng.choice(["w", "w", "w", "w", ".", "?", "»"]) for _ in range(rng.randint(1, 200))]
        for _ in range(2)
    ]
    split = split_pair(*sides, limit=limit)
    fewest = max(1, -(-len(sides[0]) // limit), -(-len(sides[1]) // limit))
    if min(map(len, sides)) < fewest:
        assert split is None
    else:
        assert split is not None
        _check_pieces(*sides, split[0], limit=limit)


# --- corpus handling, without eflomal ---------------------------------------------------------


@pytest.fixture
def fake_run(monkeypatch):
    """Replace the binary run: record the corpus, link word ``i`` to word ``i`` of each line."""
    calls = []

    def run(self, corpus, n_wanted):
        calls.append((list(corpus), n_wanted))
        links = [{(i, i) for i in range(min(len(s), len(t)))} for s, t in corpus[:n_wanted]]
        return links, [set(x) for x in links]

    monkeypatch.setattr(EflomalAligner, "_run", run)
    return calls


def test_pieces_go_in_the_same_run_and_links_come_back_shifted(fake_run, caplog):
    src, tgt, _ = _long_pair(2500)
    short = [(["a", "b"], ["x", "y"]), (["c"], ["z"])]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        out = EflomalAligner(extra_bitext=[(["e"], ["f"])]).align([short[0], (src, tgt), short[1]])
    pieces, _ = split_pair(src, tgt)
    ((corpus, n_wanted),) = fake_run
    assert n_wanted == 2 + len(pieces)
    assert corpus[0] == short[0] and corpus[-2] == short[1] and corpus[-1] == (["e"], ["f"])
    assert corpus[1:-2] == [(src[s.start : s.stop], tgt[t.start : t.stop]) for s, t in pieces]
    expected = {(s.start + i, t.start + i) for s, t in pieces for i in range(min(len(s), len(t)))}
    assert out[1].links == expected
    assert [a.links for a in (out[0], out[2])] == [{(0, 0), (1, 1)}, {(0, 0)}]
    assert "1 pair(s) with a side over 1023 tokens aligned in 3 pieces" in caplog.text
    assert "0 cut(s) between two tokens" in caplog.text


def test_pair_that_cannot_be_cut_is_rejected_with_a_reason(fake_run, caplog):
    aligner = EflomalAligner()
    view = aligner.for_positions([7, 9, 12])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = view.align([(["a"], ["x"]), (["w"] * 1500, ["x"]), ([], ["w"] * 1500)])
    assert [a.links for a in out] == [{(0, 0)}, set(), set()]
    assert "1 pair(s)" in caplog.text and "input positions 9" in caplog.text
    (reject,) = aligner.take_rejects()  # the views share the rejects of the aligner
    assert (reject.stage, reject.locator, reject.code) == ("align", "pair 9", E_INPUT_TOO_LONG)
    assert "1500 source and 1 target tokens" in reject.reason and "Fix:" in reject.reason
    assert reject.raw.startswith("w w w") and reject.raw.endswith("||| x")
    assert aligner.take_rejects() == [] and view.take_rejects() == []


def test_rejects_name_shard_positions(fake_run):
    aligner = EflomalAligner()
    aligner.for_shard(100).align([(["a"], ["x"]), (["x"], ["w"] * 1100)])
    aligner.align([(["w"] * 1100, ["x"])])
    assert [r.locator for r in aligner.take_rejects()] == ["pair 101", "pair 0"]


def test_short_pairs_unchanged(fake_run, caplog):
    pairs = [(["a", "b"], ["x"]), ([], ["y"]), (["c"], ["u", "v"])]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        out = EflomalAligner().align(pairs)
    assert fake_run == [([pairs[0], pairs[2]], 2)]
    assert [a.links for a in out] == [{(0, 0)}, set(), {(0, 0)}]
    assert caplog.text == ""
    assert EflomalAligner().take_rejects() == []


# --- real eflomal -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_eflomal():
    pytest.importorskip("eflomal")


def _check_long_alignment(links, src, tgt, gold):
    assert links
    assert all(0 <= i < len(src) and 0 <= j < len(tgt) for i, j in links)
    assert any(i > MAX_TOKENS for i, _ in links) and any(j > MAX_TOKENS for _, j in links)
    pieces, _ = split_pair(src, tgt)
    for s, t in pieces:
        assert any(i in s and j in t for i, j in links)
    # shifted wrongly, the links would miss the gold ones almost always
    assert len(links & gold) / len(links) > 0.5


def test_long_pair_aligned_in_pieces(real_eflomal):
    src, tgt, gold = _long_pair(2500)
    assert min(len(src), len(tgt)) > 2 * MAX_TOKENS
    short = _short_pairs(200)
    out = EflomalAligner(**FAST).align([(src, tgt), *short])
    assert len(out) == 1 + len(short)
    _check_long_alignment(out[0].links, src, tgt, gold)


def test_long_pair_without_sentence_ends_aligned_in_pieces(real_eflomal, caplog):
    src, tgt, gold = _long_pair(2500, end=False)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        out = EflomalAligner(**FAST).align([(src, tgt)] + _short_pairs(200))
    _check_long_alignment(out[0].links, src, tgt, gold)
    assert "4 cut(s) between two tokens" in caplog.text


def test_short_pairs_keep_their_order_around_a_long_one(real_eflomal):
    rng = random.Random(3)
    short = [_sentence(rng) for _ in range(200)]
    src, tgt, _ = _long_pair(1500, seed=4)
    pairs = [p[:2] for p in short]
    out = EflomalAligner(**FAST).align([*pairs[:100], (src, tgt), ([], ["x"]), *pairs[100:]])
    assert len(out) == len(pairs) + 2 and out[101].links == frozenset()
    assert out[100].links
    short_out = out[:100] + out[102:]
    correct = sum(len(a.links & g) for a, (_, _, g) in zip(short_out, short, strict=True))
    assert correct / sum(len(a.links) for a in short_out) > 0.9


def test_long_extra_bitext_pairs_train_in_pieces(fake_run, caplog):
    src, tgt, _ = _long_pair(2500)
    extra = [(src, tgt), (["w"] * 1500, ["x"]), ([], ["y"])]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        EflomalAligner(extra_bitext=extra).align([(["a"], ["x"])])
    pieces, _ = split_pair(src, tgt)
    ((corpus, n_wanted),) = fake_run
    assert n_wanted == 1
    assert corpus[1:] == [(src[s.start : s.stop], tgt[t.start : t.stop]) for s, t in pieces]
    assert "2 extra bitext pair(s) left out of training" in caplog.text
