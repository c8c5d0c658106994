"""Align and project a batch of sentence pairs: the model-free heart of every projection flow."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from projectors.aligners.base import Aligner
from projectors.policy import ProjectionPolicy
from projectors.project import project_spans, target_spans
from schemas.records import Alignment, ParallelPair, ProjectionOutcome, TokenSpan


@dataclass(frozen=True, slots=True)
class PairProjection:
    """One pair with its alignment (``None`` for routes that use no word aligner), one outcome per
    source span, and the final target spans."""

    pair: ParallelPair
    alignment: Alignment | None
    outcomes: tuple[ProjectionOutcome, ...]
    spans: tuple[TokenSpan, ...]


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
        out.append(PairProjection(pair, alignment, tuple(outcomes), tuple(target_spans(outcomes))))
    return out


@dataclass
class ProjectionSummary:
    """Counts of outcomes per label and reason, for artifacts and the ``runs`` table."""

    spans: Counter = field(default_factory=Counter)
    projected: Counter = field(default_factory=Counter)
    reasons: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, outcomes: Sequence[ProjectionOutcome]) -> None:
        for o in outcomes:
            self.spans[o.source.label] += 1
            if o.projected:
                self.projected[o.source.label] += 1
            else:
                self.reasons[o.source.label][o.reason.value] += 1

    def rate(self, label: str | None = None) -> float:
        n = self.spans[label] if label else sum(self.spans.values())
        k = self.projected[label] if label else sum(self.projected.values())
        return k / n if n else 0.0

    def as_dict(self) -> dict:
        total_reasons: Counter = Counter()
        for c in self.reasons.values():
            total_reasons.update(c)
        return {
            "spans": sum(self.spans.values()),
            "projected": sum(self.projected.values()),
            "projection_rate": round(self.rate(), 6),
            "drop_reasons": dict(total_reasons),
            "per_label": {
                label: {
                    "spans": n,
                    "projected": self.projected[label],
                    "projection_rate": round(self.rate(label), 6),
                    "drop_reasons": dict(self.reasons[label]),
                }
                for label, n in sorted(self.spans.items())
            },
        }
