"""Settings of alignment-based span projection (the ``align.v1`` strategy)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from xproj.schemas.errors import FORBID_EXTRA, check_settings

Punctuation = Literal["drop", "trim", "keep"]
Grouping = Literal["largest", "extent"]
Overlap = Literal["type_then_length", "keep"]


@dataclass(frozen=True, slots=True)
class ProjectionPolicy:
    """How aligned target tokens become a target span.

    Attributes:
        punctuation: ``drop`` ignores target tokens that are only punctuation when collecting the
            aligned tokens (they can still be inside a span through gap filling); ``trim`` lets them
            join groups but cuts the span to its first and last aligned non-punctuation token;
            ``keep`` uses them like words. Punctuation is :func:`xproj.projectors.punct.is_punct`.
        gap_fill: unaligned gaps of at most this many tokens between aligned target tokens are
            filled, joining the groups on both sides.
        grouping: ``largest`` keeps the longest contiguous group of aligned target tokens (ties: the
            group linked to more of the span's source tokens, then the leftmost); ``extent`` takes
            everything from the first to the last aligned token.
        overlap: ``type_then_length`` resolves overlapping projections: same-type ones merge,
            otherwise the longer source span wins (ties: the earlier one); ``keep`` leaves
            overlapping projections as they are.
        anchor_identical: link source span tokens to target tokens with the identical surface form
            (numbers, names, codes) when the alignment missed them and the match is unique on both
            sides; the exact rule is in :mod:`xproj.projectors.anchors`.
        anchor_only: an anchored source token keeps only its identical copy, and the aligner's
            other links for it are ignored (a copied number or name is better evidence than a
            statistical link). Off by default; the answer policies of PAXQA turn it on.
    """

    __pydantic_config__ = FORBID_EXTRA

    punctuation: Punctuation = "drop"
    gap_fill: int = 1
    grouping: Grouping = "largest"
    overlap: Overlap = "type_then_length"
    anchor_identical: bool = True
    anchor_only: bool = False

    def __post_init__(self) -> None:
        choices = [
            (name, getattr(self, name), get_args(kind))
            for name, kind in (
                ("punctuation", Punctuation),
                ("grouping", Grouping),
                ("overlap", Overlap),
            )
        ]
        check_settings(
            "projection policy",
            [
                (value in allowed, f"{name}={value!r} is not one of {', '.join(allowed)}")
                for name, value, allowed in choices
            ]
            + [
                (
                    isinstance(self.gap_fill, int) and self.gap_fill >= 0,
                    f"gap_fill={self.gap_fill!r} must be >= 0",
                )
            ],
            fix="use one of the values named; gap_fill fills gaps of 0 (off) or more tokens.",
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
