"""Sentence splitting, packing and joining for over-long inputs."""

from __future__ import annotations

import pytest

from xproj.translators.segment import joiner, pack

# (lengths, limit, expected runs as lists of indices)
PACK_CASES = [
    ([], 10, []),
    ([5], 10, [[0]]),
    ([3, 4, 2, 6, 1], 7, [[0, 1], [2], [3, 4]]),
    ([2, 2, 2, 2], 4, [[0, 1], [2, 3]]),
    ([9, 1, 1], 5, [[0], [1, 2]]),  # an item over the limit stays alone
    ([1, 1, 1], 100, [[0, 1, 2]]),
]


@pytest.mark.parametrize(("lengths", "limit", "expected"), PACK_CASES)
def test_segment_pack_greedy_runs(lengths, limit, expected):
    runs = pack(lengths, limit)
    assert [list(run) for run in runs] == expected
    for run in runs:
        assert len(run) == 1 or sum(lengths[i] for i in run) <= limit


@pytest.mark.parametrize(
    ("script", "sep"), [("Latn", " "), ("Cyrl", " "), ("Hans", ""), ("Jpan", ""), ("Thai", "")]
)
def test_segment_joiner_by_script(script, sep):
    assert joiner(script) == sep
