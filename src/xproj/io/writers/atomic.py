"""Output files replaced whole or not at all: written under a temporary name beside the target
(same folder, so the final rename is atomic), then renamed onto it.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> sorted(p.name for p in folder.iterdir())
    ['out.txt']
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temp_path_for(out: Path) -> Path:
    """A hidden temporary name beside ``out`` (same folder, so renaming it onto ``out`` is atomic)."""
    return out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to: renamed onto ``path`` when the block
    ends normally, removed (``path`` untouched) when it raises. The folder is created."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(out)
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
