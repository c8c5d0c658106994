"""Projection quality that does not depend on the shard size: eflomal priors learned once.

eflomal learns its statistics from the pairs it aligns, so a run cut into small shards used to
project worse than one that aligns the whole input at once. With ``aligner_priors: auto`` (the
default) a run learns the statistics once over the whole input and aligns every shard with them
as priors. This benchmark runs the ``project_parallel`` flow on the shared Europarl NER pair
(en→es, 799 sentences, human gold) side by side:

* ``whole``: the whole input in one shard (the default shard size; no priors needed);
* ``shard-100``: ``--shard-size 100`` with priors (the default);
* ``shard-100-off``: ``--shard-size 100`` with ``aligner_priors: off`` (what runs did before).

eflomal cannot be seeded, so each configuration runs ``--reps`` times in fresh lakes; the means
decide. Bar: ``shard-100`` within 0.015 F1 of ``whole``. ``--executor ray`` runs the sharded
configurations on a local Ray (``--ray-actors``, 2 CPUs): the driver learns the priors, the
actors read them from the run's staging area.

    python -m benchmarks.shard_size_quality [--reps 3] [--shard-size 100] [--executor ray]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from typing import Any

from benchmarks._common import Timer, shared_data_dir, versions, write_result

BAR = 0.015


def run_once(
    shared, lake: str, shard_size: int | None, priors: str, executor: str = "local", actors: int = 2
) -> dict[str, Any]:
    """One project_parallel run in ``lake``: its gold scores and seconds."""
    from xproj.flows.config import ProjectParallelConfig
    from xproj.flows.project_parallel import project_parallel

    extra = {"shard_size": shard_size} if shard_size else {}
    config = ProjectParallelConfig(
        name="europarl-en-es",
        source={"path": str(shared / "ner-europarl/en-europarl.test.conll02"), "lang": "en"},
        target={"path": str(shared / "ner-europarl/es-europarl.test.conll02"), "lang": "es"},
        aligner_priors=priors,
        lake=lake,
        executor=executor if shard_size else "local",
        ray={"actors": actors},
        **extra,
    )
    with Timer() as t:
        summary = project_parallel.fn(config)
    micro = summary.metrics["gold"]["_micro"]
    return {"f1": micro["f1"], "precision": micro["precision"], "recall": micro["recall"],
            "seconds": t.seconds, "shards": summary.metrics["attempt"]["shards_run"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="runs per configuration")
    parser.add_argument("--shard-size", type=int, default=100, help="the small shard size")
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    parser.add_argument("--ray-actors", type=int, default=2)
    args = parser.parse_args(argv)
    if args.executor == "ray":
        import os

        import ray

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    shared = shared_data_dir()
    small = args.shard_size
    configs = {
        "whole": (None, "auto"),
        f"shard-{small}": (small, "auto"),
        f"shard-{small}-off": (small, "off"),
    }
    table: dict[str, Any] = {}
    for rep in range(args.reps):  # interleaved, so drift of the machine hits all alike
        for name, (size, priors) in configs.items():
            with tempfile.TemporaryDirectory(prefix="xproj-bench-") as lake:
                result = run_once(shared, lake, size, priors, args.executor, args.ray_actors)
            table.setdefault(name, []).append(result)
            print(f"rep {rep + 1} {name:16s} F1 {result['f1']:.4f} ({result['seconds']:.1f} s, "
                  f"{result['shards']} shards)", flush=True)  # fmt: skip
    summary = {}
    for name, runs in table.items():
        f1s = [r["f1"] for r in runs]
        summary[name] = {
            "f1_mean": round(statistics.mean(f1s), 4),
            "f1_min": round(min(f1s), 4),
            "f1_max": round(max(f1s), 4),
            "seconds_mean": round(statistics.mean(r["seconds"] for r in runs), 2),
            "shards": runs[0]["shards"],
        }
    gap = round(summary["whole"]["f1_mean"] - summary[f"shard-{small}"]["f1_mean"], 4)
    gap_off = round(summary["whole"]["f1_mean"] - summary[f"shard-{small}-off"]["f1_mean"], 4)
    passed = abs(gap) <= BAR
    for name, s in summary.items():
        print(f"{name:16s} F1 {s['f1_mean']:.4f} [{s['f1_min']:.4f}, {s['f1_max']:.4f}] "
              f"{s['seconds_mean']:.1f} s/run")  # fmt: skip
    print(f"gap whole − shard-{small}: {gap:+.4f} (bar ±{BAR}: {'PASS' if passed else 'FAIL'}); "
          f"without priors {gap_off:+.4f}")  # fmt: skip
    path = write_result(
        "shard_size_quality" + ("_ray" if args.executor == "ray" else ""),
        {
            "settings": {
                "reps": args.reps,
                "small_shard": small,
                "executor": args.executor,
                "ray_actors": args.ray_actors if args.executor == "ray" else None,
                "data": "Europarl NER en→es test (799 sentences)",
            },  # fmt: skip
            "versions": versions(["eflomal", "xproj"]),
            "runs": table,
            "summary": summary,
            "gap_whole_minus_small": gap,
            "gap_without_priors": gap_off,
            "bar": BAR,
            "passed": passed,
        },
    )
    print(f"wrote {path}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
