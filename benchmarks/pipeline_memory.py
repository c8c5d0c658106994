"""Peak memory of translate-train at two input sizes: does the flow stream?

A synthetic English CoNLL source (``benchmarks._mt_models.write_conll``: distinct sentences of
~14 tokens with PER/LOC spans) is translated into German by the ``translate_train`` flow with
the tests' tiny random NLLB-style model (d_model 32, 1 + 1 layers, ~600-entry vocabulary),
``max_decoding_length=8``, the eflomal aligner, default shards (2,000 sentences), a fresh lake.
Each size runs in a fresh subprocess; its peak resident set is the child's ``VmHWM`` (read from
``/proc/self/status`` at the end of the run). The child also samples ``VmRSS`` every 0.2 s and
keeps the largest value per stage (``translate+project`` shard loop, ``summarize``, ``commit``),
which shows where memory grows when it does. Prefect's ephemeral API server, when it runs as a
process of its own, is not counted: it is Prefect's, not the flow's.

Figure: peak RSS per size and the growth (large − small) / small. Bar: < 20 %.

Run: ``.venv/bin/python -m benchmarks.pipeline_memory`` (10k vs 100k sentences; several minutes
on 2 cores), ``--sizes 5000 50000`` for a shorter run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks._common import REPO, status_kb, versions, write_result
from benchmarks._mt_models import cached_nllb, shape_key, write_conll

BAR_GROWTH = 0.20
MAX_DECODING_LENGTH = 8


class _Sampler:
    """Samples VmRSS in a thread and keeps the maximum per stage (``stage`` set by patches)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.stage = "start"
        self.peaks: dict[str, int] = {}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = status_kb("VmRSS")
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def enter(self, stage: str) -> None:
        rss = status_kb("VmRSS")
        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), rss)
        self.stage = stage


def child(args: argparse.Namespace) -> None:
    """One flow run; prints one JSON line with the peak RSS and per-stage peaks."""
    import xproj.catalog.lake as lake_module
    import xproj.executor.core as executor
    import xproj.flows.translate_train as tt
    from xproj.flows.config import TranslateTrainConfig

    sampler = _Sampler()
    original_summarize = executor._summarize
    original_commit = lake_module.Lake.commit
    original_shard = tt.TranslateTrain.process

    def summarize(*a: Any, **kw: Any) -> Any:
        sampler.enter("summarize")
        return original_summarize(*a, **kw)

    def commit(self: Any, *a: Any, **kw: Any) -> Any:
        sampler.enter("commit")
        try:
            return original_commit(self, *a, **kw)
        finally:
            sampler.enter("after_commit")

    def shard(*a: Any, **kw: Any) -> Any:
        if sampler.stage != "translate+project":
            sampler.enter("translate+project")
        return original_shard(*a, **kw)

    executor._summarize = summarize
    lake_module.Lake.commit = commit
    tt.TranslateTrain.process = shard
    config = TranslateTrainConfig(
        source={"path": args.source, "lang": "en"},
        target_langs=["de"],
        model=args.model,
        max_decoding_length=MAX_DECODING_LENGTH,
        aligner="eflomal.v1",
        lake=args.lake,
        intra_threads=2,
    )
    with sampler:
        sampler.enter("prefect+setup")
        t0 = time.perf_counter()
        result = tt.translate_train(config)
        seconds = time.perf_counter() - t0
        sampler.enter("end")
    print(
        "RESULT "
        + json.dumps(
            {
                "vm_hwm_kb": status_kb("VmHWM"),
                "vm_rss_end_kb": status_kb("VmRSS"),
                "stage_peak_rss_kb": sampler.peaks,
                "seconds": round(seconds, 1),
                "translated": result.metrics["stats"]["translated"],
                "sentences": result.metrics["tallies"]["translations"]["by"]["de"]["total"],
            }
        ),
        flush=True,
    )


def run_size(n: int, model: Path, work: Path) -> dict[str, Any]:
    """Write ``n`` sentences and run the flow on them in a fresh subprocess."""
    source = write_conll(work / f"source-{n}.en.conll", n, seed=n)
    lake = work / f"lake-{n}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.pipeline_memory",
            "--child",
            "--source",
            str(source),
            "--lake",
            str(lake),
            "--model",
            str(model),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    wall = time.perf_counter() - t0
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(
            f"the run on {n} sentences failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    out = json.loads(lines[-1][len("RESULT ") :])
    if out["sentences"] != n:
        raise SystemExit(f"the run on {n} sentences wrote {out['sentences']} translations")
    out["rusage_children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["rusage_children_maxrss_kb_before"] = before
    out["wall_s"] = round(wall, 1)
    out["source_bytes"] = source.stat().st_size
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE")
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--lake", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return

    _, ct2_dir = cached_nllb("tiny", keep_hf=False)
    small, large = args.sizes
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="xproj-bench-mem-") as tmp:
        for n in (small, large):
            print(f"translate-train on {n} sentences (fresh subprocess)…", flush=True)
            runs[str(n)] = run_size(n, ct2_dir, Path(tmp))
            r = runs[str(n)]
            print(
                f"  peak RSS {r['vm_hwm_kb'] / 1024:.0f} MiB, {r['seconds']} s; per stage "
                + ", ".join(f"{k} {v / 1024:.0f}" for k, v in r["stage_peak_rss_kb"].items()),
                flush=True,
            )
    peak_small = runs[str(small)]["vm_hwm_kb"]
    peak_large = runs[str(large)]["vm_hwm_kb"]
    growth = (peak_large - peak_small) / peak_small
    passed = growth < BAR_GROWTH
    full = (small, large) == (10_000, 100_000)
    payload = {
        "versions": versions(
            ["ctranslate2", "eflomal", "prefect", "deltalake", "polars", "pyarrow", "spacy"]
        ),
        "settings": {
            "sizes": [small, large],
            "model": shape_key("tiny"),
            "max_decoding_length": MAX_DECODING_LENGTH,
            "aligner": "eflomal.v1",
            "shard_size": 2000,
            "target_langs": ["de"],
            "sizes_as_specified": full,
        },
        "runs": runs,
        "figures": {
            "peak_rss_mib": {
                str(small): round(peak_small / 1024, 1),
                str(large): round(peak_large / 1024, 1),
            },
            "growth": round(growth, 4),
        },
        "bar": f"growth < {BAR_GROWTH:.0%} from {small:,} to {large:,} sentences",
        "pass": passed,
    }
    path = write_result("pipeline_memory", payload)
    print(
        f"\npipeline_memory: peak RSS {peak_small / 1024:.0f} MiB at {small:,} sentences, "
        f"{peak_large / 1024:.0f} MiB at {large:,}: growth {growth:+.1%} "
        f"(bar < {BAR_GROWTH:.0%}: {'PASS' if passed else 'FAIL'})"
        + ("" if full else " — NOT the 10k/100k sizes of the bar")
    )
    print(f"result: {path}")


if __name__ == "__main__":
    main()
