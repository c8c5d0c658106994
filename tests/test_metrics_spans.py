"""Exact-match span precision, recall and F1 (micro and per label)."""

from __future__ import annotations

import pytest

from xproj.projectors.metrics import MICRO, span_scores
from xproj.schemas.errors import InputFormatError
from xproj.schemas.records import CharSpan, TokenSpan


def T(start: int, end: int, label: str) -> TokenSpan:
    return TokenSpan(start, end, label)


# (id, predicted, gold, micro (n_gold, n_pred, n_correct), micro (P, R, F1))
CASES = [
    (
        "perfect",
        [[T(0, 1, "PER"), T(3, 5, "LOC")]],
        [[T(0, 1, "PER"), T(3, 5, "LOC")]],
        (2, 2, 2),
        (1.0, 1.0, 1.0),
    ),
    ("boundary_wrong", [[T(0, 2, "PER")]], [[T(0, 1, "PER")]], (1, 1, 0), (0.0, 0.0, 0.0)),
    ("label_wrong", [[T(0, 1, "ORG")]], [[T(0, 1, "PER")]], (1, 1, 0), (0.0, 0.0, 0.0)),
    (
        "partial",
        [[T(0, 1, "PER"), T(2, 3, "LOC")], [T(1, 2, "ORG")]],
        [[T(0, 1, "PER")], [T(1, 2, "ORG"), T(4, 5, "LOC")]],
        (3, 3, 2),
        (2 / 3, 2 / 3, 2 / 3),
    ),
    (
        "duplicates_once",
        [[T(0, 1, "PER"), T(0, 1, "PER")]],
        [[T(0, 1, "PER"), T(0, 1, "PER")]],
        (1, 1, 1),
        (1.0, 1.0, 1.0),
    ),
    (
        "same_span_other_sentence",
        [[], [T(0, 1, "PER")]],
        [[T(0, 1, "PER")], []],
        (1, 1, 0),
        (0.0, 0.0, 0.0),
    ),
    ("nothing_predicted", [[]], [[T(0, 1, "PER")]], (1, 0, 0), (1.0, 0.0, 0.0)),
    ("nothing_in_gold", [[T(0, 1, "PER")]], [[]], (0, 1, 0), (0.0, 1.0, 0.0)),
    ("empty_corpus", [], [], (0, 0, 0), (1.0, 1.0, 1.0)),
    (
        "char_spans",
        [[CharSpan(0, 4, "PER"), CharSpan(10, 14, "LOC")]],
        [[CharSpan(0, 4, "PER"), CharSpan(10, 15, "LOC")]],
        (2, 2, 1),
        (0.5, 0.5, 0.5),
    ),
]


@pytest.mark.parametrize("pred, gold, counts, prf", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_metrics_span_scores_micro(pred, gold, counts, prf):
    s = span_scores(pred, gold)
    assert (s.micro.n_gold, s.micro.n_pred, s.micro.n_correct) == counts
    assert (s.precision, s.recall, s.f1) == pytest.approx(prf)


@pytest.mark.parametrize("pred, gold, counts, prf", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_metrics_span_scores_swapped(pred, gold, counts, prf):
    s = span_scores(gold, pred)
    assert (s.micro.n_gold, s.micro.n_pred, s.micro.n_correct) == (counts[1], counts[0], counts[2])
    assert (s.precision, s.recall, s.f1) == pytest.approx((prf[1], prf[0], prf[2]))


def test_metrics_span_scores_per_label_and_rows():
    pred = [[T(0, 1, "PER"), T(2, 3, "LOC"), T(5, 6, "MISC")], [T(1, 2, "ORG")]]
    gold = [[T(0, 1, "PER"), T(2, 4, "LOC")], [T(1, 2, "ORG"), T(3, 4, "ORG")]]
    s = span_scores(pred, gold)
    per = {k: (c.n_gold, c.n_pred, c.n_correct) for k, c in s.per_label.items()}
    assert per == {"LOC": (1, 1, 0), "MISC": (0, 1, 0), "ORG": (2, 1, 1), "PER": (1, 1, 1)}
    assert list(s.per_label) == ["LOC", "MISC", "ORG", "PER"]
    assert s.per_label["ORG"].precision == 1.0
    assert s.per_label["ORG"].recall == 0.5
    assert s.per_label["ORG"].f1 == pytest.approx(2 / 3)

    rows = s.as_rows()
    assert [r["label"] for r in rows] == [MICRO, "LOC", "MISC", "ORG", "PER"]
    assert rows[0] == {
        "label": "_micro",
        "n_gold": 4,
        "n_pred": 4,
        "n_correct": 2,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
    }
    assert set(rows[3]) == set(rows[0])


def test_metrics_span_scores_rejects_count_mismatch():
    with pytest.raises(InputFormatError) as exc:
        span_scores([[T(0, 1, "PER")]], [[], []])
    assert exc.value.code == "XP111"


def test_metrics_span_scores_rejects_mixed_kinds():
    with pytest.raises(TypeError, match="token and character spans"):
        span_scores([[T(0, 1, "PER")]], [[CharSpan(0, 1, "PER")]])
