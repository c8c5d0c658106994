"""Flow ``translate_test``: label target-language text with an English model, through translation.

Translate-test runs the other way round from translate-train. The input is text in language X
(optionally with gold spans); each record is translated into the pivot language (English by
default, through the lake's translation cache), English span predictions are attached — from a
user's predictions file, or from a spaCy pipeline run on the translations — and projected back
onto the *original* X text with ``codec`` (default), ``markers`` or word alignment. Every output
span is a span of the original text; records that cannot go through are rejected with reasons.

Two-step use without a spaCy pipeline: run once with neither ``predictions`` nor ``spacy`` (it
translates and commits ``translations`` only), label the English of that run (``xproj query
"SELECT sentence_id AS id, translation AS text FROM translations WHERE run_id = '…'" --format
jsonl``), then run again with ``predictions`` pointing at the labeled file: the translations come
from the cache.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows._runs import (
    FlowResult,
    commit_outputs,
    input_ref,
    project_shard_rows,
    start_translating_run,
)
from flows.config import TranslateTestConfig
from schemas.errors import E_BAD_PREDICTION, E_NO_PREDICTION, Reject
from schemas.records import AnnotatedSentence, ParallelPair

FLOW_NAME = "translate_test"
OUTPUT_TABLES = ("translations", "projected", "outcomes", "alignments", "rejected")


class Predictor:
    """English spans for translated records: from a predictions file or a spaCy pipeline.

    A predictions file is read once into memory, one sentence per input record, so that records
    can be matched by id in any order; its unreadable lines go to ``rejects`` with file and line.
    """

    def __init__(self, config: TranslateTestConfig, rejects: list[Reject]) -> None:
        self.config = config
        self.by_id: dict[str, AnnotatedSentence] | None = None
        self.nlp = None
        if config.predictions is not None:
            from schemas.readers.spans import SpanFields, iter_spans

            p = config.predictions
            fields = SpanFields(id=p.id_column, text=p.text_column, spans=p.spans_column)
            self.by_id = {}
            for item in iter_spans(p.path, config.pivot_lang, on_error="reject", fields=fields):
                if isinstance(item, Reject):
                    rejects.append(item)
                else:
                    self.by_id[item.id] = item
        elif config.spacy is not None:
            self.nlp = load_spacy(config.spacy)

    @property
    def active(self) -> bool:
        return self.by_id is not None or self.nlp is not None

    def predict(
        self, originals: Sequence[AnnotatedSentence], english: Sequence[str]
    ) -> list[AnnotatedSentence | Reject]:
        """One English sentence with predicted spans (or a reject) per original record."""
        from schemas.readers.spans import record_to_sentence

        cfg = self.config
        out: list[AnnotatedSentence | Reject] = []
        if self.by_id is not None:
            for o, text in zip(originals, english, strict=True):
                got = self.by_id.get(o.id)
                if got is None:
                    out.append(
                        Reject(
                            "predict",
                            cfg.predictions.path,
                            f"record {o.id}",
                            E_NO_PREDICTION,
                            "no prediction for this record. Fix: give one line per input record "
                            f"with '{cfg.predictions.id_column}' = the record id.",
                            text[:500],
                        )
                    )
                    continue
                out.append(_relabel(got, f"{o.id}@{cfg.pivot_lang}", cfg.label_map))
            return out
        docs = self.nlp.pipe(english)
        for o, text, doc in zip(originals, english, docs, strict=True):
            record = {
                "id": f"{o.id}@{cfg.pivot_lang}",
                "text": text,
                "spans": [
                    {"start": e.start_char, "end": e.end_char, "label": e.label_} for e in doc.ents
                ],
            }
            try:
                sentence = record_to_sentence(record, record["id"], cfg.pivot_lang)
            except Exception as err:  # an entity the tokenizer cannot hold: say so
                out.append(
                    Reject(
                        "predict",
                        cfg.spacy,
                        f"record {o.id}",
                        E_BAD_PREDICTION,
                        f"the pipeline's entities cannot be used: {err}",
                        text[:500],
                    )
                )
                continue
            out.append(_relabel(sentence, sentence.id, cfg.label_map))
        return out


def load_spacy(name: str):
    """A spaCy pipeline by package name or path, with a coded error when it is missing."""
    import spacy

    from schemas.errors import E_BAD_CONFIG, ConfigError

    try:
        return spacy.load(name)
    except OSError as err:
        raise ConfigError(
            f"cannot load the spaCy pipeline {name!r}: {err}",
            fix="install it (python -m spacy download en_core_web_sm) or give a pipeline folder; "
            "xproj ships no model.",
            code=E_BAD_CONFIG,
        ) from None


def _relabel(s: AnnotatedSentence, new_id: str, label_map: dict[str, str]) -> AnnotatedSentence:
    from dataclasses import replace

    spans = tuple(replace(sp, label=label_map.get(sp.label, sp.label)) for sp in s.spans)
    return replace(s, id=new_id, spans=spans)


def _tokens_name(config: TranslateTestConfig) -> str:
    """Who made the original text's tokens (they are kept, so gold lines up)."""
    from projectors.tokenize import tokenizer_for

    if config.input.format == "text":
        return tokenizer_for(config.input.lang).name
    return f"input:{config.input.format}"


