"""CODEC's candidate search against brute force, with fake scorers whose optimum is known."""

from __future__ import annotations

import hashlib
import random

import pytest

from xproj.projectors.codec import (
    Markers,
    SearchProblem,
    SequentialProblem,
    candidate_positions,
    enumerate_insertions,
    search,
    search_many,
    search_sequential,
    search_sequential_many,
)
from xproj.schemas.errors import BackendError

ALPHABET = ("a", "b", "c", "d", "e")
MARKERS = (
    Markers(("[",), ("]",)),
    Markers(("▁", "["), ("▁", "]")),  # split by the tokenizer, sharing a piece
    Markers(("<", "<"), (">", ">")),  # split into repeated pieces
    Markers(("[", "[", "["), ("]",)),
)


def hash_scorer(levels: int):
    """Scores that depend on the whole sequence, from few levels so that ties are common."""

    def score(seqs):
        return [
            -float(int(hashlib.sha256("\x1f".join(s).encode()).hexdigest(), 16) % levels)
            for s in seqs
        ]

    return score


def target_scorer(s_star: int, e_star: int, markers: Markers):
    """−|start − s*| − |end − e*|, reading start and end back from the marked sequence."""
    lo, lc = len(markers.open), len(markers.close)

    def score(seqs):
        out = []
        for seq in seqs:
            k = next(i for i in range(len(seq)) if tuple(seq[i : i + lo]) == markers.open)
            j = next(i for i in range(k + lo, len(seq)) if tuple(seq[i : i + lc]) == markers.close)
            s, e = k, j - lo
            out.append(-float(abs(s - s_star) + abs(e - e_star)))
        return out

    return score


def recording(scorer, calls):
    def score(seqs):
        calls.append(len(seqs))
        return scorer(seqs)

    return score


def brute_force(tokens, scorer, markers, n_best):
    """Every insertion of the marker pair, ranked (score, shorter, leftmost start, leftmost end)."""
    ranked = []
    for s in range(len(tokens) + 1):
        for e in range(s + 1, len(tokens) + 1):
            seq = list(tokens)
            seq[e:e] = markers.close
            seq[s:s] = markers.open
            ranked.append((scorer([tuple(seq)])[0], s, e, tuple(seq)))
    ranked.sort(key=lambda r: (-r[0], r[2] - r[1], r[1], r[2]))
    return [(s, e, sc, seq) for sc, s, e, seq in ranked[:n_best]]


def summary(cands):
    return [(c.start, c.end, c.score, c.tokens) for c in cands]


def random_case(rng):
    tokens = tuple(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8)))
    return tokens, rng.choice(MARKERS)


@pytest.mark.parametrize(
    ("deltas", "kwargs", "expected"),
    [
        ([0.0, 0.2, 0.9, 0.0, 0.05, 0.3], {"window": 2}, [1, 2, 3]),
        ([0.0, 0.2, 0.9, 0.0, 0.05, 0.3], {}, [1, 2, 3, 5, 6]),
        ([-0.6, 0.0, 0.0], {}, [0, 1]),  # signed deltas: absolute value
        ([0.0, 0.0, 0.7], {}, [2, 3]),  # last token: boundary after it is the sentence end
        ([0.0, 0.0, 0.0, 0.9], {"n_tokens": 3}, [3]),  # the end token's delta, capped at n
        ([0.5, 0.1, 0.1], {"window": 0}, [0, 1]),  # thresholds are inclusive
        ([0.5, 0.1, 0.1], {"window": 1}, [0, 1, 2]),
        ([0.0, 0.0], {}, [0, 1, 2]),  # no seed: fall back to every boundary
        ([0.0, 0.0, 0.0], {"fallback_max_tokens": 2}, []),  # too long to fall back
        ([0.0], {"fallback_max_tokens": None}, []),
        ([], {}, [0]),
    ],
)
def test_codec_candidate_positions_thresholds_window_fallback(deltas, kwargs, expected):
    assert candidate_positions(deltas, **kwargs) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((3, [0, 2], [1, 2, 3]), {}, [(0, 1), (0, 2), (0, 3), (2, 3)]),
        ((3, [0, 2], [1, 2, 3]), {"max_span_tokens": 1}, [(0, 1), (2, 3)]),
        ((2, [2], [0, 1, 2]), {}, []),
        ((2, [1, 0, 1], [2, 2]), {}, [(0, 2), (1, 2)]),
    ],
)
def test_codec_enumerate_insertions_pairs(args, kwargs, expected):
    assert enumerate_insertions(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: enumerate_insertions(2, [3], [1]), ValueError),
        (lambda: candidate_positions([0.1], window=-1), ValueError),
        (lambda: search(["a"], [(1, 1)], hash_scorer(3)), ValueError),
        (lambda: search(["a"], [(0, 2)], hash_scorer(3)), ValueError),
        (lambda: search(["a"], [(0, 1)], hash_scorer(3), n_best=0), ValueError),
        (lambda: search(["a", "b"], [(0, 1), (0, 2)], lambda seqs: [0.0]), BackendError),
    ],
)
def test_codec_search_rejects_broken_contracts(call, error):
    with pytest.raises(error):
        call()


