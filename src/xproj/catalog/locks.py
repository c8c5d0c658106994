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

import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs; the first one comes when it ends.

    For the few calls that must not be cut in two: a Delta commit (a signal that arrives while
    delta-rs writes a log entry would be handled right after the Rust call returns, before the
    caller learns which version it made, so a rollback could not find it), the rollback itself,
    and the clean-up after a commit. The handlers are swapped for one that only notes the
    signal (blocking the signal in this thread would not do: another thread of the process can
    receive it); afterwards the previous handlers return and a noted signal is sent again.
    Outside the main thread this does nothing (Python handles signals in the main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in _DEFERRED}
    for sig in _DEFERRED:
        signal.signal(sig, lambda signum, _frame: noted.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if noted:
            os.kill(os.getpid(), noted[0])


_DEFERRED = (signal.SIGINT, signal.SIGTERM)


def commit_lock(root: str | os.PathLike[str]) -> FileLock:
    """The lake-wide lock held while a run commits (``<root>/_locks/commit.lock``)."""
    return FileLock(Path(root) / LOCK_DIR / "commit.lock")


def run_lock(root: str | os.PathLike[str], run_key: str) -> FileLock:
    """The lock held for the whole of a run with ``run_key`` (``<root>/_locks/run-<key>.lock``)."""
    return FileLock(Path(root) / LOCK_DIR / f"run-{run_key}.lock")
