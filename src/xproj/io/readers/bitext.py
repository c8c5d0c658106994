"""Parallel text: ``src ||| tgt`` lines, ``src<TAB>tgt`` lines, or two line-aligned files.

Each input line is one sentence pair. Readers keep one item per line (a pair or a ``Reject``), so
line numbers stay usable as pair ids and other line-aligned files (gold alignments) can be zipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Literal

from xproj.io.readers._common import (
    OnError,
    check_on_error,
    count_lines,
    iter_lines,
    raise_or_reject,
)
from xproj.schemas.errors import (
    E_BITEXT_LINE_COUNT,
    E_EMPTY_SENTENCE,
    E_MALFORMED_LINE,
    E_UNKNOWN_FORMAT,
    InputFormatError,
    Reject,
    check_option,
)

BitextFormat = Literal["auto", "pipes", "tsv"]
PIPES = "|||"

#: ``(line number, source text, target text)``
BitextPair = tuple[int, str, str]


def _split(line: str, fmt: str) -> tuple[str, str]:
    """Split one line; raise ``ValueError`` with the reason when it has not exactly two sides."""
    if fmt == "pipes":
        parts = line.split(PIPES)
        if len(parts) != 2:
            raise ValueError(f"expected one '{PIPES}' separator, found {len(parts) - 1}")
    else:
        parts = line.split("\t")
        if len(parts) != 2:
            raise ValueError(f"expected 2 tab-separated columns, found {len(parts)}")
    return parts[0].strip(), parts[1].strip()


def _detect_format(path: str | os.PathLike[str]) -> str:
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        if PIPES in line:
            return "pipes"
        if "\t" in line:
            return "tsv"
        raise InputFormatError(
            f"cannot tell the bitext format from line {number}: it has neither '{PIPES}' nor a tab.",
            fix='pass fmt="pipes" or fmt="tsv", or tgt_path= for two line-aligned files.',
            file=str(path),
            line=number,
            code=E_UNKNOWN_FORMAT,
        )
    return "pipes"  # only blank lines: every line becomes an empty-sentence record either way


def _pair_or_error(
    path: str, number: int, src: str, tgt: str, where: str
) -> BitextPair | InputFormatError:
    if src and tgt:
        return number, src, tgt
    what = (
        "both sides are"
        if not (src or tgt)
        else ("the source side is" if tgt else "the target side is")
    )
    return InputFormatError(
        f"{what} empty{where}.",
        fix="remove or fill the empty line; a line pairs one source with one target sentence.",
        file=path,
        line=number,
        code=E_EMPTY_SENTENCE,
    )


def iter_bitext(
    path: str | os.PathLike[str],
    *,
    fmt: BitextFormat = "auto",
    tgt_path: str | os.PathLike[str] | None = None,
    on_error: OnError = "raise",
) -> Iterator[BitextPair | Reject]:
    """Yield ``(line number, source text, target text)`` for every line, in order.

    Formats: ``pipes`` (``source ||| target``, exactly one separator), ``tsv`` (exactly two
    tab-separated columns, like Tatoeba's ``en<TAB>fr``), or, with ``tgt_path``, two files where
    line k of one translates line k of the other. ``auto`` decides from the first non-blank line:
    ``|||`` means pipes, else a tab means tsv. Each side is stripped of surrounding whitespace.

    Args:
        path: the bitext file, or the source file when ``tgt_path`` is given.
        fmt: ``auto``, ``pipes`` or ``tsv``; ignored with ``tgt_path``.
        tgt_path: the target file of a line-aligned pair of files.
        on_error: ``raise`` stops at the first bad line (XP101 wrong separators, XP102 an empty
            side); ``reject`` yields a ``Reject`` for it and goes on, keeping one item per line.

    Raises:
        InputFormatError: XP106 when the two files differ in line count (before anything is
            yielded), XP109 when ``auto`` cannot tell the format, XP110 for a missing file, and bad
            lines with ``on_error="raise"``.

    Example:
        >>> # "pairs.tsv" holds "Run!<TAB>Cours !"
        >>> list(iter_bitext("pairs.tsv"))  # doctest: +SKIP
        [(1, 'Run!', 'Cours !')]
    """
    check_on_error(on_error)
    check_option(
        "fmt",
        fmt,
        ("auto", "pipes", "tsv"),
        fix='pass "auto", "pipes" or "tsv".',
        kind="bitext format",
    )
    if tgt_path is not None:
        yield from _iter_two_files(path, tgt_path, on_error)
        return
    if fmt == "auto":
        fmt = _detect_format(path)
    for number, line in iter_lines(path):
        try:
            # a blank line is an empty pair (XP102), not a line with the wrong separators
            src, tgt = _split(line, fmt) if line.strip() else ("", "")
        except ValueError as reason:
            item: BitextPair | InputFormatError = InputFormatError(
                f"malformed {fmt} line: {reason}.",
                fix=f"write 'source {PIPES} target'"
                if fmt == "pipes"
                else "write 'source<TAB>target' with no other tab in the line.",
                file=str(path),
                line=number,
                code=E_MALFORMED_LINE,
            )
        else:
            item = _pair_or_error(str(path), number, src, tgt, "")
        if isinstance(item, InputFormatError):
            yield raise_or_reject(item, on_error, line)
        else:
            yield item


def _iter_two_files(
    src_path: str | os.PathLike[str], tgt_path: str | os.PathLike[str], on_error: str
) -> Iterator[BitextPair | Reject]:
    n_src, n_tgt = count_lines(src_path), count_lines(tgt_path)
    if n_src != n_tgt:
        raise InputFormatError(
            f"the source file {src_path} has {n_src} lines but the target file {tgt_path} has "
            f"{n_tgt}.",
            fix="give line-aligned files (line k of one translates line k of the other); check "
            "for a missing trailing newline or an extra blank line.",
            file=str(src_path),
            code=E_BITEXT_LINE_COUNT,
        )
    where = f" (source {src_path}, target {tgt_path})"
    for (number, src), (_, tgt) in zip(iter_lines(src_path), iter_lines(tgt_path), strict=True):
        item = _pair_or_error(str(src_path), number, src.strip(), tgt.strip(), where)
        if isinstance(item, InputFormatError):
            yield raise_or_reject(item, on_error, f"{src}\t{tgt}")
        else:
            yield item


def read_tokenized_bitext(path: str | os.PathLike[str]) -> list[tuple[list[str], list[str]]]:
    """Read ``source tokens ||| target tokens`` lines (gold alignment sets' ``*.src-tgt`` files).

    Tokens are split on whitespace. Every line must have one ``|||`` and tokens on both sides.

    Raises:
        InputFormatError: XP101 for a line without exactly one ``|||``, XP102 for an empty side,
            XP110 for a missing file; each names the file and line.

    Example:
        >>> # "enfr.src-tgt" holds "oh , oh ! ||| oh , oh !"
        >>> read_tokenized_bitext("enfr.src-tgt")  # doctest: +SKIP
        [(['oh', ',', 'oh', '!'], ['oh', ',', 'oh', '!'])]
    """
    pairs = []
    for item in iter_bitext(path, fmt="pipes"):
        assert not isinstance(item, Reject)  # on_error="raise" never yields a Reject
        _, src, tgt = item
        pairs.append((src.split(), tgt.split()))
    return pairs
