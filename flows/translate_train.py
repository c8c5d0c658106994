"""Flow ``translate_train``: a labeled dataset → translated, label-projected data in many languages.

The source is read as a stream and cut into shards. For each shard and target language:
translate (through the lake's translation cache, so nothing is translated twice) → tokenize the
translation with the language's word tokenizer → align with the chosen aligner → project the
spans → stage the rows. Staged shards survive a crash and are reused by the rerun; all tables are
committed together at the end. The translation cache is the exception: it is flushed after every
shard, so a crash loses at most the translations of the shard in progress.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows._runs import (
    FlowResult,
    commit_outputs,
    input_ref,
    project_shard_rows,
    start_translating_run,
)
from flows.config import TranslateTrainConfig
from schemas.errors import E_EMPTY_TRANSLATION, Reject
from schemas.records import AnnotatedSentence, ParallelPair

FLOW_NAME = "translate_train"
OUTPUT_TABLES = ("translations", "projected", "outcomes", "alignments", "rejected")


def iter_shards(items: Iterator, size: int, limit: int | None) -> Iterator[list]:
    """Consecutive lists of ``size`` items (records and rejects), at most ``limit`` in all."""
    if limit is not None:
        items = itertools.islice(items, limit)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


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


@task(name="translate-project-shard", cache_policy=NO_CACHE)
def translate_project_shard(
    shard_id: str,
    sentences: Sequence[AnnotatedSentence],
    lang: str,
    config: TranslateTrainConfig,
    translator,
    extra_bitext: list,
    run_id: str,
    staging,
    route=None,
) -> dict[str, int]:
    """Translate one shard into ``lang``, project its spans and stage every row.

    ``route`` is the model projection route (``markers``/``codec``), ``None`` for alignment.
    Returns counts for progress logs: sentences, translated (not from the cache), rejected.
    """
    from catalog.rows import reject_rows
    from flows._routes import route_rows, split_markable, translation_reject
    from projectors.tokenize import tokenizer_for
    from schemas.languages import normalize_lang

    src_lang = normalize_lang(config.source.lang)
    tgt_lang = normalize_lang(lang)
    options = config.decoding()
    before = translator.stats.translated
    decoding = json.dumps(options.to_dict(), sort_keys=True)
    tokenizer = tokenizer_for(tgt_lang)
    common = {"run_id": run_id, "src_lang": src_lang, "tgt_lang": tgt_lang, "decoding": decoding}
    rejects: list[Reject] = []
    if config.projector == "markers":
        # the marked translation is the translation: no plain one is made
        sentences, rejects = split_markable(sentences, route.settings.markers, config.source.path)
        results = route.run(sentences, src_lang, tgt_lang)
        translator.flush()
        t_rows = [
            translation_row(
                r.source,
                replace(r.translation, text=r.target_text),
                **common,
                translator=translator,
                marked=r.marked,
            )
            for r in results
        ]
        done = []
        for r in results:
            if r.translation.ok:
                done.append(r)
            else:
                rejects.append(
                    translation_reject(
                        r.source.id, config.source.path, r.source.text, r.translation, tgt_lang
                    )
                )
        rows, more, _ = route_rows(
            done,
            route=route,
            tgt_lang=tgt_lang,
            tokenizer=tokenizer,
            run_id=run_id,
            source=config.source.path,
            translation_model=translator.model_id,
        )
        rejects += more
    else:
        translations = list(
            translator.translate((s.text for s in sentences), src_lang, tgt_lang, options=options)
        )
        translator.flush()
        t_rows, pairs, kept = [], [], []
        for s, tr in zip(sentences, translations, strict=True):
            t_rows.append(translation_row(s, tr, **common, translator=translator))
            if not tr.ok:
                rejects.append(translation_reject(s.id, config.source.path, s.text, tr, tgt_lang))
                continue
            if route is not None:
                kept.append((s, tr.text))
                continue
            tgt = target_sentence(f"{s.id}@{tgt_lang}", tgt_lang, tr.text, tokenizer)
            if tgt is None:
                rejects.append(
                    Reject(
                        "tokenize",
                        config.source.path,
                        f"record {s.id}",
                        E_EMPTY_TRANSLATION,
                        f"the {tgt_lang} translation has no token to project onto.",
                        s.text[:500],
                    )
                )
                continue
            pairs.append(ParallelPair(f"{s.id}|{tgt.id}", s, tgt))
        if route is None:
            rows = project_shard_rows(
                pairs,
                config,
                start=0,
                extra_bitext=extra_bitext,
                run_id=run_id,
                tokenizer=tokenizer.name,
                translation_model=translator.model_id,
            )
        else:
            results = (
                route.run([s for s, _ in kept], [t for _, t in kept], src_lang, tgt_lang)
                if kept
                else []
            )
            rows, more, marked = route_rows(
                results,
                route=route,
                tgt_lang=tgt_lang,
                tokenizer=tokenizer,
                run_id=run_id,
                source=config.source.path,
                translation_model=translator.model_id,
            )
            rejects += more
            for row in t_rows:
                row["marked"] = marked.get(row["sentence_id"])
    staging.put(
        shard_id, {"translations": t_rows, **rows, "rejected": reject_rows(rejects, run_id=run_id)}
    )
    return {
        "sentences": len(sentences),
        "translated": translator.stats.translated - before,
        "rejected": len(rejects),
    }


@flow(name=FLOW_NAME, log_prints=True)
def translate_train(config: TranslateTrainConfig) -> FlowResult:
    """Translate a labeled dataset into every target language and project its span labels.

    Args:
        config: the flow's typed configuration (``flows.config.TranslateTrainConfig``).

    Returns:
        The run id, the committed table versions and per-language metrics.
    """
    return run_translate_train(config)


def run_translate_train(config: TranslateTrainConfig) -> FlowResult:
    """The flow's body; call ``translate_train`` to run it under Prefect."""
    from tqdm.auto import tqdm

    from catalog import Lake, Staging
    from catalog.rows import reject_rows
    from catalog.translation_cache import LakeTranslationCache
    from flows._routes import build_route, route_model
    from flows.inputs import iter_side, read_bitext_tokens
    from schemas.languages import normalize_lang
    from translators.cache import CachedTranslator

    log = get_run_logger()
    t0 = time.perf_counter()
    lake = Lake(config.lake)
    src_lang = normalize_lang(config.source.lang)
    langs = [normalize_lang(code) for code in config.target_langs]
    inner = config.translator()
    for lang in langs:  # an unsupported language fails now, before any work (XP202)
        inner.language_codes(src_lang, lang)
    inputs = [input_ref("source", config.source)]
    run, reused = start_translating_run(FLOW_NAME, config, inner, inputs, lake, log)
    if reused is not None:
        return reused
    staging = Staging(lake, run.run_key)
    staging.resume(run)

    extra: dict[str, list] = {}
    extra_rejects: list[Reject] = []
    for lang, specs in config.extra_bitext.items():
        code = normalize_lang(lang)
        for spec in specs:
            extra.setdefault(code, []).extend(
                read_bitext_tokens(spec, src_lang, code, extra_rejects)
            )
    cache = LakeTranslationCache(lake)
    translator = CachedTranslator(inner, cache, run_id=run.run_id)
    route = build_route(config, translator, inner)
    for lang in langs if route is not None else ():  # the projection model's languages too
        route_model(route).language_codes(src_lang, lang)
    counts: Counter = Counter()
    t1 = time.perf_counter()
    items = iter_side(config.source, on_error=config.on_error)
    progress = tqdm(desc="translate+project", unit="sent", total=config.limit)
    for k, shard in enumerate(iter_shards(items, config.shard_size, config.limit)):
        sentences = [s for s in shard if isinstance(s, AnnotatedSentence)]
        read_rejects = [r for r in shard if isinstance(r, Reject)]
        if not staging.done(f"{k}.read"):
            staging.put(f"{k}.read", {"rejected": reject_rows(read_rejects, run_id=run.run_id)})
        for lang in langs:
            shard_id = f"{k}.{lang}"
            if staging.done(shard_id):
                counts["reused_shards"] += 1
                continue
            if sentences:
                got = translate_project_shard(
                    shard_id,
                    sentences,
                    lang,
                    config,
                    translator,
                    extra.get(lang, []),
                    run.run_id,
                    staging,
                    route,
                )
                counts.update({f"{key}": v for key, v in got.items()})
        progress.update(len(shard))
    progress.close()
    timings = {"translate_project_s": time.perf_counter() - t1}
    if extra_rejects:
        staging.put("extra.read", {"rejected": reject_rows(extra_rejects, run_id=run.run_id)})

    outputs = {name: staging.files(name) for name in OUTPUT_TABLES}
    metrics = summarize(staging, langs)
    if route is not None:
        metrics["route"] = {"method": route.name, **route.stats.as_dict()}
    metrics["cache"] = {
        "translated_this_attempt": counts["translated"],
        "reused_shards": counts["reused_shards"],
    }
    run.metrics = metrics
    run.timings = {**timings, "total_s": time.perf_counter() - t0}
    versions = commit_outputs(lake, run, outputs)
    staging.clear()
    _artifact(config, run.run_id, metrics)
    return FlowResult(run.run_id, run.run_key, versions, metrics)


