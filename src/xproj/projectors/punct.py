"""Punctuation tests for tokens of any script, from Unicode character categories.

A token is punctuation when every character is in a ``P*`` category (connector, dash, open, close,
initial/final quote, other: ``,`` ``-`` ``«`` ``。`` ``،`` ``¿`` …) or is a modifier symbol (``Sk``:
the backtick and ``^`` of ASCII-quoted corpora, as in PTB's ``` `` ```). Symbols (``$``, ``+``,
``°``, emoji) and the word-like ``%`` ``‰`` ``#`` ``&`` ``@`` ``§`` (Unicode ``Po``) are not
punctuation: they belong to amounts, hashtags and names such as ``AT & T``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_PUNCT_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sk"})
# ``Po`` characters that act as word-like symbols inside amounts, hashtags and company names
_WORDLIKE = frozenset("%‰‱#&@§")


@lru_cache(maxsize=1 << 16)
def is_punct(token: str) -> bool:
    """Whether ``token`` is non-empty and made of punctuation characters only.

    Example:
        >>> [is_punct(t) for t in [",", "...", "«", "。", "U.S.", "$", ""]]
        [True, True, True, True, False, False, False]
    """
    return bool(token) and all(
        unicodedata.category(ch) in _PUNCT_CATEGORIES and ch not in _WORDLIKE for ch in token
    )
