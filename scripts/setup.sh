#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install xproj with its dev tools and
# the Ray executor's extra (the tests exercise it).
# Idempotent: a second run only checks that everything is there. Set XPROJ_VENV to put it elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${XPROJ_VENV:-.venv}
PY=${PYTHON:-python3}
stamp="$VENV/.xproj-installed"
want=$(sha1sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
# torch first, pinned: pip's configured find-links holds the CPU wheel on CPU machines, so the
# dependency resolver never reaches for the CUDA build.
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
# PyICU builds against the system's ICU: install its headers when they are missing (Debian).
if ! pkg-config --exists icu-uc 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q libicu-dev pkg-config >/dev/null || { apt-get update -q && apt-get install -y -q libicu-dev pkg-config; }
  else
    echo "PyICU needs ICU's headers and pkg-config: install libicu-dev and pkg-config (Debian/Ubuntu)" >&2
    exit 1
  fi
fi
# eflomal ships only an sdist; its build needs Cython and numpy.
"$VENV/bin/python" -m pip install -q cython numpy
"$VENV/bin/python" -m pip install -q -e ".[dev,ray]"
echo "$want" > "$stamp"
