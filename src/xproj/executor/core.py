"""The one run executor: every flow declares a plan, the executor runs it exactly once.

A flow is a :class:`Plan`: what identifies the run (its parameters and input fingerprints), how
to read its records, and a step that turns one shard of records into rows
(:class:`ShardOutput`). The plan knows nothing of staging, locks, commits, summaries or Prefect;
:func:`execute` owns all of them, for every flow alike (datatrove's executor is the model):

1. **Identity and reuse.** The run key is a hash of the flow, its parameters and its inputs'
   content. The run holds the run key's lock for its whole life, so two identical runs started
   together never both compute: the second waits, then finds the first one's commit and reuses
   it (and says so). A committed identical run is reused unless ``force``.
2. **Staging and resume.** Each shard's rows are staged (``xproj.catalog.staging``) with the counts the
   summary needs; a rerun after a crash or Ctrl-C skips the staged shards, and a run whose shards
   are all staged (sealed) goes straight to the commit.
3. **The shard loop**, with a progress bar, through a :class:`Backend`: in this process
   (:class:`LocalBackend`), or on a pool of Ray actors (``xproj.executor.ray_backend``) that
   hands the outputs back to be staged here.
4. **The commit**: orphans of killed commits are cleaned first, then every table and the ``runs``
   row go in through ``Lake.commit`` (exactly once per table, under the lake's commit lock).
5. **One summary** (:class:`~xproj.executor.summary.RunSummary`), rendered by one renderer for the CLI and
   the Prefect artifact.

SIGINT and SIGTERM stop the run at once (:mod:`xproj.executor.interrupts`): nothing is committed, the
staged shards stay, and the error says how to resume. A run in which no record was used (every
record rejected, or none read) is refused with XP120 unless ``allow_empty``.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from xproj.catalog.locks import signals_deferred
from xproj.executor.interrupts import Interrupted, trap
from xproj.executor.summary import RunSummary, Tally, build_tally, gold_block, merge_counts
from xproj.schemas.errors import E_NOTHING_USED, InputFormatError, Reject

REJECTED = "rejected"
FINAL_SHARD = "final"
#: The staged unit that holds the counts of what ``Plan.prepare`` did for the run.
PREPARE_SHARD = "prepare"

logger = logging.getLogger("xproj")


@dataclass(frozen=True, slots=True)
class Shard:
    """One unit of work: the records of shard ``index``, for fan-out ``key`` (a language).

    Attributes:
        id: the staging id (``"3"``, or ``"3.de"`` with a key).
        index: the shard's number, from 0.
        start: how many records the shards before this one hold (records rejected at read
            not counted); what is read by input position (``given.v1`` links) uses the
            records' own positions, which count them.
        records: the shard's records (rejected input records are not among them).
        key: the fan-out key, or None for a flow without fan-out.
    """

    id: str
    index: int
    start: int
    records: Sequence[Any]
    key: str | None = None


@dataclass(slots=True)
class ShardOutput:
    """What a step made of a shard.

    Attributes:
        rows: output table → its records (``xproj.schemas.tables.RECORDS``; the executor
            stamps ``run_id`` and converts them to Arrow once) or Arrow tables.
        rejects: records of the shard the step could not use, one per record, with the reason.
        stats: the flow's own counters (nested dicts of numbers, summed over shards); counts
            against gold go under ``"gold"`` as ``{label: {"gold", "pred", "correct"}}``.
    """

    rows: dict[str, Any] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Identity:
    """What identifies a run, and what its ``runs`` row records besides.

    Attributes:
        parameters: recorded in ``runs.parameters`` (paths as the user gave them).
        key_parameters: what enters the run key (no paths, no local settings).
        inputs: the inputs with their content fingerprints.
        aligner: the aligner's strategy name, if any.
        models: the ids of the models the run uses.
        tokenizers: language → the word tokenizer and its version (recorded in
            ``runs.parameters`` as ``tokenizers``).
    """

    parameters: dict[str, Any]
    key_parameters: dict[str, Any]
    inputs: list[Any]
    aligner: str | None = None
    models: tuple[str, ...] = ()
    tokenizers: dict[str, str] = field(default_factory=dict)


class Plan(Protocol):
    """A flow as the executor sees it. Steps know nothing of how they are run."""

    flow: str  #: the flow's name in ``runs``
    title: str  #: one line for the summary
    tables: tuple[str, ...]  #: output tables (``rejected`` is always one too)
    tallies: tuple[Tally, ...]  #: what the summary counts
    shard_size: int
    keys: tuple[str, ...] | None  #: fan-out keys (target languages), None for none

    def identity(self) -> Identity:
        """The run's identity (may load what identifies a model)."""
        ...

    def prepare(self, run: Any, log: Any) -> dict[str, Any] | None:
        """Build what the steps need (models, caches), once the run is known to go ahead.

        Returns the counts of any work done here that belongs to the run (e.g. the translations
        of the aligner priors' sample), staged once so the summary counts them whichever
        backend runs the shards; None when there is none."""
        ...

    def records(self) -> Iterable[Any]:
        """The input records and rejects (``Reject``), in input order, as a stream."""
        ...

    def process(self, shard: Shard) -> ShardOutput:
        """The step: one shard's records → rows, rejects and counts."""
        ...

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        """Run-level rows made once every shard is in (e.g. ``evaluations``, the rejects of
        extra inputs): table → records or Arrow tables, as in :class:`ShardOutput`."""
        ...

    def close(self) -> None:
        """Flush and release what :meth:`prepare` built."""
        ...


