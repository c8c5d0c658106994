"""Shared fixtures: the evaluation data folder and temporary lakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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
