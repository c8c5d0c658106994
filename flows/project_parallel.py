"""Flow ``project_parallel``: labeled source + its translation → projected, versioned tables.

read → (per shard: align → project) → write → summary. Shards are staged in the lake as they
finish, so a rerun after a crash resumes without redoing or duplicating them; all tables are
committed together at the end, so a failed run leaves no new version.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows._runs import FlowResult, commit_outputs, committed_run, project_shard_rows
from flows.config import ProjectParallelConfig
from schemas.errors import Reject
from schemas.records import ParallelPair

FLOW_NAME = "project_parallel"


@task(name="read-inputs", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def read_inputs(config: ProjectParallelConfig):
    """Read and pair both sides (I/O: retried)."""
    from flows.inputs import read_bitext_tokens, read_parallel
    from schemas.languages import normalize_lang

    data = read_parallel(config.source, config.target, on_error=config.on_error, limit=config.limit)
    extra: list = []
    for spec in config.extra_bitext:
        extra.extend(
            read_bitext_tokens(
                spec,
                normalize_lang(config.source.lang),
                normalize_lang(config.target.lang),
                data.rejects,
            )
        )
    return data, extra


@task(name="align-project-shard", cache_policy=NO_CACHE)
def align_project_shard(
    shard_id: int,
    start: int,
    pairs: Sequence[ParallelPair],
    config: ProjectParallelConfig,
    extra_bitext: list,
    run_id: str,
    staging,
) -> int:
    """Align one shard and project its spans; stage the rows. Returns the number of pairs."""
    from projectors.tokenize import tokenizer_for
    from schemas.tables import conform

    rows = project_shard_rows(
        pairs,
        config,
        start=start,
        extra_bitext=extra_bitext,
        run_id=run_id,
        tokenizer=_tokenizer_name(config, tokenizer_for),
    )
    staging.put(shard_id, {name: conform(name, r) for name, r in rows.items()})
    return len(pairs)


def _tokenizer_name(config: ProjectParallelConfig, tokenizer_for) -> str:
    if config.target.format == "text":
        return tokenizer_for(config.target.lang).name
    return f"given:{config.target.format}"


@flow(name=FLOW_NAME, log_prints=True)
def project_parallel(config: ProjectParallelConfig) -> FlowResult:
    """Project the source side's spans onto the target side and store the result as new versions.

    Args:
        config: the flow's typed configuration (``flows.config.ProjectParallelConfig``).

    Returns:
        The run id, the committed table versions and the run's metrics.
    """
    return run_project_parallel(config)


def run_project_parallel(config: ProjectParallelConfig) -> FlowResult:
    """The flow's body; call ``project_parallel`` to run it under Prefect."""
    from tqdm.auto import tqdm

    from catalog import InputRef, Lake, RunRecord, Staging
    from catalog.rows import reject_rows
    from schemas.tables import conform

    log = get_run_logger()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    lake = Lake(config.lake)
    inputs = [
        InputRef.for_file(side, spec.path) if spec.format != "hf" else InputRef(side, spec.path)
        for side, spec in (("source", config.source), ("target", config.target))
    ]
    inputs += [
        InputRef.for_file(f"extra_bitext[{k}]", b.path) for k, b in enumerate(config.extra_bitext)
    ]
    params = config.model_dump(exclude={"force", "lake"})
    run = RunRecord.start(FLOW_NAME, params, inputs, aligner=config.aligner)
    reused = committed_run(lake, run, force=config.force, log=log)
    if reused is not None:
        return reused

    staging = Staging(lake, run.run_key)
    staging.resume(run)  # a rerun after a crash continues the earlier attempt's run id and shards
    data, extra = read_inputs(config)
    timings["read_s"] = time.perf_counter() - t0
    log.info(
        "read %d pairs (%d rejected records); %d extra bitext pairs",
        len(data.pairs),
        len(data.rejects),
        len(extra),
    )

    shards = [
        data.pairs[i : i + config.shard_size] for i in range(0, len(data.pairs), config.shard_size)
    ]
    t1 = time.perf_counter()
    for shard_id, shard in enumerate(
        tqdm(shards, desc="align+project", unit="shard", disable=len(shards) < 2)
    ):
        if staging.done(shard_id):
            log.info("shard %d already staged by an earlier attempt; reusing it", shard_id)
            continue
        align_project_shard(
            shard_id, shard_id * config.shard_size, shard, config, extra, run.run_id, staging
        )
    timings["align_project_s"] = time.perf_counter() - t1

    outputs: dict[str, Any] = {
        name: staging.files(name) for name in ("projected", "outcomes", "alignments")
    }
    outputs["rejected"] = conform("rejected", reject_rows(data.rejects, run_id=run.run_id))
    metrics = summarize(
        staging.read_columns("outcomes", ["label", "reason"]), data.rejects, len(data.pairs)
    )
    if config.evaluate:
        projected = staging.read_columns("projected", ["pair_id", "tgt_spans"])
        evals = evaluate_against_gold(
            data.pairs, projected, run.run_id, config.dataset_name(), config.aligner
        )
        if evals is not None:
            outputs["evaluations"] = evals
            metrics["gold"] = _gold_metrics(evals)
    run.metrics = metrics
    run.timings = {**timings, "total_s": time.perf_counter() - t0}
    versions = commit_outputs(lake, run, outputs)
    staging.clear()
    _artifact(config, run.run_id, metrics)
    return FlowResult(run.run_id, run.run_key, versions, metrics)


