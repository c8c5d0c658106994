"""The xproj command line: quick start, lake commands, evaluation, coded errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.helpers import lake_with_outcome_runs, write_texts
from xproj.catalog import Lake
from xproj.cli import app
from xproj.generators.paxqa.candidates import KINDS

runner = CliRunner()
HEAVY = (
    "torch",
    "transformers",
    "prefect",
    "deltalake",
    "duckdb",
    "spacy",
    "polars",
    "pyarrow",
    "datasets",
    "ctranslate2",
    "simalign",
)


def test_cli_help_imports_nothing_heavy():
    code = f"import sys, xproj.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == ""


@pytest.fixture
def lake(lake_root) -> Lake:
    return lake_with_outcome_runs(lake_root, "project_parallel", (2, 3))


def _run(*args: str):
    result = runner.invoke(app, list(args))
    return result


def _run_module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m xproj.cli ARGS`` in its own process: the exit code and stderr a user sees."""
    return subprocess.run(
        [sys.executable, "-m", "xproj.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )


def test_cli_tables_and_versions(lake):
    res = _run("tables", "--lake", str(lake.root))
    assert res.exit_code == 0
    assert "outcomes\tv1" in res.output and "runs\tv1" in res.output
    res = _run("versions", "outcomes", "--lake", str(lake.root))
    assert res.exit_code == 0
    assert res.output.count("\n") == 2 and "v0" in res.output and "run=" in res.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), 5),
        (("--at", "outcomes=0"), 2),
    ],
)
def test_cli_query_latest_or_pinned(lake, args, expected):
    res = _run(
        "query",
        "SELECT count(*) AS n FROM outcomes",
        "--format",
        "json",
        "--lake",
        str(lake.root),
        *args,
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[0])["n"] == expected


def test_cli_query_writes_parquet(lake, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "o.parquet"
    res = _run(
        "query",
        "SELECT * FROM outcomes",
        "--format",
        "parquet",
        "--output",
        str(out),
        "--lake",
        str(lake.root),
    )
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).num_rows == 5


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("DELETE FROM outcomes", "XP403"),
        ("SELECT * FROM nowhere", "XP404"),
    ],
)
def test_cli_query_errors_are_coded(lake, sql, code):
    out = _run_module("query", sql, "--lake", str(lake.root))
    assert out.returncode == 2
    assert f"[{code}]" in out.stderr


def test_cli_bad_pin_is_a_coded_error(lake):
    out = _run_module("query", "SELECT 1", "--at", "outcomes", "--lake", str(lake.root))
    assert out.returncode == 2 and "[XP301]" in out.stderr and "TABLE=VERSION" in out.stderr


def _eval_alignment(pred: Path, gold: Path, lake_root: Path, *extra: str):
    """``xproj eval alignment`` of ``pred`` against ``gold`` into ``lake_root``."""
    args = ("eval", "alignment", "--pred", str(pred), "--gold", str(gold), *extra)
    return _run(*args, "--lake", str(lake_root))


def test_cli_eval_alignment(tmp_path, lake_root):
    gold, pred = write_texts(
        tmp_path, {"gold.align": "1-1 2p2\n1-1\n", "pred.align": "0-0 1-1 1-0\n0-0\n"}
    )
    res = _eval_alignment(pred, gold, lake_root, "--gold-one-based")
    assert res.exit_code == 0, res.output
    # A = 4 links, S = 2 (both hit), P = S + {(1,1)}: precision 3/4, recall 1, AER 1 - 5/6
    assert "P 0.7500" in res.output and "R 1.0000" in res.output and "AER 0.1667" in res.output
    rows = Lake(lake_root).read("evaluations").to_pylist()
    assert rows[0]["kind"] == "alignment" and abs(rows[0]["aer"] - 1 / 6) < 1e-9


