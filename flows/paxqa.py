"""Flow ``paxqa``: English–X contexts → cross-lingual QA examples (PAXQA), as table versions.

Per shard of context pairs (bitext, a Hugging Face dataset, or SQuAD data whose contexts are
translated here through the lake's translation cache): align the contexts, pick answers, generate
questions (cached), project the answers, translate the questions under lexical constraints, score
and filter (:mod:`generators.paxqa.pipeline`). Rows are staged per shard; ``paxqa``,
``paxqa_dropped`` and ``rejected`` are committed together at the end, or not at all.
``xproj paxqa-export`` writes a run as SQuAD v1.1 / MLQA-style files for the four directions.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import Field, field_validator, model_validator

from flows._runs import FlowResult, commit_outputs, start_translating_run
from flows.config import _Model, _TranslationSettings

FLOW_NAME = "paxqa"
OUTPUT_TABLES = ("paxqa", "paxqa_dropped", "rejected")


class ContextsSpec(_Model):
    """English–X contexts: ``bitext`` (``en ||| x``, TSV, or two files with ``tgt_path``),
    ``hf`` (a dataset with a ``translation`` column or two text columns) or ``squad`` (English
    SQuAD JSON/JSONL; contexts translated by the run's model)."""

    path: str
    format: Literal["bitext", "hf", "squad"] = "bitext"
    tgt_path: str | None = None
    bitext_format: Literal["auto", "pipes", "tsv"] = "auto"
    split: str = "train"
    hf_config: str | None = None
    en_column: str = "en"
    x_column: str | None = None
    id_column: str | None = None


class QGConfig(_Model):
    """The question generation model (a converted ``text2text`` model) and its input format."""

    model: str | None = None
    template: str = "generate question: {highlighted}"
    highlight: str = "<hl>"
    beam_size: int = Field(default=4, ge=1)
    max_decoding_length: int = Field(default=64, ge=1)
    min_decoding_length: int = Field(default=0, ge=0)
    no_repeat_ngram_size: int = Field(default=3, ge=0)
    batch_tokens: int = Field(default=4096, ge=1)

    def decoding(self):
        from translators.base import DecodingOptions

        return DecodingOptions(
            beam_size=self.beam_size,
            max_decoding_length=self.max_decoding_length,
            min_decoding_length=self.min_decoding_length,
            no_repeat_ngram_size=self.no_repeat_ngram_size,
            max_batch_size=self.batch_tokens,
            batch_type="tokens",
        )

    def format(self):
        from generators.paxqa.questions import QGFormat

        return QGFormat(self.template, self.highlight)


class CandidatesConfig(_Model):
    """Mirror of ``generators.paxqa.candidates.CandidateSettings``."""

    max_per_context: int | None = Field(default=8, ge=1)
    kinds: list[Literal["entity", "date", "number", "capitalised", "noun_chunk"]] = Field(
        default_factory=lambda: ["entity", "date", "number", "capitalised", "noun_chunk"]
    )
    min_words: int = Field(default=1, ge=1)
    max_words: int = Field(default=10, ge=1)
    min_chars: int = Field(default=1, ge=1)
    max_chars: int = Field(default=100, ge=1)
    allow_overlap: bool = False

    def build(self):
        from generators.paxqa.candidates import CandidateSettings

        data = self.model_dump()
        data["kinds"] = frozenset(data["kinds"])
        return CandidateSettings(**data)


class ConstraintsConfig(_Model):
    """Mirror of ``generators.paxqa.constraints.ConstrainedSettings`` (see its docstring)."""

    enabled: bool = True
    max_constraints: int = Field(default=3, ge=0)
    n_best: int = Field(default=8, ge=0)
    beam_size: int = Field(default=1, ge=1)
    max_positions: int = Field(default=3, ge=1)
    max_rounds: int = Field(default=3, ge=0)
    length_normalisation: float = Field(default=1.0, ge=0.0, le=2.0)
    force: Literal["first", "all"] = "first"

    def build(self):
        from generators.paxqa.constraints import ConstrainedSettings

        return ConstrainedSettings(**self.model_dump())


class FilterConfig(_Model):
    """Mirror of ``generators.paxqa.pipeline.FilterSettings``."""

    min_question_words: int = Field(default=3, ge=1)
    max_question_words: int = Field(default=40, ge=1)
    drop_answer_in_question: bool = True
    round_trip: bool = True
    min_qg_score: float | None = None
    min_translation_score: float | None = None
    min_round_trip: float | None = Field(default=None, ge=0.0, le=1.0)
    require_constraints: bool = False

    def build(self):
        from generators.paxqa.pipeline import FilterSettings

        return FilterSettings(**self.model_dump())


class PaxqaConfig(_TranslationSettings):
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
    spacy: str | None = None
    candidates: CandidatesConfig = Field(default_factory=CandidatesConfig)
    constraints: ConstraintsConfig = Field(default_factory=ConstraintsConfig)
    filters: FilterConfig = Field(default_factory=FilterConfig)
    aligner: str = "eflomal.v1"
    aligner_options: dict[str, Any] = Field(
        default_factory=lambda: {"symmetrization": "grow-diag-final-and"}
    )
    shard_size: int = Field(default=512, ge=1)
    limit: int | None = Field(default=None, ge=1)
    lake: str | None = None
    force: bool = False

    @field_validator("lang")
    @classmethod
    def _known_language(cls, v: str) -> str:
        from schemas.languages import normalize_lang

        normalize_lang(v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> PaxqaConfig:
        if self.projector != "align" or self.projection_model is not None:
            raise ValueError("paxqa projects answers by word alignment: leave projector unset")
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


def iter_input(config: PaxqaConfig):
    """The input's context pairs (``ContextPair`` or ``Reject``), streamed."""
    from generators.paxqa.inputs import iter_contexts
    from schemas.languages import normalize_lang

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
    )


@task(name="paxqa-shard", cache_policy=NO_CACHE)
def paxqa_shard(
    shard_id: str, pairs: list, rejects: list, lang: str, models, settings, config, run_id, staging
) -> dict[str, int]:
    """Translate missing contexts, run the PAXQA steps on one shard and stage its rows."""
    from catalog.rows import reject_rows
    from generators.paxqa.pipeline import Batch, drop, run_batch

    out = Batch()
    todo = [k for k, p in enumerate(pairs) if p.context_x is None]
    contexts_x = [p.context_x for p in pairs]
    if todo:
        translated = models.translator.translate_all(
            [pairs[k].context_en for k in todo], "en", lang, options=config.decoding()
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
        got = run_batch(
            [pairs[k] for k in keep], [contexts_x[k] for k in keep], lang, models, settings
        )
        out.examples += got.examples
        out.dropped += got.dropped
        out.stats.update(got.stats)
    rows = {
        "paxqa": [{"run_id": run_id, **r} for r in out.examples],
        "paxqa_dropped": [{"run_id": run_id, **r} for r in out.dropped],
        "rejected": reject_rows(rejects, run_id=run_id),
    }
    staging.put(shard_id, rows)
    return dict(out.stats) | {"rejected": len(rejects)}


@flow(name=FLOW_NAME, log_prints=True)
def paxqa(config: PaxqaConfig) -> FlowResult:
    """Build a cross-lingual QA dataset (PAXQA) and commit it as new table versions."""
    return run_paxqa(config)


def run_paxqa(config: PaxqaConfig) -> FlowResult:
    """The flow's body; call ``paxqa`` to run it under Prefect."""
    from tqdm.auto import tqdm

    from catalog import Lake, Staging
    from catalog.translation_cache import LakeTranslationCache
    from flows._runs import path_ref
    from generators.paxqa.candidates import load_pipeline
    from generators.paxqa.inputs import ContextPair
    from generators.paxqa.pipeline import Models, Settings
    from generators.paxqa.questions import QuestionGenerator
    from projectors.aligners import get_aligner
    from schemas.languages import normalize_lang
    from translators.cache import CachedTranslator, CacheStats

    log = get_run_logger()
    t0 = time.perf_counter()
    lake = Lake(config.lake)
    lang = normalize_lang(config.lang)
    inner = config.translator()
    inner.language_codes("en", lang)  # an unsupported language fails now (XP202)
    qg_inner = config.qg_translator() if config.questions != "given" else None
    settings = Settings(
        candidates=config.candidates.build(),
        constraints=config.constraints.build(),
        filters=config.filters.build(),
        questions=config.questions,
        translation_options=config.decoding(),
    )
    spec = config.contexts
    inputs = [path_ref("contexts", spec.path)]
    if spec.tgt_path:
        inputs.append(path_ref("contexts_x", spec.tgt_path))
    others = {"qg": qg_inner} if qg_inner is not None else None
    run, reused = start_translating_run(FLOW_NAME, config, inner, inputs, lake, log, others)
    if reused is not None:
        return reused
    staging = Staging(lake, run.run_key)
    staging.resume(run)

    cache = LakeTranslationCache(lake)
    translator = CachedTranslator(inner, cache, run_id=run.run_id)
    qg = None
    if qg_inner is not None:
        qg_cached = CachedTranslator(qg_inner, cache, run_id=run.run_id)
        qg = QuestionGenerator(qg_cached, qg_inner, config.qg.format(), config.qg.decoding())
    aligner = get_aligner(config.aligner, **config.aligner_options)
    given = config.aligner == "given.v1"
    nlp = load_pipeline(config.spacy)
    constrained_stats = CacheStats()
    counts: Counter = Counter()
    records = iter_input(config)
    if config.limit is not None:
        records = itertools.islice(records, config.limit)
    progress = tqdm(desc="paxqa", unit="ctx", total=config.limit)
    start = 0
    for k in itertools.count():
        shard = list(itertools.islice(records, config.shard_size))
        if not shard:
            break
        shard_id = str(k)
        if staging.done(shard_id):
            counts["reused_shards"] += 1
        else:
            pairs = [r for r in shard if isinstance(r, ContextPair)]
            rejects = [r for r in shard if not isinstance(r, ContextPair)]
            models = Models(
                translator=translator,
                inner=inner,
                qg=qg,
                nlp=nlp,
                aligner=aligner.for_shard(start) if given else aligner,
                by_sentence=not given,
                cache=cache,
                run_id=run.run_id,
                constrained_stats=constrained_stats,
            )
            got = paxqa_shard(
                shard_id, pairs, rejects, lang, models, settings, config, run.run_id, staging
            )
            counts.update(got)
            cache.flush()
        start += sum(1 for r in shard if isinstance(r, ContextPair))
        progress.update(len(shard))
    progress.close()
    cache.flush()
    metrics = _metrics(counts, staging)
    metrics["cache"] = {
        "translation": asdict(translator.stats),
        "qg": asdict(qg.model.stats) if qg is not None else None,
        "constrained": asdict(constrained_stats),
    }
    run.metrics = metrics
    run.timings = {"total_s": time.perf_counter() - t0}
    outputs = {name: staging.files(name) for name in OUTPUT_TABLES}
    versions = commit_outputs(lake, run, outputs)
    staging.clear()
    _artifact(config, run.run_id, metrics)
    return FlowResult(run.run_id, run.run_key, versions, metrics)


def _metrics(counts: Counter, staging) -> dict[str, Any]:
    """Counts from the staged rows (examples, drops by stage and reason) plus pipeline counters."""
    dropped = staging.count_by("paxqa_dropped", ["stage", "reason"])
    examples = staging.count_by("paxqa", ["answer_kind"])
    by_method = staging.count_by("paxqa", ["constraint_method"])
    constraints = counts.get("constraints", 0)
    return {
        "contexts": counts.get("contexts", 0),
        "contexts_translated": counts.get("contexts_translated", 0),
        "candidates": counts.get("candidates", 0),
        "questions_generated": counts.get("questions_generated", 0),
        "examples": sum(examples.values()),
        "examples_by_answer_kind": {str(k[0]): v for k, v in examples.items()},
        "dropped": {f"{stage}.{reason}": n for (stage, reason), n in dropped.items()},
        "constraints": {
            "total": constraints,
            "satisfied": counts.get("constraints_satisfied", 0),
            "satisfied_share": round(counts.get("constraints_satisfied", 0) / constraints, 4)
            if constraints
            else None,
            "unmapped": counts.get("constraints_unmapped", 0),
            "by_method": {str(k[0]): v for k, v in by_method.items()},
        },
        "rejected": counts.get("rejected", 0),
        "reused_shards": counts.get("reused_shards", 0),
    }


def _artifact(config: PaxqaConfig, run_id: str, metrics: dict[str, Any]) -> None:
    c = metrics["constraints"]
    lines = [
        f"# {config.dataset_name()}: PAXQA en→{config.lang}",
        "",
        f"run `{run_id}`: {metrics['contexts']} contexts, {metrics['candidates']} answer "
        f"candidates, {metrics['questions_generated']} questions generated, "
        f"**{metrics['examples']} examples**, {metrics['rejected']} input records rejected",
        "",
        f"constraints: {c['total']} ({c['satisfied']} satisfied, share {c['satisfied_share']}; "
        f"{c['unmapped']} question n-grams could not be mapped)",
        "",
        "| stage.reason | dropped |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v} |" for k, v in sorted(metrics["dropped"].items())]
    create_markdown_artifact(
        "\n".join(lines), key="paxqa-summary", description="examples, constraints, drop reasons"
    )


def export_run(lake, run_id: str, out: str | Path, *, split: str = "train") -> list:
    """Export a committed paxqa run: one folder per language under ``out`` with the four
    directions as SQuAD v1.1 JSON and JSONL (:func:`generators.paxqa.export.export_directions`).

    Raises:
        CatalogError: the lake has no paxqa run ``run_id``.
    """
    import pyarrow.compute as pc

    from catalog import Lake
    from catalog.lineage import check_flow_run
    from generators.paxqa.export import export_directions

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    check_flow_run(lake, run_id, FLOW_NAME)
    rows = lake.dataset("paxqa").to_table(filter=pc.field("run_id") == run_id).to_pylist()
    by_lang: dict[str, list] = {}
    for row in rows:
        by_lang.setdefault(row["language"], []).append(row)
    return [
        export_directions(lang_rows, Path(out) / lang, language=lang, split=split)
        for lang, lang_rows in sorted(by_lang.items())
    ]
