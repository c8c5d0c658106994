"""Bitext readers: pipes, TSV, two line-aligned files, and their bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from xproj.io.readers.bitext import iter_bitext, read_tokenized_bitext
from xproj.schemas.errors import ConfigError, InputFormatError, Reject


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("Run!\tCours !\nGo.\tVa !\n", "auto", [(1, "Run!", "Cours !"), (2, "Go.", "Va !")]),
        ("Run!\tCours !\n", "tsv", [(1, "Run!", "Cours !")]),
        ("a b ||| c d\r\n e ||| f \n", "auto", [(1, "a b", "c d"), (2, "e", "f")]),
        ("\nx ||| y", "auto", None),  # blank first line is skipped for detection only
        ("a|b ||| c\n", "pipes", [(1, "a|b", "c")]),
        ("a ||| b\tc\n", "auto", [(1, "a", "b\tc")]),  # pipes win over a tab inside a side
    ],
)
def test_bitext_iter_bitext_formats(tmp_path, text, fmt, expected):
    path = _write(tmp_path, "b.txt", text)
    if expected is None:
        with pytest.raises(InputFormatError) as info:
            list(iter_bitext(path, fmt=fmt))
        assert info.value.code == "XP102"
        assert f"{path}:1" in str(info.value)
    else:
        assert list(iter_bitext(path, fmt=fmt)) == expected


@pytest.mark.parametrize(
    ("text", "fmt", "code", "line"),
    [
        ("a\tb\nc\td\te\n", "tsv", "XP101", 2),
        ("a\tb\nno tab here\n", "tsv", "XP101", 2),
        ("a ||| b\nc ||| d ||| e\n", "pipes", "XP101", 2),
        ("a ||| b\nc | d\n", "auto", "XP101", 2),
        ("a ||| b\n ||| d\n", "pipes", "XP102", 2),
        ("a\t\n", "tsv", "XP102", 1),
        ("a ||| b\n\nc ||| d\n", "auto", "XP102", 2),
    ],
)
def test_bitext_iter_bitext_bad_lines(tmp_path, text, fmt, code, line):
    path = _write(tmp_path, "b.txt", text)
    with pytest.raises(InputFormatError) as info:
        list(iter_bitext(path, fmt=fmt))
    assert info.value.code == code
    assert f"{path}:{line}" in str(info.value)
    items = list(iter_bitext(path, fmt=fmt, on_error="reject"))
    assert len(items) == text.count("\n")  # one item per input line
    rejects = [(n, it) for n, it in enumerate(items, 1) if isinstance(it, Reject)]
    assert [(n, r.code, r.locator, r.source) for n, r in rejects] == [
        (line, code, f"line {line}", str(path))
    ]


def test_bitext_iter_bitext_undetectable_format(tmp_path):
    path = _write(tmp_path, "b.txt", "\nplain sentence\n")
    with pytest.raises(InputFormatError) as info:
        list(iter_bitext(path))
    assert info.value.code == "XP109"
    assert f"{path}:2" in str(info.value)


@pytest.mark.parametrize(
    ("src", "tgt", "expected"),
    [
        ("a\nb\n", "x\ny\n", [(1, "a", "x"), (2, "b", "y")]),
        ("a\nb", "x\r\ny\r\n", [(1, "a", "x"), (2, "b", "y")]),
    ],
)
def test_bitext_iter_bitext_two_files(tmp_path, src, tgt, expected):
    s, t = _write(tmp_path, "s.txt", src), _write(tmp_path, "t.txt", tgt)
    assert list(iter_bitext(s, tgt_path=t)) == expected


@pytest.mark.parametrize(("src", "tgt"), [("a\nb\nc\n", "x\ny\n"), ("a\n", "x\n\n")])
def test_bitext_iter_bitext_line_count_mismatch(tmp_path, src, tgt):
    s, t = _write(tmp_path, "s.txt", src), _write(tmp_path, "t.txt", tgt)
    items = iter_bitext(s, tgt_path=t, on_error="reject")
    with pytest.raises(InputFormatError) as info:
        next(items)  # raised before anything is yielded
    msg = str(info.value)
    assert info.value.code == "XP106"
    assert str(s) in msg and str(t) in msg
    assert f"has {src.count(chr(10))} lines" in msg and f"has {tgt.count(chr(10))}" in msg


def test_bitext_iter_bitext_two_files_empty_side(tmp_path):
    s, t = _write(tmp_path, "s.txt", "a\n\nc\n"), _write(tmp_path, "t.txt", "x\ny\nz\n")
    items = list(iter_bitext(s, tgt_path=t, on_error="reject"))
    assert items[0] == (1, "a", "x") and items[2] == (3, "c", "z")
    assert isinstance(items[1], Reject) and items[1].code == "XP102"
    with pytest.raises(InputFormatError) as info:
        list(iter_bitext(s, tgt_path=t))
    assert f"{s}:2" in str(info.value) and str(t) in str(info.value)


@pytest.mark.parametrize(("kwargs"), [{"fmt": "csv"}, {"on_error": "skip"}])
def test_bitext_iter_bitext_bad_options(tmp_path, kwargs):
    path = _write(tmp_path, "b.txt", "a ||| b\n")
    with pytest.raises(ConfigError):
        list(iter_bitext(path, **kwargs))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 .   ||| 2 .  \n", [(["2", "."], ["2", "."])]),
        ("科学家 一直 ||| scientists have\n", [(["科学家", "一直"], ["scientists", "have"])]),
    ],
)
def test_bitext_read_tokenized_bitext_cases(tmp_path, text, expected):
    assert read_tokenized_bitext(_write(tmp_path, "x.src-tgt", text)) == expected


@pytest.mark.parametrize(
    ("text", "code"), [("a ||| b\nc d\n", "XP101"), ("a ||| b\nc |||\n", "XP102")]
)
def test_bitext_read_tokenized_bitext_bad(tmp_path, text, code):
    path = _write(tmp_path, "x.src-tgt", text)
    with pytest.raises(InputFormatError) as info:
        read_tokenized_bitext(path)
    assert info.value.code == code
    assert f"{path}:2" in str(info.value)


def test_bitext_iter_bitext_tatoeba(shared_data):
    path = shared_data / "bitext" / "eng-fra.tatoeba.tsv"
    items = list(iter_bitext(path))
    assert len(items) == 76036
    assert not any(isinstance(it, Reject) for it in items)
    assert items[0] == (1, "Go.", "Va !")


@pytest.mark.parametrize("lang", ["ara", "cmn", "rus", "deu", "fra", "spa", "hin", "vie"])
def test_bitext_iter_bitext_tatoeba_1k(shared_data, lang):
    folder = shared_data / "bitext" / "tatoeba-1k"
    items = list(
        iter_bitext(
            folder / f"tatoeba.{lang}-eng.{lang}", tgt_path=folder / f"tatoeba.{lang}-eng.eng"
        )
    )
    assert len(items) == 1000
    assert not any(isinstance(it, Reject) for it in items)