def test_cli_eval_alignment_no_store_leaves_the_lake_alone(tmp_path, lake_root):
    gold, pred = write_texts(tmp_path, {"gold.align": "0-0\n", "pred.align": "0-0\n"})
    res = _eval_alignment(pred, gold, lake_root, "--no-store")
    assert res.exit_code == 0, res.output
    assert "F1 1.0000" in res.output
    assert Lake(lake_root).tables() == []


def test_cli_eval_projection(tmp_path, lake_root):
    gold, pred = write_texts(
        tmp_path,
        {
            "gold.conll": "Ana\tB-PER\nvive\tO\nen\tO\nRoma\tB-LOC\n\nHola\tO\n",
            "pred.conll": "Ana\tB-PER\nvive\tO\nen\tB-LOC\nRoma\tI-LOC\n\nHola\tO\n",
        },
    )
    res = _run(
        "eval",
        "projection",
        "--gold",
        str(gold),
        "--gold-lang",
        "es",
        "--pred",
        str(pred),
        "--lake",
        str(lake_root),
    )
    assert res.exit_code == 0, res.output
    lines = {line.split()[0]: line.split() for line in res.output.splitlines()[1:]}
    assert lines["_micro"][1:4] == ["0.5000", "0.5000", "0.5000"]
    assert lines["PER"][3] == "1.0000" and lines["LOC"][3] == "0.0000"
    labels = {r["label"] for r in Lake(lake_root).read("evaluations").to_pylist()}
    assert labels == {"_micro", "PER", "LOC"}


