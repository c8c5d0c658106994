"""Pieces of shard steps that several flows share: projection rows, translation rows, gold counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.errors import E_EMPTY_TRANSLATION, Reject
from schemas.records import AnnotatedSentence


def project_shard_rows(
    pairs,
    config,
    *,
    start: int,
    extra_bitext: list,
    run_id: str,
    tokenizer: str,
    translation_model: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Align one shard with the config's aligner, project its spans, build the table rows.

    ``start`` is the shard's first pair's position in the whole input (for aligners that read
    links by position); ``extra_bitext`` is extra training text for statistical aligners.
    """
    from catalog.rows import projection_rows
    from projectors.aligners import get_aligner
    from projectors.pipeline import project_pairs

    options = dict(config.aligner_options)
    if extra_bitext:
        options["extra_bitext"] = extra_bitext
    aligner = get_aligner(config.aligner, **options).for_shard(start)
    results = project_pairs(pairs, aligner, policy=config.policy.build()) if pairs else []
    return projection_rows(
        results,
        run_id=run_id,
        method=config.method,
        aligner=config.aligner,
        aligner_model=aligner.model_id,
        tokenizer=tokenizer,
        translation_model=translation_model,
    )


def span_counts(
    gold: Sequence[Sequence[Any]], projected: Sequence[dict[str, Any]], pair_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per-label counts of the projected spans against gold, for the run's gold scores.

    ``gold[k]`` are the gold target spans of pair ``pair_ids[k]``; ``projected`` are the shard's
    ``projected`` rows (pairs without a row count as predicting nothing).
    """
    from projectors.metrics import span_scores
    from schemas.records import TokenSpan

    by_id = {r["pair_id"]: r["tgt_spans"] for r in projected}
    pred = [
        [TokenSpan(s["start"], s["end"], s["label"]) for s in by_id.get(pid, [])]
        for pid in pair_ids
    ]
    return span_scores(pred, [list(g) for g in gold]).counts()


def target_sentence(sentence_id: str, lang: str, text: str, tokenizer) -> AnnotatedSentence | None:
    """The translation as a tokenized sentence; None when it holds no token."""
    tokens = tokenizer.tokenize(text)
    if not tokens:
        return None
    return AnnotatedSentence(
        sentence_id,
        lang,
        tuple(t for t, _, _ in tokens),
        (),
        text,
        tuple((s, e) for _, s, e in tokens),
    )


def no_token_reject(sentence: AnnotatedSentence, source: str, lang: str) -> Reject:
    """The reject of a record whose ``lang`` text has no word token to project onto."""
    return Reject(
        "tokenize",
        source,
        f"record {sentence.id}",
        E_EMPTY_TRANSLATION,
        f"the {lang} text has no token to project onto.",
        sentence.text[:500],
    )


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