@task(name="translate-test-shard", cache_policy=NO_CACHE)
def translate_test_shard(
    shard_id: str,
    originals: Sequence[AnnotatedSentence],
    config: TranslateTestConfig,
    translator,
    predictor: Predictor,
    route,
    run_id: str,
    staging,
) -> dict[str, Any]:
    """Translate one shard into the pivot language, predict, project back, stage every row."""
    from catalog.rows import reject_rows
    from flows._routes import route_rows, split_markable, translation_reject
    from flows.translate_train import translation_row
    from projectors.tokenize import tokenizer_for
    from schemas.languages import normalize_lang

    lang = normalize_lang(config.input.lang)
    pivot = normalize_lang(config.pivot_lang)
    options = config.decoding()
    before = translator.stats.translated
    translations = list(
        translator.translate((o.text for o in originals), lang, pivot, options=options)
    )
    translator.flush()
    common = {
        "run_id": run_id,
        "src_lang": lang,
        "tgt_lang": pivot,
        "decoding": json.dumps(options.to_dict(), sort_keys=True),
    }
    t_rows = [
        translation_row(o, tr, **common, translator=translator)
        for o, tr in zip(originals, translations, strict=True)
    ]
    rejects: list[Reject] = []
    ok = []
    for o, tr in zip(originals, translations, strict=True):
        if tr.ok:
            ok.append((o, tr.text))
        else:
            rejects.append(translation_reject(o.id, config.input.path, o.text, tr, pivot))
    counts: Counter = Counter(
        sentences=len(originals), translated=translator.stats.translated - before
    )
    rows: dict[str, list] = {}
    gold: list = []
    if predictor.active and ok:
        predicted = predictor.predict([o for o, _ in ok], [t for _, t in ok])
        pairs = []
        for (o, text), p in zip(ok, predicted, strict=True):
            if isinstance(p, Reject):
                rejects.append(p)
                continue
            if p.text != text:
                counts["prediction_text_differs"] += 1
            pairs.append((p, o))
        if route is not None:
            english = [p for p, _ in pairs]
            if config.projector == "markers":
                english, rejected = split_markable(
                    english, route.settings.markers, config.input.path
                )
                rejects += rejected
            keep = {e.id for e in english}
            pairs = [(p, o) for p, o in pairs if p.id in keep]
            targets = {p.id: o for p, o in pairs}
            if config.projector == "markers":
                results = route.run(english, pivot, lang, originals=[o.text for _, o in pairs])
            else:
                results = route.run(english, [o.text for _, o in pairs], pivot, lang)
            rows, more, _ = route_rows(
                results,
                route=route,
                tgt_lang=lang,
                tokenizer=tokenizer_for(lang),
                tokenizer_name=_tokens_name(config),
                run_id=run_id,
                source=config.input.path,
                translation_model=translator.model_id,
                targets=targets,
                id_of=lambda s: s.id.rsplit("@", 1)[0],
            )
            rejects += more
        else:
            parallel = [ParallelPair(f"{p.id}|{o.id}", p, o.with_spans(())) for p, o in pairs]
            rows = project_shard_rows(
                parallel,
                config,
                start=0,
                extra_bitext=[],
                run_id=run_id,
                tokenizer=_tokens_name(config),
                translation_model=translator.model_id,
            )
        by_pair = {r["pair_id"]: r["tgt_spans"] for r in rows.get("projected", [])}
        gold = [
            (o.spans, by_pair.get(f"{p.id}|{o.id}"))
            for p, o in pairs
            if f"{p.id}|{o.id}" in by_pair
        ]
    staging.put(
        shard_id,
        {"translations": t_rows, **rows, "rejected": reject_rows(rejects, run_id=run_id)},
    )
    counts["rejected"] = len(rejects)
    return {"counts": counts, "gold": gold}


