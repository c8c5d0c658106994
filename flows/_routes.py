"""Model projection routes (``markers``, ``codec``) inside the translating flows: build, run, rows.

The flows call :func:`build_route` once per run and :func:`route_rows` per shard; what a sentence
cannot go through (a source that already contains a marker, a translation the model could not
make, a target without a word token) becomes a reject with its reason, never a silent drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.errors import E_INPUT_TOO_LONG, E_SOURCE_HAS_MARKER, Reject
from schemas.records import AnnotatedSentence


def build_route(config, cached_translator, translator, projection_model=None):
    """The route object for ``config.projector`` (``None`` for ``align``).

    ``translator`` is the run's CTranslate2 model; ``projection_model`` (the loaded
    ``config.projection_model``) replaces it for the projection step when given (a marker-aware
    model beside the translation model). Markers translate through the cache; CODEC scores with
    the model directly.
    """
    from projectors.model_projection import CodecRoute, MarkerRoute

    if config.projector == "align":
        return None
    model = projection_model or translator
    if config.projector == "markers":
        if model is translator:
            through = cached_translator
        else:
            from translators.cache import CachedTranslator

            through = CachedTranslator(
                model, cached_translator.cache, run_id=cached_translator.run_id
            )
        return MarkerRoute(through, config.markers.build(), options=config.decoding())
    return CodecRoute(model, config.codec.build())


def route_model(route):
    """The CTranslate2 model a route scores or translates with (for language checks)."""
    if hasattr(route, "model"):
        return route.model
    return getattr(route.translator, "inner", route.translator)


def split_markable(
    sentences: Sequence[AnnotatedSentence], markers: tuple[str, str], source: str
) -> tuple[list[AnnotatedSentence], list[Reject]]:
    """Sentences whose spans can be marked, and rejects for the others (text has a marker)."""
    from projectors.model_projection import check_markable

    ok, rejects = [], []
    for s in sentences:
        why = check_markable(s, markers)
        if why is None:
            ok.append(s)
        else:
            rejects.append(
                Reject(
                    "mark",
                    source,
                    f"record {s.id}",
                    E_SOURCE_HAS_MARKER,
                    f"cannot mark the spans: {why}. Fix: choose markers the data does not use "
                    "(markers: ['<<', '>>'] in the config), or clean the text.",
                    s.text[:500],
                )
            )
    return ok, rejects


def translation_reject(sentence_id: str, source: str, text: str, tr, tgt_lang: str) -> Reject:
    """The reject for a translation the model could not make (too long, empty)."""
    return Reject(
        "translate",
        source,
        f"record {sentence_id}",
        E_INPUT_TOO_LONG,
        f"not translated into {tgt_lang}: {tr.detail or tr.flag}. "
        "Fix: split the record, or use a model with longer inputs.",
        text[:500],
    )


def route_rows(
    results,
    *,
    route,
    tgt_lang: str,
    tokenizer,
    run_id: str,
    source: str,
    translation_model: str | None,
    targets: dict[str, AnnotatedSentence] | None = None,
    id_of=None,
    tokenizer_name: str | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], list[Reject], dict[str, str]]:
    """Rows of ``projected`` and ``outcomes`` for a shard's route results.

    Args:
        results: :class:`~projectors.model_projection.RouteResult` per sentence.
        route: the route (its ``name`` is the method written to the rows).
        targets: tokenized target sentences by source sentence id (translate-test), else the
            target text is split with ``tokenizer``.
        id_of: source sentence → target sentence id (default ``{id}@{tgt_lang}``).
        tokenizer_name: what made the target tokens, when ``targets`` came tokenized.

    Returns:
        The rows, rejects for targets without a word token, and the marked text per source id.
    """
    from catalog.rows import projection_rows
    from flows.steps import no_token_reject
    from projectors.model_projection import to_pair_projection

    projections, rejects, marked = [], [], {}
    for r in results:
        s = r.source
        tid = id_of(s) if id_of else f"{s.id}@{tgt_lang}"
        target = targets.get(s.id) if targets is not None else None
        p = to_pair_projection(r, f"{s.id}|{tid}", tid, tgt_lang, tokenizer, target=target)
        marked[s.id] = r.marked
        if p is None:
            rejects.append(no_token_reject(s, source, tgt_lang))
            continue
        projections.append(p)
    rows = projection_rows(
        projections,
        run_id=run_id,
        method=route.name,
        aligner=None,
        aligner_model=None,
        tokenizer=tokenizer_name or tokenizer.name,
        translation_model=translation_model,
    )
    return rows, rejects, marked
