"""Flow ``project_parallel``: labeled source + its translation → projected, versioned tables.

read both sides → (per shard: align → project) → ``projected``, ``outcomes``, ``alignments``,
``rejected`` and, when the target side carries gold spans, ``evaluations``. The executor
(:mod:`flows.executor`) stages, resumes, commits and summarizes; this module only declares the
run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefect import flow

from flows.config import ProjectParallelConfig
from flows.executor import Identity, Shard, ShardOutput
from flows.runtime import run_plan
from flows.summary import SPANS, RunSummary

FLOW_NAME = "project_parallel"


class ProjectParallel:
    """The plan of a ``project_parallel`` run (see :class:`flows.executor.Plan`)."""

    flow = FLOW_NAME
    tables = ("projected", "outcomes", "alignments")
    tallies = (SPANS,)
    keys = None

    def __init__(self, config: ProjectParallelConfig) -> None:
        self.config = config
        self.shard_size = config.shard_size
        self.title = (
            f"{config.dataset_name()}: projection ({config.source.lang} → {config.target.lang}, "
            f"{config.aligner}, {config.method})"
        )
        self._extra: list = []
        self._extra_rejects: list = []

    def identity(self) -> Identity:
        from flows.identity import key_of

        key_parameters, inputs = key_of(self.config)
        key_parameters["dataset_name"] = self.config.dataset_name()  # written to evaluations
        return Identity(self.config.recorded(), key_parameters, inputs, aligner=self.config.aligner)

    def prepare(self, run: Any, log: Any) -> None:
        from flows.inputs import read_bitext_tokens
        from schemas.languages import normalize_lang

        self.run_id = run.run_id
        self._extra, self._extra_rejects = [], []
        src, tgt = normalize_lang(self.config.source.lang), normalize_lang(self.config.target.lang)
        for spec in self.config.extra_bitext:
            self._extra += read_bitext_tokens(spec, src, tgt, self._extra_rejects)
        if self.config.extra_bitext:
            log.info("%d extra bitext pairs for the aligner", len(self._extra))

    def records(self) -> Iterator[Any]:
        from flows.inputs import read_parallel

        data = read_parallel(
            self.config.source,
            self.config.target,
            on_error=self.config.on_error,
            limit=self.config.limit,
            labels=self.config.labels,
        )
        yield from data.items

    def process(self, shard: Shard) -> ShardOutput:
        from flows.steps import project_shard_rows, span_counts

        pairs = list(shard.records)
        rows = project_shard_rows(
            pairs,
            self.config,
            start=shard.start,
            extra_bitext=self._extra,
            run_id=self.run_id,
            tokenizer=self._tokenizer_name(),
        )
        stats = {}
        if self.config.evaluate:
            stats["gold"] = span_counts(
                [p.tgt.spans for p in pairs], rows["projected"], [p.id for p in pairs]
            )
        return ShardOutput(rows=rows, stats=stats)

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        from catalog.rows import reject_rows

        out: dict[str, Any] = {}
        if self._extra_rejects:
            out["rejected"] = reject_rows(self._extra_rejects, run_id=summary.run_id)
        if summary.gold:
            from catalog.evaluations import span_evaluation_table
            from flows.summary import gold_scores

            out["evaluations"] = span_evaluation_table(
                gold_scores(summary.gold),
                run_id=summary.run_id,
                dataset=self.config.dataset_name(),
                system=self.config.aligner,
            )
        return out

    def close(self) -> None:
        """Nothing to release."""

    def _tokenizer_name(self) -> str:
        from projectors.tokenize import tokenizer_for

        if self.config.target.format == "text":
            return tokenizer_for(self.config.target.lang).name
        return f"given:{self.config.target.format}"


@flow(name=FLOW_NAME, log_prints=True)
def project_parallel(config: ProjectParallelConfig) -> RunSummary:
    """Project the source side's spans onto the target side; commit the tables as new versions."""
    return run_plan(ProjectParallel(config), config)
