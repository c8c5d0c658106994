"""Pieces of shard steps that several flows share: projection rows, translation rows, gold counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xproj.schemas.errors import Reject


def reject_of(problem, source: str, sentence) -> Reject:
    """The ``rejected`` row of a record (``sentence``, read from ``source``) a step could not
    use, from the projector's (or the flow's) :class:`~xproj.projectors.projector.Problem`."""
    return Reject(
        problem.stage,
        source,
        f"record {sentence.id}",
        problem.code,
        problem.reason,
        sentence.text[:500],
    )


def projection_outputs(
    results,
    projector,
    *,
    run_id: str,
    source: str,
    tokenizer: str,
    translation_model: str | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], list[Reject]]:
    """Rows of ``projected``, ``outcomes`` and ``alignments`` for a projector's results, and a
    reject (with ``source``, the input's path) for every result that has a problem instead."""
    from xproj.catalog.rows import projection_rows

    rejects = [reject_of(r.problem, source, r.task.source) for r in results if r.problem]
    rows = projection_rows(
        [r.projection for r in results if r.projection is not None],
        run_id=run_id,
        method=projector.name,
        aligner=projector.aligner_name,
        aligner_model=projector.aligner_model,
        tokenizer=tokenizer,
        translation_model=translation_model,
    )
    return rows, rejects


def span_counts(
    gold: Sequence[Sequence[Any]], projected: Sequence[dict[str, Any]], pair_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per-label counts of the projected spans against gold, for the run's gold scores.

    ``gold[k]`` are the gold target spans of pair ``pair_ids[k]``; ``projected`` are the shard's
    ``projected`` rows (pairs without a row count as predicting nothing).
    """
    from xproj.projectors.metrics import span_scores
    from xproj.schemas.records import TokenSpan

    by_id = {r["pair_id"]: r["tgt_spans"] for r in projected}
    pred = [
        [TokenSpan(s["start"], s["end"], s["label"]) for s in by_id.get(pid, [])]
        for pid in pair_ids
    ]
    return span_scores(pred, [list(g) for g in gold]).counts()


def translation_row(s, tr, *, run_id, src_lang, tgt_lang, translator, decoding, marked=None):
    """One ``translations`` row."""
    return {
        "run_id": run_id,
        "sentence_id": s.id,
        "src_lang": src_lang,
        "tgt_lang": tgt_lang,
        "source_text": s.text,
        "translation": tr.text,
        "model_id": translator.model_id,
        "quantization": translator.quantization,
        "decoding": decoding,
        "flag": tr.flag,
        "segments": tr.segments,
        "truncated": tr.truncated,
        "marked": marked,
    }


def model_identity(translator) -> dict[str, Any]:
    """What identifies a model in a run key: id, quantization, family (not where it sits)."""
    described = translator.describe()
    return {k: described[k] for k in ("model_id", "quantization", "family")}
