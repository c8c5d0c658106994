"""Identical-surface anchors: links the aligner missed between copies of the same name or number.

Translations copy many entity tokens verbatim (``Obama``, ``2019``, ``BMW``, ``COVID-19``), and
statistical aligners often leave such rare tokens unaligned. A source token is linked to a target
token when all of these hold (a conservative rule, so the links it adds are rarely wrong):

* the token is *anchorable*: not punctuation, and either it contains a digit, or it contains an
  uppercase or titlecase letter and has at least two characters (single capitals such as ``A`` are
  common words in several languages);
* its exact surface (case-sensitive) occurs exactly once in the source sentence and exactly once
  in the target sentence, so the pairing is unambiguous.

Lowercase words are never anchored, even when identical: cognates and short function words (``a``,
``de``, ``in``) repeat across languages with other meanings. Case-insensitive matches are not tried
either: German nouns and sentence-initial words are capitalised where the source word is not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from xproj.projectors.punct import is_punct


def is_anchorable(token: str) -> bool:
    """Whether ``token`` looks like a name, code or number worth anchoring by identity.

    Example:
        >>> [is_anchorable(t) for t in ["Obama", "2019", "iPhone", "A", "7", "house", "-", "été"]]
        [True, True, True, False, True, False, False, False]
    """
    if not token or is_punct(token):
        return False
    if any(ch.isdigit() for ch in token):
        return True
    return len(token) >= 2 and any(ch.isupper() or ch.istitle() for ch in token)


class AnchorIndex:
    """Which source tokens of one sentence pair have a unique identical copy in the target.

    Built once per sentence pair in linear time; ``target_of`` is then a dictionary lookup.

    Example:
        >>> idx = AnchorIndex(["Obama", "met", "Merkel", "in", "2019"],
        ...                   ["2019", "traf", "Obama", "Merkel", "Merkel"])
        >>> [idx.target_of(i) for i in range(5)]
        [2, None, None, None, 0]
    """

    __slots__ = ("_src", "_src_counts", "_tgt_unique")

    def __init__(self, src_tokens: Sequence[str], tgt_tokens: Sequence[str]) -> None:
        self._src = src_tokens
        self._src_counts = Counter(src_tokens)
        seen: dict[str, int] = {}
        for j, tok in enumerate(tgt_tokens):
            seen[tok] = -1 if tok in seen else j
        self._tgt_unique = seen

    def target_of(self, i: int) -> int | None:
        """The target index identical to source token ``i``, or None when there is no safe one."""
        tok = self._src[i]
        j = self._tgt_unique.get(tok, -1)
        if j < 0 or self._src_counts[tok] != 1 or not is_anchorable(tok):
            return None
        return j
