"""The aligner interface: tokenized sentence pairs in, one ``Alignment`` per pair out."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from xproj.schemas.errors import Reject
from xproj.schemas.records import Alignment

TokenPair = tuple[Sequence[str], Sequence[str]]


class Aligner(ABC):
    """Aligns words of tokenized sentence pairs.

    ``align`` takes the whole batch (a shard) at once: statistical aligners learn from the corpus
    they align, neural ones batch their forward passes. The result has one ``Alignment`` per input
    pair, in input order, with 0-based ``(source index, target index)`` links.
    """

    #: versioned strategy name, recorded with every output row (e.g. ``"eflomal.v1"``)
    name: str = ""
    #: the model behind a neural aligner (Hub id or path), recorded with the output rows
    model_id: str | None = None
    #: whether it runs a neural model (on a GPU when there is one), so it belongs beside the
    #: translation model rather than on CPU workers of its own
    neural: bool = False

    @abstractmethod
    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """Align every pair; an empty side yields an empty alignment, never an error."""

    def for_shard(self, start: int) -> Aligner:
        """The aligner for the pairs ``start``, ``start + 1`` … of the whole input.

        Flows align shard by shard; an aligner whose output depends on the pairs' global positions
        (links read from a file) returns a view of itself for that shard. Others return ``self``.
        """
        return self

    def for_positions(self, positions: Sequence[int]) -> Aligner:
        """The aligner for the pairs at these input positions (0-based), in this order: like
        :meth:`for_shard` for a shard with gaps (records rejected before alignment)."""
        return self

    def describe(self) -> dict[str, Any]:
        """Settings that determine the output, for lineage (the ``runs`` table)."""
        return {"name": self.name}

    def take_rejects(self) -> list[Reject]:
        """What the aligner left out since the last call (none unless it reads links that may
        not fit), for the ``rejected`` table; each is returned once."""
        return []


class PositionedAligner(Aligner):
    """An aligner that knows where its pairs are in the input: it reads links by position
    (``given.v1``) or names the pairs it leaves out by position (eflomal's over-long pairs).

    :meth:`for_shard` and :meth:`for_positions` return shallow copies (views) that share
    :attr:`rejects`, and every other attribute, with the aligner they came from; so the aligner a
    projector keeps collects what all its views reject.

    Attributes:
        rejects: what the views left out, until :meth:`take_rejects`.
        start: the first pair's input position (a view from :meth:`for_shard`), else ``None``.
        positions: each pair's input position (a view from :meth:`for_positions`), else ``None``.
    """

    def __init__(self) -> None:
        self.rejects: list[Reject] = []
        self.start: int | None = None
        self.positions: list[int] | None = None

    def for_shard(self, start: int) -> PositionedAligner:
        view = copy.copy(self)
        view.start, view.positions = start, None
        return view

    def for_positions(self, positions: Sequence[int]) -> PositionedAligner:
        view = copy.copy(self)
        view.start, view.positions = None, list(positions)
        return view

    def position(self, k: int) -> int:
        """The input position of pair ``k`` of this view's call (0-based)."""
        if self.positions is not None:
            return self.positions[k]
        return (self.start or 0) + k

    def take_rejects(self) -> list[Reject]:
        """What the aligner and its views left out since the last call, each once."""
        taken = list(self.rejects)
        self.rejects.clear()
        return taken