def test_codec_search_no_candidates_gives_empty_result():
    assert search(["a", "b"], [], hash_scorer(3)) == []


@pytest.mark.parametrize("seed", range(300))
def test_codec_search_matches_brute_force(seed):
    rng = random.Random(seed)
    tokens, markers = random_case(rng)
    n = len(tokens)
    scorer = (
        hash_scorer(rng.choice((1, 2, 3, 50)))
        if seed % 2
        else target_scorer(rng.randint(0, n - 1), rng.randint(1, n), markers)
    )
    n_best = rng.randint(1, 6)
    expected = brute_force(tokens, scorer, markers, n_best)
    every = enumerate_insertions(n, range(n + 1), range(n + 1))
    got = search(
        tokens, every, scorer, n_best=n_best, batch_size=rng.randint(1, 9), markers=markers
    )
    assert summary(got) == expected
    # a candidate subset that holds the exhaustive optimum finds that same optimum
    s, e = expected[0][:2]
    opens = {s} | {p for p in range(n + 1) if rng.random() < 0.4}
    closes = {e} | {p for p in range(n + 1) if rng.random() < 0.4}
    sub = search(tokens, enumerate_insertions(n, opens, closes), scorer, markers=markers)
    assert summary(sub)[0] == expected[0]


@pytest.mark.parametrize(
    ("tokens", "star", "expected"),
    [
        (("a", "b", "c"), (0, 3), ("[", "a", "b", "c", "]")),  # whole sentence: both edges
        (("a", "b", "c"), (0, 1), ("[", "a", "]", "b", "c")),
        (("a", "b", "c"), (2, 3), ("a", "b", "[", "c", "]")),
        (("a",), (0, 1), ("[", "a", "]")),
    ],
)
def test_codec_search_finds_spans_at_sentence_edges(tokens, star, expected):
    markers = Markers()
    every = enumerate_insertions(len(tokens), range(len(tokens) + 1), range(len(tokens) + 1))
    best = search(tokens, every, target_scorer(*star, markers), markers=markers)[0]
    assert (best.start, best.end, best.tokens) == (*star, expected)
    assert best.tokens[best.marked_start] == "[" and best.tokens[best.marked_end - 1] == "]"


def test_codec_search_ties_prefer_shorter_then_leftmost():
    got = search(["a", "b", "c"], [(0, 3), (1, 3), (1, 2), (0, 1)], lambda s: [0.0] * len(s))
    assert [(c.start, c.end) for c in got] == [(0, 1), (1, 2), (1, 3), (0, 3)]