def summarize(outcomes, rejects: Sequence[Reject], n_pairs: int) -> dict[str, Any]:
    """Projection rate and drop reasons, overall and per label, from ``outcomes`` columns
    ``label`` and ``reason``."""
    from collections import Counter

    rows = outcomes.to_pylist()
    per_label: dict[str, Counter] = {}
    for r in rows:
        c = per_label.setdefault(r["label"], Counter())
        c["spans"] += 1
        c[r["reason"] or "projected"] += 1
    total = Counter()
    for c in per_label.values():
        total.update(c)
    reject_codes = Counter(r.code for r in rejects)

    def pack(c: Counter) -> dict[str, Any]:
        spans = c["spans"]
        reasons = {k: v for k, v in c.items() if k not in ("spans", "projected")}
        return {
            "spans": spans,
            "projected": c["projected"],
            "projection_rate": round(c["projected"] / spans, 6) if spans else 0.0,
            "drop_reasons": reasons,
        }

    return {
        "pairs": n_pairs,
        "rejected_records": len(rejects),
        "rejected_by_code": dict(reject_codes),
        **pack(total),
        "per_label": {k: pack(v) for k, v in sorted(per_label.items())},
    }


def evaluate_against_gold(
    pairs: Sequence[ParallelPair], projected, run_id: str, dataset: str, system: str
):
    """Span P/R/F1 of the projected target spans against gold target spans, if the target has any."""
    if not any(p.tgt.spans for p in pairs):
        return None
    from catalog.evaluations import span_evaluation_table
    from projectors.metrics import span_scores
    from schemas.records import TokenSpan

    by_id = {
        r["pair_id"]: r["tgt_spans"] for r in projected.select(["pair_id", "tgt_spans"]).to_pylist()
    }
    pred = [
        [TokenSpan(s["start"], s["end"], s["label"]) for s in by_id.get(p.id, [])] for p in pairs
    ]
    scores = span_scores(pred, [p.tgt.spans for p in pairs])
    return span_evaluation_table(scores, run_id=run_id, dataset=dataset, system=system)


def _gold_metrics(evals) -> dict[str, Any]:
    rows = evals.to_pylist()
    return {
        r["label"]: {
            "precision": r["precision"],
            "recall": r["recall"],
            "f1": r["f1"],
            "n_gold": r["n_gold"],
        }
        for r in rows
    }


def _artifact(config: ProjectParallelConfig, run_id: str, metrics: dict[str, Any]) -> None:
    lines = [
        f"# {config.dataset_name()}: projection ({config.source.lang} → "
        f"{config.target.lang}, {config.aligner}, {config.method})",
        "",
        f"run `{run_id}` · pairs {metrics['pairs']} · rejected records "
        f"{metrics['rejected_records']}",
        "",
        "| label | spans | projected | rate | drop reasons | gold F1 |",
        "|---|---:|---:|---:|---|---:|",
    ]
    gold = metrics.get("gold", {})
    for label, m in [*metrics["per_label"].items(), ("all", metrics)]:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(m["drop_reasons"].items())) or "—"
        g = gold.get("_micro" if label == "all" else label)
        f1 = f"{g['f1']:.3f}" if g else "—"
        lines.append(
            f"| {label} | {m['spans']} | {m['projected']} | "
            f"{m['projection_rate']:.3f} | {reasons} | {f1} |"
        )
    create_markdown_artifact(
        "\n".join(lines),
        key="projection-summary",
        description="projection rate and drop reasons per label",
    )
