"""Alignments supplied in a Pharaoh file (gold links, or links from an external aligner).

Useful to project spans with gold alignments (an upper bound for aligner-based projection), or
with links computed elsewhere (awesome-align, fast_align) while keeping the same pipeline.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xproj.io.readers.alignments import parse_pharaoh, read_pharaoh
from xproj.projectors.aligners.base import PositionedAligner, TokenPair
from xproj.schemas.errors import Reject
from xproj.schemas.records import Alignment


class GivenAligner(PositionedAligner):
    """Returns the links of a Pharaoh file, line ``k`` for pair ``k`` (registered ``"given.v1"``).

    The file is parsed once, on the first ``align`` call, and shared with the shard views. An
    ``align`` call takes the whole file, which must then hold exactly one line per pair of that
    call; a view made by ``for_shard(start)`` takes the lines of its shard only, one made by
    ``for_positions(positions)`` the lines of those input positions (a shard whose rejected
    records leave gaps). Sure links (``i-j``) become ``Alignment.links``; possible links (``ipj``) are kept
    in ``Alignment.possible``.

    Args:
        path: the Pharaoh file.
        one_based: whether the file numbers tokens from 1 (gold test sets usually do).
        strict: raise on the first link outside its pair's tokens; with ``False`` such links are
            left out and recorded as ``Reject`` entries in ``rejects`` (shared by the shard
            views; the flows write them to the ``rejected`` table).

    Raises (from ``align``):
        InputFormatError: XP111 when the file's line count differs from the number of pairs,
            XP107 for an out-of-range link (``strict``), XP101 for a malformed link, XP110 when
            the file is missing.

    Example:
        >>> # links.txt holds "0-0 1-1"
        >>> GivenAligner("links.txt").align([(["a", "b"], ["x", "y"])])  # doctest: +SKIP
        [Alignment(links=frozenset({(0, 0), (1, 1)}), possible=frozenset())]
    """

    name = "given.v1"

    def __init__(
        self, path: str | os.PathLike[str], one_based: bool = False, *, strict: bool = True
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.one_based = one_based
        self.strict = strict
        # the parsed file, shared with the views: each shard's call would otherwise read it all
        self._parsed: dict[str, Any] = {}

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """The file's alignments in order, range-checked against ``pairs``."""
        lengths = [(len(src), len(tgt)) for src, tgt in pairs]
        issues: list[Reject] | None = None if self.strict else []
        if "lines" not in self._parsed:
            self._parsed["lines"] = parse_pharaoh(self.path)
        at = self.positions
        if self.start is not None:
            at = range(self.start, self.start + len(pairs))
        result = read_pharaoh(
            self.path,
            one_based=self.one_based,
            lengths=lengths,
            issues=issues,
            at=at,
            parsed=self._parsed["lines"],
        )
        if issues:
            self.rejects.extend(issues)
        return result

    def describe(self) -> dict[str, Any]:
        """Name, file path and content hash (so lineage pins the exact links used)."""
        try:
            digest: str | None = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        return {
            "name": self.name,
            "path": str(self.path),
            "sha256": digest,
            "one_based": self.one_based,
        }
