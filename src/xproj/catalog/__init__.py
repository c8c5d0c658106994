"""Versioned tables (Delta Lake), run lineage, shard staging, locks and read-only DuckDB queries.

Example:
    >>> import tempfile
    >>> from xproj.catalog import Lake, RunRecord, query
    >>> lake = Lake(tempfile.mkdtemp())
    >>> run = RunRecord.start("demo", {"n": 1})
    >>> lake.commit(run, {})
    {'runs': 0}
    >>> query(lake, "SELECT flow, status FROM runs").to_pylist()
    [{'flow': 'demo', 'status': 'ok'}]
"""

from xproj.catalog.lake import Lake, VersionInfo
from xproj.catalog.lineage import (
    InputRef,
    OutputRef,
    RunRecord,
    code_version,
    file_fingerprint,
    make_run_key,
)
from xproj.catalog.query import query
from xproj.catalog.staging import Staging

__all__ = [
    "InputRef",
    "Lake",
    "OutputRef",
    "RunRecord",
    "Staging",
    "VersionInfo",
    "code_version",
    "file_fingerprint",
    "make_run_key",
    "query",
]
