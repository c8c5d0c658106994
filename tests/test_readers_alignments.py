"""Pharaoh alignment files: index base, possible links, range checks, malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest

from xproj.io.readers.alignments import read_pharaoh, write_pharaoh
from xproj.io.readers.bitext import read_tokenized_bitext
from xproj.schemas.errors import InputFormatError, Reject
from xproj.schemas.records import Alignment


def _write(tmp_path: Path, text: str, name: str = "gold.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "one_based", "expected"),
    [
        # auto: no 0 anywhere -> 1-based
        ("1-1 2-3\n", None, [Alignment({(0, 0), (1, 2)})]),
        # auto: a 0 somewhere -> 0-based
        ("1-1 2-3\n0-0\n", None, [Alignment({(1, 1), (2, 3)}), Alignment({(0, 0)})]),
        # explicit 0-based even without a 0
        ("1-1\n", False, [Alignment({(1, 1)})]),
        # possible links kept apart
        ("1-1 2p2 3p1\n", True, [Alignment({(0, 0)}, {(1, 1), (2, 0)})]),
        # blank line = pair without links; final line without newline still counts
        ("1-1\n\n2-2", True, [Alignment({(0, 0)}), Alignment(set()), Alignment({(1, 1)})]),
        # CRLF endings and extra spaces
        ("1-1  2-2 \r\n3-3\r\n", True, [Alignment({(0, 0), (1, 1)}), Alignment({(2, 2)})]),
        # a link written sure and possible sits in both sets
        ("1-1 1p1\n", True, [Alignment({(0, 0)}, {(0, 0)})]),
        ("", None, []),
    ],
)
def test_alignments_read_pharaoh_cases(tmp_path, text, one_based, expected):
    assert read_pharaoh(_write(tmp_path, text), one_based=one_based) == expected


@pytest.mark.parametrize("token", ["3x4", "1-", "-1", "a-b", "1--2", "1-2-3", "1p", "−1-2", "1_2"])
def test_alignments_read_pharaoh_malformed_token(tmp_path, token):
    path = _write(tmp_path, f"1-1\n2-2 {token}\n")
    with pytest.raises(InputFormatError) as info:
        read_pharaoh(path)
    assert info.value.code == "XP101"
    assert f"{path}:2" in str(info.value)
    assert token in str(info.value)


@pytest.mark.parametrize(
    ("text", "one_based", "lengths", "bad"),
    [
        ("1-1 3-1\n1-2\n", True, [(2, 2), (2, 2)], [(1, "3-1")]),
        ("1-1\n1-3\n", True, [(2, 2), (2, 2)], [(2, "1-3")]),
        ("0-0 2-0\n", False, [(2, 2)], [(1, "2-0")]),
        ("1-1 0-1\n", True, None, [(1, "0-1")]),  # 0 under an explicit 1-based reading
        ("1p3 1-1\n2-2 4-4\n", True, [(3, 2), (3, 3)], [(1, "1p3"), (2, "4-4")]),
    ],
)
def test_alignments_read_pharaoh_out_of_range_rejects(tmp_path, text, one_based, lengths, bad):
    path = _write(tmp_path, text)
    issues: list[Reject] = []
    result = read_pharaoh(path, one_based=one_based, lengths=lengths, issues=issues)
    assert [(r.locator, r.raw) for r in issues] == [(f"line {n}", tok) for n, tok in bad]
    assert all(r.code == "XP107" and r.stage == "read" and r.source == str(path) for r in issues)
    if lengths is not None:
        first_line, first_tok = bad[0]
        n_src, n_tgt = lengths[first_line - 1]
        assert f"{n_src} source and {n_tgt} target tokens" in issues[0].reason
    # the bad links are left out; the rest are kept, one alignment per line
    assert len(result) == text.count("\n")
    base = 1 if one_based else 0
    for line, tok in bad:
        i, j = (int(x) - base for x in tok.replace("p", "-").split("-"))
        assert (i, j) not in result[line - 1].links | result[line - 1].possible
    # without an issues list the first one raises, naming file and line
    with pytest.raises(InputFormatError) as info:
        read_pharaoh(path, one_based=one_based, lengths=lengths)
    assert info.value.code == "XP107"
    assert f"{path}:{bad[0][0]}" in str(info.value)
    assert repr(bad[0][1]) in str(info.value)


@pytest.mark.parametrize("n_lengths", [1, 3])
def test_alignments_read_pharaoh_line_count_mismatch(tmp_path, n_lengths):
    path = _write(tmp_path, "1-1\n2-2\n")
    with pytest.raises(InputFormatError) as info:
        read_pharaoh(path, lengths=[(5, 5)] * n_lengths)
    assert info.value.code == "XP111"
    assert str(path) in str(info.value)
    assert f"2 lines but {n_lengths} sentence pairs" in str(info.value)


def test_alignments_read_pharaoh_missing_file(tmp_path):
    with pytest.raises(InputFormatError) as info:
        read_pharaoh(tmp_path / "nope.gold")
    assert info.value.code == "XP110"
    assert "nope.gold" in str(info.value)


@pytest.mark.parametrize("one_based", [True, False])
def test_alignments_write_pharaoh_round_trip(tmp_path, one_based):
    alignments = [
        Alignment({(0, 0), (2, 1), (1, 3)}, {(3, 3)}),
        Alignment(set()),
        Alignment({(4, 0)}),
    ]
    path = tmp_path / "out.txt"
    write_pharaoh(path, alignments, one_based=one_based)
    assert read_pharaoh(path, one_based=one_based) == alignments
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == ("1-1 2-4 3-2 4p4" if one_based else "0-0 1-3 2-1 3p3")


@pytest.mark.parametrize(("name", "n_pairs"), [("enfr", 447), ("roen", 248), ("zhen", 450)])
def test_alignments_read_pharaoh_gold_sets(shared_data, name, n_pairs):
    folder = shared_data / "word-alignment-gold"
    pairs = read_tokenized_bitext(folder / f"{name}.src-tgt")
    issues: list[Reject] = []
    gold = read_pharaoh(
        folder / f"{name}.gold", lengths=[(len(s), len(t)) for s, t in pairs], issues=issues
    )
    assert len(pairs) == len(gold) == n_pairs
    assert issues == []
    # the sets are 1-based: auto-detection must agree with the explicit flag
    assert gold == read_pharaoh(folder / f"{name}.gold", one_based=True)
    assert any((0, 0) in a.links or (0, 0) in a.possible for a in gold)