@runtime_checkable
class TwoStagePlan(Protocol):
    """A plan whose step a backend may run as two stages apart: the model stage (translation,
    on the model's device) and the CPU stage (alignment and projection), so a GPU never waits
    for an aligner. ``process(shard)`` stays the one-process form of the same step:
    ``project_step(shard, translate_step(shard))``."""

    def splits(self) -> bool:
        """Whether this run's step splits (e.g. not when projecting needs the model too)."""
        ...

    def prepare(self, run: Any, log: Any, stage: str = "all") -> dict[str, Any] | None:
        """Build what ``stage`` needs: ``"all"``, ``"translate"`` or ``"project"``."""
        ...

    def translate_step(self, shard: Shard) -> Any:
        """The model stage of a shard: a picklable result for :meth:`project_step`."""
        ...

    def project_step(self, shard: Shard, translated: Any) -> ShardOutput:
        """The CPU stage of a shard, from what :meth:`translate_step` returned."""
        ...


class Reporter:
    """Where the executor logs, how it calls steps, and where the summary goes.

    This one logs to the ``xproj`` logger and calls steps directly; the Prefect reporter
    (``flows._prefect``) logs to the flow run, runs each shard as a task and writes the summary
    as an artifact.
    """

    def __init__(self, log: Any = None) -> None:
        self.log = log or logger

    def call(self, step: Callable[[Shard], ShardOutput], shard: Shard) -> ShardOutput:
        return step(shard)

    def artifact(self, summary: RunSummary) -> None:
        """Publish the summary (nowhere, outside Prefect)."""

    def progress(self, flow: str, shards: int, records: int, rejected: int) -> None:
        """Where the run stands after each staged shard (the CLI shows its own progress bar)."""

    def report(self, summary: RunSummary, path: Any) -> None:
        """Publish the path of the run's HTML report (nowhere, outside Prefect: the summary
        names it)."""


class Backend(Protocol):
    """Runs a plan's step over shards and hands the outputs back in any order (``run``: the run
    record, for a backend that prepares copies of the plan elsewhere). ``start`` comes before the
    plan prepares (a backend that cannot run it refuses then), ``stop`` after the last shard or
    a failure."""

    def start(self, plan: Plan) -> None: ...

    def stop(self) -> None: ...

    def map(
        self, plan: Plan, shards: Iterator[Shard], reporter: Reporter, run: Any = None
    ) -> Iterator[tuple[Shard, ShardOutput]]: ...


def run_step(step: Callable[[Shard], Any], shard: Shard) -> Any:
    """One shard through a step (``plan.process``, or a stage of a :class:`TwoStagePlan`),
    wherever a backend runs it: the fault-injection hook of the crash tests first."""
    from xproj.catalog import faults

    faults.in_shard()
    return step(shard)


class LocalBackend:
    """Every step in this process, one shard after the other."""

    def start(self, plan: Plan) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def map(
        self, plan: Plan, shards: Iterator[Shard], reporter: Reporter, run: Any = None
    ) -> Iterator[tuple[Shard, ShardOutput]]:
        for shard in shards:
            yield shard, reporter.call(lambda s: run_step(plan.process, s), shard)


