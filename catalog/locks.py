"""Advisory file locks between processes that share a lake (``fcntl.flock``).

Two locks keep a lake consistent when several runs use it at once:

- the **commit lock** (one per lake, ``_locks/commit.lock``) is held while a run's tables and its
  ``runs`` row are written, and while orphaned versions are cleaned. Checking whether a table
  already holds a run's rows and writing them happen under it, so no table is written twice;
- a **run lock** (one per run key, ``_locks/run-<key>.lock``) is held for a whole run, so two
  identical runs started together cannot both compute and commit: the second waits for the
  first and then reuses its result.

The kernel releases an ``flock`` when its process dies, so a run killed with ``kill -9`` never
leaves a lock behind. The lock files themselves stay (they are empty and cheap). Only local
filesystems that support ``flock`` are supported, as for the lake itself.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

LOCK_DIR = "_locks"


class FileLock:
    """An exclusive ``flock`` on ``path`` (created when missing).

    Example:
        >>> import tempfile, pathlib
        >>> lock = FileLock(pathlib.Path(tempfile.mkdtemp()) / "a.lock")
        >>> with lock:
        ...     lock.held
        True
        >>> lock.held
        False
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"FileLock({str(self.path)!r}, held={self.held})"

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; returns whether it was taken."""
        if self._fd is not None:
            return True
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        self._note_owner()
        return True

    def acquire(self, poll_s: float = 0.2) -> None:
        """Take the lock, waiting as long as another process holds it.

        Polls instead of blocking in ``flock`` so that Ctrl-C interrupts the wait at once.
        """
        while not self.try_acquire():
            time.sleep(poll_s)

    def release(self) -> None:
        """Give the lock back (a no-op when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def owner(self) -> str:
        """What the holder wrote into the lock file (``pid <n>``), for messages; may be stale."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _note_owner(self) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"pid {os.getpid()}\n".encode(), 0)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def commit_lock(root: str | os.PathLike[str]) -> FileLock:
    """The lake-wide lock held while a run commits (``<root>/_locks/commit.lock``)."""
    return FileLock(Path(root) / LOCK_DIR / "commit.lock")


def run_lock(root: str | os.PathLike[str], run_key: str) -> FileLock:
    """The lock held for the whole of a run with ``run_key`` (``<root>/_locks/run-<key>.lock``)."""
    return FileLock(Path(root) / LOCK_DIR / f"run-{run_key}.lock")
