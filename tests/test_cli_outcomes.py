"""What the `xproj` command tells the truth about: exit codes, empty runs, formats, hints.

Real processes (``python -m xproj.cli``), since exit codes and what reaches the terminal are the
point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from xproj.catalog import Lake, RunRecord

SAMPLES = REPO / "data" / "samples" / "ner"
pytestmark = pytest.mark.slow


def xproj(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "XPROJ_"))}
    return subprocess.run(
        [sys.executable, "-m", "xproj.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _project(
    src: Path, tgt: Path, lake: Path, *extra: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    sides = f"--source {src} --source-lang en --target {tgt} --target-lang es --lake {lake}"
    return xproj("project", *sides.split(), *extra, env=env)


def test_cli_outcomes_format_comes_from_the_file_name(tmp_path):
    src = tmp_path / "src.jsonl"
    rows = [
        {"id": "a", "text": "Anna sings", "spans": [[0, 4, "PER"]]},
        {"id": "b", "text": "Rome is old", "spans": [[0, 4, "LOC"]]},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tgt = tmp_path / "tgt.conll"
    tgt.write_text("Anna\tB-PER\ncanta\tO\n\nRoma\tB-LOC\nes\tO\nvieja\tO\n")
    done = _project(src, tgt, tmp_path / "lake")
    assert done.returncode == 0, done.stderr
    assert Lake(tmp_path / "lake").read("projected").num_rows == 2
    assert "records: 2 read, 0 rejected at reading" in done.stdout


def test_cli_outcomes_content_that_does_not_fit_its_format_is_one_error(tmp_path):
    src = tmp_path / "src.conll"  # named CoNLL, holds JSON Lines
    src.write_text('{"text": "Anna sings", "spans": [[0, 4, "PER"]]}\n' * 3)
    done = _project(src, src, tmp_path / "lake")
    assert done.returncode == 2
    assert (
        "[XP109]" in done.stderr
        and "looks like JSON" in done.stderr
        and "src.conll:1" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # one line: message and fix


def test_cli_outcomes_unknown_file_ending_asks_for_the_format(tmp_path):
    src = tmp_path / "data.xyz"
    src.write_text("x")
    done = _project(src, src, tmp_path / "lake")
    assert done.returncode == 2 and "[XP301]" in done.stderr
    assert "cannot tell the format" in done.stderr and "--source-format" in done.stderr


@pytest.mark.parametrize(
    ("src_text", "needle"),
    [
        ("", "read no record"),
        ("Anna\nsings\tO\n\nBob\n", "every one was rejected (read.XP101 2, read.XP112 2)"),
    ],
    ids=["empty", "all-rejected"],
)
def test_cli_outcomes_run_that_used_nothing_fails_unless_allowed(tmp_path, src_text, needle):
    src, tgt = tmp_path / "src.conll", tmp_path / "tgt.conll"
    src.write_text(src_text)
    tgt.write_text("" if not src_text else "Anna\tB-PER\ncanta\tO\n\nBob\tB-PER\n")
    lake = tmp_path / "lake"
    done = _project(src, tgt, lake)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[XP120]" in done.stderr and needle in done.stderr and str(src) in done.stderr
    assert "--allow-empty" in done.stderr
    assert Lake(lake).tables() == []  # nothing committed
    allowed = _project(src, tgt, lake, "--allow-empty")
    assert allowed.returncode == 0, allowed.stderr
    runs = Lake(lake).read("runs").to_pylist()
    assert len(runs) == 1 and json.loads(runs[0]["metrics"])["records"]["used"] == 0


def test_cli_outcomes_label_set_and_scheme(tmp_path):
    src, tgt = tmp_path / "src.conll", tmp_path / "tgt.conll"
    src.write_text("Anna\tB-PER\nsings\tO\n\nin\tO\nRome\tI-LOC\n\nBob\tB-ORG\n")
    tgt.write_text("Anna\tB-PER\ncanta\tO\n\nen\tO\nRoma\tB-LOC\n\nBob\tB-ORG\n")
    lake = tmp_path / "lake"
    done = _project(src, tgt, lake, "--labels", "PER,LOC", "--scheme", "iob1")
    assert done.returncode == 0, done.stderr
    rejected = Lake(lake).read("rejected").to_pylist()
    assert sorted(r["code"] for r in rejected) == ["XP121", "XP121"]  # Bob, on both sides
    assert any("ORG are not in the label set" in r["reason"] for r in rejected)
    # the file is IOB2 by its B- tags: auto-detected, `I-LOC` after `O` is that record's reject
    auto = _project(src, tgt, tmp_path / "auto", "--labels", "PER,LOC,ORG")
    assert auto.returncode == 0, auto.stderr
    codes = sorted(r["code"] for r in Lake(tmp_path / "auto").read("rejected").to_pylist())
    assert codes == ["XP104", "XP112"]


def test_cli_outcomes_hints_name_commands_that_work(tmp_path):
    sample = ["--source", str(SAMPLES / "sample.en.conll"), "--source-lang", "en", "-t", "de"]
    done = xproj("translate-train", *sample)
    assert done.returncode == 2 and "xproj translate-train --help" in done.stderr
    store = tmp_path / "store"
    store.mkdir()
    model = ["--model", "facebook--nllb-200-distilled-600M-int8"]
    missing = xproj("translate-train", *sample, *model, env={"XPROJ_MODELS": str(store)})
    assert missing.returncode == 2 and "[XP503]" in missing.stderr
    want = "xproj models convert facebook/nllb-200-distilled-600M --quantization int8"
    assert want in missing.stderr
    assert "text2text" in xproj("models", "convert", "--help").stdout


def test_cli_outcomes_query_writes_jsonl_and_coded_errors_trace_only_with_debug(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.commit(RunRecord.start("project_parallel", {"n": 1}), {})
    done = xproj("query", "SELECT flow FROM runs", "--format", "jsonl", "--lake", str(lake.root))
    assert done.returncode == 0 and json.loads(done.stdout) == {"flow": "project_parallel"}
    bad = xproj("query", "SELECT * FROM nowhere", "--lake", str(lake.root))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    debug = xproj("--debug", "query", "SELECT * FROM nowhere", "--lake", str(lake.root))
    assert debug.returncode == 2 and "Traceback" in debug.stderr and "[XP404]" in debug.stderr


def test_cli_outcomes_paxqa_export_of_a_run_without_examples(tmp_path):
    """Says so and exits 2, writes nothing; and never aborts at exit (a threaded Delta read
    could end the interpreter with 'terminate called without an active exception', 134)."""
    lake = Lake(tmp_path / "lake")
    run = RunRecord.start("paxqa", {"n": 1})
    lake.commit(run, {})
    out = tmp_path / "export"
    for run_id in [run.run_id] * 4 + ["0" * 32] * 4:
        done = xproj("paxqa-export", "--run", run_id, "--out", str(out), "--lake", str(lake.root))
        assert done.returncode == 2, (done.returncode, done.stderr[-500:])
        want = "[XP406]" if run_id == run.run_id else "no paxqa run"
        assert want in done.stderr
    assert not out.exists()


def test_cli_outcomes_a_local_run_starts_no_prefect_server(tmp_path):
    home = tmp_path / "prefect-home"
    src, tgt, lake = SAMPLES / "sample.en.conll", SAMPLES / "sample.es.conll", tmp_path / "lake"
    done = _project(src, tgt, lake)
    assert done.returncode == 0, done.stderr
    again = _project(src, tgt, lake, env={"PREFECT_HOME": str(home)})
    assert again.returncode == 0 and "reused identical earlier run" in again.stdout
    assert not list(home.rglob("*.db"))  # no temporary server, so no database was created
