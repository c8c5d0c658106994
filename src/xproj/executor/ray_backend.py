"""The Ray Data backend of the executor: shard steps on a pool of Ray actors, commit on the driver.

The executor (:mod:`xproj.executor.core`) stays the one owner of identity, staging, resume and
the exactly-once commit; this backend only runs the plan's step elsewhere and hands the outputs
back. Each actor of a Ray Data ``ActorPoolStrategy`` builds the plan from its class and config
and prepares it once (one CTranslate2 translator per actor, on a GPU of its own when
``gpus_per_actor`` is set; the aligner priors the driver learned are read from the run's staging
area), then processes shard after shard (``map_batches`` with one shard per batch).

A plan whose step splits (:class:`~xproj.executor.core.TwoStagePlan`: translate-train with a
projector that aligns words) can run as two stages: the translation actors only translate, and
a pool of CPU actors (``align_actors``) tokenizes, aligns and projects what they made, so a GPU
never waits for eflomal. That is the default on GPU actors; on CPU actors one process doing both
halves is as fast and saves a copy of every shard, so there ``align_actors`` is 0 unless set.

The driver stages every output as it arrives, so:

- a shard staged before a crash or Ctrl-C is not sent again when the run resumes (the executor
  skips staged shards before they reach the backend), and the translation cache in the lake is
  consulted by every actor before it translates;
- a worker process that dies is restarted by Ray and its shard retried (``max_restarts``,
  ``max_task_retries``); a shard's output is staged under its id, so a retried shard can never
  be committed twice;
- nothing is committed from a worker: the commit is the driver's, as in a local run.

Shards are sent in windows of ``window`` shards per Ray Data pipeline, so the driver never holds
more than that many shards' records at once (each window starts its actors afresh; a window of
many shards keeps that cost rare).

Ray is an optional extra: ``pip install 'xproj[ray]'``. ``address=None`` starts a local Ray with
``num_cpus`` CPUs; ``address="auto"`` or ``ray://host:port`` joins a running cluster. Ray's usage
reporting is turned off (``RAY_USAGE_STATS_ENABLED=0``) unless the user set it.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xproj.schemas.errors import E_BACKEND_MISSING, E_RAY_RESOURCES, BackendError

logger = logging.getLogger("xproj")


@dataclass(frozen=True, slots=True)
class RaySettings:
    """Where and how wide the Ray backend runs.

    Attributes:
        address: a running cluster (``auto``, ``ray://host:10001``), or None for a local Ray.
        actors: translation actors in the pool (each holds its own model).
        cpus_per_actor: CPUs each translation actor reserves.
        gpus_per_actor: GPUs each actor reserves (1 on GPU nodes: one translator per GPU).
        align_actors: CPU actors that align and project apart from the translation actors, for
            a plan whose step splits (0: the translation actors do it; None: as many as
            ``actors`` when they hold GPUs, else 0).
        cpus_per_align_actor: CPUs each of those reserves.
        num_cpus: CPUs of a local Ray (None: all of the machine's).
        window: shards per Ray Data pipeline.
        max_restarts: how often Ray restarts a dead actor (and retries its shard).
    """

    address: str | None = None
    actors: int = 1
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    align_actors: int | None = None
    cpus_per_align_actor: float = 1.0
    num_cpus: int | None = None
    window: int = 64
    max_restarts: int = 3

    def aligners_for(self, plan: Any) -> int:
        """How many CPU actors align and project apart for ``plan`` (0: none)."""
        from xproj.executor.core import TwoStagePlan

        if not (isinstance(plan, TwoStagePlan) and plan.splits()):
            return 0
        if self.align_actors is None:
            return self.actors if self.gpus_per_actor > 0 else 0
        return self.align_actors


class _Worker:
    """A Ray actor: the plan built from its class and config and prepared once for ``stage``,
    then one shard per call."""

    stage = "all"

    def __init__(self, factory: Any, config: Any, run: Any) -> None:
        self.plan = factory(config)
        log = logging.getLogger("xproj.ray")
        if self.stage == "all":
            self.plan.prepare(run, log)
        else:
            self.plan.prepare(run, log, stage=self.stage)


class _ShardWorker(_Worker):
    """Both halves of the step: shard → output."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from xproj.executor.core import run_step

        outputs = [
            pickle.dumps(run_step(self.plan.process, pickle.loads(p))) for p in batch["shard"]
        ]
        return {"id": list(batch["id"]), "output": outputs}


class _TranslateWorker(_Worker):
    """The model stage of a two-stage plan: shard → its translations (the shard passed on)."""

    stage = "translate"

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from xproj.executor.core import run_step

        shards = list(batch["shard"])
        done = [pickle.dumps(run_step(self.plan.translate_step, pickle.loads(p))) for p in shards]
        return {"id": list(batch["id"]), "shard": shards, "translated": done}


class _ProjectWorker(_Worker):
    """The CPU stage of a two-stage plan: shard and translations → output."""

    stage = "project"

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        outputs = [
            pickle.dumps(self.plan.project_step(pickle.loads(p), pickle.loads(t)))
            for p, t in zip(batch["shard"], batch["translated"], strict=True)
        ]
        return {"id": list(batch["id"]), "output": outputs}


def _ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise BackendError(
            "the Ray executor needs Ray, which is not installed.",
            fix="pip install 'xproj[ray]' (or pip install 'ray[data]'), or use --executor local.",
            code=E_BACKEND_MISSING,
        ) from None
    return ray


class RayBackend:
    """Runs a plan's step on a Ray Data actor pool (see the module docstring)."""

    def __init__(self, settings: RaySettings | None = None) -> None:
        self.settings = settings or RaySettings()
        self._started = False  # whether start() started Ray (stop() shuts it down)

    def _init(self, ray: Any) -> bool:
        """Start or join Ray; True when this call started it (and must shut it down)."""
        if ray.is_initialized():
            return False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        s = self.settings
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if s.address is None:
            kwargs["num_cpus"] = s.num_cpus
        ray.init(address=s.address, **kwargs)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        return True

    def start(self, plan: Any) -> None:
        """Start or join Ray and refuse pools it cannot hold, before the plan prepares (its
        aligner priors may take long): a refusal costs nothing."""
        ray = _ray()
        self._started = self._init(ray) or self._started
        try:
            self._check_resources(ray, self.settings.aligners_for(plan))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Shut down the Ray that :meth:`start` started (a joined one is left running)."""
        if self._started:
            self._started = False
            _ray().shutdown()

    def map(
        self, plan: Any, shards: Iterator[Any], reporter: Any, run: Any = None
    ) -> Iterator[tuple[Any, Any]]:
        ray = _ray()
        if not ray.is_initialized():  # used without start()
            self.start(plan)
        s = self.settings
        aligners = s.aligners_for(plan)
        if aligners:
            logger.info(
                "Ray: %d translation actor(s), %d align-and-project actor(s)", s.actors, aligners
            )
        while True:
            window = list(itertools.islice(shards, s.window))
            if not window:
                return
            by_id = {shard.id: shard for shard in window}
            items = [{"id": shard.id, "shard": pickle.dumps(shard)} for shard in window]
            with warnings.catch_warnings():  # restart and retry settings: no named
                # parameter of map_batches takes them yet
                warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
                dataset = self._pipeline(ray, items, plan, run, aligners)
            for row in dataset.iter_rows():
                yield by_id[row["id"]], pickle.loads(row["output"])

    def _pipeline(self, ray: Any, items: list, plan: Any, run: Any, aligners: int) -> Any:
        """One window's Ray Data pipeline: items → (translation actors → align actors, or
        actors that do both) → outputs."""
        s = self.settings
        # the workers see the driver's xproj and Hugging Face settings (lake, models, offline
        # flags), whoever started Ray
        env = {k: v for k, v in os.environ.items() if k.startswith(("XPROJ_", "HF_"))}
        common = {
            "fn_constructor_kwargs": {"factory": type(plan), "config": plan.config, "run": run},
            "batch_size": 1,
            "max_restarts": s.max_restarts,
            "max_task_retries": s.max_restarts,
            "runtime_env": {"env_vars": env} if env else None,
        }
        dataset = ray.data.from_items(items).map_batches(
            _TranslateWorker if aligners else _ShardWorker,
            compute=ray.data.ActorPoolStrategy(size=max(1, min(s.actors, len(items)))),
            num_cpus=s.cpus_per_actor,
            num_gpus=s.gpus_per_actor or None,
            **common,
        )
        if aligners:
            dataset = dataset.map_batches(
                _ProjectWorker,
                compute=ray.data.ActorPoolStrategy(size=max(1, min(aligners, len(items)))),
                num_cpus=s.cpus_per_align_actor,
                **common,
            )
        return dataset

    def _check_resources(self, ray: Any, aligners: int) -> None:
        """Refuse pools a local Ray cannot hold (Ray Data would wait for them forever); on a
        cluster joined by address, which may grow, only warn."""
        s = self.settings
        # a window's pools hold at most ``window`` actors each
        need = {
            "CPU": min(s.actors, s.window) * s.cpus_per_actor
            + min(aligners, s.window) * s.cpus_per_align_actor,
            "GPU": min(s.actors, s.window) * s.gpus_per_actor,
        }
        have = ray.cluster_resources()
        short = {k: (v, have.get(k, 0.0)) for k, v in need.items() if v > have.get(k, 0.0) + 1e-9}
        if not short:
            return
        what = "; ".join(f"{want:g} {k} wanted, {got:g} in the cluster"
                         for k, (want, got) in short.items())  # fmt: skip
        fix = (
            "use fewer actors (--ray-actors, ray.align_actors) or fewer CPUs or GPUs each "
            "(ray.cpus_per_actor, ray.cpus_per_align_actor, ray.gpus_per_actor)"
        )
        if s.address is None:  # a local Ray: it will not grow
            raise BackendError(
                f"the Ray actor pools do not fit: {what}.",
                fix=fix + ", or give the local Ray more CPUs (ray.num_cpus).",
                code=E_RAY_RESOURCES,
            )
        logger.warning("the Ray actor pools do not fit the cluster yet (%s): %s.", what, fix)
