"""Flow ``project_parallel``: labeled source + its translation → projected, versioned tables.

read both sides → (per shard: align → project) → ``projected``, ``outcomes``, ``alignments``,
``rejected`` and, when the target side carries gold spans, ``evaluations``. The executor
(:mod:`xproj.executor.core`) stages, resumes, commits and summarizes; this module only declares the
run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from prefect import flow

from xproj.executor.core import Identity, Shard, ShardOutput
from xproj.executor.summary import SPANS, RunSummary
from xproj.flows.config import ProjectParallelConfig
from xproj.flows.runtime import run_plan

FLOW_NAME = "project_parallel"


class ProjectParallel:
    """The plan of a ``project_parallel`` run (see :class:`xproj.executor.core.Plan`)."""

    flow = FLOW_NAME
    tables = ("projected", "outcomes", "alignments", "aligner_priors")
    tallies = (SPANS,)
    keys = None

    def __init__(self, config: ProjectParallelConfig) -> None:
        self.config = config
        self.shard_size = config.shard_size
        self.title = (
            f"{config.dataset_name()}: projection ({config.source.lang} → {config.target.lang}, "
            f"{config.projector} with {config.aligner})"
        )
        self._extra: list = []
        self._extra_rejects: list = []
        self._priors: dict[str, Any] | None = None  # the aligner_priors row, once learned

    def identity(self) -> Identity:
        from xproj.executor.identity import key_of

        key_parameters, inputs = key_of(self.config)
        key_parameters["dataset_name"] = self.config.dataset_name()  # written to evaluations
        return Identity(
            self.config.recorded(),
            key_parameters,
            inputs,
            aligner=self.config.aligner,
            tokenizers={self.config.target.lang: self._tokenizer_name(describe=True)},
        )

    def prepare(self, run: Any, log: Any) -> None:
        from xproj.io.inputs import read_bitext_tokens
        from xproj.projectors.projector import make_projector
        from xproj.schemas.languages import normalize_lang

        self.run_id = run.run_id
        self._extra, self._extra_rejects = [], []
        self.src_lang = normalize_lang(self.config.source.lang)
        self.tgt_lang = normalize_lang(self.config.target.lang)
        for spec in self.config.extra_bitext:
            self._extra += read_bitext_tokens(
                spec, self.src_lang, self.tgt_lang, self._extra_rejects
            )
        if self.config.extra_bitext:
            log.info("%d extra bitext pairs for the aligner", len(self._extra))
        # built once now: a setting the aligner refuses fails before any input is read
        setup = self.config.projector_setup(extra_bitext={self.tgt_lang: self._extra})
        self.projector = make_projector(self.config.projector, setup)
        self._priors = None
        if self.config.projector_info()["uses_aligner"]:
            from xproj.flows._steps import prepare_priors

            self._priors = prepare_priors(
                self.projector,
                self.config,
                run,
                log,
                src_lang=self.src_lang,
                tgt_lang=self.tgt_lang,
                token_pairs=self._token_pairs,
                shard_size=self.shard_size,
            )

    def _token_pairs(self, limit: int) -> Iterator[tuple[list[str], list[str]]]:
        """The input's first ``limit`` token pairs, as the shards will align them."""
        from xproj.projectors.projector import ProjectionTask, target_sentence
        from xproj.schemas.errors import Reject
        from xproj.text.words import tokenizer_for

        tokenizer = tokenizer_for(self.tgt_lang)
        for record in itertools.islice(self.records(), limit):
            if isinstance(record, Reject):
                continue
            task = ProjectionTask(record.src, record.tgt, record.tgt.id, record.position)
            target = target_sentence(task, self.tgt_lang, tokenizer)
            if target is not None and record.src.tokens:
                yield list(record.src.tokens), list(target.tokens)

    def records(self) -> Iterator[Any]:
        from xproj.io.inputs import read_parallel

        data = read_parallel(
            self.config.source,
            self.config.target,
            on_error=self.config.on_error,
            limit=self.config.limit,
            labels=self.config.labels,
        )
        yield from data.items

    def process(self, shard: Shard) -> ShardOutput:
        from xproj.flows._steps import projection_outputs, span_counts
        from xproj.projectors.projector import ProjectionTask
        from xproj.text.words import tokenizer_for

        pairs = list(shard.records)
        tasks = [ProjectionTask(p.src, p.tgt, p.tgt.id, p.position) for p in pairs]
        results = self.projector.project(
            tasks,
            self.src_lang,
            self.tgt_lang,
            tokenizer=tokenizer_for(self.tgt_lang),
            start=shard.start,
        )
        rows, rejects = projection_outputs(
            results,
            self.projector,
            source=self.config.target.path,
            tokenizer=self._tokenizer_name(),
        )
        stats = {}
        if self.config.evaluate:  # pairs without a projection predict nothing
            spans = {r.task.pair_id: r.projection.spans for r in results if r.projection}
            stats["gold"] = span_counts(
                [p.tgt.spans for p in pairs], [spans.get(t.pair_id, ()) for t in tasks]
            )
        return ShardOutput(rows=rows, rejects=rejects, stats=stats)

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._extra_rejects:
            out["rejected"] = self._extra_rejects
        if self._priors:
            out["aligner_priors"] = [self._priors]
        if summary.gold:
            from xproj.catalog.evaluations import span_evaluation_table
            from xproj.executor.summary import gold_scores

            out["evaluations"] = span_evaluation_table(
                gold_scores(summary.gold),
                run_id=summary.run_id,
                dataset=self.config.dataset_name(),
                system=self.config.aligner,
            )
        return out

    def close(self) -> None:
        """Nothing to release."""

    def _tokenizer_name(self, describe: bool = False) -> str:
        from xproj.text.words import tokenizer_for

        if self.config.target.format == "text":
            tokenizer = tokenizer_for(self.config.target.lang)
            return tokenizer.describe() if describe else tokenizer.name
        return f"given:{self.config.target.format}"


@flow(name=FLOW_NAME, log_prints=True)
def project_parallel(config: ProjectParallelConfig) -> RunSummary:
    """Project the source side's spans onto the target side; commit the tables as new versions."""
    return run_plan(ProjectParallel(config), config)
