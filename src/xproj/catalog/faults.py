"""Fault injection for the crash-safety tests: stop the process at a chosen point.

Inactive unless ``XPROJ_FAULTS`` is set, as a comma-separated list of ``name=value``:

- ``kill_after_commits=<k>``: SIGKILL this process right after its k-th table commit inside
  ``Lake.commit`` (the ``runs`` row counts as the last table commit), as a power cut would;
- ``commit_delay=<seconds>``: sleep that long after every table commit, so that a test can send
  a signal in the middle of a commit (between two table commits);
- ``inside_commit_delay=<seconds>``: sleep that long inside every table commit, where signals
  are held back, so that a test can send one while delta-rs writes a log entry;
- ``shard_delay=<seconds>``: sleep that long inside every shard step, so that a test can send a
  signal while a shard is being computed;
- ``kill_in_shard_once=<path>``: SIGKILL the process that runs a shard step, once: the first
  step creates ``path`` and dies, later ones (a retry, a restarted worker) find it and go on.

The tests in ``tests/test_faults.py`` (and the Ray ones, ``tests/test_executor_ray.py``) run xproj in subprocesses with these set and check that
every committed table equals that of a clean run. Nothing else reads this variable.
"""

from __future__ import annotations

import os
import signal
import time

ENV = "XPROJ_FAULTS"
_commits = 0


def _settings() -> dict[str, str]:
    raw = os.environ.get(ENV, "")
    return dict(item.split("=", 1) for item in raw.split(",") if "=" in item)


def table_committed(table: str) -> None:
    """Called after each table commit of ``Lake.commit``; kills the process when told to."""
    global _commits
    settings = _settings()
    _commits += 1
    limit = settings.get("kill_after_commits")
    if limit is not None and _commits == int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
    if settings.get("commit_delay"):
        time.sleep(float(settings["commit_delay"]))


def in_commit() -> None:
    """Called inside a table commit (signals held back); sleeps when told to."""
    delay = _settings().get("inside_commit_delay")
    if delay:
        time.sleep(float(delay))


def in_shard() -> None:
    """Called at the start of every shard step; sleeps, or kills its process once, when told
    to."""
    settings = _settings()
    delay = settings.get("shard_delay")
    if delay:
        time.sleep(float(delay))
    marker = settings.get("kill_in_shard_once")
    if marker:
        try:
            with open(marker, "x"):
                pass
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)