@pytest.mark.parametrize("seed", range(20))
def test_codec_search_many_batches_like_separate_searches(seed):
    rng = random.Random(1000 + seed)
    markers = rng.choice(MARKERS)
    scorer = hash_scorer(rng.choice((2, 7)))
    problems = []
    for _ in range(rng.randint(1, 6)):
        tokens, _ = random_case(rng)
        n = len(tokens)
        problems.append(
            SearchProblem(tokens, tuple(enumerate_insertions(n, range(n + 1), range(n + 1))))
        )
    batch_size = rng.randint(1, 16)
    calls: list[int] = []
    got = search_many(
        problems, recording(scorer, calls), n_best=3, batch_size=batch_size, markers=markers
    )
    total = sum(len(p.candidates) for p in problems)
    assert max(calls) <= batch_size
    assert len(calls) == -(-total // batch_size)  # candidates of all sentences share calls
    separate = [
        search(p.template_tokens, p.candidates, scorer, n_best=3, markers=markers) for p in problems
    ]
    assert [summary(g) for g in got] == [summary(s) for s in separate]


@pytest.mark.parametrize(
    ("tokens", "spans", "expected"),
    [
        ("a b c d", [[(1, 3)], [(1, 2)]], "a [ [ b ] c ] d"),  # nested, sharing the open boundary
        ("a b c d", [[(1, 2)], [(1, 3)]], "a [ [ b ] c ] d"),  # enclosing a committed span
        ("a b c d", [[(1, 2)], [(2, 3)]], "a [ b ] [ c ] d"),  # adjacent: no crossing allowed
        ("a b c d", [[(2, 3)], [(1, 2)]], "a [ b ] [ c ] d"),
        ("a b c d", [[(0, 4)], [(0, 4)]], "[ [ a b c d ] ]"),  # both edges, twice
        ("a b", [[(0, 1)], [], [(1, 2)]], "[ a ] [ b ]"),  # a span without candidates
        ("a b c", [[(0, 1)], [(0, 2)], [(1, 2)]], "[ [ a ] [ b ] ] c"),  # three, shifted
    ],
)
def test_codec_search_sequential_nested_and_adjacent(tokens, spans, expected):
    res = search_sequential(tokens.split(), spans, lambda s: [0.0] * len(s))
    assert " ".join(res.tokens) == expected
    assert [len(b) > 0 for b in res.n_best] == [bool(s) for s in spans]


def test_codec_search_sequential_multi_token_markers_stay_whole():
    markers = Markers(("<", "<"), (">", ">"))
    res = search_sequential(
        ["a", "b"], [[(0, 2)], [(0, 2)]], lambda s: [0.0] * len(s), markers=markers
    )
    assert res.tokens == ("<", "<", "<", "<", "a", "b", ">", ">", ">", ">")
    assert len(res.n_best[1]) == 2  # outside or inside the first span, never splitting a marker


def brute_force_sequential(tokens, spans, scorer, markers, n_best):
    """Each round: every position pair of the current marked sequence, kept when no marker is
    split, the brackets nest by identity and the span is a candidate; best one committed."""
    cur = [("tok", None, None, t) for t in tokens]
    rounds = []
    for rid, cands in enumerate(spans):
        allowed = set(cands)

        valid = [q == len(cur) or cur[q][0] == "tok" or cur[q][2] == 0 for q in range(len(cur) + 1)]
        boundary = [sum(1 for k in cur[:q] if k[0] == "tok") for q in range(len(cur) + 1)]

        ranked = []
        for q1 in range(len(cur) + 1):
            for q2 in range(q1, len(cur) + 1):
                if not (valid[q1] and valid[q2]):
                    continue
                s, e = boundary[q1], boundary[q2]
                if (s, e) not in allowed:
                    continue
                new = (
                    cur[:q1]
                    + [("open", rid, i, t) for i, t in enumerate(markers.open)]
                    + cur[q1:q2]
                    + [("close", rid, i, t) for i, t in enumerate(markers.close)]
                    + cur[q2:]
                )
                stack, ok = [], True
                for kind, sid, piece, _ in new:
                    if kind == "open" and piece == 0:
                        stack.append(sid)
                    elif kind == "close" and piece == 0:
                        ok = ok and bool(stack) and stack.pop() == sid
                if not ok:
                    continue
                slot1 = sum(1 for q in range(q1) if valid[q] and boundary[q] == s)
                slot2 = sum(1 for q in range(q2) if valid[q] and boundary[q] == e)
                seq = tuple(k[3] for k in new)
                ranked.append(((-scorer([seq])[0], e - s, s, e, slot1, slot2), new))
        ranked.sort(key=lambda r: r[0])
        rounds.append([(k[2], k[3], -k[0], tuple(x[3] for x in new)) for k, new in ranked[:n_best]])
        if ranked:
            cur = ranked[0][1]
    return rounds, tuple(k[3] for k in cur)


@pytest.mark.parametrize("seed", range(150))
def test_codec_search_sequential_matches_brute_force(seed):
    rng = random.Random(5000 + seed)
    tokens = tuple(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))
    markers = rng.choice(MARKERS)
    n = len(tokens)
    every = enumerate_insertions(n, range(n + 1), range(n + 1))
    spans = [
        every if rng.random() < 0.6 else rng.sample(every, rng.randint(0, len(every)))
        for _ in range(rng.randint(1, 4))
    ]
    scorer = hash_scorer(rng.choice((1, 2, 3, 50)))
    n_best = rng.randint(1, 5)
    rounds, final = brute_force_sequential(tokens, spans, scorer, markers, n_best)
    res = search_sequential(tokens, spans, scorer, n_best=n_best, markers=markers)
    assert [summary(b) for b in res.n_best] == rounds
    assert res.tokens == final


