"""Run plumbing every flow shares: the result type, skipping identical runs, the commit task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE


@dataclass
class FlowResult:
    """What a finished (or reused) run returns; the CLI prints it."""

    run_id: str
    run_key: str
    versions: dict[str, int]
    metrics: dict[str, Any]
    reused: bool = False


def committed_run(lake, run, *, force: bool, log) -> FlowResult | None:
    """The result of an earlier committed run with the same run key, unless ``force``."""
    if force:
        return None
    previous = lake.find_run(run.run_key)
    if previous is None:
        return None
    log.info(
        "identical run %s already committed; nothing to do (use force to redo)", previous.run_id
    )
    versions = {o.table: o.version for o in previous.outputs if o.version is not None}
    return FlowResult(previous.run_id, run.run_key, versions, previous.metrics, reused=True)


def project_shard_rows(
    pairs,
    config,
    *,
    start: int,
    extra_bitext: list,
    run_id: str,
    tokenizer: str,
    translation_model: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Align one shard with the config's aligner, project its spans, build the table rows.

    ``start`` is the shard's first pair's position in the whole input (for aligners that read
    links by position); ``extra_bitext`` is extra training text for statistical aligners.
    """
    from catalog.rows import projection_rows
    from projectors.aligners import get_aligner
    from projectors.pipeline import project_pairs

    options = dict(config.aligner_options)
    if extra_bitext:
        options["extra_bitext"] = extra_bitext
    aligner = get_aligner(config.aligner, **options).for_shard(start)
    results = project_pairs(pairs, aligner, policy=config.policy.build()) if pairs else []
    return projection_rows(
        results,
        run_id=run_id,
        method=config.method,
        aligner=config.aligner,
        aligner_model=aligner.model_id,
        tokenizer=tokenizer,
        translation_model=translation_model,
    )


def input_ref(name: str, spec):
    """Lineage reference of an input: a file's fingerprint, or a dataset name as given."""
    from catalog import InputRef

    if spec.format == "hf":
        return InputRef(name, spec.path)
    return InputRef.for_file(name, spec.path)


def path_ref(name: str, path: str):
    """Lineage reference of a path: a file's fingerprint, or the path (a folder, a dataset name)."""
    from pathlib import Path

    from catalog import InputRef

    return InputRef.for_file(name, path) if Path(path).is_file() else InputRef(name, path)


def start_translating_run(flow_name: str, config, inner, inputs: list, lake, log, others=None):
    """The run record of a flow that translates with ``inner``, or the earlier identical run.

    The model's identity (id, quantization, family), not where it sits on this machine, goes
    into the run key (``others`` names further models by role, e.g. ``{"qg": qg_model}``).
    Returns ``(run, None)`` for a new run, ``(None, result)`` when an identical
    run is already committed (and ``config.force`` is off).
    """
    from catalog import RunRecord

    params = config.model_dump(exclude={"force", "lake", "models_root"})
    params["translator"] = {
        k: v for k, v in inner.describe().items() if k in ("model_id", "quantization", "family")
    }
    models = [inner.model_id]
    for role, model in (others or {}).items():  # other models of the run (a QG model)
        params[f"{role}_model"] = {
            k: v for k, v in model.describe().items() if k in ("model_id", "quantization", "family")
        }
        models.append(model.model_id)
    run = RunRecord.start(flow_name, params, inputs, aligner=config.aligner, models=models)
    return run, committed_run(lake, run, force=config.force, log=log)


@task(name="commit-outputs", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def commit_outputs(lake, run, outputs):
    """Commit every output table and the run row (I/O: retried; the commit is all-or-nothing)."""
    return lake.commit(run, outputs)
