"""GivenAligner: links from a Pharaoh file, count and range checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from xproj.projectors.aligners import get_aligner
from xproj.projectors.aligners.given import GivenAligner
from xproj.schemas.errors import E_GOLD_COUNT, E_LINK_OUT_OF_RANGE, InputFormatError
from xproj.schemas.records import Alignment

PAIRS = [
    (["Anna", "sleeps", "."], ["Anna", "dort", "."]),
    (["Hello"], ["Bonjour", "!"]),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "links.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "one_based", "expected"),
    [
        (
            "0-0 1-1 2-2\n0-0\n",
            False,
            [Alignment({(0, 0), (1, 1), (2, 2)}), Alignment({(0, 0)})],
        ),
        (
            "1-1 2-2 3-3\n1-1 1p2\n",
            True,
            [Alignment({(0, 0), (1, 1), (2, 2)}), Alignment({(0, 0)}, {(0, 1)})],
        ),
        # a pair without links is a blank line
        ("\n0-1\n", False, [Alignment(set()), Alignment({(0, 1)})]),
    ],
)
def test_given_returns_file_links_in_order(tmp_path, text, one_based, expected):
    aligner = GivenAligner(_write(tmp_path, text), one_based=one_based)
    assert aligner.align(PAIRS) == expected


@pytest.mark.parametrize("text", ["0-0\n", "0-0\n0-0\n0-0\n"])
def test_given_rejects_line_count_mismatch(tmp_path, text):
    with pytest.raises(InputFormatError) as err:
        GivenAligner(_write(tmp_path, text)).align(PAIRS)
    assert err.value.code == E_GOLD_COUNT


@pytest.mark.parametrize(
    ("text", "bad_line"),
    [
        ("0-3\n0-0\n", 1),  # source has 3 tokens: index 3 is out of range
        ("0-0\n0-2\n", 2),  # target of pair 2 has 2 tokens
        ("0-0\n1-0\n", 2),  # source of pair 2 has 1 token
    ],
)
def test_given_out_of_range_link_raises_when_strict(tmp_path, text, bad_line):
    with pytest.raises(InputFormatError) as err:
        GivenAligner(_write(tmp_path, text)).align(PAIRS)
    assert (err.value.code, err.value.line) == (E_LINK_OUT_OF_RANGE, bad_line)


def test_given_out_of_range_link_recorded_when_lenient(tmp_path):
    aligner = GivenAligner(_write(tmp_path, "0-0 0-9\n0-1\n"), strict=False)
    assert aligner.align(PAIRS) == [Alignment({(0, 0)}), Alignment({(0, 1)})]
    assert [(r.code, r.locator, r.raw) for r in aligner.rejects] == [
        (E_LINK_OUT_OF_RANGE, "line 1", "0-9")
    ]


def test_given_registered_and_describes_file(tmp_path):
    path = _write(tmp_path, "0-0\n0-0\n")
    aligner = get_aligner("given.v1", path=path)
    assert isinstance(aligner, GivenAligner)
    info = aligner.describe()
    assert (info["name"], info["path"], len(info["sha256"])) == ("given.v1", str(path), 64)


def test_given_for_shard_reads_its_window(tmp_path):
    path = tmp_path / "links.align"
    path.write_text("0-0\n0-1\n1-0 0-0\n")
    pairs = [(["a", "b"], ["x", "y"])] * 2
    whole = GivenAligner(path).align([(["a", "b"], ["x", "y"])] * 3)
    assert GivenAligner(path).for_shard(1).align(pairs) == whole[1:3]
    assert GivenAligner(path).for_shard(0).align(pairs[:1]) == whole[:1]


def test_given_for_positions_reads_those_lines(tmp_path):
    from xproj.schemas.errors import InputFormatError

    path = tmp_path / "links.align"
    path.write_text("0-0\n0-1\n1-0 0-0\n")
    whole = GivenAligner(path).align([(["a", "b"], ["x", "y"])] * 3)
    pairs = [(["a", "b"], ["x", "y"])] * 2
    assert GivenAligner(path).for_positions([2, 0]).align(pairs) == [whole[2], whole[0]]
    with pytest.raises(InputFormatError) as err:
        GivenAligner(path).for_positions([0, 3]).align(pairs)
    assert err.value.code == "XP111" and "line 4 was asked for" in str(err.value)


def test_given_for_shard_past_the_end_is_a_coded_error(tmp_path):
    from xproj.schemas.errors import InputFormatError

    path = tmp_path / "links.align"
    path.write_text("0-0\n0-1\n")
    with pytest.raises(InputFormatError) as err:
        GivenAligner(path).for_shard(1).align([(["a"], ["x", "y"])] * 2)
    assert err.value.code == "XP111" and "lines 2–3" in str(err.value)


def test_given_for_shard_checks_ranges_with_file_line_numbers(tmp_path):
    from xproj.schemas.errors import InputFormatError

    path = tmp_path / "links.align"
    path.write_text("0-0\n0-0\n5-0\n")
    with pytest.raises(InputFormatError) as err:
        GivenAligner(path).for_shard(2).align([(["a"], ["x"])])
    assert err.value.code == "XP107" and err.value.line == 3


def test_given_parses_the_file_once_for_all_shard_views(tmp_path, monkeypatch):
    from xproj.projectors.aligners import given

    path = tmp_path / "links.align"
    path.write_text("0-0\n0-1\n1-0 0-0\n")
    pair = (["a", "b"], ["x", "y"])
    whole = GivenAligner(path).align([pair] * 3)
    calls = []
    parse = given.parse_pharaoh
    monkeypatch.setattr(given, "parse_pharaoh", lambda p: calls.append(p) or parse(p))
    aligner = GivenAligner(path)
    first = aligner.for_positions([0, 1]).align([pair] * 2)
    last = aligner.for_shard(2).align([pair])
    assert first + last == whole
    assert calls == [path]
