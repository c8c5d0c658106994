"""What every benchmark shares: machine facts, package versions, the result file, shared data."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def machine_info() -> dict[str, Any]:
    """Platform, CPU count, Python and, when torch is importable here, CUDA devices."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        with open("/proc/meminfo") as fh:
            info["mem_total_kb"] = int(fh.readline().split()[1])
    except (OSError, ValueError, IndexError):
        info["mem_total_kb"] = None
    return info


def versions(packages: list[str]) -> dict[str, str | None]:
    """Installed version of each distribution (None when absent)."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def shared_data_dir() -> Path:
    """``$XPROJ_SHARED_DATA`` or ``../shared/data``; exits with a clear message when absent."""
    path = Path(os.environ.get("XPROJ_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        raise SystemExit(
            f"shared evaluation data not found at {path}: set XPROJ_SHARED_DATA to its folder."
        )
    return path


def status_kb(field: str) -> int:
    """A ``kB`` field of this process's ``/proc/self/status`` (``VmRSS``, ``VmHWM`` …).

    Raises:
        RuntimeError: the field is not there (the figure would be wrong, not just missing).
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def loadavg_fields(before: tuple[float, float, float]) -> dict[str, list[float]]:
    """``loadavg_before`` (the given :func:`os.getloadavg`) and ``loadavg_after`` (now), rounded,
    for a result payload."""
    return {
        "loadavg_before": [round(x, 2) for x in before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with machine facts and a timestamp added."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **payload,
    }
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    tmp.replace(path)
    return path


class Timer:
    """``with Timer() as t: …`` then ``t.seconds`` (wall clock)."""

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
