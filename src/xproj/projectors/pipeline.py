"""Align and project a batch of sentence pairs: the model-free heart of every projection flow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from xproj.projectors.aligners.base import Aligner
from xproj.projectors.policy import ProjectionPolicy
from xproj.projectors.project import project_spans, target_spans
from xproj.schemas.records import (
    Alignment,
    AnnotatedSentence,
    CharSpan,
    ParallelPair,
    ProjectionOutcome,
    TokenSpan,
)


@dataclass(frozen=True, slots=True)
class PairProjection:
    """One pair with its alignment (``None`` for routes that use no word aligner), one outcome per
    source span, and the final target spans in tokens and in characters (one character span per
    token span, in the same order)."""

    pair: ParallelPair
    alignment: Alignment | None
    outcomes: tuple[ProjectionOutcome, ...]
    spans: tuple[TokenSpan, ...]
    char_spans: tuple[CharSpan, ...]


def from_tokens(
    pair: ParallelPair, alignment: Alignment | None, outcomes: Sequence[ProjectionOutcome]
) -> PairProjection:
    """The projection of outcomes placed on target tokens: character spans derived, once, from
    the target's token offsets."""
    tgt: AnnotatedSentence = pair.tgt
    placed = tuple(
        o if o.target is None else replace(o, char_target=tgt.char_spans_of(o.target))
        for o in outcomes
    )
    spans = tuple(target_spans(placed))
    return PairProjection(
        pair, alignment, placed, spans, tuple(tgt.char_spans_of(s) for s in spans)
    )


def project_pairs(
    pairs: Sequence[ParallelPair],
    aligner: Aligner,
    *,
    policy: ProjectionPolicy | None = None,
) -> list[PairProjection]:
    """Align all pairs in one aligner call, then project every pair's source spans.

    Statistical aligners learn from the batch they align, so callers pass a whole shard, not a
    sentence. The result keeps input order: ``results[k]`` belongs to ``pairs[k]``.
    """
    policy = policy or ProjectionPolicy()
    alignments = aligner.align([(p.src.tokens, p.tgt.tokens) for p in pairs])
    if len(alignments) != len(pairs):
        raise RuntimeError(
            f"aligner {aligner.name} returned {len(alignments)} alignments for {len(pairs)} pairs"
        )
    out = []
    for pair, alignment in zip(pairs, alignments, strict=True):
        outcomes = project_spans(
            pair.src.tokens, pair.tgt.tokens, alignment, pair.src.spans, policy=policy
        )
        out.append(from_tokens(pair, alignment, outcomes))
    return out