def summarize(staging, langs: Sequence[str]) -> dict[str, Any]:
    """Per-language translation counts, projection rate and drop reasons, from the staged rows.

    Counted shard by shard (``Staging.count_by``): memory does not grow with the dataset.
    """
    outcomes = staging.count_by("outcomes", ["tgt_lang", "label", "reason"])
    translations = staging.count_by("translations", ["tgt_lang", "flag"])
    rejected = staging.count_by("rejected", ["code"])
    per_lang: dict[str, Any] = {}
    for lang in langs:
        per_label: dict[str, Counter] = {}
        for (tgt, label, reason), n in outcomes.items():
            if tgt == lang:
                per_label.setdefault(label, Counter())[reason or "projected"] += n
        total: Counter = sum(per_label.values(), Counter())
        spans = sum(total.values())
        reasons = {k: v for k, v in total.items() if k != "projected"}
        per_lang[lang] = {
            "sentences": sum(n for (tgt, _), n in translations.items() if tgt == lang),
            "flagged": {flag: n for (tgt, flag), n in translations.items() if tgt == lang and flag},
            "spans": spans,
            "projected": total["projected"],
            "projection_rate": round(total["projected"] / spans, 6) if spans else 0.0,
            "drop_reasons": reasons,
            "per_label": {
                label: {
                    "spans": sum(c.values()),
                    "projected": c["projected"],
                    "drop_reasons": {k: v for k, v in c.items() if k != "projected"},
                }
                for label, c in sorted(per_label.items())
            },
        }
    return {"languages": per_lang, "rejected_by_code": {code: n for (code,), n in rejected.items()}}


