"""Prefect flows, their typed configs and the ``xproj`` CLI (thin orchestration only).

Prefect starts a local ephemeral API on first use when no server is configured; on a busy 2-core
machine that can take longer than Prefect's default 20 s, so a longer start-up timeout is set
here unless the user has set one. That local server's telemetry is off by default too: xproj runs
on machines without internet, where each attempt only logs an error.
"""

import os

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
