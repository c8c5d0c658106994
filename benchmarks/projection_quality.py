"""Projection quality against human-projected gold, eflomal on CPU.

Data (read from ``$XPROJ_SHARED_DATA``, default ``../shared/data``):

* Europarl NER en→es (Agerri et al. 2018): 799 sentences, gold Spanish annotations;
* ABSA train split en→es/fr/ru/tr (García-Ferrero et al. 2022; SemEval-2016): 2,000 machine-
  translated sentences with manually projected opinion targets.

For each set, the source side's gold spans are projected onto the target tokens and scored
against the target's gold spans (exact span match, micro F1). Configurations run side by side on
the same data in one process:

* ``plain``: eflomal on the tokens as given (lowercased), grow-diag-final-and, largest contiguous
  group, no anchoring — the usual baseline;
* ``xproj``: the defaults of ``project_parallel`` (``xproj.flows.config.ProjectParallelConfig``).

eflomal cannot be seeded, so every configuration runs ``--reps`` times; the mean decides the bar
and the spread is reported. Bars: Europarl F1 ≥ 0.82; ABSA average F1 ≥ 0.87.

    python -m benchmarks.projection_quality [--reps 3] [--only europarl,absa-es]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path
from typing import Any

from benchmarks._common import Timer, shared_data_dir, versions, write_result

BARS = {"europarl": 0.82, "absa_average": 0.87}
ABSA = {"es": "DeepL.Iker", "fr": "Nayla.DeepL", "ru": "Olia.DeepL", "tr": "Suna.m2m100"}


def datasets(shared: Path) -> dict[str, tuple[Any, Any]]:
    """Name → (source InputSpec, target InputSpec)."""
    from xproj.flows.config import InputSpec

    out = {
        "europarl-es": (
            InputSpec(path=str(shared / "ner-europarl/en-europarl.test.conll02"), lang="en"),
            InputSpec(path=str(shared / "ner-europarl/es-europarl.test.conll02"), lang="es"),
        )
    }
    for lang, stem in ABSA.items():
        out[f"absa-{lang}"] = (
            InputSpec(path=str(shared / "absa-projection/en/en.absa.train.tsv"), lang="en"),
            InputSpec(path=str(shared / f"absa-projection/en2{lang}/{stem}.train.tsv"), lang=lang),
        )
    return out


def configurations() -> dict[str, dict[str, Any]]:
    """Name → aligner options and projection policy."""
    from xproj.flows.config import ProjectParallelConfig
    from xproj.projectors.policy import ProjectionPolicy

    defaults = ProjectParallelConfig.model_fields
    xproj_aligner = dict(defaults["aligner_options"].get_default(call_default_factory=True))
    return {
        "plain": {
            "aligner": {
                "symmetrization": "grow-diag-final-and",
                "src_prefix_len": 0,
                "tgt_prefix_len": 0,
            },
            "policy": ProjectionPolicy(anchor_identical=False),
        },
        "xproj": {"aligner": xproj_aligner, "policy": ProjectionPolicy()},
    }


def score_once(pairs, aligner_options: dict[str, Any], policy) -> tuple[float, float, float]:
    """One eflomal run: (precision, recall, F1) of the projected target spans."""
    from xproj.projectors.aligners import get_aligner
    from xproj.projectors.metrics import span_scores
    from xproj.projectors.pipeline import project_pairs

    results = project_pairs(pairs, get_aligner("eflomal.v1", **aligner_options), policy=policy)
    s = span_scores([r.spans for r in results], [r.pair.tgt.spans for r in results])
    return s.precision, s.recall, s.f1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="eflomal runs per configuration")
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    args = parser.parse_args(argv)

    from xproj.io.inputs import read_parallel

    shared = shared_data_dir()
    sets = datasets(shared)
    if args.only:
        sets = {k: v for k, v in sets.items() if k in args.only.split(",")}
    configs = configurations()
    table: dict[str, dict[str, Any]] = {}
    for name, (src, tgt) in sets.items():
        data = read_parallel(src, tgt, on_error="raise")
        for cname, cfg in configs.items():
            runs = []
            with Timer() as t:
                for _ in range(args.reps):
                    runs.append(score_once(data.pairs, cfg["aligner"], cfg["policy"]))
            f1s = [r[2] for r in runs]
            table.setdefault(name, {})[cname] = {
                "f1_mean": round(statistics.mean(f1s), 4),
                "f1_min": round(min(f1s), 4),
                "f1_max": round(max(f1s), 4),
                "precision_mean": round(statistics.mean(r[0] for r in runs), 4),
                "recall_mean": round(statistics.mean(r[1] for r in runs), 4),
                "pairs": len(data.pairs),
                "gold_spans": sum(len(p.tgt.spans) for p in data.pairs),
                "seconds_per_run": round(t.seconds / args.reps, 2),
            }
            print(
                f"{name:12s} {cname:6s} F1 {statistics.mean(f1s):.4f} "
                f"[{min(f1s):.4f}, {max(f1s):.4f}] over {args.reps} runs "
                f"({t.seconds / args.reps:.1f} s/run)",
                flush=True,
            )

    summary: dict[str, Any] = {}
    for cname in configs:
        absa = [table[k][cname]["f1_mean"] for k in table if k.startswith("absa-")]
        summary[cname] = {
            "europarl_f1": table.get("europarl-es", {}).get(cname, {}).get("f1_mean"),
            "absa_average_f1": round(statistics.mean(absa), 4) if len(absa) == len(ABSA) else None,
        }
    ours = summary["xproj"]
    passed = {
        "europarl": ours["europarl_f1"] is not None and ours["europarl_f1"] >= BARS["europarl"],
        "absa_average": ours["absa_average_f1"] is not None
        and ours["absa_average_f1"] >= BARS["absa_average"],
    }
    print("\nconfiguration   Europarl en-es   ABSA avg (es/fr/ru/tr)")
    for cname, s in summary.items():
        print(f"{cname:15s} {s['europarl_f1']!s:>14} {s['absa_average_f1']!s:>22}")
    print(
        f"bars: Europarl ≥ {BARS['europarl']} → {'PASS' if passed['europarl'] else 'FAIL'}; "
        f"ABSA average ≥ {BARS['absa_average']} → {'PASS' if passed['absa_average'] else 'FAIL'}"
    )
    path = write_result(
        "projection_quality",
        {
            "settings": {
                "reps": args.reps,
                "configurations": {
                    k: {"aligner": v["aligner"], "policy": dataclasses.asdict(v["policy"])}
                    for k, v in configs.items()
                },
                "aligner": "eflomal.v1 (CPU)",
            },
            "versions": versions(["eflomal", "spacy", "polars", "deltalake"]),
            "data": {
                "europarl": "ixa-ehu/ner-evaluation-corpus-europarl (Agerri et al. 2018)",
                "absa": "ikergarcia1996/Easy-Label-Projection (García-Ferrero et al. 2022), "
                "SemEval-2016 restaurants, train split",
            },
            "results": table,
            "summary": summary,
            "bars": BARS,
            "passed": passed,
            "published": {
                "europarl_en_es_de_it_average": {
                    "FastAlign": 71,
                    "Mgiza": 72,
                    "SimAlign": 84,
                    "awesome-align": 87,
                },
                "absa_test_simalign": {"es": 86.7, "fr": 86.3, "ru": 87.7, "tr": 81.9},
            },
        },
    )
    print(f"result written to {path}")
    return 0 if all(passed.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
