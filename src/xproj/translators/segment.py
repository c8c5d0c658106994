"""Splitting over-long inputs at sentence boundaries, and joining the translated pieces.

A translation model accepts a bounded number of source tokens. A text longer than that is cut
into sentences, consecutive sentences are packed into segments that fit, each segment is
translated, and the translations are joined. Nothing is truncated: when a single sentence is
itself too long, the caller flags the text instead.

The splitter is deliberately simple and language-agnostic. A sentence ends:

* after a run of terminal punctuation (``.`` ``!`` ``?`` ``…`` Arabic ``؟`` Urdu ``۔``) and any
  closing quotes or brackets, when whitespace or the end of the text follows (so ``3.14`` and
  ``e.g.x`` do not split);
* after CJK ``。`` ``！`` ``？`` ``｡``, Devanagari danda ``।`` and double danda ``॥``, or Ethiopic
  ``።`` (plus closers), with or without following whitespace, since these scripts often write
  none;
* at every line break.

Abbreviations (``Dr. Smith``) do split; that only matters for texts that have to be split anyway,
and a split inside a sentence costs some translation quality, never data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TERMINAL = ".!?…؟۔"
_WIDE_TERMINAL = "。！？｡।॥።"
_CLOSERS = "\"'”’»)]}」』）】》〉›"

_BOUNDARY = re.compile(
    rf"[{re.escape(_TERMINAL)}]+[{re.escape(_CLOSERS)}]*(?=\s|$)"
    rf"|[{re.escape(_WIDE_TERMINAL)}]+[{re.escape(_CLOSERS)}]*"
    r"|\r\n|\n|\r"
)

# Scripts written without spaces between sentences: translations into them are joined with "".
_NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr"})


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, whitespace trimmed.

    Every non-space character of ``text`` lies in exactly one span; spans are in order.

    Example:
        >>> text = "Dogs bark. Cats? Yes!  猫。狗。"
        >>> [text[s:e] for s, e in sentence_spans(text)]
        ['Dogs bark.', 'Cats?', 'Yes!', '猫。', '狗。']
    """
    cuts = [0, *(match.end() for match in _BOUNDARY.finditer(text)), len(text)]
    spans: list[tuple[int, int]] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (see :func:`sentence_spans`).

    Example:
        >>> split_sentences("यह एक वाक्य है। यह दूसरा है।")
        ['यह एक वाक्य है।', 'यह दूसरा है।']
    """
    return [text[start:end] for start, end in sentence_spans(text)]


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
