"""Flow ``paxqa``: English–X contexts → cross-lingual QA examples (PAXQA), as table versions.

Per shard of context pairs (bitext, a Hugging Face dataset, or SQuAD data whose contexts are
translated here through the lake's translation cache): align the contexts, pick answers, generate
questions (cached), project the answers, translate the questions under lexical constraints, score
and filter (:mod:`xproj.generators.paxqa.pipeline`). Rows are staged per shard; ``paxqa``,
``paxqa_dropped`` and ``rejected`` are committed together at the end, or not at all.
``xproj paxqa-export`` writes a run as SQuAD v1.1 / MLQA-style files for the four directions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from prefect import flow
from pydantic import Field, field_validator, model_validator

from xproj.executor.core import Shard, ShardOutput
from xproj.executor.identity import INPUT, LOCAL
from xproj.executor.summary import RunSummary, Source, Tally, counts_delta
from xproj.flows.config import (
    DECODING_KEYS,
    _Aligning,
    _Model,
    _RunSettings,
    _TranslationSettings,
    dataset_ref,
    known_language,
    nest,
)
from xproj.flows.runtime import run_plan
from xproj.flows.translating import TranslatingPlan
from xproj.generators.paxqa.candidates import CandidateSettings
from xproj.generators.paxqa.pipeline import FilterSettings
from xproj.generators.paxqa.questions import QG_DECODING
from xproj.translators.base import DecodingOptions
from xproj.translators.constrained import ConstrainedSettings

FLOW_NAME = "paxqa"

#: Every answer candidate (or given question): an example, or dropped at a stage with a reason.
CANDIDATES = Tally(
    "candidates",
    (Source("paxqa"), Source("paxqa_dropped", reason="reason", stage="stage")),
    kept="examples",
    group="language",
)


class ContextsSpec(_Model):
    """English–X contexts: ``bitext`` (``en ||| x``, TSV, or two files with ``tgt_path``),
    ``hf`` (a dataset with a ``translation`` column or two text columns) or ``squad`` (English
    SQuAD JSON/JSONL; contexts translated by the run's model)."""

    path: Annotated[str, INPUT]
    format: Literal["bitext", "hf", "squad"] = "bitext"
    tgt_path: Annotated[str | None, INPUT] = None
    bitext_format: Literal["auto", "pipes", "tsv"] = "auto"
    split: str = "train"
    hf_config: str | None = None
    en_column: str = "en"
    x_column: str | None = None
    id_column: str | None = None

    def input_ref(self, field: str, name: str):
        """Lineage of the contexts (:func:`~xproj.flows.config.dataset_ref`; ``tgt_path`` is a
        file)."""
        hub = field == "path" and self.format == "hf"
        return dataset_ref(
            name, getattr(self, field), hub=hub, hf_config=self.hf_config, split=self.split
        )


class QGConfig(_Model):
    """The question generation model (a converted ``text2text`` model) and its input format."""

    model: Annotated[str | None, LOCAL] = None
    template: str = "generate question: {highlighted}"
    highlight: str = "<hl>"
    #: how questions are decoded (``beam_size`` … and ``batch_tokens`` also at the top level)
    decoding: DecodingOptions = Field(default_factory=lambda: QG_DECODING)

    @model_validator(mode="before")
    @classmethod
    def _flat_decoding(cls, data: Any) -> Any:
        return nest(data, "decoding", DECODING_KEYS)

    def format(self):
        from xproj.generators.paxqa.questions import QGFormat

        return QGFormat(self.template, self.highlight)


class PaxqaConfig(_RunSettings, _Aligning, _TranslationSettings):
    """Configuration of the ``paxqa`` flow.

    ``model`` is the translation model (questions, round trips, SQuAD contexts); ``qg.model`` the
    question generator; ``lang`` the X language.

    Example (YAML)::

        name: news-en-de-qa
        contexts: {path: data/news.en-de.tsv, format: bitext}
        lang: de
        model: facebook/nllb-200-distilled-600M
        qg: {model: lmqg/t5-base-squad-qg}
        spacy: en_core_web_sm
        filters: {min_round_trip: 0.3}
    """

    name: str = ""
    contexts: ContextsSpec
    lang: str
    questions: Literal["generate", "given", "both"] = "generate"
    qg: QGConfig = Field(default_factory=QGConfig)
    spacy: Annotated[str | None, INPUT] = None
    candidates: CandidateSettings = Field(default_factory=CandidateSettings)
    constraints: ConstrainedSettings = Field(default_factory=ConstrainedSettings)
    filters: FilterSettings = Field(default_factory=FilterSettings)
    aligner_options: Annotated[dict[str, Any], INPUT] = Field(
        default_factory=lambda: {"symmetrization": "grow-diag-final-and"}
    )
    shard_size: int = Field(default=512, ge=1)
    limit: int | None = Field(default=None, ge=1)

    _known_language = field_validator("lang")(known_language)

    @model_validator(mode="after")
    def _consistent(self) -> PaxqaConfig:
        if self.questions != "given" and self.qg.model is None:
            raise ValueError(
                "questions: generate needs qg.model (a converted text2text QG model); "
                "use questions: given to keep the input's own questions"
            )
        if self.questions != "generate" and self.contexts.format != "squad":
            raise ValueError("questions: given/both needs SQuAD input (contexts.format: squad)")
        return self

    def dataset_name(self) -> str:
        return self.name or f"{Path(self.contexts.path).stem}-paxqa-{self.lang}"

    def qg_translator(self):
        """The QG model, loaded as a ``text2text`` model with this run's device settings."""
        return self.translator(self.qg.model, family="text2text")


def iter_input(config: PaxqaConfig, id_prefix: str | None = None):
    """The input's context pairs (``ContextPair`` or ``Reject``), streamed; their ids start with
    ``id_prefix`` (the input's name and fingerprint, never a machine path)."""
    from xproj.generators.paxqa.inputs import iter_contexts
    from xproj.schemas.languages import normalize_lang

    c = config.contexts
    return iter_contexts(
        c.path,
        c.format,
        normalize_lang(config.lang),
        tgt_path=c.tgt_path,
        bitext_format=c.bitext_format,
        split=c.split,
        hf_config=c.hf_config,
        en_column=c.en_column,
        x_column=c.x_column,
        id_column=c.id_column,
        id_prefix=id_prefix,
    )


class Paxqa(TranslatingPlan):
    """The plan of a ``paxqa`` run (see :class:`xproj.executor.core.Plan`)."""

    flow = FLOW_NAME
    tables = ("paxqa", "paxqa_dropped")
    tallies = (CANDIDATES,)

    def __init__(self, config: PaxqaConfig) -> None:
        from xproj.schemas.languages import normalize_lang

        super().__init__(config)
        self.lang = normalize_lang(config.lang)
        self.title = f"{config.dataset_name()}: PAXQA en→{config.lang}"
        self.id_prefix: str | None = None

    def models(self) -> dict[str, Any]:
        if self._models is None:
            self._models = {"translator": self.config.translator()}
            if self.config.questions != "given":
                self._models["qg_model"] = self.config.qg_translator()
        return self._models

    def aligner(self) -> str | None:
        return self.config.aligner  # answers are projected by word alignment

    def check_languages(self) -> None:
        self._inner.language_codes("en", self.lang)  # an unsupported language fails now (XP202)

    def identity(self):
        ident = super().identity()
        source = next(i for i in ident.inputs if i.name == "contexts")
        stem = Path(source.ref).stem if source.sha256 else source.ref
        self.id_prefix = f"{stem}@{source.sha256[:8]}" if source.sha256 else stem
        ident.key_parameters["id_prefix"] = self.id_prefix  # example ids start with it
        return ident

    def prepare(self, run: Any, log: Any) -> None:
        from xproj.generators.paxqa.candidates import load_pipeline
        from xproj.generators.paxqa.pipeline import Settings
        from xproj.generators.paxqa.questions import QuestionGenerator
        from xproj.projectors.aligners import get_aligner
        from xproj.translators.cache import CachedTranslator, CacheStats

        config = self.config
        self.open_translator(run)
        self.settings = Settings(
            candidates=config.candidates,
            constraints=config.constraints,
            filters=config.filters,
            questions=config.questions,
            translation_options=config.decoding,
        )
        self.qg = None
        qg_inner = self.models().get("qg_model")
        if qg_inner is not None:
            qg_cached = CachedTranslator(qg_inner, self.cache, run_id=run.run_id)
            self.qg = QuestionGenerator(qg_cached, qg_inner, config.qg.format(), config.qg.decoding)
        # not ``self.aligner``: that is the method naming the aligner for the run's identity
        self.word_aligner = get_aligner(config.aligner, **config.aligner_options)
        self.nlp = load_pipeline(config.spacy)
        self.constrained_stats = CacheStats()

    def records(self) -> Iterator[Any]:
        return itertools.islice(iter_input(self.config, self.id_prefix), self.config.limit)

    def _cache_stats(self) -> dict[str, Any]:
        return {
            "cache": {
                "translation": asdict(self.translator.stats),
                "qg": asdict(self.qg.model.stats) if self.qg is not None else {},
                "constrained": asdict(self.constrained_stats),
            }
        }

    def process(self, shard: Shard) -> ShardOutput:
        from xproj.generators.paxqa.pipeline import Models
        from xproj.projectors.aligners import ALIGNERS

        given = ALIGNERS.info(self.config.aligner)["reads_file"]  # links read by position
        models = Models(
            translator=self.translator,
            inner=self._inner,
            qg=self.qg,
            nlp=self.nlp,
            aligner=self.word_aligner,
            by_sentence=not given,
            cache=self.cache,
            run_id=self.run_id,
            constrained_stats=self.constrained_stats,
        )
        before = self._cache_stats()
        pairs = list(shard.records)
        positions = [
            shard.start + k if p.position is None else p.position for k, p in enumerate(pairs)
        ]
        out = self._shard(pairs, models, positions)
        self.cache.flush()
        out.stats.update(counts_delta(self._cache_stats(), before))
        return out

    def _shard(self, pairs: list, models, positions: list[int]) -> ShardOutput:
        """Translate missing contexts, then run the PAXQA steps on one shard (``positions``:
        each pair's place in the input, where links read by position come from)."""
        from xproj.generators.paxqa.pipeline import Batch, drop, run_batch

        lang = self.lang
        out = Batch()
        todo = [k for k, p in enumerate(pairs) if p.context_x is None]
        contexts_x = [p.context_x for p in pairs]
        if todo:
            translated = models.translator.translate_all(
                [pairs[k].context_en for k in todo], "en", lang, options=self.config.decoding
            )
            out.stats["contexts_translated"] += len(todo)
            for k, t in zip(todo, translated, strict=True):
                contexts_x[k] = t.text if t.ok and t.text.strip() else None
                if contexts_x[k] is None:
                    reason = "context_too_long" if not t.ok else "empty_translation"
                    detail = t.detail or "the translation model returned nothing"
                    for q in pairs[k].questions or [None]:
                        drop(
                            out,
                            str(q.id) if q is not None else pairs[k].source_id,
                            pairs[k],
                            lang,
                            "context",
                            reason,
                            detail,
                            answer=q.answers[0].text if q is not None and q.answers else None,
                            question_en=q.question if q is not None else None,
                        )
        keep = [k for k, x in enumerate(contexts_x) if x is not None]
        if keep:
            aligner = models.aligner.for_positions([positions[k] for k in keep])
            got = run_batch(
                [pairs[k] for k in keep],
                [contexts_x[k] for k in keep],
                lang,
                replace(models, aligner=aligner),
                self.settings,
            )
            out.examples += got.examples
            out.dropped += got.dropped
            out.stats.update(got.stats)
        rows = {"paxqa": out.examples, "paxqa_dropped": out.dropped}
        return ShardOutput(
            rows=rows, rejects=self.word_aligner.take_rejects(), stats=dict(out.stats)
        )

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        stats = summary.stats
        total = stats.get("constraints", 0)
        stats["constraints_satisfied_share"] = (
            round(stats.get("constraints_satisfied", 0) / total, 4) if total else None
        )
        return {}


@flow(name=FLOW_NAME, log_prints=True)
def paxqa(config: PaxqaConfig) -> RunSummary:
    """Build a cross-lingual QA dataset (PAXQA) and commit it as new table versions."""
    return run_plan(Paxqa(config), config)


def export_run(lake, run_id: str, out: str | Path, *, split: str = "train") -> list:
    """Export a committed paxqa run: one folder per language under ``out`` with the four
    directions as SQuAD v1.1 JSON and JSONL (:func:`xproj.io.exports.paxqa.export_directions`).

    Raises:
        CatalogError: the lake has no paxqa run ``run_id``, or the run has no example (XP406:
            nothing is written).
    """
    import pyarrow.compute as pc

    from xproj.catalog import Lake
    from xproj.catalog.lineage import check_flow_run
    from xproj.io.exports.paxqa import export_directions
    from xproj.schemas.errors import E_NOTHING_TO_EXPORT, CatalogError

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    check_flow_run(lake, run_id, FLOW_NAME)
    rows = lake.read("paxqa", filter=pc.field("run_id") == run_id).to_pylist()
    if not rows:
        dropped = lake.read(
            "paxqa_dropped", columns=["stage", "reason"], filter=pc.field("run_id") == run_id
        ).to_pylist()
        reasons: dict[str, int] = {}
        for r in dropped:
            key = f"{r['stage']}.{r['reason']}"
            reasons[key] = reasons.get(key, 0) + 1
        shown = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none recorded"
        raise CatalogError(
            f"paxqa run {run_id} has no examples, so there is nothing to export (dropped: "
            f"{shown}); nothing was written.",
            fix='see why with: xproj query "SELECT stage, reason, count(*) FROM paxqa_dropped '
            f"WHERE run_id = '{run_id}' GROUP BY ALL\"",
            code=E_NOTHING_TO_EXPORT,
        )
    by_lang: dict[str, list] = {}
    for row in rows:
        by_lang.setdefault(row["language"], []).append(row)
    return [
        export_directions(lang_rows, Path(out) / lang, language=lang, split=split)
        for lang, lang_rows in sorted(by_lang.items())
    ]