@flow(name=FLOW_NAME, log_prints=True)
def translate_test(config: TranslateTestConfig) -> FlowResult:
    """Translate target-language text into the pivot language, label it, project labels back.

    Args:
        config: the flow's typed configuration (``flows.config.TranslateTestConfig``).

    Returns:
        The run id, the committed table versions and metrics (with gold scores when the input
        carries gold spans).
    """
    return run_translate_test(config)


def run_translate_test(config: TranslateTestConfig) -> FlowResult:
    """The flow's body; call ``translate_test`` to run it under Prefect."""
    from tqdm.auto import tqdm

    from catalog import InputRef, Lake, Staging
    from catalog.rows import reject_rows
    from catalog.translation_cache import LakeTranslationCache
    from flows._routes import build_route, route_model
    from flows.inputs import iter_side
    from flows.translate_train import _artifact, iter_shards, summarize
    from projectors.metrics import span_scores
    from schemas.languages import normalize_lang
    from schemas.records import TokenSpan
    from translators.cache import CachedTranslator

    log = get_run_logger()
    t0 = time.perf_counter()
    lake = Lake(config.lake)
    lang = normalize_lang(config.input.lang)
    pivot = normalize_lang(config.pivot_lang)
    inner = config.translator()
    inner.language_codes(lang, pivot)  # XP202 now, before any work
    inputs = [input_ref("input", config.input)]
    if config.predictions is not None:
        inputs.append(InputRef.for_file("predictions", config.predictions.path))
    run, reused = start_translating_run(FLOW_NAME, config, inner, inputs, lake, log)
    if reused is not None:
        return reused
    staging = Staging(lake, run.run_key)
    staging.resume(run)

    read_rejects: list[Reject] = []
    predictor = Predictor(config, read_rejects)
    if not predictor.active:
        log.info("no predictions and no spaCy pipeline: translating only")
    translator = CachedTranslator(inner, LakeTranslationCache(lake), run_id=run.run_id)
    route = build_route(config, translator, inner) if predictor.active else None
    if route is not None:
        route_model(route).language_codes(pivot, lang)  # the projection direction: XP202 now
        log.info("projecting with %s (%s)", route.name, config.projection_model or config.model)
    counts: Counter = Counter()
    pred: list = []
    gold: list = []
    t1 = time.perf_counter()
    items = iter_side(config.input, on_error=config.on_error)
    progress = tqdm(desc="translate-test", unit="sent", total=config.limit)
    for k, shard in enumerate(iter_shards(items, config.shard_size, config.limit)):
        originals = [s for s in shard if isinstance(s, AnnotatedSentence)]
        shard_rejects = [r for r in shard if isinstance(r, Reject)]
        if not staging.done(f"{k}.read"):
            staging.put(f"{k}.read", {"rejected": reject_rows(shard_rejects, run_id=run.run_id)})
        if not staging.done(f"{k}.{lang}") and originals:
            got = translate_test_shard(
                f"{k}.{lang}", originals, config, translator, predictor, route, run.run_id, staging
            )
            counts.update(got["counts"])
            for g, p in got["gold"]:
                gold.append(list(g))
                pred.append([TokenSpan(x["start"], x["end"], x["label"]) for x in p])
        elif staging.done(f"{k}.{lang}"):
            counts["reused_shards"] += 1
        progress.update(len(shard))
    progress.close()
    if read_rejects:
        staging.put("predictions.read", {"rejected": reject_rows(read_rejects, run_id=run.run_id)})
    outputs = {name: staging.files(name) for name in OUTPUT_TABLES}
    metrics = summarize(staging, [lang])
    metrics["languages"][lang]["sentences"] = counts["sentences"]
    metrics["counts"] = dict(counts)
    if route is not None:
        metrics["route"] = {"method": route.name, **route.stats.as_dict()}
    if config.evaluate and any(gold):
        if counts["reused_shards"]:
            metrics["gold_note"] = "scored on the shards of this attempt only (others resumed)"
        scores = span_scores(pred, gold)
        metrics["gold"] = {
            "_micro": {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1},
            **{
                label: {"precision": s.precision, "recall": s.recall, "f1": s.f1}
                for label, s in scores.per_label.items()
            },
        }
    run.metrics = metrics
    run.timings = {
        "translate_test_s": time.perf_counter() - t1,
        "total_s": time.perf_counter() - t0,
    }
    versions = commit_outputs(lake, run, outputs)
    staging.clear()
    _artifact(config, run.run_id, metrics, flow="translate-test")
    return FlowResult(run.run_id, run.run_key, versions, metrics)
