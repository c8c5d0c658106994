"""Scores → rows of the ``evaluations`` table (:class:`~xproj.schemas.tables.EvaluationRow`)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any


def _rows(run_id, kind, dataset, system, params, scores: list[dict[str, Any]]):
    from xproj.schemas.arrow import conform
    from xproj.schemas.tables import EvaluationRow

    now = datetime.now(UTC)
    params_json = json.dumps(params or {}, sort_keys=True, default=str)
    rows = [
        EvaluationRow(
            eval_id=uuid.uuid4().hex,
            run_id=run_id,
            created_at=now,
            kind=kind,
            dataset=dataset,
            system=system,
            params=params_json,
            **s,
        )
        for s in scores
    ]
    return conform("evaluations", rows)


def span_evaluation_table(
    scores, *, run_id: str | None, dataset: str, system: str, params: dict[str, Any] | None = None
):
    """One row per label plus ``_micro``, from ``xproj.projectors.metrics.SpanScores``."""
    keep = ("label", "precision", "recall", "f1", "n_gold", "n_pred", "n_correct")
    per_label = [{**{k: r[k] for k in keep}, "aer": None} for r in scores.as_rows()]
    return _rows(run_id, "projection", dataset, system, params, per_label)


def alignment_evaluation_table(
    scores, *, run_id: str | None, dataset: str, system: str, params: dict[str, Any] | None = None
):
    """One ``_all`` row from ``xproj.projectors.metrics.AlignmentScores``."""
    row = {
        "label": "_all",
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "aer": scores.aer,
        "n_gold": scores.n_sure,
        "n_pred": scores.n_pred,
        "n_correct": round(scores.recall * scores.n_sure),
    }
    return _rows(run_id, "alignment", dataset, system, params, [row])
