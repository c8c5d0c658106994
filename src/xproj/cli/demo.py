"""The main job shown in the README: project, store, query and evaluate, offline.

Projects the NER sample the project ships (``data/samples/ner``: English → German, Spanish,
French) and, when the shared evaluation data is present, the Europarl NER set (English →
Spanish), then prints a DuckDB query over the resulting tables and the projection quality.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]  # src/xproj/cli/demo.py → the checkout
SAMPLES = REPO / "data" / "samples" / "ner"


def shared_data_dir(explicit: Path | None = None) -> Path:
    """``explicit``, else ``$XPROJ_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    if explicit is not None:
        return explicit
    return Path(os.environ.get("XPROJ_SHARED_DATA", REPO.parent / "shared" / "data"))


def demo_configs(shared: Path) -> list:
    """The runs of the main job, as flow configs."""
    from xproj.flows.config import ProjectParallelConfig

    configs = [
        ProjectParallelConfig(
            name=f"sample-en-{lang}",
            source={"path": str(SAMPLES / "sample.en.conll"), "lang": "en"},
            target={"path": str(SAMPLES / f"sample.{lang}.conll"), "lang": lang},
        )
        for lang in ("de", "es", "fr")
    ]
    europarl = shared / "ner-europarl"
    if europarl.is_dir():
        configs.append(
            ProjectParallelConfig(
                name="europarl-en-es",
                source={"path": str(europarl / "en-europarl.test.conll02"), "lang": "en"},
                target={"path": str(europarl / "es-europarl.test.conll02"), "lang": "es"},
            )
        )
    return configs


SUMMARY_SQL = """
SELECT json_extract_string(r.parameters, '$.name') AS dataset, o.label,
       count(*) AS spans,
       count(*) FILTER (WHERE o.reason IS NULL) AS projected,
       round(count(*) FILTER (WHERE o.reason IS NULL) / count(*), 3) AS rate,
       coalesce(string_agg(DISTINCT o.reason, ', '), '-') AS drop_reasons
FROM outcomes o JOIN runs r USING (run_id)
GROUP BY ALL ORDER BY dataset, o.label
"""

QUALITY_SQL = """
SELECT e.dataset, e.system, round(e.precision, 3) AS p, round(e.recall, 3) AS r,
       round(e.f1, 3) AS f1, e.n_gold
FROM evaluations e JOIN runs r USING (run_id)
WHERE e.kind = 'projection' AND e.label = '_micro' AND r.flow = 'project_parallel'
QUALIFY row_number() OVER (PARTITION BY e.dataset ORDER BY e.created_at DESC) = 1
ORDER BY e.dataset
"""


def run_demo(lake: str | None = None, shared_data: Path | None = None) -> None:
    """Run every demo config, then print the summary query and the gold scores."""
    from xproj.catalog import Lake, query
    from xproj.flows.project_parallel import project_parallel
    from xproj.flows.runtime import launch
    from xproj.io.writers.results import render
    from xproj.report.render import report_path

    shared = shared_data_dir(shared_data)
    configs = demo_configs(shared)
    if len(configs) == 3:
        print(f"(no shared evaluation data at {shared}: running the shipped sample only)")
    for cfg in configs:
        cfg = cfg.model_copy(update={"lake": lake})
        print(f"== {cfg.dataset_name()}: {cfg.source.path} → {cfg.target.path}")
        result = launch(project_parallel, cfg)
        state = "reused identical run" if result.reused else "committed"
        print(
            f"   run {result.run_id} {state}: "
            + ", ".join(f"{t}@v{v}" for t, v in sorted(result.versions.items()))
        )
        report = report_path(Lake(lake), result.run_id)
        if report.exists():
            print(f"   report: {report}")
    lk = Lake(lake)
    print(f"\nLake: {lk.root}\n")
    print('$ xproj query "<projection rate and drop reasons per dataset and label>"')
    print(SUMMARY_SQL.strip())
    render(query(lk, SUMMARY_SQL), fmt="table", max_rows=100)
    print("\nProjection quality against the human target annotations:")
    render(query(lk, QUALITY_SQL), fmt="table", max_rows=100)
