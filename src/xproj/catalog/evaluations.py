"""Scores → rows of the ``evaluations`` table."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any


def _base(
    run_id: str | None, kind: str, dataset: str, system: str, params: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "eval_id": uuid.uuid4().hex,
        "run_id": run_id,
        "created_at": datetime.now(UTC),
        "kind": kind,
        "dataset": dataset,
        "system": system,
        "params": json.dumps(params or {}, sort_keys=True, default=str),
    }


def span_evaluation_table(
    scores, *, run_id: str | None, dataset: str, system: str, params: dict[str, Any] | None = None
):
    """One row per label plus ``_micro``, from ``xproj.projectors.metrics.SpanScores``."""
    import pyarrow as pa

    from xproj.schemas.tables import conform

    base = _base(run_id, "projection", dataset, system, params)
    rows = []
    for r in scores.as_rows():
        rows.append(
            {
                **base,
                "eval_id": uuid.uuid4().hex,
                "label": r["label"],
                "precision": r["precision"],
                "recall": r["recall"],
                "f1": r["f1"],
                "aer": None,
                "n_gold": r["n_gold"],
                "n_pred": r["n_pred"],
                "n_correct": r["n_correct"],
            }
        )
    return conform("evaluations", pa.Table.from_pylist(rows))


def alignment_evaluation_table(
    scores, *, run_id: str | None, dataset: str, system: str, params: dict[str, Any] | None = None
):
    """One ``_all`` row from ``xproj.projectors.metrics.AlignmentScores``."""
    import pyarrow as pa

    from xproj.schemas.tables import conform

    row = {
        **_base(run_id, "alignment", dataset, system, params),
        "label": "_all",
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "aer": scores.aer,
        "n_gold": scores.n_sure,
        "n_pred": scores.n_pred,
        "n_correct": round(scores.recall * scores.n_sure),
    }
    return conform("evaluations", pa.Table.from_pylist([row]))
