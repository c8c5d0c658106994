"""Symmetrisation of two directional word alignments (Och & Ney 2003; Koehn et al. 2003).

Directional aligners (IBM models, HMM, eflomal) link every word of one side to at most one word of
the other, so each direction alone misses many-to-one links the other one finds. The heuristics
here combine a forward alignment (source → target) and a reverse one (target → source, already
turned to ``(source, target)`` orientation) into one set of ``(i, j)`` links:

- ``intersection``: links both directions agree on (high precision).
- ``union``: links either direction found (high recall).
- ``grow-diag``: start from the intersection and repeatedly add union links that neighbour
  (including diagonally) an accepted link, when the new link's source or target word is still
  unaligned.
- ``grow-diag-final``: grow-diag, then add remaining forward links and then reverse links whose
  source *or* target word is still unaligned.
- ``grow-diag-final-and``: as above, but a final link needs *both* words unaligned.

The definitions follow Koehn's pseudo-code in the Moses documentation: the grow step visits the
accepted links in (source, target) order, also those accepted during the same pass when they come
later in that order, and repeats until a pass adds nothing; neighbours are tried in the order
left, up, right, down, then the four diagonals.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable
from typing import Literal

from xproj.schemas.errors import E_UNKNOWN_STRATEGY, check_choice

Link = tuple[int, int]
Links = Collection[Link]
SymmetrizationMethod = Literal[
    "intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and"
]

_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def intersection(fwd: Links, rev: Links) -> set[Link]:
    """Links present in both directions.

    Example:
        >>> sorted(intersection({(0, 0), (1, 1)}, {(0, 0), (1, 2)}))
        [(0, 0)]
    """
    return set(fwd) & set(rev)


def union(fwd: Links, rev: Links) -> set[Link]:
    """Links present in either direction.

    Example:
        >>> sorted(union({(0, 0), (1, 1)}, {(0, 0), (1, 2)}))
        [(0, 0), (1, 1), (1, 2)]
    """
    return set(fwd) | set(rev)


class _State:
    """An alignment being grown, with which source and target words it already covers."""

    __slots__ = ("links", "src", "tgt")

    def __init__(self, links: set[Link]) -> None:
        self.links = links
        self.src = {i for i, _ in links}
        self.tgt = {j for _, j in links}

    def add(self, link: Link) -> None:
        self.links.add(link)
        self.src.add(link[0])
        self.tgt.add(link[1])


def _grow_diag(state: _State, candidates: set[Link]) -> None:
    """Koehn's GROW-DIAG on ``state``, taking new links from ``candidates`` (the union)."""
    pending = candidates - state.links
    added = True
    while added and pending:
        added = False
        # A heap of the accepted links visits them in (i, j) order; links accepted during the
        # pass join it when they come after the current one, as in the pseudo-code's grid scan.
        heap = sorted(state.links)
        while heap:
            i, j = current = heapq.heappop(heap)
            for di, dj in _NEIGHBOURS:
                new = (i + di, j + dj)
                if new in pending and (new[0] not in state.src or new[1] not in state.tgt):
                    state.add(new)
                    pending.discard(new)
                    added = True
                    if new > current:
                        heapq.heappush(heap, new)


def _final(state: _State, direction: Iterable[Link], *, both_unaligned: bool) -> None:
    """Koehn's FINAL / FINAL-AND: add ``direction``'s links whose words are (both) unaligned."""
    for link in sorted(direction):
        if link in state.links:
            continue
        src_free = link[0] not in state.src
        tgt_free = link[1] not in state.tgt
        if (src_free and tgt_free) if both_unaligned else (src_free or tgt_free):
            state.add(link)


def grow_diag(fwd: Links, rev: Links) -> set[Link]:
    """The intersection grown along neighbouring (incl. diagonal) union links.

    Example:
        >>> sorted(grow_diag({(0, 0), (1, 1)}, {(0, 0), (1, 2)}))
        [(0, 0), (1, 1), (1, 2)]
    """
    state = _State(intersection(fwd, rev))
    _grow_diag(state, union(fwd, rev))
    return state.links


def grow_diag_final(fwd: Links, rev: Links) -> set[Link]:
    """grow-diag, then forward and reverse links with an unaligned source or target word.

    Example:
        >>> sorted(grow_diag_final({(0, 0), (2, 2)}, {(0, 0), (2, 1)}))
        [(0, 0), (2, 1), (2, 2)]
    """
    state = _State(intersection(fwd, rev))
    _grow_diag(state, union(fwd, rev))
    _final(state, fwd, both_unaligned=False)
    _final(state, rev, both_unaligned=False)
    return state.links


def grow_diag_final_and(fwd: Links, rev: Links) -> set[Link]:
    """grow-diag, then forward and reverse links whose source and target words are unaligned.

    Example:
        >>> sorted(grow_diag_final_and({(0, 0), (2, 2)}, {(0, 0), (2, 1)}))
        [(0, 0), (2, 2)]
    """
    state = _State(intersection(fwd, rev))
    _grow_diag(state, union(fwd, rev))
    _final(state, fwd, both_unaligned=True)
    _final(state, rev, both_unaligned=True)
    return state.links


METHODS: dict[str, Callable[[Links, Links], set[Link]]] = {
    "intersection": intersection,
    "union": union,
    "grow-diag": grow_diag,
    "grow-diag-final": grow_diag_final,
    "grow-diag-final-and": grow_diag_final_and,
}


def check_method(method: str) -> None:
    """Raise a coded ``ConfigError`` unless ``method`` is one of :data:`METHODS`."""
    check_choice("symmetrization method", method, METHODS, code=E_UNKNOWN_STRATEGY)


def symmetrize(fwd: Links, rev: Links, method: str = "grow-diag-final-and") -> set[Link]:
    """Combine two directional alignments of one sentence pair into one.

    Args:
        fwd: ``(source, target)`` links of the source → target alignment.
        rev: links of the target → source alignment, already in ``(source, target)`` order.
        method: one of ``intersection``, ``union``, ``grow-diag``, ``grow-diag-final``,
            ``grow-diag-final-and``.

    Returns:
        The symmetrised ``(source, target)`` links (a new set; the inputs are not changed).

    Raises:
        ConfigError: XP302 for an unknown method.

    Example:
        >>> fwd = {(0, 0), (1, 1), (3, 3)}
        >>> rev = {(0, 0), (1, 1), (3, 2)}
        >>> sorted(symmetrize(fwd, rev, "intersection"))
        [(0, 0), (1, 1)]
        >>> sorted(symmetrize(fwd, rev, "grow-diag-final-and"))
        [(0, 0), (1, 1), (3, 3)]
    """
    check_method(method)
    return METHODS[method](fwd, rev)
