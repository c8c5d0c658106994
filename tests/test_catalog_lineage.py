"""Run lineage: fingerprints, run keys, code version, and RunRecord rows."""

from __future__ import annotations

import enum
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from xproj.catalog import lineage
from xproj.catalog.lineage import InputRef, OutputRef, RunRecord, file_fingerprint, make_run_key
from xproj.schemas.arrow import conform
from xproj.schemas.errors import E_BAD_CONFIG, E_FILE_NOT_FOUND, ConfigError, InputFormatError


@pytest.mark.parametrize("content", [b"", b"abc", bytes(range(256)) * 10_000])
def test_catalog_lineage_file_fingerprint_is_sha256(tmp_path, monkeypatch, content):
    monkeypatch.setattr(lineage, "_CHUNK", 1000)  # several chunks for the large case
    path = tmp_path / "f.bin"
    path.write_bytes(content)
    assert file_fingerprint(path) == hashlib.sha256(content).hexdigest()


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


BASE = {"a.txt": "x", "sub/b.txt": "y"}


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (BASE, True),
        ({"a.txt": "x", "sub/b.txt": "z"}, False),  # content changed
        ({"a.txt": "x", "sub/c.txt": "y"}, False),  # file renamed
        ({"a.txt": "x"}, False),  # file removed
        ({**BASE, "c.txt": ""}, False),  # file added
    ],
)
def test_catalog_lineage_folder_fingerprint_tracks_names_and_contents(tmp_path, other, same):
    a = file_fingerprint(_tree(tmp_path / "a", BASE))
    b = file_fingerprint(_tree(tmp_path / "b", other))
    assert (a == b) is same


def test_catalog_lineage_fingerprint_missing_path_is_coded(tmp_path):
    with pytest.raises(InputFormatError) as err:
        file_fingerprint(tmp_path / "missing.conll")
    assert err.value.code == E_FILE_NOT_FOUND and "missing.conll" in str(err.value)


class Mode(enum.Enum):
    FAST = "fast"


@dataclass
class Opts:
    beam: int


KEY_CASES = [
    # (params_a, inputs_a, params_b, inputs_b, equal)
    ({"a": 1, "b": [1, 2]}, [], {"b": [1, 2], "a": 1}, [], True),
    (
        {"a": 1},
        [InputRef("x", "p", None, "1"), InputRef("y", "q")],
        {"a": 1},
        [InputRef("y", "q"), InputRef("x", "p", None, "1")],
        True,
    ),
    ({"langs": {"de", "fr"}}, [], {"langs": {"fr", "de"}}, [], True),
    (
        {"p": Path("a/b"), "m": Mode.FAST, "o": Opts(4)},
        [],
        {"p": "a/b", "m": "fast", "o": {"beam": 4}},
        [],
        True,
    ),
    ({"a": 1}, [], {"a": 2}, [], False),
    ({"a": 1}, [InputRef("x", "p", None, "1")], {"a": 1}, [InputRef("x", "p", None, "2")], False),
    ({"a": 1}, [InputRef("t", "projected", 1)], {"a": 1}, [InputRef("t", "projected", 2)], False),
    ({"a": [1, 2]}, [], {"a": [2, 1]}, [], False),
]


@pytest.mark.parametrize(("pa_", "ia", "pb", "ib", "equal"), KEY_CASES)
def test_catalog_lineage_run_key_depends_on_what_determines_output(pa_, ia, pb, ib, equal):
    assert (make_run_key("flow", pa_, ia) == make_run_key("flow", pb, ib)) is equal


def test_catalog_lineage_run_key_depends_on_flow():
    assert make_run_key("a", {}, []) != make_run_key("b", {}, [])


def test_catalog_lineage_unstorable_parameter_is_coded():
    with pytest.raises(ConfigError) as err:
        make_run_key("flow", {"model": object()}, [])
    assert err.value.code == E_BAD_CONFIG and "parameters.model" in str(err.value)


@pytest.mark.parametrize(
    "failure",
    [OSError("no git"), subprocess.TimeoutExpired("git", 10), None],
)
def test_catalog_lineage_code_version_never_fails(monkeypatch, failure):
    def fake_run(*args, **kwargs):
        if failure is None:
            return subprocess.CompletedProcess(args, 128, "", "fatal: not a git repository")
        raise failure

    lineage.code_version.cache_clear()
    monkeypatch.setattr(lineage.subprocess, "run", fake_run)
    try:
        assert lineage.code_version().endswith("(git unknown)")
    finally:
        lineage.code_version.cache_clear()


def test_catalog_lineage_code_version_names_package_and_git():
    lineage.code_version.cache_clear()
    text = lineage.code_version()
    assert text.startswith("xproj ") and "(git " in text


def test_catalog_lineage_run_record_row_round_trip(tmp_path):
    src = tmp_path / "en.conll"
    src.write_text("EU B-ORG\n")
    run = RunRecord.start(
        "project",
        {"method": "align.v1", "langs": ["de", "fr"]},
        [InputRef.for_file("src", src), InputRef("pairs", "projected", 4)],
        aligner="eflomal.v1",
        models=["m"],
    )
    run.metrics = {"rate": 0.5, "nan": float("nan")}
    run.timings = {"total_s": 1.25}
    run.finish("ok")
    outputs = [OutputRef("projected", 5, 10), OutputRef("rejected", None, 0)]
    row = conform("runs", [run.to_row(outputs)]).to_pylist()[0]
    back = RunRecord.from_row(row)
    assert back.outputs == outputs
    assert back.inputs[0].sha256 == hashlib.sha256(b"EU B-ORG\n").hexdigest()
    assert back.metrics == {"rate": 0.5, "nan": "nan"}  # non-finite floats stored as text
    back.outputs, back.metrics = [], run.metrics
    assert back == run
