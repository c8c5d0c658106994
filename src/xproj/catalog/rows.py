"""Records → rows of the lake's tables (schemas in ``schemas/tables.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from xproj.projectors.pipeline import PairProjection
from xproj.schemas.errors import Reject


def projection_rows(
    results: Iterable[PairProjection],
    *,
    run_id: str,
    method: str,
    aligner: str | None,
    aligner_model: str | None,
    tokenizer: str,
    translation_model: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``projected``, ``outcomes`` and ``alignments`` for projected pairs."""
    from xproj.schemas.tags import tags_from_spans

    projected, outcomes, alignments = [], [], []
    for r in results:
        src, tgt = r.pair.src, r.pair.tgt
        common = {
            "run_id": run_id,
            "pair_id": r.pair.id,
            "src_lang": src.lang,
            "tgt_lang": tgt.lang,
        }
        tgt_sentence = tgt.with_spans(r.spans)
        projected.append(
            {
                **common,
                "src_text": src.text,
                "src_tokens": list(src.tokens),
                "src_tags": tags_from_spans(len(src), src.spans),
                "tgt_text": tgt.text,
                "tgt_tokens": list(tgt.tokens),
                "tgt_tags": tags_from_spans(len(tgt), r.spans),
                "tgt_spans": [{"start": s.start, "end": s.end, "label": s.label} for s in r.spans],
                "tgt_char_spans": [
                    {"start": c.start, "end": c.end, "label": c.label}
                    for c in tgt_sentence.char_spans
                ],
                "method": method,
                "aligner": aligner,
                "aligner_model": aligner_model,
                "translation_model": translation_model,
                "tokenizer": tokenizer,
                "n_source_spans": len(r.outcomes),
                "n_projected": sum(o.projected for o in r.outcomes),
            }
        )
        for o in r.outcomes:
            t = o.target
            chars = tgt_sentence.char_spans_of(t) if t is not None else None
            outcomes.append(
                {
                    **common,
                    "span_index": o.source_index,
                    "label": o.source.label,
                    "src_start": o.source.start,
                    "src_end": o.source.end,
                    "src_text": src.span_text(o.source),
                    "tgt_start": t.start if t else None,
                    "tgt_end": t.end if t else None,
                    "tgt_char_start": chars.start if chars else None,
                    "tgt_char_end": chars.end if chars else None,
                    "tgt_text": tgt.span_text(t) if t else None,
                    "reason": o.reason.value if o.reason else None,
                    "merged_into": o.merged_into,
                    "method": method,
                    "score": o.score,
                    "detail": o.detail or None,
                }
            )
        if r.alignment is None:
            continue
        alignments.append(
            {
                **common,
                "aligner": aligner,
                "links": [{"src": i, "tgt": j} for i, j in sorted(r.alignment.links)],
            }
        )
    return {"projected": projected, "outcomes": outcomes, "alignments": alignments}


def reject_rows(rejects: Sequence[Reject], *, run_id: str) -> list[dict[str, Any]]:
    """Rows of the ``rejected`` table."""
    return [
        {
            "run_id": run_id,
            "stage": r.stage,
            "source": r.source,
            "locator": r.locator,
            "code": r.code,
            "reason": r.reason,
            "raw": r.raw,
        }
        for r in rejects
    ]
