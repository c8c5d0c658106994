"""Alignment metrics: precision, recall, F1 and AER against sure/possible gold, by hand."""

from __future__ import annotations

import pytest

from xproj.projectors.metrics import AlignmentScores, alignment_scores
from xproj.schemas.errors import InputFormatError
from xproj.schemas.records import Alignment


def A(links=(), possible=()):  # noqa: N802 - short constructor for the tables below
    return Alignment(frozenset(links), frozenset(possible))


# (case, predicted, gold, expected (precision, recall, aer, n_pred, n_sure, n_possible))
CASES = [
    (
        "perfect",
        [A({(0, 0), (1, 1)})],
        [A({(0, 0), (1, 1)})],
        (1.0, 1.0, 0.0, 2, 2, 2),
    ),
    (
        # |A|=3, |A∩S|=2, |A∩P|=3 (the extra link is possible): P=1, R=1, AER=1-5/5=0
        "a possible link costs nothing",
        [A({(0, 0), (1, 1), (2, 1)})],
        [A({(0, 0), (1, 1)}, {(2, 1)})],
        (1.0, 1.0, 0.0, 3, 2, 3),
    ),
    (
        # |A|=3, |A∩S|=2, |A∩P|=2: P=2/3, R=1, AER=1-4/5
        "one wrong link",
        [A({(0, 0), (1, 1), (2, 0)})],
        [A({(0, 0), (1, 1)}, {(2, 1)})],
        (2 / 3, 1.0, 0.2, 3, 2, 3),
    ),
    (
        # |A|=1, |S|=3 (sure), |A∩S|=0, |A∩P|=1 (hits the possible link): P=1, R=0, AER=1-1/4
        "only a possible link predicted",
        [A({(2, 2)})],
        [A({(0, 0), (1, 1), (3, 3)}, {(2, 2)})],
        (1.0, 0.0, 0.75, 1, 3, 4),
    ),
    (
        "nothing predicted",
        [A()],
        [A({(0, 0), (1, 1)})],
        (1.0, 0.0, 1.0, 0, 2, 2),
    ),
    (
        "nothing predicted, nothing to find",
        [A(), A()],
        [A(), A()],
        (1.0, 1.0, 0.0, 0, 0, 0),
    ),
    (
        # corpus level: sentence 1 has 1/1 right, sentence 2 has 0/3 right -> P=1/4 (not 1/2);
        # |S|=2, |A∩S|=1 -> R=1/2; AER = 1 - (1+1)/(4+2) = 2/3
        "counts are summed over the corpus",
        [A({(0, 0)}), A({(0, 1), (1, 0), (2, 2)})],
        [A({(0, 0)}), A({(0, 0)})],
        (0.25, 0.5, 2 / 3, 4, 2, 2),
    ),
    (
        "predicted possible links are ignored",
        [A({(0, 0)}, {(5, 5)})],
        [A({(0, 0)})],
        (1.0, 1.0, 0.0, 1, 1, 1),
    ),
    (
        # a gold link marked both sure and possible counts once in P
        "sure and possible overlap",
        [A({(0, 0), (1, 1)})],
        [A({(0, 0)}, {(0, 0), (1, 1)})],
        (1.0, 1.0, 0.0, 2, 1, 2),
    ),
]


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [pytest.param(p, g, e, id=name) for name, p, g, e in CASES],
)
def test_metrics_alignment_scores_by_hand(predicted, gold, expected):
    precision, recall, aer, n_pred, n_sure, n_possible = expected
    s = alignment_scores(predicted, gold)
    assert s.precision == pytest.approx(precision)
    assert s.recall == pytest.approx(recall)
    assert s.aer == pytest.approx(aer)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert s.f1 == pytest.approx(f1)
    assert (s.n_pred, s.n_sure, s.n_possible) == (n_pred, n_sure, n_possible)


def test_metrics_alignment_scores_type():
    assert isinstance(alignment_scores([A({(0, 0)})], [A({(0, 0)})]), AlignmentScores)


@pytest.mark.parametrize(("n_pred", "n_gold"), [(1, 2), (2, 1), (0, 1)])
def test_metrics_alignment_length_mismatch(n_pred, n_gold):
    with pytest.raises(InputFormatError) as err:
        alignment_scores([A()] * n_pred, [A()] * n_gold)
    assert err.value.code == "XP111"
