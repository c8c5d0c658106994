"""The one run executor behind every flow: run identity, staging, resume, commit, summary.

A flow declares a :class:`Plan` (``xproj.executor.core``); :func:`execute` runs it exactly once
into a lake. ``xproj.executor.summary`` holds the run summary and its renderer,
``xproj.executor.identity`` what makes a run key, ``xproj.executor.interrupts`` how SIGINT and
SIGTERM stop a run.
"""

from xproj.executor.core import (
    Backend,
    Identity,
    LocalBackend,
    Plan,
    Reporter,
    RunInterrupted,
    Shard,
    ShardOutput,
    TwoStagePlan,
    execute,
)
from xproj.executor.summary import RunSummary, Source, Tally, render

__all__ = [
    "Backend",
    "Identity",
    "LocalBackend",
    "Plan",
    "Reporter",
    "RunInterrupted",
    "RunSummary",
    "Shard",
    "ShardOutput",
    "Source",
    "Tally",
    "TwoStagePlan",
    "execute",
    "render",
]