def test_cli_project_bad_config_is_a_coded_error(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("source: {path: a.conll, lang: en}\ntarget: {path: b.conll}\n")
    out = _run_module("project", "--config", str(cfg))
    assert out.returncode == 2
    assert "[XP301]" in out.stderr and "target.lang" in out.stderr


def test_cli_unknown_language_is_a_coded_error(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text("Anna\tB-PER\n")
    out = _run_module(
        "project",
        "--source",
        str(src),
        "--source-lang",
        "en",
        "--target",
        str(src),
        "--target-lang",
        "klingon",
        "--lake",
        str(tmp_path / "lake"),
    )
    assert out.returncode == 2
    assert "[XP201]" in out.stderr


def test_cli_models_convert_and_list(tiny_mt_models, tmp_path):
    root = tmp_path / "store"
    res = _run("models", "list", "--root", str(root))
    assert res.exit_code == 0 and "xproj models convert" in res.output
    res = _run(
        "models",
        "convert",
        str(tiny_mt_models["nllb"]["hf"]),
        "--quantization",
        "int8",
        "--root",
        str(root),
    )
    assert res.exit_code == 0, res.output
    res = _run("models", "list", "--root", str(root))
    assert res.exit_code == 0
    line = [x for x in res.output.splitlines() if "\tnllb\t" in x]
    assert len(line) == 1 and line[0].endswith("\tok")


def test_cli_translate_train_missing_model_names_the_fix(tmp_path):
    sample = REPO / "data" / "samples" / "ner" / "sample.en.conll"
    out = _run_module(
        "translate-train",
        "--source",
        str(sample),
        "--source-lang",
        "en",
        "-t",
        "de",
        "--model",
        str(tmp_path / "missing-model"),
        "--lake",
        str(tmp_path / "lake"),
        env={**os.environ, "PREFECT_HOME": str(tmp_path / "ph")},
    )
    assert out.returncode == 2
    assert "[XP503]" in out.stderr and "xproj models convert" in out.stderr


def test_cli_dotted_overrides_reach_the_config():
    sample = REPO / "data" / "samples" / "ner"
    res = _run(
        "project",
        "--source",
        str(sample / "sample.en.conll"),
        "--source-lang",
        "en",
        "--target",
        str(sample / "sample.es.conll"),
        "--target-lang",
        "es",
        "--policy.gap_fill",
        "2",
        "--aligner_options.symmetrization=union",
        "--print-config",
    )
    assert res.exit_code == 0, res.output
    import yaml

    config = yaml.safe_load(res.output)
    assert config["policy"]["gap_fill"] == 2
    assert config["aligner_options"] == {"symmetrization": "union"}
    assert config["source"]["format"] == "conll"  # from the file name


def test_cli_unknown_setting_names_the_closest():
    from xproj.schemas.errors import ConfigError

    res = _run("project", "--source", "a.conll", "--policy.gapfill", "2")
    assert isinstance(res.exception, ConfigError)
    assert "--policy.gap_fill" in str(res.exception)


@pytest.mark.parametrize(
    "command",
    [
        ["project"],
        ["translate-train"],
        ["translate-test"],
        ["entitycs"],
        ["paxqa"],
        ["entitycs-export"],
        ["paxqa-export"],
        ["tables"],
        ["versions"],
        ["query"],
        ["demo"],
        ["strategies"],
        ["models", "convert"],
        ["models", "list"],
        ["eval", "alignment"],
        ["eval", "projection"],
    ],
)
def test_cli_every_help_ends_with_an_example(command):
    res = runner.invoke(app, [*command, "--help"], terminal_width=200)
    assert res.exit_code == 0
    out = res.output
    assert out.rfind("Example: xproj ") > out.rfind("--help"), out[-400:]  # last, after options


def _lake_with_projected(lake_root, pair_ids: list[str]) -> str:
    """A lake with one run whose ``projected`` rows have ``pair_ids`` (spans PER 0-2, LOC 3-4)."""
    from tests.test_tables import sample_rows
    from xproj.catalog import RunRecord

    run = RunRecord.start("translate_test", {"n": len(pair_ids)})
    rows = sample_rows("projected", run.run_id, len(pair_ids))
    for row, pair_id in zip(rows, pair_ids, strict=True):
        row["pair_id"] = pair_id
    Lake(lake_root).commit(run, {"projected": rows})
    return run.run_id


GOLD_RUN = "Angela\tB-PER\nMerkel\tI-PER\nbesuchte\tO\nParis\tB-LOC\n\nHallo\tO\n"


def _eval_run_args(gold: Path, run_id: str, lake_root: Path) -> list[str]:
    """``xproj eval projection`` of a lake run's projected rows against German gold."""
    return [
        "eval",
        "projection",
        "--gold",
        str(gold),
        "--gold-lang",
        "de",
        "--run",
        run_id,
        "--lake",
        str(lake_root),
    ]


@pytest.mark.parametrize(
    "pair_ids",
    [["src:1|gold:1"], ["gold:1"]],
    ids=["parallel-run", "translate-test-run"],
)
def test_cli_eval_projection_of_a_run(tmp_path, lake_root, pair_ids):
    import pyarrow.compute as pc

    (gold,) = write_texts(tmp_path, {"gold.conll": GOLD_RUN})
    run_id = _lake_with_projected(lake_root, pair_ids)
    res = _run(*_eval_run_args(gold, run_id, lake_root))
    assert res.exit_code == 0, res.output
    lines = {line.split()[0]: line.split() for line in res.output.splitlines()[1:]}
    assert lines["_micro"][1:4] == ["1.0000", "1.0000", "1.0000"]
    stored = Lake(lake_root).read("evaluations").to_pylist()
    assert {r["label"] for r in stored} == {"_micro", "PER", "LOC"}
    eval_runs = Lake(lake_root).read("runs", filter=pc.field("flow") == "eval_projection")
    assert {r["run_id"] for r in stored} == set(eval_runs["run_id"].to_pylist())


def test_cli_eval_projection_of_a_run_on_another_gold_file_says_so(tmp_path, lake_root):
    (gold,) = write_texts(tmp_path, {"other.conll": GOLD_RUN})
    run_id = _lake_with_projected(lake_root, ["src:1|gold:1"])
    out = _run_module(*_eval_run_args(gold, run_id, lake_root))
    assert out.returncode == 2 and "[XP301]" in out.stderr, out.stderr
    assert "labels a sentence of" in out.stderr and "Traceback" not in out.stderr


def test_cli_setting_that_is_not_yaml_is_a_coded_error():
    from xproj.cli.flows import dotted_overrides
    from xproj.flows.config import ProjectParallelConfig
    from xproj.schemas.errors import ConfigError

    assert dotted_overrides(["--policy.gap_fill", "2"], ProjectParallelConfig) == {
        "policy.gap_fill": 2
    }
    with pytest.raises(ConfigError) as err:
        dotted_overrides(["--policy.gap_fill", "[2"], ProjectParallelConfig)
    assert err.value.code == "XP301" and "--policy.gap_fill" in err.value.message


def test_cli_paxqa_shortcuts_and_a_printed_config_that_reads_the_same_every_time():
    args = ("paxqa", "--contexts", "x.tsv", "--lang", "de", "--model", "m", "--qg-model", "q")
    args += ("--beam-size", "4", "--compute-type", "int8", "--print-config")
    printed = [
        _run_module(*args, env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "2", "3")
    ]
    assert all(p.returncode == 0 for p in printed), [p.stderr for p in printed]
    assert printed[0].stdout == printed[1].stdout == printed[2].stdout  # no set-order noise
    config = yaml.safe_load(printed[0].stdout)
    assert config["decoding"]["beam_size"] == 4 and config["compute_type"] == "int8"
    assert config["candidates"]["kinds"] == list(KINDS)  # in priority order, most specific first


def test_cli_user_errors_name_flags_as_typed_and_say_fix_once(tmp_path, lake):
    sample = REPO / "data" / "samples" / "ner"
    base = ("project", "--source-lang", "en", "--target", str(sample / "sample.es.conll"))
    base += ("--target-lang", "es", "--lake", str(tmp_path / "lake"))
    typo = _run_module(*base, "--source", str(sample / "sample.en.conll"), "--shard-sise", "3")
    assert typo.returncode == 2
    assert "--shard-sise. Did you mean --shard-size?" in typo.stderr
    unnamed = _run_module(*base, "--source", str(tmp_path / "x.conl"))
    assert unnamed.returncode == 2 and unnamed.stderr.count("Fix:") == 1
    assert "cannot tell the format of" in unnamed.stderr
    # a declared table without versions and a query written to a file both say so
    empty = _run_module("versions", "rejected", "--lake", str(lake.root))
    assert empty.returncode == 0 and "rejected: no versions yet" in empty.stderr
    out = tmp_path / "n.csv"
    written = _run_module(
        "query", "SELECT 1 AS n", "-o", str(out), "-f", "csv", "--lake", str(lake.root)
    )
    assert written.returncode == 0 and f"1 row(s) written to {out} (csv)" in written.stderr
    assert out.read_text().splitlines() == ['"n"', "1"]


def test_cli_device_index_lists_gpus_for_replicas():
    """``--device-index 0,1`` reaches the config as a list (one CTranslate2 replica per GPU);
    anything but GPU numbers is a usage error."""
    base = ("translate-train", "--source", "s.conll", "--source-lang", "en", "-t", "de")
    base += ("--model", "m")
    printed = _run(*base, "--device-index", "0, 1", "--print-config")
    assert printed.exit_code == 0, printed.output
    assert yaml.safe_load(printed.output)["device_index"] == [0, 1]
    bad = _run(*base, "--device-index", "gpu1", "--print-config")
    assert bad.exit_code == 2 and "GPU numbers" in bad.output


def test_cli_executor_options_reach_the_config():
    base = ("project", "--source", "s.conll", "--source-lang", "en", "--target", "t.conll")
    base += ("--target-lang", "es")
    printed = _run(*base, "--executor", "ray", "--ray-actors", "2", "--print-config")
    assert printed.exit_code == 0, printed.output
    config = yaml.safe_load(printed.output)
    assert config["executor"] == "ray" and config["ray"]["actors"] == 2
    assert config["ray"]["address"] is None  # a local Ray
    bad = _run_module(*base, "--executor", "spark", "--print-config")
    assert bad.returncode == 2 and "executor" in bad.stderr
