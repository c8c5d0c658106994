"""Symmetrisation heuristics: hand-worked cases, swapped inputs, a reference scan, speed."""

from __future__ import annotations

import random

import pytest

from xproj.projectors.aligners.symmetrize import METHODS, symmetrize
from xproj.schemas.errors import ConfigError

# (case, fwd, rev, {method: expected links}); worked by hand from Koehn's pseudo-code.
CASES = [
    (
        "grow along a row, then a diagonal neighbour with a free target word",
        {(0, 0), (1, 1), (2, 1)},
        {(0, 0), (1, 1), (2, 2)},
        {
            "intersection": {(0, 0), (1, 1)},
            "union": {(0, 0), (1, 1), (2, 1), (2, 2)},
            "grow-diag": {(0, 0), (1, 1), (2, 1), (2, 2)},
            "grow-diag-final": {(0, 0), (1, 1), (2, 1), (2, 2)},
            "grow-diag-final-and": {(0, 0), (1, 1), (2, 1), (2, 2)},
        },
    ),
    (
        "no neighbour to grow from: only the final steps add links",
        {(0, 0), (2, 2)},
        {(0, 0), (2, 1)},
        {
            "intersection": {(0, 0)},
            "union": {(0, 0), (2, 1), (2, 2)},
            "grow-diag": {(0, 0)},
            # final(fwd) adds (2, 2); final(rev) adds (2, 1): target 1 is still free
            "grow-diag-final": {(0, 0), (2, 1), (2, 2)},
            # final-and refuses (2, 1): source 2 is already aligned
            "grow-diag-final-and": {(0, 0), (2, 2)},
        },
    ),
    (
        "a neighbour whose source and target words are both aligned is not added",
        {(0, 0), (1, 1)},
        {(0, 0), (1, 1), (0, 1)},
        {
            "intersection": {(0, 0), (1, 1)},
            "union": {(0, 0), (1, 1), (0, 1)},
            "grow-diag": {(0, 0), (1, 1)},
            "grow-diag-final": {(0, 0), (1, 1)},
            "grow-diag-final-and": {(0, 0), (1, 1)},
        },
    ),
    (
        "links added in a pass are grown from in the same pass (diagonal chain)",
        {(0, 0), (1, 1), (2, 2)},
        {(0, 0)},
        {
            "intersection": {(0, 0)},
            "union": {(0, 0), (1, 1), (2, 2)},
            "grow-diag": {(0, 0), (1, 1), (2, 2)},
            "grow-diag-final": {(0, 0), (1, 1), (2, 2)},
            "grow-diag-final-and": {(0, 0), (1, 1), (2, 2)},
        },
    ),
    (
        "grow needs only one free word (source 1, then target 1)",
        {(0, 0), (0, 1)},
        {(0, 0), (1, 0)},
        {
            "intersection": {(0, 0)},
            "union": {(0, 0), (0, 1), (1, 0)},
            "grow-diag": {(0, 0), (0, 1), (1, 0)},
            "grow-diag-final": {(0, 0), (0, 1), (1, 0)},
            "grow-diag-final-and": {(0, 0), (0, 1), (1, 0)},
        },
    ),
    (
        "one direction empty",
        {(0, 1), (1, 0)},
        set(),
        {
            "intersection": set(),
            "union": {(0, 1), (1, 0)},
            "grow-diag": set(),
            "grow-diag-final": {(0, 1), (1, 0)},
            "grow-diag-final-and": {(0, 1), (1, 0)},
        },
    ),
    (
        "both empty",
        set(),
        set(),
        {m: set() for m in METHODS},
    ),
]

SYMMETRIC = ("intersection", "union", "grow-diag")


def _flat(cases, methods=tuple(METHODS)):
    return [
        pytest.param(fwd, rev, method, expected, id=f"{name[:30]}-{method}")
        for name, fwd, rev, by_method in cases
        for method, expected in by_method.items()
        if method in methods
    ]


@pytest.mark.parametrize(("fwd", "rev", "method", "expected"), _flat(CASES))
def test_symmetrize_hand_worked(fwd, rev, method, expected):
    assert symmetrize(fwd, rev, method) == expected


