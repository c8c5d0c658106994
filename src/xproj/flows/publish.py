"""Flow ``publish``: a table version → a dataset on the Hugging Face Hub (``xproj.publish``).

Publishing writes nothing to the lake, so it does not go through the run executor: it reads
committed rows only and its result is the Hub commit and tag (or the dry-run folder). Under
Prefect the result becomes the flow run's artifact.

A flow that makes data can publish when its run is committed: give its config a ``publish:``
block (:class:`PublishTarget`), e.g. in a ``translate-train`` deployment::

    source: {path: train.en.conll, lang: en}
    target_langs: [sw, yo]
    model: facebook--nllb-200-distilled-600M-int8
    publish: {repo: my-org/conll-sw-yo, license: cc-by-4.0}

The rows of that run are published (``projected`` for translate-train, ``paxqa``,
``entitycs_cs``) as a subflow run.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from xproj.executor.identity import LOCAL
from xproj.flows.config import PublishTarget

FLOW_NAME = "publish"


class PublishConfig(PublishTarget):
    """Configuration of the ``publish`` flow (the options of ``xproj publish``)."""

    #: ``TABLE`` or ``TABLE@VERSION``
    table: str
    runs: list[str] = Field(default_factory=list)
    langs: list[str] = Field(default_factory=list)
    lake: Annotated[str | None, LOCAL] = None


#: The table a flow's run is published from.
PUBLISHED_TABLE = {
    "translate_train": "projected",
    "translate_test": "projected",
    "project_parallel": "projected",
    "paxqa": "paxqa",
    "entitycs": "entitycs_cs",
}


def _artifact(text: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    from xproj.flows.runtime import in_flow_run

    if in_flow_run():
        create_markdown_artifact("```\n" + text + "\n```", key="publish-summary")


@flow(name=FLOW_NAME, log_prints=True)
def publish(config: PublishConfig) -> Any:
    """Publish a table version (committed rows only) to the Hub, or into a dry-run folder."""
    from xproj.publish import publish as publish_table

    result = publish_table(
        config.table,
        config.repo,
        lake=config.lake,
        config_by=config.config_by,
        split=config.split,
        runs=config.runs,
        langs=config.langs,
        private=config.private,
        create_pr=config.create_pr,
        revision=config.revision,
        dry_run=config.dry_run,
        license=config.license,
        pretty_name=config.pretty_name,
        tokenizer=config.tokenizer,
    )
    _artifact(result.render())
    return result


def check_target(target: PublishTarget | None, flow: str) -> None:
    """Before a run of ``flow`` with a ``publish:`` block: everything that does not need the
    run's rows (the options, the licence, the layout's options for the flow's table) and, unless
    it is a dry run, the Hub (offline, token, access), so a long run does not end in a publish
    that cannot start.

    Raises:
        ConfigError: XP301 for a bad option, or a block without ``license`` (a flow's inputs are
            not read before the run, so the licence cannot be inherited there).
        HubError: XP601–XP604.
    """
    if target is None:
        return
    from xproj.publish.hub import check_access, check_layout_options, check_options, make_api
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

    check_options(target.repo, target.split, target.config_by, target.revision, target.license)
    check_layout_options(PUBLISHED_TABLE[flow], target.config_by, target.tokenizer)
    if target.license is None:
        raise ConfigError(
            "the publish: block has no license.",
            fix="give the data's licence in the block (publish: {repo: …, license: cc-by-4.0}).",
            code=E_BAD_CONFIG,
        )
    if target.dry_run is None:
        check_access(make_api(), target.repo)


def publish_run(summary: Any, target: PublishTarget | None, lake: str | None) -> Any:
    """Publish the rows of a committed run (a flow's ``publish:`` block); None without one.

    Raises:
        XprojError: the publish failed; the message says that the run itself is committed and
            how to publish it once the problem is fixed.
    """
    if target is None:
        return None
    from xproj.schemas.errors import E_HUB_FAILED, HubError, XprojError

    table = PUBLISHED_TABLE[summary.flow]
    version = (summary.versions or {}).get(table)
    config = PublishConfig(
        **target.model_dump(),
        table=f"{table}@{version}" if version is not None else table,
        runs=[summary.run_id],
        lake=lake,
    )
    from xproj.flows.runtime import in_flow_run

    then = (
        f"Then publish the run with: xproj publish {config.table} --repo {target.repo} "
        f"--run {summary.run_id} (options of the publish: block as flags)."
    )
    try:
        return publish(config) if in_flow_run() else publish.fn(config)
    except XprojError as err:
        raise type(err)(
            f"run {summary.run_id} is committed, but publishing it failed: {err.message}",
            fix=(err.fix + " " if err.fix else "") + then,
            file=err.file,
            line=err.line,
            record=err.record,
            code=err.code,
        ) from err
    except Exception as err:
        raise HubError(
            f"run {summary.run_id} is committed, but publishing it failed "
            f"({type(err).__name__}: {str(err)[:200]}).",
            fix=then,
            code=E_HUB_FAILED,
        ) from err