def _method_line(config) -> str:
    if config.projector == "align":
        return f"aligner {config.aligner} · method {config.method}"
    model = config.projection_model or config.model
    return f"projector {config.projection_method(config.method)} with {model}"


def _artifact(config, run_id: str, metrics: dict[str, Any], flow: str = "translate-train") -> None:
    lines = [
        f"# {config.dataset_name()}: {flow} with {config.model}",
        "",
        f"run `{run_id}` · {_method_line(config)}",
        "",
        "| language | sentences | flagged | spans | projected | rate | drop reasons |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for lang, m in metrics["languages"].items():
        reasons = (
            ", ".join(
                f"{k} {v} ({v / m['spans']:.1%})" for k, v in sorted(m["drop_reasons"].items())
            )
            or "—"
        )
        lines.append(
            f"| {lang} | {m['sentences']} | {sum(m['flagged'].values())} | "
            f"{m['spans']} | {m['projected']} | {m['projection_rate']:.3f} | {reasons} |"
        )
    route = metrics.get("route")
    if route:
        calls = ", ".join(f"{k} {v}" for k, v in sorted(route["sequences"].items()))
        lines += [
            "",
            f"model work ({route['method']}): sequences {calls}; candidates {route['candidates']}",
        ]
    gold = metrics.get("gold", {}).get("_micro")
    if gold:
        lines += [
            "",
            f"against gold: P {gold['precision']:.3f} · R {gold['recall']:.3f} · "
            f"F1 {gold['f1']:.3f}",
        ]
    create_markdown_artifact(
        "\n".join(lines),
        key=f"{flow}-summary",
        description="projection rate and drop reasons per language",
    )
