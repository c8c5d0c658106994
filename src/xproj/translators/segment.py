"""Splitting over-long inputs at sentence boundaries, and joining the translated pieces.

A translation model accepts a bounded number of source tokens. A text longer than that is cut
into sentences, consecutive sentences are packed into segments that fit, each segment is
translated, and the translations are joined. Nothing is truncated: when a single sentence is
itself too long, the caller flags the text instead.

Sentences come from :func:`xproj.text.sentences.sentence_spans` (ICU's sentence rules plus the
script boundaries ICU does not mark), the splitter every route uses.
"""

from __future__ import annotations

from collections.abc import Sequence

# Scripts written without spaces between sentences: translations into them are joined with "".
_NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr"})


def pack(lengths: Sequence[int], limit: int) -> list[range]:
    """Group consecutive items into runs whose summed length stays within ``limit``.

    Greedy: each run takes as many following items as fit. An item longer than ``limit`` gets a
    run of its own (the caller checks for those and flags the text).

    Args:
        lengths: length of each item (tokens of each sentence).
        limit: most total length per run.

    Returns:
        Index ranges covering ``0 … len(lengths) - 1`` in order.

    Example:
        >>> pack([3, 4, 2, 6, 1], 7)
        [range(0, 2), range(2, 3), range(3, 5)]
    """
    runs: list[range] = []
    start, total = 0, 0
    for index, length in enumerate(lengths):
        if index > start and total + length > limit:
            runs.append(range(start, index))
            start, total = index, 0
        total += length
    if lengths:
        runs.append(range(start, len(lengths)))
    return runs


def joiner(script: str) -> str:
    """The separator between translated segments in a language written in ``script``.

    Example:
        >>> joiner("Latn"), joiner("Jpan")
        (' ', '')
    """
    return "" if script in _NO_SPACE_SCRIPTS else " "