class RunInterrupted(Interrupted):
    """An interrupted run, with the line that says what was kept and how to resume."""


def execute(
    plan: Plan,
    *,
    lake: Any,
    force: bool = False,
    allow_empty: bool = False,
    reporter: Reporter | None = None,
    backend: Backend | None = None,
    progress: bool | None = None,
) -> RunSummary:
    """Run ``plan`` into ``lake`` exactly once; returns its summary (or the reused run's).

    Args:
        plan: the flow's plan.
        lake: the :class:`~catalog.Lake` to commit to.
        force: run even when an identical run is committed.
        allow_empty: commit a run that used no record (refused otherwise, XP120).
        reporter: logging, step calls and the artifact (plain logging by default).
        backend: where steps run (this process by default).
        progress: show a progress bar (default: when stderr is a terminal).

    Raises:
        RunInterrupted: SIGINT or SIGTERM; nothing committed, staged shards kept.
        InputFormatError: XP120 when no record was used and ``allow_empty`` is off.
    """
    from xproj.catalog import RunRecord, Staging
    from xproj.catalog.locks import run_lock

    reporter = reporter or Reporter()
    backend = backend or LocalBackend()
    log = reporter.log
    t0 = time.perf_counter()
    with trap():
        ident = plan.identity()
        parameters = ident.parameters
        if ident.tokenizers:
            parameters = {**parameters, "tokenizers": ident.tokenizers}
        run = RunRecord.start(
            plan.flow,
            parameters,
            ident.inputs,
            aligner=ident.aligner,
            models=ident.models,
            key_parameters=ident.key_parameters,
        )
        lock = run_lock(lake.root, run.run_key)
        if not lock.try_acquire():
            log.info(
                "an identical run (key %s, %s) is in progress in another process; waiting for it",
                run.run_key,
                lock.owner() or "owner unknown",
            )
            lock.acquire()
        try:
            staging = Staging(lake, run.run_key)
            reused = _committed(lake, run, staging, force, log)
            if reused is not None:
                reporter.artifact(reused)
                return reused
            staging.resume(run)
            try:
                summary = _staged_summary(plan, run, staging, reporter, backend, progress, log)
                _check_used(plan, summary, allow_empty, staging, ident)
                for line in lake.clean_orphans():
                    log.warning("%s", line)
                outputs = {name: staging.files(name) for name in _tables(plan, staging)}
                run.metrics = summary.to_metrics()
                run.timings = {"total_s": round(time.perf_counter() - t0, 3)}
                summary.versions = lake.commit(run, outputs)
                with signals_deferred():
                    staging.clear()
            except KeyboardInterrupt as exc:
                raise _interrupted(exc, staging, lake, run) from None
        finally:
            lock.release()
    reporter.artifact(summary)
    return summary


def _committed(lake, run, staging, force: bool, log) -> RunSummary | None:
    """The earlier identical run's summary, unless ``force``; clears stale staging."""
    staged_id = staging.staged_run_id()
    if staged_id is not None and staged_id in lake.committed_run_ids():
        staging.clear()  # committed, then killed before cleaning up
    if force:
        return None
    previous = lake.find_run(run.run_key)
    if previous is None:
        return None
    log.info(
        "identical run %s already committed (same inputs and settings); nothing to do "
        "(use --force to run it again)",
        previous.run_id,
    )
    versions = {o.table: o.version for o in previous.outputs if o.version is not None}
    return RunSummary.from_metrics(
        previous.flow,
        previous.run_id,
        previous.run_key,
        previous.metrics,
        versions=versions,
        reused=True,
    )


def _staged_summary(plan, run, staging, reporter, backend, progress, log) -> RunSummary:
    """Stage every shard (skipping those an earlier attempt staged) and seal the run."""
    sealed = staging.sealed()
    if sealed is not None:
        log.info("every shard of this run was staged by an earlier attempt; committing it")
        return RunSummary.from_metrics(plan.flow, run.run_id, run.run_key, sealed)
    backend.start(plan)
    try:
        prepared = plan.prepare(run, log)
        if prepared and any(prepared.values()) and not staging.done(PREPARE_SHARD):
            # a resumed run keeps the first attempt's count
            staging.put(PREPARE_SHARD, {}, meta={"stats": prepared})
        try:
            attempt = _shard_loop(plan, run, staging, reporter, backend, progress, log)
        finally:
            plan.close()
    finally:
        backend.stop()
    summary = _summarize(plan, run, staging)
    summary.attempt = attempt
    final = plan.finish(summary)
    if final:
        staging.put(FINAL_SHARD, _to_tables(final, run.run_id), replace=True)
        summary.rows = _rows(plan, staging)
        summary.rejected = _rejected(staging)
    staging.seal(summary.to_metrics())
    return summary


