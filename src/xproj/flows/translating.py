"""The plans of the translating flows: what translate-train (and, through
:class:`TranslatingPlan`, translate-test and PAXQA) do per shard.

They live apart from the Prefect flows (``xproj.flows.translate_train``) so that a process that
only runs shards, such as a Ray actor, imports no Prefect: it builds the plan from its class.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xproj.executor.core import Identity, Shard, ShardOutput
from xproj.executor.summary import SPANS, RunSummary, Source, Tally, counts_delta
from xproj.flows.config import TranslateTrainConfig
from xproj.schemas.errors import Reject

FLOW_NAME = "translate_train"


@dataclass(frozen=True, slots=True)
class Translated:
    """What the model stage of a shard hands the CPU stage (see ``TranslateTrain.splits``)."""

    translations: list[Any]  #: one ``Translation`` per sentence of the shard, in order
    model_id: str
    quantization: str
    count: int  #: sentences the model translated (the others came from the cache)


#: One translation per sentence and language: kept unless flagged (too long, empty).
TRANSLATIONS = Tally(
    "translations",
    (Source("translations", reason="flag"),),
    kept="translated",
    stage="translate",
    group="tgt_lang",
)


class TranslatingPlan:
    """What the translating flows share: the model, its identity in the key, the cache, the
    projector, and (for translate-train and translate-test) the tables and what the summary
    counts."""

    keys: tuple[str, ...] | None = None
    tables: tuple[str, ...] = ("translations", "projected", "outcomes", "alignments")
    tallies: tuple[Tally, ...] = (TRANSLATIONS, SPANS)

    def __init__(self, config) -> None:
        self.config = config
        self.shard_size = config.shard_size
        self._models: dict[str, Any] | None = None
        self.translator = None
        self.projector = None

    @property
    def _inner(self):
        return self.models()["translator"]

    def models(self) -> dict[str, Any]:
        """Role → loaded model, for the run key (``translator`` first): the translation model,
        and the projection model when a model route uses another one."""
        if self._models is None:
            models = {"translator": self.config.translator()}
            if self.config.projector_info()["needs_model"] and self.config.projection_model:
                models["projection_model"] = self.config.translator(self.config.projection_model)
            self._models = models
        return self._models

    def tokenized_langs(self) -> tuple[str, ...]:
        """The languages whose text the run cuts into words (the target languages)."""
        return self.keys or ()

    def aligner(self) -> str | None:
        """The aligner the run's rows name, if its projector aligns words."""
        return self.config.aligner if self.config.projector_info()["uses_aligner"] else None

    def identity(self) -> Identity:
        from xproj.executor.identity import key_of
        from xproj.flows._steps import model_identity
        from xproj.text.words import describe_tokenizers

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
            aligner=self.aligner(),
            models=tuple(m.model_id for m in models.values()),
            tokenizers=describe_tokenizers(self.tokenized_langs()),
        )

    def check_languages(self) -> None:
        """Refuse a language the model lacks (XP202), before any work."""

    def open_translator(self, run) -> None:
        from xproj.catalog import Lake
        from xproj.catalog.translation_cache import LakeTranslationCache
        from xproj.translators.cache import CachedTranslator

        self.run_id = run.run_id
        self.cache = LakeTranslationCache(Lake(self.config.lake))
        self.translator = CachedTranslator(self._inner, self.cache, run_id=run.run_id)

    def open_projector(self, **resources: Any) -> None:
        """Build the run's projector (the model routes translate or score with the projection
        model, or the translation model when there is none)."""
        from xproj.projectors.projector import make_projector

        needs_model = self.config.projector_info()["needs_model"]
        setup = self.config.projector_setup(
            translator=self.translator,
            model=self.models().get("projection_model", self._inner) if needs_model else None,
            options=self.config.decoding,
            **resources,
        )
        self.projector = make_projector(self.config.projector, setup)

    def work(self) -> dict[str, Any]:
        return self.projector.work() if self.projector is not None else {}

    def input_spec(self):
        """The labeled input the run reads (``source`` or ``input``)."""
        raise NotImplementedError

    def records(self) -> Iterator[Any]:
        from xproj.io.inputs import iter_side

        config = self.config
        items = iter_side(self.input_spec(), on_error=config.on_error, labels=config.labels)
        return itertools.islice(items, config.limit)

    def shard_stats(self, run_shard) -> dict[str, Any]:
        """Run ``run_shard()`` and return the model work it did (translations, route calls)."""
        before_translated = self.translator.stats.translated
        before = self.work()
        run_shard()
        return {
            "translated": self.translator.stats.translated - before_translated,
            **counts_delta(self.work(), before),
        }

    def close(self) -> None:
        if self.translator is not None:
            self.translator.flush()


