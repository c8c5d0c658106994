"""What a run's HTML report costs on a large run: time and peak memory of reading what it shows.

Every flow writes its run's report after the commit, so the report must not cost in proportion
to the run's rows in Python. This builds synthetic projection runs of ``--pairs`` sentence pairs
(three spans each, two target languages, about 40 % of the spans dropped for one of two reasons)
as Arrow tables behind a stand-in lake that filters them as ``Lake.read`` does, so the time
measured is the report's own (counting by Arrow, then Python rows only for the sample and the
worst cases), not Delta Lake's. Each size runs in a fresh process so peak memory is its own.

    python -m benchmarks.report_scale [--pairs 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from benchmarks._common import versions, write_result

ONE = r"""
import dataclasses, json, resource, sys, time
import numpy as np, pyarrow as pa, pyarrow.dataset as ds
from xproj.catalog.lineage import RunRecord
from xproj.report.data import load_report_data
from xproj.report.render import render_report

n = int(sys.argv[1])
run = RunRecord(flow="project_parallel", run_key="k", parameters={}).finish()
rid = run.run_id
ids = pa.array([f"pair{k:09d}" for k in range(n)])
langs = pa.array(np.where(np.arange(n) % 2, "de", "es"))
rng = np.random.default_rng(0)
spans = np.repeat(np.arange(n), 3)
reasons = rng.choice(np.array([None, None, None, "no_alignment", "lost_overlap"], dtype=object),
                     3 * n)
tokens = pa.array([["w1", "w2", "w3", "w4", "w5"]] * n)
at = pa.array(np.tile(np.arange(3), n))
tables = {
    "runs": pa.Table.from_pylist([dataclasses.asdict(run.to_row([]))]),
    "projected": pa.table({
        "run_id": pa.array([rid] * n), "pair_id": ids, "src_lang": pa.array(["en"] * n),
        "tgt_lang": langs, "src_tokens": tokens, "tgt_tokens": tokens,
        "n_source_spans": pa.array(np.full(n, 3)), "method": pa.array(["align.v1"] * n)}),
    "outcomes": pa.table({
        "run_id": pa.array([rid] * (3 * n)), "pair_id": ids.take(pa.array(spans)),
        "tgt_lang": langs.take(pa.array(spans)),
        "label": pa.array(rng.choice(["PER", "ORG", "LOC"], 3 * n)),
        "reason": pa.array(reasons, pa.string()), "span_index": at, "src_start": at,
        "src_end": pa.array(np.tile(np.arange(1, 4), n)), "tgt_start": at,
        "tgt_end": pa.array(np.tile(np.arange(1, 4), n)),
        "merged_into": pa.nulls(3 * n, pa.int64()), "detail": pa.nulls(3 * n, pa.string())}),
    "alignments": pa.table({
        "run_id": pa.array([rid] * n), "pair_id": ids, "tgt_lang": langs,
        "links": pa.array([[{"src": k, "tgt": k} for k in range(5)]] * n)}),
}
del spans, reasons

class Lake:
    root = "/nowhere"
    def latest_version(self, table):
        return 0 if table in tables else None
    def read(self, table, columns=None, filter=None):
        return ds.dataset(tables[table]).to_table(columns=columns, filter=filter)

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
data = load_report_data(Lake(), rid)
page = render_report(data)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"pairs": n, "outcomes": 3 * n, "seconds": round(seconds, 2),
                  "peak_rss_added_mib": round((peak - before) / 1024),
                  "examples": len(data.examples), "html_kb": len(page) // 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    for n in args.pairs:
        done = subprocess.run(
            [sys.executable, "-c", ONE, str(n)], capture_output=True, text=True, check=True
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{n:>10,} pairs: {r['seconds']:6.2f} s, +{r['peak_rss_added_mib']} MiB peak, "
              f"{r['examples']} examples, {r['html_kb']} KB")  # fmt: skip
    path = write_result(
        "report_scale",
        {
            "settings": {
                "spans_per_pair": 3,
                "target_langs": 2,
                "lake": "Arrow tables behind a stand-in lake (the report's cost, not Delta's)",
            },
            "versions": versions(["pyarrow", "xproj"]),
            "runs": results,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
