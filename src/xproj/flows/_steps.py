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
    source: str,
    tokenizer: str,
    translation_model: str | None = None,
) -> tuple[dict[str, list[Any]], list[Reject]]:
    """Records of ``projected``, ``outcomes`` and ``alignments`` for a projector's results, and a
    reject (with ``source``, the input's path) for every result that has a problem instead, plus
    what the projector left out of the others (:meth:`Projector.take_rejects`)."""
    rejects = [reject_of(r.problem, source, r.task.source) for r in results if r.problem]
    rejects += projector.take_rejects()
    rows = projection_rows(
        [r.projection for r in results if r.projection is not None],
        method=projector.name,
        aligner=projector.aligner_name,
        aligner_model=projector.aligner_model,
        tokenizer=tokenizer,
        translation_model=translation_model,
    )
    return rows, rejects


def projection_rows(
    results,
    *,
    method: str,
    aligner: str | None,
    aligner_model: str | None,
    tokenizer: str,
    translation_model: str | None = None,
) -> dict[str, list[Any]]:
    """Records of ``projected``, ``outcomes`` and ``alignments`` for projected pairs
    (:class:`~xproj.projectors.pipeline.PairProjection`): spans as the projection holds them,
    in tokens and in characters; nothing is derived again here."""
    from xproj.schemas.tables import AlignmentRow, OutcomeRow, ProjectedRow
    from xproj.schemas.tags import tags_from_spans

    projected, outcomes, alignments = [], [], []
    for r in results:
        src, tgt = r.pair.src, r.pair.tgt
        key = {"pair_id": r.pair.id, "src_lang": src.lang, "tgt_lang": tgt.lang}
        projected.append(
            ProjectedRow(
                **key,
                src_text=src.text,
                src_tokens=src.tokens,
                src_tags=tags_from_spans(len(src), src.spans),
                tgt_text=tgt.text,
                tgt_tokens=tgt.tokens,
                tgt_tags=tags_from_spans(len(tgt), r.spans),
                tgt_spans=r.spans,
                tgt_char_spans=r.char_spans,
                method=method,
                aligner=aligner,
                aligner_model=aligner_model,
                translation_model=translation_model,
                tokenizer=tokenizer,
                n_source_spans=len(r.outcomes),
                n_projected=sum(o.projected for o in r.outcomes),
            )
        )
        for o in r.outcomes:
            t, c = o.target, o.char_target
            outcomes.append(
                OutcomeRow(
                    **key,
                    span_index=o.source_index,
                    label=o.source.label,
                    src_start=o.source.start,
                    src_end=o.source.end,
                    src_text=src.span_text(o.source),
                    tgt_start=t.start if t else None,
                    tgt_end=t.end if t else None,
                    tgt_char_start=c.start if c else None,
                    tgt_char_end=c.end if c else None,
                    tgt_text=tgt.text[c.start : c.end] if c else None,
                    reason=o.reason.value if o.reason else None,
                    merged_into=o.merged_into,
                    method=method,
                    score=o.score,
                    detail=o.detail or None,
                )
            )
        if r.alignment is not None:
            alignments.append(AlignmentRow(**key, aligner=aligner, links=sorted(r.alignment.links)))
    return {"projected": projected, "outcomes": outcomes, "alignments": alignments}


def span_counts(gold: Sequence[Sequence[Any]], predicted: Sequence[Sequence[Any]]):
    """Per-label counts of predicted spans against gold (``predicted[k]`` against ``gold[k]``),
    for the run's gold scores."""
    from xproj.projectors.metrics import span_scores

    return span_scores([list(p) for p in predicted], [list(g) for g in gold]).counts()


def translation_row(s, tr, *, src_lang, tgt_lang, translator, decoding, marked=None):
    """One ``translations`` record of sentence ``s`` and its translation ``tr``."""
    from xproj.schemas.tables import TranslationRow

    return TranslationRow(
        sentence_id=s.id,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        source_text=s.text,
        translation=tr.text,
        model_id=translator.model_id,
        quantization=translator.quantization,
        decoding=decoding,
        flag=tr.flag,
        segments=tr.segments,
        truncated=tr.truncated,
        marked=marked,
    )


def model_identity(translator) -> dict[str, Any]:
    """What identifies a model in a run key: id, quantization, family (not where it sits)."""
    described = translator.describe()
    return {k: described[k] for k in ("model_id", "quantization", "family")}


def prepare_priors(
    projector: Any,
    config: Any,
    run: Any,
    log: Any,
    *,
    src_lang: str,
    tgt_lang: str,
    token_pairs: Any,
    shard_size: int,
    learn: bool = True,
) -> dict[str, Any] | None:
    """Learn the aligner's priors for ``tgt_lang`` once over the whole input, and make
    ``projector`` align every shard with them (``config.aligner_priors``; eflomal only).

    ``token_pairs(n)`` yields the run's first ``n`` ``(source tokens, target tokens)`` in input
    order; the first ``config.aligner_priors_sample`` pairs (and the extra bitext) are aligned
    once. ``learn=False`` (a worker that only projects: the driver learned them) loads saved
    priors and otherwise aligns without. An input
    that fits in one shard needs none. The priors are saved in the run's staging area first, so
    a resumed run (or a worker elsewhere) aligns with the same ones instead of learning new ones.

    Returns:
        The run's ``aligner_priors`` row, or None when the run aligns without priors.
    """
    import hashlib
    import itertools
    import time

    from xproj.catalog import Lake
    from xproj.catalog.staging import Staging
    from xproj.projectors.aligners.priors import EflomalPriors

    if config.aligner_priors == "off" or not projector.learns_priors():
        return None
    path = Staging(Lake(config.lake), run.run_key).folder / f"priors.{tgt_lang}.tsv"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        priors = EflomalPriors.load_text(text, str(path))
        projector.use_priors(tgt_lang, priors)
        log.info("aligner priors for %s: the ones this run learned before (%s)", tgt_lang, path)
    elif not learn:  # the driver saved none: the input fits in one shard
        return None
    else:
        wanted = max(config.aligner_priors_sample, shard_size + 1)
        pairs = list(itertools.islice(token_pairs(wanted), wanted))
        if len(pairs) <= shard_size:
            log.info("aligner priors: not needed, the input fits in one shard")
            return None
        started = time.perf_counter()
        priors = projector.learn_priors(pairs[: config.aligner_priors_sample], tgt_lang)
        priors.save(path)
        text = path.read_text(encoding="utf-8")
        log.info(
            "aligner priors for %s learned from %d pairs in %.1f s; every shard aligns with them",
            tgt_lang,
            priors.pairs,
            time.perf_counter() - started,
        )
    return {
        "src_lang": src_lang,
        "tgt_lang": tgt_lang,
        "aligner": config.aligner,
        "pairs": priors.pairs,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "priors": text,
    }