@pytest.mark.parametrize("seed", range(10))
def test_codec_search_sequential_many_batches_like_separate_searches(seed):
    rng = random.Random(9000 + seed)
    markers = rng.choice(MARKERS)
    scorer = hash_scorer(5)
    problems = []
    for _ in range(rng.randint(1, 5)):
        tokens, _ = random_case(rng)
        every = tuple(
            enumerate_insertions(len(tokens), range(len(tokens) + 1), range(len(tokens) + 1))
        )
        problems.append(SequentialProblem(tokens, tuple(every for _ in range(rng.randint(0, 3)))))
    batch_size = rng.randint(1, 32)
    calls: list[int] = []
    got = search_sequential_many(
        problems, recording(scorer, calls), n_best=2, batch_size=batch_size, markers=markers
    )
    assert not calls or max(calls) <= batch_size
    separate = [
        search_sequential(p.template_tokens, p.spans, scorer, n_best=2, markers=markers)
        for p in problems
    ]
    assert got == separate


def test_contexts_reach_the_scorer_with_their_sequences():
    """Problems with contexts: the scorer gets each sequence's own context, across problems."""
    seen = []

    def scorer(seqs, contexts):
        seen.extend(zip(contexts, seqs, strict=True))
        return [-len(s) - (0 if c == "x" else 1) for s, c in zip(seqs, contexts, strict=True)]

    problems = [
        SequentialProblem(("a", "b"), (((0, 1), (1, 2)), ((0, 2),)), ("x", "y")),
        SequentialProblem(("c",), (((0, 1),),), ("z",)),
    ]
    results = search_sequential_many(problems, scorer, n_best=2, batch_size=2)
    assert {c for c, _ in seen} == {"x", "y", "z"}
    assert all(("c" in s) == (c == "z") for c, s in seen)  # problem 2's tokens, its context
    assert all(c == "y" for c, s in seen if s.count("[") == 2)  # round 2 of problem 1
    assert len(results[0].n_best) == 2 and len(results[1].n_best) == 1
    with pytest.raises(ValueError):
        SequentialProblem(("a",), (((0, 1),),), ("x", "y"))