class TranslateTrain(TranslatingPlan):
    """The plan of a ``translate_train`` run (see :class:`xproj.executor.core.Plan`)."""

    flow = FLOW_NAME
    tables = (*TranslatingPlan.tables, "aligner_priors")

    def __init__(self, config: TranslateTrainConfig) -> None:
        from xproj.schemas.languages import normalize_lang

        super().__init__(config)
        self.src_lang = normalize_lang(config.source.lang)
        self.keys = tuple(normalize_lang(code) for code in config.target_langs)
        self.title = (
            f"{config.dataset_name()}: translate-train with {config.model} ({method(config)})"
        )
        self._extra: dict[str, list] = {}
        self._extra_rejects: list[Reject] = []
        self._priors: list[dict[str, Any]] = []  # aligner_priors rows, one per language
        #: the input's first sentences the priors pass translates, read once for every language
        self._sample: tuple[int, list[Any]] = (0, [])

    def check_languages(self) -> None:
        for lang in self.keys:
            self._inner.language_codes(self.src_lang, lang)

    def splits(self) -> bool:
        """Whether the step may run as two stages apart (:class:`~xproj.executor.core.
        TwoStagePlan`): a projector that aligns words with a CPU aligner (eflomal, given links)
        needs no model after translation. The model routes (``markers``, ``codec``) translate
        or score while they project, and a neural aligner (SimAlign) wants the GPU the
        translation actors hold, so those run in one stage."""
        from xproj.projectors.aligners import aligner_class

        info = self.config.projector_info()
        return bool(info["uses_aligner"]) and not aligner_class(self.config.aligner).neural

    def prepare(self, run: Any, log: Any, stage: str = "all") -> dict[str, Any] | None:
        """Build the model, the projector and the aligner priors (``stage="all"``), or only the
        model (``"translate"``), or only the projector with the priors the run learned before
        (``"project"``): the halves a backend runs apart."""
        from xproj.io.inputs import read_bitext_tokens
        from xproj.schemas.languages import normalize_lang

        self.run_id = run.run_id
        if stage != "project":
            self.open_translator(run)
        if stage == "translate":
            return None
        self._extra, self._extra_rejects = {}, []
        for lang, specs in self.config.extra_bitext.items():
            code = normalize_lang(lang)
            for spec in specs:
                self._extra.setdefault(code, []).extend(
                    read_bitext_tokens(spec, self.src_lang, code, self._extra_rejects)
                )
        self.open_projector(extra_bitext=self._extra)
        for model in self.projector.models():  # the projection model's languages, before work
            for lang in self.keys:
                model.language_codes(self.src_lang, lang)
        self._priors = []
        translated = self.translator.stats.translated if self.translator is not None else 0
        if self.config.projector_info()["uses_aligner"]:
            from xproj.flows._steps import prepare_priors

            for lang in self.keys:
                row = prepare_priors(
                    self.projector,
                    self.config,
                    run,
                    log,
                    src_lang=self.src_lang,
                    tgt_lang=lang,
                    token_pairs=lambda n, lang=lang: self._token_pairs(lang, n),
                    shard_size=self.shard_size,
                    learn=stage == "all",
                )
                if row is not None:
                    self._priors.append(row)
            self._sample = (0, [])  # the shards read the input again: free the sample
        # what the priors pass translated counts as the run's work
        if self.translator is None:
            return None
        return {"translated": self.translator.stats.translated - translated}

    def _token_pairs(self, lang: str, limit: int) -> Iterator[tuple[list[str], list[str]]]:
        """The first ``limit`` source sentences and their translations into ``lang``, as token
        pairs (translated through the run's cache: the shards reuse these translations)."""
        from xproj.projectors.projector import ProjectionTask, target_sentence
        from xproj.text.words import tokenizer_for

        if self._sample[0] != limit:  # read once for every language
            records = itertools.islice(self.records(), limit)
            self._sample = (limit, [r for r in records if not isinstance(r, Reject)])
        sentences = self._sample[1]
        translations = list(
            self.translator.translate(
                (s.text for s in sentences), self.src_lang, lang, options=self.config.decoding
            )
        )
        self.translator.flush()
        tokenizer = tokenizer_for(lang)
        for s, tr in zip(sentences, translations, strict=True):
            if not tr.ok or not s.tokens:
                continue
            target = target_sentence(ProjectionTask(s, tr.text, f"{s.id}@{lang}"), lang, tokenizer)
            if target is not None:
                yield list(s.tokens), list(target.tokens)

    def input_spec(self):
        return self.config.source

    def process(self, shard: Shard) -> ShardOutput:
        if self.projector.makes_targets:
            out = ShardOutput()
            out.stats = self.shard_stats(lambda: self._project_marked(shard, out))
            return out
        return self.project_step(shard, self.translate_step(shard))

    def translate_step(self, shard: Shard) -> Translated:
        """The model stage: the shard's sentences translated into its language (through the
        cache, flushed), with the model that made them."""
        translator = self.translator
        before = translator.stats.translated
        translations = list(
            translator.translate(
                (s.text for s in shard.records), self.src_lang, shard.key,
                options=self.config.decoding,
            )
        )  # fmt: skip
        translator.flush()
        return Translated(
            translations,
            translator.model_id,
            translator.quantization,
            translator.stats.translated - before,
        )

    def project_step(self, shard: Shard, translated: Translated) -> ShardOutput:
        """The CPU stage: tokenize and project the translations ``translate_step`` made."""
        from xproj.flows._steps import reject_of, translation_row
        from xproj.projectors.projector import ProjectionTask, not_translated
        from xproj.text.words import tokenizer_for

        config, lang, out = self.config, shard.key, ShardOutput()
        before, translator = self.work(), self.translator  # no model in a CPU stage of its own
        before_translated = translator.stats.translated if translator is not None else 0
        tokenizer = tokenizer_for(lang)
        sentences = list(shard.records)
        tasks = []
        for s, tr in zip(sentences, translated.translations, strict=True):
            if tr.ok:
                tasks.append(ProjectionTask(s, tr.text, f"{s.id}@{lang}"))
            else:
                out.rejects.append(reject_of(not_translated(tr, lang), config.source.path, s))
        results = self.projector.project(tasks, self.src_lang, lang, tokenizer=tokenizer)
        marked = {r.task.source.id: r.marked for r in results}
        common = self._row_common(lang, translated)
        t_rows = [
            translation_row(s, tr, **common, marked=marked.get(s.id))
            for s, tr in zip(sentences, translated.translations, strict=True)
        ]
        self._outputs(out, results, t_rows, tokenizer, translated.model_id)
        # a model route (codec) may translate while it projects
        extra = translator.stats.translated - before_translated if translator is not None else 0
        out.stats = {"translated": translated.count + extra, **counts_delta(self.work(), before)}
        return out

    def _row_common(self, lang: str, model: Any) -> dict[str, Any]:
        """What every ``translations`` row of a shard shares (``model``: its ``model_id`` and
        ``quantization``)."""
        return {
            "src_lang": self.src_lang,
            "tgt_lang": lang,
            "decoding": json.dumps(self.config.decoding.to_dict(), sort_keys=True),
            "translator": model,
        }

    def _outputs(self, out, results, t_rows, tokenizer, model_id: str) -> None:
        from xproj.flows._steps import projection_outputs

        rows, rejects = projection_outputs(
            results,
            self.projector,
            source=self.config.source.path,
            tokenizer=tokenizer.name,
            translation_model=model_id,
        )
        out.rejects += rejects
        out.rows = {"translations": t_rows, **rows}

    def _project_marked(self, shard: Shard, out: ShardOutput) -> None:
        """The step of a projector that translates the marked source itself (``markers``): no
        plain translation is made."""
        from xproj.flows._steps import translation_row
        from xproj.projectors.projector import ProjectionTask
        from xproj.text.words import tokenizer_for

        lang, translator = shard.key, self.translator
        tokenizer = tokenizer_for(lang)
        tasks = [ProjectionTask(s, None, f"{s.id}@{lang}") for s in shard.records]
        results = self.projector.project(tasks, self.src_lang, lang, tokenizer=tokenizer)
        translator.flush()
        common = self._row_common(lang, translator)
        t_rows = [
            translation_row(r.task.source, r.translation, **common, marked=r.marked)
            for r in results
            if r.translation is not None
        ]
        self._outputs(out, results, t_rows, tokenizer, translator.model_id)

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        out: dict[str, Any] = {"rejected": self._extra_rejects} if self._extra_rejects else {}
        if self._priors:
            out["aligner_priors"] = self._priors
        return out


def method(config) -> str:
    """How a translating run projects: the projector, with its aligner or its model."""
    if config.projector_info()["uses_aligner"]:
        return f"projector {config.projector} with aligner {config.aligner}"
    return f"projector {config.projector} with {config.projection_model or config.model}"
