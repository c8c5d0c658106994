"""Align and project a batch of sentence pairs: the model-free heart of every projection flow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

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


def pair_projection(
    pair: ParallelPair, alignment: Alignment | None, outcomes: Sequence[ProjectionOutcome]
) -> PairProjection:
    """The projection of outcomes whose targets are placed in tokens and in characters: the
    distinct target spans, each with the character span its outcomes carry (every route ends
    here, so the two lists are made one way)."""
    spans = tuple(target_spans(outcomes))
    chars = {o.target: o.char_target for o in outcomes if o.projected}
    return PairProjection(pair, alignment, tuple(outcomes), spans, tuple(chars[s] for s in spans))


def from_tokens(
    pair: ParallelPair, alignment: Alignment | None, outcomes: Sequence[ProjectionOutcome]
) -> PairProjection:
    """The projection of outcomes placed on target tokens: character spans derived, once, from
    the target's token offsets."""
    tgt: AnnotatedSentence = pair.tgt
    placed = [
        o if o.target is None else replace(o, char_target=tgt.char_spans_of(o.target))
        for o in outcomes
    ]
    return pair_projection(pair, alignment, placed)


def tokenized_target(
    target_id: str, lang: str, text: str, tokenizer: Any
) -> AnnotatedSentence | None:
    """``text`` split into words by ``tokenizer`` (anything with ``tokenize(text) -> [(token,
    start, end), …]``), as a sentence without spans; ``None`` when it holds no word token."""
    tokens = tokenizer.tokenize(text)
    return AnnotatedSentence.from_triples(target_id, lang, text, tokens) if tokens else None


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