def _shards(plan: Plan, staging, run_id: str, counter: dict[str, int]) -> Iterator[Shard]:
    """Cut the records into shards; stage each shard's read rejects; skip staged units."""
    items = iter(plan.records())
    start = 0
    for index in itertools.count():
        chunk = list(itertools.islice(items, plan.shard_size))
        if not chunk:
            return
        records = [r for r in chunk if not isinstance(r, Reject)]
        rejects = [r for r in chunk if isinstance(r, Reject)]
        read_id = f"{index}.read"
        if not staging.done(read_id):
            staging.put(
                read_id,
                _to_tables({REJECTED: rejects}, run_id),
                meta={"read": len(records), "rejected_at_read": len(rejects)},
            )
        counter["records"] += len(chunk)
        for key in plan.keys or (None,):
            shard_id = f"{index}" if key is None else f"{index}.{key}"
            if staging.done(shard_id):
                counter["reused_shards"] += 1
                continue
            if records:
                yield Shard(shard_id, index, start, records, key)
        start += len(records)


def _shard_loop(plan, run, staging, reporter, backend, progress, log) -> dict[str, Any]:
    """Stage every shard not staged yet; returns what this attempt did (shards run and reused,
    the counts of the shards it ran)."""
    from tqdm.auto import tqdm

    counter: dict[str, int] = {"records": 0, "reused_shards": 0}
    attempt: dict[str, Any] = {"shards_run": 0, "shards_reused": 0, "stats": {}}
    bar = tqdm(desc=plan.flow, unit="rec", disable=None if progress is None else not progress)
    seen = rejected = 0
    try:
        for shard, output in backend.map(
            plan, _shards(plan, staging, run.run_id, counter), reporter, run
        ):
            tables = _shard_tables(plan, output, run.run_id)
            staging.put(shard.id, tables, meta=_meta(plan, shard, output, tables))
            attempt["shards_run"] += 1
            rejected += len(output.rejects)
            reporter.progress(plan.flow, attempt["shards_run"], counter["records"], rejected)
            merge_counts(attempt["stats"], {k: v for k, v in output.stats.items() if k != "gold"})
            log.info(
                "shard %s: %d records, %d rejected",
                shard.id,
                len(shard.records),
                len(output.rejects),
            )
            bar.update(counter["records"] - seen)
            seen = counter["records"]
        bar.update(counter["records"] - seen)
    finally:
        bar.close()
    attempt["shards_reused"] = counter["reused_shards"]
    if counter["reused_shards"]:
        log.info("%d shard(s) staged by an earlier attempt were reused", counter["reused_shards"])
    return attempt


