"""Pharaoh word-alignment files: one line per sentence pair, ``i-j`` sure and ``ipj`` possible links.

Gold alignment sets (e.g. the Hansards en-fr and WPT ro-en test sets) number tokens from 1, while
aligners such as fast_align and eflomal write 0-based links. :func:`read_pharaoh` always returns
0-based :class:`~xproj.schemas.records.Alignment` records.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from xproj.io.readers._common import iter_lines
from xproj.schemas.errors import (
    E_GOLD_COUNT,
    E_LINK_OUT_OF_RANGE,
    E_MALFORMED_LINE,
    InputFormatError,
    Reject,
)
from xproj.schemas.records import Alignment

_LINK = re.compile(r"(\d+)([-p])(\d+)")

# (source index, target index, possible?, the token as written)
_RawLink = tuple[int, int, bool, str]


def parse_pharaoh(path: str | os.PathLike[str]) -> list[list[_RawLink]]:
    """The links of every line of a Pharaoh file as written (index base not yet applied): what
    :func:`read_pharaoh` reads, for a caller that selects from one file many times.

    Raises:
        InputFormatError: XP101 for a token that is not a link, XP110 when the file is missing.
    """
    lines: list[list[_RawLink]] = []
    for number, line in iter_lines(path):
        links: list[_RawLink] = []
        for token in line.split():
            m = _LINK.fullmatch(token)
            if m is None:
                raise InputFormatError(
                    f"{token!r} is not a Pharaoh link.",
                    fix="write links as 'i-j' (sure) or 'ipj' (possible) with non-negative "
                    "integer indices, separated by spaces.",
                    file=str(path),
                    line=number,
                    code=E_MALFORMED_LINE,
                )
            links.append((int(m.group(1)), int(m.group(3)), m.group(2) == "p", token))
        lines.append(links)
    return lines


def _detect_one_based(lines: Sequence[Sequence[_RawLink]]) -> bool:
    return not any(i == 0 or j == 0 for links in lines for i, j, _, _ in links)


def read_pharaoh(
    path: str | os.PathLike[str],
    *,
    one_based: bool | None = None,
    lengths: Sequence[tuple[int, int]] | None = None,
    issues: list[Reject] | None = None,
    at: Sequence[int] | None = None,
    parsed: Sequence[Sequence[_RawLink]] | None = None,
) -> list[Alignment]:
    """Read a Pharaoh alignment file into one 0-based ``Alignment`` per line.

    Each line holds space-separated links ``i-j`` (sure, into ``Alignment.links``) and ``ipj``
    (possible, into ``Alignment.possible``); a blank line is a pair without links. A link written
    both ways appears in both sets.

    Index base: pass ``one_based`` explicitly whenever you know it. With ``None`` the file is read
    as 1-based exactly when no index anywhere in it is 0, and as 0-based otherwise. ``lengths``
    cannot change that decision: without a 0, the 1-based reading never puts more links out of
    range than the 0-based one. The guess is wrong for a 0-based file whose links never touch the
    first word of any sentence (only plausible for very small files).

    Args:
        path: the alignment file (UTF-8).
        one_based: whether indices start at 1; ``None`` detects it as described above.
        lengths: ``(source tokens, target tokens)`` per line, to check every link's range.
        issues: where to append a ``Reject`` (code XP107) for each out-of-range link, which is then
            left out of its alignment. Without it, the first such link raises.
        at: read only these lines (0-based, one per entry of ``lengths``, in that order): the
            pairs of one shard of a larger input, gaps included where input records were
            rejected. The index base is still detected over the whole file.
        parsed: ``path`` as :func:`parse_pharaoh` read it, for a caller that reads the same file
            shard by shard; ``None`` reads the file.

    Returns:
        One ``Alignment`` per line, in file order.

    Raises:
        InputFormatError: XP101 for a token that is not a link, XP111 when the number of lines
            differs from ``len(lengths)``, XP107 for an out-of-range link when ``issues`` is None,
            XP110 when the file is missing.

    Example:
        >>> # file "gold.txt" holds the line "1-1 2p3"
        >>> read_pharaoh("gold.txt", one_based=True)  # doctest: +SKIP
        [Alignment(links=frozenset({(0, 0)}), possible=frozenset({(1, 2)}))]
    """
    lines = parse_pharaoh(path) if parsed is None else parsed
    numbers: Sequence[int] = range(1, len(lines) + 1)
    detect_on = lines
    if at is not None:
        if lengths is None or len(at) != len(lengths):
            raise ValueError("at needs one entry of lengths per line asked for")
        missing = [i for i in at if not 0 <= i < len(lines)]
        if missing:
            asked = (
                f"lines {at[0] + 1}–{at[-1] + 1} were"
                if isinstance(at, range)
                else f"line {missing[0] + 1} was"
            )
            raise InputFormatError(
                f"the alignment file has {len(lines)} lines; {asked} asked for.",
                fix="give one alignment line per sentence pair of the whole input.",
                file=str(path),
                code=E_GOLD_COUNT,
            )
        numbers = [i + 1 for i in at]
        lines = [lines[i] for i in at]
    if lengths is not None and len(lengths) != len(lines):
        raise InputFormatError(
            f"the alignment file has {len(lines)} lines but {len(lengths)} sentence pairs were "
            "given.",
            fix="give one alignment line per sentence pair (a blank line for a pair without "
            "links) and check both files come from the same set.",
            file=str(path),
            code=E_GOLD_COUNT,
        )
    base = 1 if (_detect_one_based(detect_on) if one_based is None else one_based) else 0
    result: list[Alignment] = []
    for k, (number, links) in enumerate(zip(numbers, lines, strict=True)):
        n_src, n_tgt = lengths[k] if lengths is not None else (None, None)
        sure: set[tuple[int, int]] = set()
        possible: set[tuple[int, int]] = set()
        for i_raw, j_raw, is_possible, token in links:
            i, j = i_raw - base, j_raw - base
            if (
                i < 0
                or j < 0
                or (n_src is not None and i >= n_src)
                or (n_tgt is not None and j >= n_tgt)
            ):
                err = _out_of_range(path, number, token, base, n_src, n_tgt)
                if issues is None:
                    raise err
                issues.append(Reject.from_error("read", err, raw=token))
                continue
            (possible if is_possible else sure).add((i, j))
        result.append(Alignment(frozenset(sure), frozenset(possible)))
    return result


def _out_of_range(
    path: str | os.PathLike[str],
    number: int,
    token: str,
    base: int,
    n_src: int | None,
    n_tgt: int | None,
) -> InputFormatError:
    known = (
        f"the pair has {n_src} source and {n_tgt} target tokens"
        if n_src is not None
        else "indices must not be below the base"
    )
    return InputFormatError(
        f"link {token!r} ({base}-based) is out of range: {known}.",
        fix="check the index base (one_based=...) and that the alignment file matches the "
        "tokenized sentence pairs line by line.",
        file=str(path),
        line=number,
        code=E_LINK_OUT_OF_RANGE,
    )


def write_pharaoh(
    path: str | os.PathLike[str],
    alignments: Iterable[Alignment],
    *,
    one_based: bool = False,
) -> None:
    """Write one line per alignment: sure links ``i-j``, then possible links ``ipj``, sorted.

    Args:
        path: output file (UTF-8, ``\\n`` line endings); parent folders must exist.
        alignments: 0-based alignments, one per sentence pair.
        one_based: write indices starting at 1 (the convention of gold test sets).

    Example:
        >>> write_pharaoh("out.txt", [Alignment({(0, 0), (1, 2)})])  # doctest: +SKIP
        >>> Path("out.txt").read_text()  # doctest: +SKIP
        '0-0 1-2\\n'
    """
    base = 1 if one_based else 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        for alignment in alignments:
            tokens = [f"{i + base}-{j + base}" for i, j in sorted(alignment.links)]
            tokens += [f"{i + base}p{j + base}" for i, j in sorted(alignment.possible)]
            out.write(" ".join(tokens) + "\n")
