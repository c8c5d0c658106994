"""How a flow's plan meets the executor: inside a Prefect flow run, or in this process alone.

Every flow module defines a Prefect ``@flow`` whose body is one call to :func:`run_plan`. Under
Prefect (a deployment on a worker, or a local call while a Prefect API is configured) the run
logs to the flow run, each shard is a task run, and the summary becomes the flow run's artifact.
Called without a flow run (the flow's ``.fn``), the same plan runs through the same executor with
plain logging and no Prefect server at all.

The CLI (:func:`launch`) takes the Prefect path only when a Prefect API is configured
(``PREFECT_API_URL``, e.g. a ``prefect server start`` that is already up, or Prefect Cloud), so a
local run never pays for starting a temporary server and Ctrl-C never reaches one.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from xproj.executor.core import Plan, Reporter, Shard, ShardOutput, execute
from xproj.executor.summary import RunSummary, render


class PrefectReporter(Reporter):
    """Logs to the flow run, runs each shard as a task run, updates a progress artifact after
    every shard (``<flow>-progress``) and writes the summary artifact."""

    def __init__(self, flow: str) -> None:
        from prefect import get_run_logger, task
        from prefect.cache_policies import NO_CACHE

        super().__init__(get_run_logger())
        self._task = task(name=f"{flow}-shard", cache_policy=NO_CACHE)(_call)

    def call(self, step, shard: Shard) -> ShardOutput:
        return self._task.with_options(task_run_name=f"shard {shard.id}")(step, shard)

    def progress(self, flow: str, shards: int, records: int, rejected: int) -> None:
        """A progress artifact of the flow run, a new version after every shard."""
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            f"**{flow}**: {shards} shard(s) done in this attempt, {records:,} records read, "
            f"{rejected:,} rejected so far.",
            key=f"{flow.replace('_', '-')}-progress",
            description=f"{flow}: progress, updated after every shard",
        )

    def artifact(self, summary: RunSummary) -> None:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            render(summary, "markdown"),
            key=f"{summary.flow.replace('_', '-')}-summary",
            description=summary.title,
        )

    def report(self, summary: RunSummary, path: Path) -> None:
        """The summary artifact again, now naming the report, and a link artifact to it."""
        from prefect.artifacts import create_link_artifact

        self.artifact(summary)
        create_link_artifact(
            path.resolve().as_uri(),
            link_text=f"report of run {summary.run_id[:8]} ({path.name})",
            key=f"{summary.flow.replace('_', '-')}-report",
            description=f"{summary.title}: the HTML report (rates, drop reasons, examples)",
        )


def _call(step, shard: Shard) -> ShardOutput:
    return step(shard)


def in_flow_run() -> bool:
    """Whether this code runs inside a Prefect flow run."""
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def run_plan(plan: Plan, config: Any) -> RunSummary:
    """Execute ``plan`` with the lake, ``force`` and ``allow_empty`` of ``config`` (every flow
    config has them: :class:`~xproj.flows.config._RunSettings`), then publish the committed run
    when the config has a ``publish:`` block."""
    from xproj.catalog import Lake

    reporter = PrefectReporter(plan.flow) if in_flow_run() else Reporter()
    if config.publish is not None:
        from xproj.flows.publish import check_target

        check_target(config.publish, plan.flow)
    with gpu_slot(getattr(config, "gpu_slots", None)):
        summary = execute(
            plan,
            lake=Lake(config.lake),
            force=config.force,
            allow_empty=config.allow_empty,
            reporter=reporter,
            backend=config.backend(),
        )
    if config.publish is not None:
        from xproj.flows.publish import publish_run

        published = publish_run(summary, config.publish, config.lake)
        summary.notes.append(published.render())
    if config.report:
        write_run_report(config.lake, summary, reporter)
    return summary


def write_run_report(lake: Any, summary: RunSummary, reporter: Reporter) -> Path | None:
    """Write the committed run's HTML report (``<lake>/_reports/<run id>.html``), name it in the
    summary and hand it to the reporter (a Prefect artifact). The run is committed by now, so a
    report that cannot be written is a warning, not a failed run."""
    from xproj.catalog import Lake
    from xproj.report import write_report
    from xproj.report.data import REPORTED_FLOWS

    if summary.flow not in REPORTED_FLOWS:
        return None
    try:
        path = write_report(Lake(lake), summary.run_id)
    except Exception as err:  # any failure here must not fail a committed run
        reporter.log.warning("the run is committed, but its report could not be written: %s", err)
        return None
    summary.notes.append(f"report: {path} (again: xproj report {summary.run_id[:8]} -o FILE)")
    reporter.report(summary, path)
    return path


@contextlib.contextmanager
def gpu_slot(name: str | None):
    """Hold one slot of the Prefect global concurrency limit ``name`` (a flow config's
    ``gpu_slots``) inside a flow run; nothing outside one, or without a name.

    Raises:
        ConfigError: XP301 when the limit does not exist (a run would otherwise go ahead
            without it).
    """
    if not name or not in_flow_run():
        yield
        return
    from prefect.client.orchestration import get_client
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectNotFound

    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

    try:
        with get_client(sync_client=True) as client:
            client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        raise ConfigError(
            f"gpu_slots names the concurrency limit {name!r}, which the Prefect server does not "
            "have.",
            fix=f"create it once with one slot per GPU: prefect gcl create {name} --limit <GPUs>",
            code=E_BAD_CONFIG,
        ) from None
    with concurrency(name, occupy=1, strict=True):
        yield


def prefect_api_url() -> str | None:
    """The configured Prefect API (environment or profile), or None."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


class _NoTracebackForCodedErrors(logging.Filter):
    """Drops the traceback Prefect logs with a coded error (its message says it all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from xproj.schemas.errors import XprojError

        if record.exc_info and isinstance(record.exc_info[1], XprojError):
            record.exc_info = None
            record.exc_text = None
        return True


def launch(flow: Any, config: Any, *, debug: bool = False) -> RunSummary:
    """Run a flow for the CLI: through Prefect when an API is configured, else in-process.

    Under Prefect, a coded error is logged without its traceback unless ``debug``.
    """
    if not prefect_api_url():
        return flow.fn(config)
    if debug:
        return flow(config)
    quiet = _NoTracebackForCodedErrors()
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    for log in loggers:
        log.addFilter(quiet)
    try:
        return flow(config)
    finally:
        for log in loggers:
            log.removeFilter(quiet)
