"""Shared fixtures: the evaluation data folder and temporary lakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Totals of the fault-injection suite (tests/test_faults.py), printed at the end of the session.
FAULT_LEDGER = {"faults": 0, "lost": 0, "duplicated": 0}


def pytest_terminal_summary(terminalreporter) -> None:
    """One line for the fault-injection suite, when it ran."""
    if FAULT_LEDGER["faults"]:
        terminalreporter.write_line(
            f"fault injection: faults injected {FAULT_LEDGER['faults']}, rows lost "
            f"{FAULT_LEDGER['lost']}, rows duplicated {FAULT_LEDGER['duplicated']}"
        )


def shared_data_dir() -> Path:
    """``$XPROJ_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("XPROJ_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared evaluation data folder; skips the test when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared evaluation data not found at {path} (set XPROJ_SHARED_DATA)")
    return path


@pytest.fixture
def lake_root(tmp_path: Path) -> Path:
    """An empty lake root for one test."""
    return tmp_path / "lake"


@pytest.fixture(scope="session")
def tiny_mt_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Tiny random MT models of every family, built and converted (int8) once per session.

    Returns ``{family: {"hf": <Hugging Face folder>, "ct2": <CTranslate2 folder>}}`` for the
    families of ``xproj.testing.tiny_mt.FAMILIES`` (marian en→de, nllb, m2m100, madlad, mbart50); each
    CTranslate2 folder also holds the tokenizer files.
    """
    from xproj.testing.tiny_mt import build_all

    return build_all(tmp_path_factory.mktemp("tiny_mt"))


@pytest.fixture(scope="session")
def tiny_qg_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random T5 question generator (``<hl>`` highlights), converted (int8) once per
    session with an ``xproj-model.json`` naming the ``text2text`` family."""
    from xproj.testing.tiny_mt import build_qg_t5
    from xproj.translators.store import convert

    root = tmp_path_factory.mktemp("tiny_qg")
    hf = build_qg_t5(root / "qg-hf")
    return convert(str(hf), quantization="int8", family="text2text", root=root / "store")