def _to_tables(rows: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Each table's records (or Arrow data) as Arrow, with the run's id stamped: the one
    conversion of a step's output."""
    from xproj.schemas.arrow import conform

    return {name: conform(name, data, run_id=run_id) for name, data in rows.items()}


def _shard_tables(plan: Plan, output: ShardOutput, run_id: str) -> dict[str, Any]:
    unknown = set(output.rows) - set(plan.tables)
    if unknown:
        raise ValueError(f"step of {plan.flow} returned undeclared tables {sorted(unknown)}")
    rows = {name: output.rows.get(name, []) for name in plan.tables}
    return _to_tables({**rows, REJECTED: output.rejects}, run_id)


def _meta(plan: Plan, shard: Shard, output: ShardOutput, tables: dict[str, Any]) -> dict[str, Any]:
    """What the summary needs of a staged shard: record counts, the step's counts, and the
    tallies over its rows (``tables``, conformed, ``rejected`` included)."""
    tally = {}
    for t in plan.tallies:
        names = [n for n in dict.fromkeys(s.table for s in t.sources) if n in tables]
        tally[t.name] = [row for n in names for row in t.count(n, tables[n])]
    return {
        "processed": len(shard.records),
        "rejected": len(output.rejects),
        "stats": output.stats,
        "tally": tally,
    }


def _summarize(plan: Plan, run, staging) -> RunSummary:
    """The run's summary from the counts staged with every shard."""
    records = {"read": 0, "rejected_at_read": 0, "processed": 0, "rejected": 0}
    stats: dict[str, Any] = {}
    tally_rows: dict[str, list] = {t.name: [] for t in plan.tallies}
    for shard_id in staging.shards():
        meta = staging.meta(shard_id) or {}
        for key in records:
            records[key] += int(meta.get(key, 0))
        merge_counts(stats, meta.get("stats", {}))
        for name, rows in meta.get("tally", {}).items():
            tally_rows.setdefault(name, []).extend(rows)
    records["used"] = records["processed"] - records["rejected"]
    gold = stats.pop("gold", None)
    return RunSummary(
        flow=plan.flow,
        title=plan.title,
        run_id=run.run_id,
        run_key=run.run_key,
        records=records,
        rejected=_rejected(staging),
        rows=_rows(plan, staging),
        tallies={t.name: build_tally(t, tally_rows.get(t.name, [])) for t in plan.tallies},
        stats=stats,
        gold=gold_block(gold) if gold else None,
        staging=str(staging.folder),
    )


def _rejected(staging) -> dict[str, int]:
    """Rejected records per ``<stage>.<code>``, over every staged shard."""
    counts = staging.count_by(REJECTED, ["stage", "code"])
    return {f"{s}.{c}": n for (s, c), n in sorted(counts.items())}


def _rows(plan: Plan, staging) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {
        name: sum(pq.ParquetFile(p).metadata.num_rows for p in staging.files(name).paths)
        for name in _tables(plan, staging)
    }


def _tables(plan: Plan, staging) -> list[str]:
    """The run's output tables: the plan's, ``rejected``, and any the final shard added."""
    names = [*plan.tables, REJECTED]
    names += [name for name in staging.tables(FINAL_SHARD) if name not in names]
    return names


def _check_used(plan: Plan, summary: RunSummary, allow_empty: bool, staging, ident) -> None:
    if allow_empty or summary.used > 0:
        return
    read = summary.records.get("read", 0) + summary.records.get("rejected_at_read", 0)
    if read == 0:
        what = "read no record"
    else:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.rejected.items()))
        what = f"used none of its {read} record(s): every one was rejected ({counts})"
        first = _first_reject(staging)
        if first:
            what += f"; the first: {first}"
    raise InputFormatError(
        f"the {plan.flow} run {what}. Nothing was committed; the staged shards are kept in "
        f"{staging.folder}.",
        fix="check the input's path and format (--source-format and friends), or pass "
        "--allow-empty to commit the run as it is.",
        file=ident.inputs[0].ref if ident.inputs else None,
        code=E_NOTHING_USED,
    )


def _first_reject(staging) -> str:
    table = staging.read_columns(REJECTED, ["source", "locator", "code", "reason"])
    if table.num_rows == 0:
        return ""
    r = table.slice(0, 1).to_pylist()[0]
    return f"[{r['code']}] {r['source']} {r['locator']}: {r['reason']}"


def _interrupted(exc: BaseException, staging, lake, run) -> RunInterrupted:
    """The interrupt, with a message that says what it left: a committed run (when the signal
    came after its ``runs`` row), or nothing committed and the staged shards to resume from."""
    from xproj.executor.interrupts import as_interrupted

    signum = as_interrupted(exc).signum
    name = _signal_name(signum)
    if run.run_id in lake.committed_run_ids():
        message = (
            f"interrupted by {name} after run {run.run_id} was committed: the run is complete "
            "(any staging left behind is cleared by the next run)."
        )
        return RunInterrupted(signum, message)
    units = [
        s
        for s in staging.shards()
        if not s.endswith(".read") and s not in (FINAL_SHARD, PREPARE_SHARD)
    ]
    message = (
        f"interrupted by {name}: nothing was committed; {len(units)} shard(s) are staged in "
        f"{staging.folder}. Run the same command again to resume from them."
    )
    return RunInterrupted(signum, message)


def _signal_name(signum: int) -> str:
    import signal

    return signal.Signals(signum).name
