"""Flow ``translate_train``: a labeled dataset → translated, label-projected data in many languages.

The source is read as a stream and cut into shards; every shard is a unit of work per target
language: translate (through the lake's translation cache, so nothing is translated twice) →
tokenize the translation with the language's word tokenizer → project the spans (word alignment,
or the ``markers`` / ``codec`` model routes) → rows of ``translations``, ``projected``,
``outcomes``, ``alignments`` and ``rejected``. The executor stages, resumes, commits and
summarizes; the translation cache is flushed after every shard, so a crash loses at most the
translations of the shard in progress.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from prefect import flow

from flows.config import TranslateTrainConfig
from flows.executor import Identity, Shard, ShardOutput
from flows.runtime import run_plan
from flows.summary import SPANS, RunSummary, Source, Tally, counts_delta
from schemas.errors import Reject
from schemas.records import ParallelPair

FLOW_NAME = "translate_train"

#: One translation per sentence and language: kept unless flagged (too long, empty).
TRANSLATIONS = Tally(
    "translations",
    (Source("translations", reason="flag"),),
    kept="translated",
    stage="translate",
    group="tgt_lang",
)


class TranslatingPlan:
    """What the translating flows share: the model, its identity in the key, the cache, a route,
    and (for translate-train and translate-test) the tables and what the summary counts."""

    keys: tuple[str, ...] | None = None
    tables: tuple[str, ...] = ("translations", "projected", "outcomes", "alignments")
    tallies: tuple[Tally, ...] = (TRANSLATIONS, SPANS)

    def __init__(self, config) -> None:
        self.config = config
        self.shard_size = config.shard_size
        self._models: dict[str, Any] | None = None
        self.translator = None
        self.route = None

    @property
    def _inner(self):
        return self.models()["translator"]

    def models(self) -> dict[str, Any]:
        """Role → loaded model, for the run key (``translator`` first): the translation model,
        and the projection model when the model routes use another one."""
        if self._models is None:
            models = {"translator": self.config.translator()}
            if self.config.projector != "align" and self.config.projection_model:
                models["projection_model"] = self.config.translator(self.config.projection_model)
            self._models = models
        return self._models

    def build_route(self):
        from flows._routes import build_route

        return build_route(
            self.config, self.translator, self._inner, self.models().get("projection_model")
        )

    def identity(self) -> Identity:
        from flows.identity import key_of
        from flows.steps import model_identity

        key_parameters, inputs = key_of(self.config)
        key_parameters["dataset_name"] = self.config.dataset_name()  # from the file name
        models = self.models()
        for role, model in models.items():
            key_parameters[role] = model_identity(model)
        self.check_languages()
        return Identity(
            self.config.recorded(),
            key_parameters,
            inputs,
            aligner=self.config.aligner if self.config.projector == "align" else None,
            models=tuple(m.model_id for m in models.values()),
        )

    def check_languages(self) -> None:
        """Refuse a language the model lacks (XP202), before any work."""

    def open_translator(self, run) -> None:
        from catalog import Lake
        from catalog.translation_cache import LakeTranslationCache
        from translators.cache import CachedTranslator

        self.run_id = run.run_id
        self.cache = LakeTranslationCache(Lake(self.config.lake))
        self.translator = CachedTranslator(self._inner, self.cache, run_id=run.run_id)

    def route_stats(self) -> dict[str, Any]:
        if self.route is None:
            return {}
        return {"route": {"method": self.route.name, **self.route.stats.as_dict()}}

    def shard_stats(self, run_shard) -> dict[str, Any]:
        """Run ``run_shard()`` and return the model work it did (translations, route calls)."""
        before_translated = self.translator.stats.translated
        before_route = self.route_stats()
        run_shard()
        return {
            "translated": self.translator.stats.translated - before_translated,
            **counts_delta(self.route_stats(), before_route),
        }

    def close(self) -> None:
        if self.translator is not None:
            self.translator.flush()


class TranslateTrain(TranslatingPlan):
    """The plan of a ``translate_train`` run (see :class:`flows.executor.Plan`)."""

    flow = FLOW_NAME

    def __init__(self, config: TranslateTrainConfig) -> None:
        from schemas.languages import normalize_lang

        super().__init__(config)
        self.src_lang = normalize_lang(config.source.lang)
        self.keys = tuple(normalize_lang(code) for code in config.target_langs)
        self.title = (
            f"{config.dataset_name()}: translate-train with {config.model} ({method(config)})"
        )
        self._extra: dict[str, list] = {}
        self._extra_rejects: list[Reject] = []

    def check_languages(self) -> None:
        for lang in self.keys:
            self._inner.language_codes(self.src_lang, lang)

    def prepare(self, run: Any, log: Any) -> None:
        from flows._routes import route_model
        from flows.inputs import read_bitext_tokens
        from schemas.languages import normalize_lang

        self.open_translator(run)
        self._extra, self._extra_rejects = {}, []
        for lang, specs in self.config.extra_bitext.items():
            code = normalize_lang(lang)
            for spec in specs:
                self._extra.setdefault(code, []).extend(
                    read_bitext_tokens(spec, self.src_lang, code, self._extra_rejects)
                )
        self.route = self.build_route()
        if self.route is not None:  # the projection model's languages too, before any work
            for lang in self.keys:
                route_model(self.route).language_codes(self.src_lang, lang)

    def records(self) -> Iterator[Any]:
        from flows.inputs import iter_side

        items = iter_side(
            self.config.source, on_error=self.config.on_error, labels=self.config.labels
        )
        return itertools.islice(items, self.config.limit)

    def process(self, shard: Shard) -> ShardOutput:
        out = ShardOutput()
        out.stats = self.shard_stats(lambda: self._translate_project(shard, out))
        return out

    def _translate_project(self, shard: Shard, out: ShardOutput) -> None:
        from flows._routes import split_markable, translation_reject
        from flows.steps import (
            no_token_reject,
            project_shard_rows,
            target_sentence,
            translation_row,
        )
        from projectors.tokenize import tokenizer_for

        config, lang, translator = self.config, shard.key, self.translator
        options = config.decoding()
        tokenizer = tokenizer_for(lang)
        source = config.source.path
        common = {
            "run_id": self.run_id,
            "src_lang": self.src_lang,
            "tgt_lang": lang,
            "decoding": json.dumps(options.to_dict(), sort_keys=True),
            "translator": translator,
        }
        sentences = list(shard.records)
        if config.projector == "markers":
            # the marked translation is the translation: no plain one is made
            sentences, out.rejects = split_markable(sentences, self.route.settings.markers, source)
            results = self.route.run(sentences, self.src_lang, lang)
            translator.flush()
            t_rows = [
                translation_row(
                    r.source, replace(r.translation, text=r.target_text), **common, marked=r.marked
                )
                for r in results
            ]
            done = []
            for r in results:
                if r.translation.ok:
                    done.append(r)
                else:
                    out.rejects.append(
                        translation_reject(r.source.id, source, r.source.text, r.translation, lang)
                    )
            rows, _ = self._route_rows(done, lang, tokenizer, out)
            out.rows = {"translations": t_rows, **rows}
            return
        translations = list(
            translator.translate((s.text for s in sentences), self.src_lang, lang, options=options)
        )
        translator.flush()
        t_rows, pairs, kept = [], [], []
        for s, tr in zip(sentences, translations, strict=True):
            t_rows.append(translation_row(s, tr, **common))
            if not tr.ok:
                out.rejects.append(translation_reject(s.id, source, s.text, tr, lang))
                continue
            if self.route is not None:
                kept.append((s, tr.text))
                continue
            tgt = target_sentence(f"{s.id}@{lang}", lang, tr.text, tokenizer)
            if tgt is None:
                out.rejects.append(no_token_reject(s, source, lang))
                continue
            pairs.append(ParallelPair(f"{s.id}|{tgt.id}", s, tgt))
        if self.route is None:
            rows = project_shard_rows(
                pairs,
                config,
                start=0,
                extra_bitext=self._extra.get(lang, []),
                run_id=self.run_id,
                tokenizer=tokenizer.name,
                translation_model=translator.model_id,
            )
        else:
            results = (
                self.route.run([s for s, _ in kept], [t for _, t in kept], self.src_lang, lang)
                if kept
                else []
            )
            rows, marked = self._route_rows(results, lang, tokenizer, out)
            for row in t_rows:
                row["marked"] = marked.get(row["sentence_id"])
        out.rows = {"translations": t_rows, **rows}

    def _route_rows(self, results, lang: str, tokenizer, out: ShardOutput):
        """Rows of a model route's results; their rejects go to ``out``. Returns the rows and
        the marked text per sentence id."""
        from flows._routes import route_rows

        rows, rejects, marked = route_rows(
            results,
            route=self.route,
            tgt_lang=lang,
            tokenizer=tokenizer,
            run_id=self.run_id,
            source=self.config.source.path,
            translation_model=self.translator.model_id,
        )
        out.rejects += rejects
        return rows, marked

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        from catalog.rows import reject_rows

        if not self._extra_rejects:
            return {}
        return {"rejected": reject_rows(self._extra_rejects, run_id=summary.run_id)}


def method(config) -> str:
    """How a translating run projects: the aligner and method, or the model route."""
    if config.projector == "align":
        return f"aligner {config.aligner}, method {config.method}"
    model = config.projection_model or config.model
    return f"projector {config.projection_method(config.method)} with {model}"


@flow(name=FLOW_NAME, log_prints=True)
def translate_train(config: TranslateTrainConfig) -> RunSummary:
    """Translate a labeled dataset into every target language and project its span labels."""
    return run_plan(TranslateTrain(config), config)
