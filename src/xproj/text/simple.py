"""A small Unicode-aware word/punctuation tokenizer with character offsets.

Used when a record brings text and character spans but no tokens. It is deliberately simple and
language-independent (the translation side uses real per-language tokenizers):

* a token is a run of letters, digits, combining marks and connector punctuation (``_``); digits
  joined by a single ``.`` or ``,`` stay one token (``3.5``, ``1,000``);
* Han ideographs and kana are one token per character (Chinese and Japanese do not mark words
  with spaces);
* every other non-space character (punctuation, symbols) is a token of its own;
* whitespace separates tokens and is never part of one;
* ``boundaries`` force a token edge at given character offsets, so span edges always fall on token
  edges and character spans map to token spans and back exactly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

Token = tuple[str, int, int]

_SPACE, _WORD, _CJK, _OTHER = range(4)

# Han ideographs (unified, extensions, compatibility) and kana blocks.
_CJK_RANGES = (
    (0x3040, 0x30FF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),
    (0x20000, 0x323AF),
)


@lru_cache(maxsize=4096)
def _kind(ch: str) -> int:
    if ch.isspace():
        return _SPACE
    cp = ord(ch)
    if any(lo <= cp <= hi for lo, hi in _CJK_RANGES):
        return _CJK
    cat = unicodedata.category(ch)
    if cat[0] in "LNM" or cat == "Pc":
        return _WORD
    if cat in ("Cf", "Cc"):  # zero-width joiners and controls behave like part of a word
        return _WORD if ch in "\u200c\u200d" else _SPACE
    return _OTHER


def simple_tokenize(text: str, boundaries: Iterable[int] = ()) -> list[Token]:
    """Split ``text`` into ``(token, start, end)`` triples (end exclusive), left to right.

    Args:
        text: any string.
        boundaries: character offsets where a token must start or end (e.g. span edges);
            offsets outside the text, or inside whitespace, change nothing.

    Returns:
        Tokens with ``text[start:end] == token``; never empty tokens, never whitespace in a token.

    Example:
        >>> [t for t, _, _ in simple_tokenize("Dr. Müller paid $3.50 in Zürich-Nord.")]
        ['Dr', '.', 'Müller', 'paid', '$', '3.50', 'in', 'Zürich', '-', 'Nord', '.']
        >>> simple_tokenize("NewYork", boundaries=[3])
        [('New', 0, 3), ('York', 3, 7)]
        >>> [t for t, _, _ in simple_tokenize("我住在北京。")]
        ['我', '住', '在', '北', '京', '。']
    """
    cuts = {b for b in boundaries if 0 < b < len(text)}
    tokens: list[Token] = []
    n = len(text)
    i = 0
    while i < n:
        kind = _kind(text[i])
        if kind == _SPACE:
            i += 1
            continue
        j = i + 1
        if kind == _WORD:
            while j < n and j not in cuts:
                k = _kind(text[j])
                if k == _WORD:
                    j += 1
                elif (
                    text[j] in ".,"
                    and j + 1 < n
                    and text[j - 1].isdigit()
                    and text[j + 1].isdigit()
                    and j + 1 not in cuts
                ):
                    j += 2
                else:
                    break
        elif kind == _OTHER:
            # a combining mark after a symbol belongs to that symbol
            while j < n and j not in cuts and unicodedata.category(text[j])[0] == "M":
                j += 1
        tokens.append((text[i:j], i, j))
        i = j
    return tokens
