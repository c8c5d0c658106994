"""Scale-out overhead: translate-train through the local executor and through Ray actor pools.

The same input (synthetic labeled English sentences, and the tiny random NLLB-style model the
tests use, ``xproj.testing.tiny_mt.build_nllb``: speed only, never quality; its translations
hold words, so every step of the run has work) is translated into one language and projected with eflomal, in shards of ``--shard-size`` sentences, by:

* ``local``: the executor's steps in this process;
* ``ray-1``: a Ray Data pool of one actor (one translator) holding all ``--ray-cpus`` CPUs, as
  the local run has the whole machine: Ray sets ``OMP_NUM_THREADS`` of an actor to the CPUs it
  reserves, so an actor of one CPU would translate and align on one thread;
* ``ray-2``: a pool of two actors sharing them;
* ``ray-1+1``: the step in two stages, one translation actor and one actor that aligns and
  projects, one CPU each (the default shape on GPU actors, measured here on CPUs).

Each run starts from a fresh lake, so every sentence is translated (no cache hits), and uses
``aligner_priors: off`` so that all the work happens in the shards the executors run (with
priors the driver would translate the sample first). Ray is started once, before the Ray runs,
with ``--ray-cpus`` CPUs; its start-up time is reported on its own. Configurations are
interleaved over ``--reps`` repetitions and compared as ratios of records per second to the
local executor's, measured in the same run. On a 2-core machine two actors gain little: the
point is the overhead, and the bar is ``ray-1`` ≥ 85 % of ``local``.

    python -m benchmarks.scale_out [--sentences 6000] [--shard-size 100] [--reps 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import Timer, loadavg_fields, versions, write_result

BAR = 0.85


def run_once(source: Path, model: Path, lake: str, args, executor: str, ray: dict) -> float:
    """Seconds of one translate-train run."""
    from xproj.flows.config import TranslateTrainConfig
    from xproj.flows.translate_train import translate_train

    config = TranslateTrainConfig(
        source={"path": str(source), "lang": "en"},
        target_langs=["de"],
        model=str(model),
        lake=lake,
        shard_size=args.shard_size,
        max_decoding_length=args.max_decoding_length,
        aligner_priors="off",
        executor=executor,
        ray=ray,
        device="cpu",
    )
    with Timer() as t:
        summary = translate_train.fn(config)
    assert summary.records["used"] == args.sentences, summary.records
    return t.seconds


def main(argv: list[str] | None = None) -> int:
    from benchmarks._mt_models import write_conll
    from xproj.testing.tiny_mt import build_nllb, convert

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=6000)
    parser.add_argument("--shard-size", type=int, default=100)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--ray-cpus", type=int, default=2)
    parser.add_argument("--max-decoding-length", type=int, default=48)
    args = parser.parse_args(argv)

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    work = Path(tempfile.mkdtemp(prefix="xproj-scale-"))
    model = convert(build_nllb(work / "hf"), work / "ct2")
    source = write_conll(work / "source.en.conll", args.sentences)
    load_before = os.getloadavg()
    started = time.perf_counter()
    ray.init(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    share = args.ray_cpus / 2
    configs = {
        "local": ("local", {}),
        "ray-1": ("ray", {"actors": 1, "cpus_per_actor": float(args.ray_cpus)}),
        "ray-2": ("ray", {"actors": 2, "cpus_per_actor": share}),
        "ray-1+1": ("ray", {"actors": 1, "cpus_per_actor": share, "align_actors": 1,
                            "cpus_per_align_actor": share}),
    }  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in configs}
    try:
        for rep in range(args.reps):
            for name, (executor, ray_options) in configs.items():
                with tempfile.TemporaryDirectory(prefix="lake-", dir=work) as lake:
                    s = run_once(source, model, lake, args, executor, ray_options)
                seconds[name].append(s)
                print(f"rep {rep + 1} {name:6s} {s:6.1f} s  {args.sentences / s:6.1f} rec/s",
                      flush=True)  # fmt: skip
    finally:
        ray.shutdown()
    summary: dict[str, Any] = {}
    local = statistics.mean(seconds["local"])
    for name, runs in seconds.items():
        mean = statistics.mean(runs)
        summary[name] = {
            "seconds_mean": round(mean, 2),
            "seconds": [round(x, 2) for x in runs],
            "records_per_second": round(args.sentences / mean, 2),
            "ratio_to_local": round(local / mean, 3),
        }
    passed = summary["ray-1"]["ratio_to_local"] >= BAR
    for name, s in summary.items():
        print(
            f"{name:6s} {s['records_per_second']:7.1f} rec/s  ×{s['ratio_to_local']:.3f} of local"
        )
    print(f"Ray start-up (once): {ray_start:.1f} s; bar ray-1 ≥ {BAR:.0%} of local: "
          f"{'PASS' if passed else 'FAIL'}")  # fmt: skip
    path = write_result(
        "scale_out",
        {
            "settings": {
                "sentences": args.sentences,
                "shard_size": args.shard_size,
                "reps": args.reps,
                "ray_cpus": args.ray_cpus,
                "max_decoding_length": args.max_decoding_length,
                "model": "tiny random NLLB-style (xproj.testing.tiny_mt), int8 (speed only)",
                "aligner": "eflomal.v1, aligner_priors off",
                "target_langs": ["de"],
                "ray": {name: options for name, (_, options) in configs.items()},
            },
            "versions": versions(["ray", "ctranslate2", "eflomal", "xproj"]),
            "ray_startup_seconds": round(ray_start, 2),
            "summary": summary,
            "bar": BAR,
            "passed": passed,
            **loadavg_fields(load_before),
        },
    )
    print(f"wrote {path}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