# The final steps visit the forward links first, so only these methods are symmetric in general.
@pytest.mark.parametrize(("fwd", "rev", "method", "expected"), _flat(CASES, SYMMETRIC))
def test_symmetrize_swapped_inputs_where_symmetric(fwd, rev, method, expected):
    assert symmetrize(rev, fwd, method) == expected


@pytest.mark.parametrize(
    ("method", "fwd", "rev", "expected"),
    [
        # final-and keeps whichever of two competing links it meets first
        ("grow-diag-final-and", {(0, 0), (2, 2)}, {(0, 0), (2, 1)}, {(0, 0), (2, 2)}),
        ("grow-diag-final-and", {(0, 0), (2, 1)}, {(0, 0), (2, 2)}, {(0, 0), (2, 1)}),
        # plain final adds both in either order
        ("grow-diag-final", {(0, 0), (2, 2)}, {(0, 0), (2, 1)}, {(0, 0), (2, 1), (2, 2)}),
        ("grow-diag-final", {(0, 0), (2, 1)}, {(0, 0), (2, 2)}, {(0, 0), (2, 1), (2, 2)}),
    ],
)
def test_symmetrize_final_visits_forward_first(method, fwd, rev, expected):
    assert symmetrize(fwd, rev, method) == expected


def _reference(fwd: set, rev: set, method: str) -> set:
    """Koehn's pseudo-code verbatim: a grid scan, repeated until no link is added."""
    inter, uni = fwd & rev, fwd | rev
    if method == "intersection":
        return inter
    if method == "union":
        return uni
    a = set(inter)
    n_src = 1 + max((i for i, _ in uni), default=-1)
    n_tgt = 1 + max((j for _, j in uni), default=-1)
    neighbours = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))

    def src_aligned(i):
        return any(x == i for x, _ in a)

    def tgt_aligned(j):
        return any(y == j for _, y in a)

    added = True
    while added:
        added = False
        for e in range(n_src):
            for f in range(n_tgt):
                if (e, f) not in a:
                    continue
                for de, df in neighbours:
                    new = (e + de, f + df)
                    if (
                        new in uni
                        and new not in a
                        and (not src_aligned(new[0]) or not tgt_aligned(new[1]))
                    ):
                        a.add(new)
                        added = True
    if method == "grow-diag":
        return a
    both = method == "grow-diag-final-and"
    for direction in (fwd, rev):
        for e, f in sorted(direction):
            free_e, free_f = not src_aligned(e), not tgt_aligned(f)
            if (e, f) not in a and ((free_e and free_f) if both else (free_e or free_f)):
                a.add((e, f))
    return a


def _random_direction(rng: random.Random, n_src: int, n_tgt: int, fwd: bool) -> set:
    """A directional alignment: each word of one side links to at most one word of the other."""
    if fwd:
        return {(i, rng.randrange(n_tgt)) for i in range(n_src) if rng.random() < 0.85}
    return {(rng.randrange(n_src), j) for j in range(n_tgt) if rng.random() < 0.85}


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("seed", range(5))
def test_symmetrize_matches_reference_scan(method, seed):
    rng = random.Random(seed)
    for _ in range(60):
        n_src, n_tgt = rng.randint(1, 9), rng.randint(1, 9)
        fwd = _random_direction(rng, n_src, n_tgt, True)
        rev = _random_direction(rng, n_src, n_tgt, False)
        assert symmetrize(fwd, rev, method) == _reference(fwd, rev, method), (fwd, rev)


@pytest.mark.parametrize("method", list(METHODS))
def test_symmetrize_between_intersection_and_union(method):
    rng = random.Random(7)
    for _ in range(200):
        fwd = _random_direction(rng, 8, 7, True)
        rev = _random_direction(rng, 8, 7, False)
        out = symmetrize(fwd, rev, method)
        assert fwd & rev <= out <= fwd | rev


def test_symmetrize_does_not_change_inputs():
    fwd, rev = {(0, 0), (1, 1)}, {(0, 0), (1, 2)}
    symmetrize(fwd, rev, "grow-diag-final")
    assert (fwd, rev) == ({(0, 0), (1, 1)}, {(0, 0), (1, 2)})


def test_symmetrize_unknown_method():
    with pytest.raises(ConfigError) as err:
        symmetrize({(0, 0)}, {(0, 0)}, "grow-diagonal")
    assert err.value.code == "XP302"
