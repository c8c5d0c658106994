"""Ctrl-C and SIGTERM as one exception, so a run stops at once and commits nothing.

Inside :func:`trap`, SIGINT and SIGTERM raise :class:`Interrupted` in the main thread (at the next
Python instruction; a child process such as eflomal's aligner gets the terminal's SIGINT itself
and ``subprocess`` kills it when the exception unwinds). The executor lets the exception through
its shard loop and its commit (which rolls back what it wrote), keeps the staged shards, and the
CLI prints one line and exits with ``128 + signal``: 130 for SIGINT, 143 for SIGTERM.

A second signal while the first unwinds raises again, so a stuck clean-up can still be stopped.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``exit_code`` is ``128 + signum``.

    Subclasses ``KeyboardInterrupt`` so that code which already lets Ctrl-C through (Prefect's
    engine, ``subprocess``) treats SIGTERM the same way.
    """

    def __init__(self, signum: int, message: str = "") -> None:
        self.signum = signum
        self.message = message or f"interrupted by {signal.Signals(signum).name}"
        super().__init__(self.message)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Stopped(Exception):  # noqa: N818 - it is a state, not an error
    """An :class:`Interrupted` carried through code that swallows ``KeyboardInterrupt`` (the
    CLI's framework turns it into a bare exit status); the CLI prints it and exits with its
    ``exit_code``."""

    def __init__(self, interrupted: Interrupted) -> None:
        self.message = interrupted.message
        self.exit_code = interrupted.exit_code
        super().__init__(self.message)


#: The last signal :func:`trap` turned into an exception (for exit statuses).
last_signal: dict[str, int] = {}


def _raise(signum: int, _frame: object) -> None:
    last_signal["signum"] = signum
    raise Interrupted(signum)


@contextlib.contextmanager
def trap() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs.

    Outside the main thread (signals cannot be handled there) this does nothing. The previous
    handlers come back when the block ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig in _SIGNALS:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def as_interrupted(exc: BaseException) -> Interrupted:
    """``exc`` as an :class:`Interrupted` (a plain ``KeyboardInterrupt`` is a SIGINT)."""
    if isinstance(exc, Interrupted):
        return exc
    return Interrupted(signal.SIGINT)
