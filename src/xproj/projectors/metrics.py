"""Quality metrics: word alignment against gold links.

Alignment error rate (Och & Ney 2003) compares predicted links A with gold sure links S and
possible links P (S ⊆ P): precision = |A∩P| / |A|, recall = |A∩S| / |S|,
AER = 1 − (|A∩S| + |A∩P|) / (|A| + |S|). Counts are summed over the corpus before dividing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xproj.schemas.errors import E_GOLD_COUNT, check_same_length
from xproj.schemas.records import Alignment, CharSpan, TokenSpan


@dataclass(frozen=True, slots=True)
class AlignmentScores:
    """Corpus-level alignment quality; ratios are in [0, 1].

    Attributes:
        precision: predicted links that are sure or possible, over predicted links.
        recall: sure links that were predicted, over sure links.
        f1: harmonic mean of precision and recall (0 when both are 0).
        aer: alignment error rate (lower is better).
        n_pred: number of predicted links |A|.
        n_sure: number of gold sure links |S|.
        n_possible: number of gold sure-or-possible links |P|.
    """

    precision: float
    recall: float
    f1: float
    aer: float
    n_pred: int
    n_sure: int
    n_possible: int


def alignment_scores(predicted: Sequence[Alignment], gold: Sequence[Alignment]) -> AlignmentScores:
    """Precision, recall, F1 and AER of predicted alignments against gold, over the corpus.

    Only ``predicted[k].links`` counts as predicted (its ``possible`` set is ignored). Gold sure
    links are ``gold[k].links``; possible links are ``gold[k].links | gold[k].possible``. Empty
    denominators give precision 1.0 (nothing predicted, nothing wrong) and recall 1.0 (nothing to
    find); AER is 0.0 when there are neither predicted nor sure links.

    Args:
        predicted: one alignment per sentence pair.
        gold: one gold alignment per sentence pair, same order.

    Raises:
        InputFormatError: XP111 when the two sequences differ in length.

    Example:
        >>> pred = [Alignment({(0, 0), (1, 1), (2, 0)})]
        >>> gold = [Alignment({(0, 0), (1, 1)}, possible={(2, 1)})]
        >>> s = alignment_scores(pred, gold)
        >>> round(s.precision, 3), round(s.recall, 3), round(s.aer, 3)
        (0.667, 1.0, 0.2)
    """
    check_same_length(
        predicted,
        gold,
        "predicted alignments",
        "gold alignments",
        fix="give exactly one predicted alignment per gold sentence pair, in the same order.",
        code=E_GOLD_COUNT,
    )
    n_pred = n_sure = n_possible = hit_sure = hit_possible = 0
    for pred, ref in zip(predicted, gold, strict=True):
        a = pred.links
        possible = ref.links | ref.possible
        n_pred += len(a)
        n_sure += len(ref.links)
        n_possible += len(possible)
        hit_sure += len(a & ref.links)
        hit_possible += len(a & possible)
    precision = hit_possible / n_pred if n_pred else 1.0
    recall = hit_sure / n_sure if n_sure else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    denom = n_pred + n_sure
    aer = 1.0 - (hit_sure + hit_possible) / denom if denom else 0.0
    return AlignmentScores(precision, recall, f1, aer, n_pred, n_sure, n_possible)


# ---- Spans: exact-match precision, recall and F1 ------------------------------------------------
#
# A predicted span is correct when a gold span of the same sentence has the same start, end and
# label. Spans repeated within one sentence count once. Counts are summed over the corpus before
# dividing (micro average), overall and per label; empty denominators follow the alignment
# convention above (precision and recall 1.0, so F1 is 0.0 whenever one side is empty and the other
# is not).

MICRO = "_micro"
"""The ``label`` of the micro-averaged row in :meth:`SpanScores.as_rows`."""


@dataclass(frozen=True, slots=True)
class SpanCounts:
    """Span counts of one label (or of all labels) and the ratios derived from them."""

    n_gold: int
    n_pred: int
    n_correct: int

    @property
    def precision(self) -> float:
        return self.n_correct / self.n_pred if self.n_pred else 1.0

    @property
    def recall(self) -> float:
        return self.n_correct / self.n_gold if self.n_gold else 1.0

    @property
    def f1(self) -> float:
        if not (self.n_gold or self.n_pred):
            return 1.0
        return 2 * self.n_correct / (self.n_gold + self.n_pred)


@dataclass(frozen=True, slots=True)
class SpanScores:
    """Exact-match span scores over a corpus: the micro average and one entry per label.

    Attributes:
        micro: counts over all labels.
        per_label: counts per label, labels sorted; a label appears when it is in gold or predicted.
    """

    micro: SpanCounts
    per_label: dict[str, SpanCounts]

    @property
    def precision(self) -> float:
        return self.micro.precision

    @property
    def recall(self) -> float:
        return self.micro.recall

    @property
    def f1(self) -> float:
        return self.micro.f1

    def counts(self) -> dict[str, dict[str, int]]:
        """Per-label counts, the form :func:`span_scores_from_counts` reads (and sums add up)."""
        return {
            label: {"gold": c.n_gold, "pred": c.n_pred, "correct": c.n_correct}
            for label, c in self.per_label.items()
        }

    def as_rows(self) -> list[dict[str, Any]]:
        """One row per label, micro average first (label ``"_micro"``), for an evaluations table.

        Example:
            >>> s = span_scores([[TokenSpan(0, 1, "PER")]], [[TokenSpan(0, 1, "PER")]])
            >>> [(r["label"], r["n_correct"], r["f1"]) for r in s.as_rows()]
            [('_micro', 1, 1.0), ('PER', 1, 1.0)]
        """
        items = [(MICRO, self.micro), *self.per_label.items()]
        return [
            {
                "label": label,
                "n_gold": c.n_gold,
                "n_pred": c.n_pred,
                "n_correct": c.n_correct,
                "precision": c.precision,
                "recall": c.recall,
                "f1": c.f1,
            }
            for label, c in items
        ]


def span_scores_from_counts(counts: dict[str, dict[str, int]]) -> SpanScores:
    """Scores from per-label counts ``{label: {"gold": g, "pred": p, "correct": c}}``, e.g. summed
    over the shards of a run (:meth:`SpanScores.counts` gives them for one shard).

    Example:
        >>> s = span_scores_from_counts({"PER": {"gold": 2, "pred": 1, "correct": 1}})
        >>> round(s.f1, 3), s.micro.n_gold
        (0.667, 2)
    """
    per_label = {
        label: SpanCounts(c.get("gold", 0), c.get("pred", 0), c.get("correct", 0))
        for label, c in sorted(counts.items())
    }
    micro = SpanCounts(
        sum(c.n_gold for c in per_label.values()),
        sum(c.n_pred for c in per_label.values()),
        sum(c.n_correct for c in per_label.values()),
    )
    return SpanScores(micro, per_label)


def span_scores(
    predicted: Sequence[Sequence[TokenSpan | CharSpan]],
    gold: Sequence[Sequence[TokenSpan | CharSpan]],
) -> SpanScores:
    """Exact-match precision, recall and F1 of predicted spans against gold, per sentence.

    Args:
        predicted: the predicted spans of each sentence.
        gold: the gold spans of each sentence, same order. All spans of a call must be of one
            kind (all token spans or all character spans).

    Raises:
        InputFormatError: XP111 when the two sequences differ in length.
        TypeError: when token and character spans are mixed.

    Example:
        >>> pred = [[TokenSpan(0, 1, "PER"), TokenSpan(3, 5, "LOC")], [TokenSpan(2, 3, "ORG")]]
        >>> gold = [[TokenSpan(0, 1, "PER"), TokenSpan(3, 4, "LOC")], []]
        >>> s = span_scores(pred, gold)
        >>> round(s.precision, 3), s.recall, round(s.f1, 3)
        (0.333, 0.5, 0.4)
    """
    check_same_length(
        predicted,
        gold,
        "predicted span lists",
        "gold span lists",
        fix="give exactly one list of predicted spans per gold sentence, in the same order.",
        code=E_GOLD_COUNT,
    )
    n_gold: dict[str, int] = {}
    n_pred: dict[str, int] = {}
    n_correct: dict[str, int] = {}
    kinds: set[type] = set()
    for pred_spans, gold_spans in zip(predicted, gold, strict=True):
        p = _span_keys(pred_spans, kinds)
        g = _span_keys(gold_spans, kinds)
        for counts, keys in ((n_pred, p), (n_gold, g), (n_correct, p & g)):
            for _, _, label in keys:
                counts[label] = counts.get(label, 0) + 1
    if len(kinds) > 1:
        raise TypeError(
            "span_scores got both token and character spans; convert one side first "
            "(xproj.schemas.records.token_span_to_char / char_span_to_token)."
        )
    labels = sorted(n_gold.keys() | n_pred.keys())
    per_label = {
        lab: SpanCounts(n_gold.get(lab, 0), n_pred.get(lab, 0), n_correct.get(lab, 0))
        for lab in labels
    }
    micro = SpanCounts(sum(n_gold.values()), sum(n_pred.values()), sum(n_correct.values()))
    return SpanScores(micro, per_label)


def _span_keys(
    spans: Sequence[TokenSpan | CharSpan], kinds: set[type]
) -> set[tuple[int, int, str]]:
    keys = set()
    for s in spans:
        kinds.add(type(s))
        keys.add((s.start, s.end, s.label))
    return keys
