"""Read-only SQL over the lake with DuckDB.

Each table is a view over ``Lake.dataset`` (the Parquet files the Delta log names for that
version, so rows a later version deleted or overwrote stay out) that keeps only the rows of
committed runs: a run without a ``runs`` row (a commit in progress, or one a killed process left)
is invisible. (Globbing the table folder's Parquet files would bring all of them back.) The raw
datasets are registered as ``_raw_<table>``. Declared tables that have no version yet are
registered empty, so queries over a fresh lake work.

The connection is in memory, cannot reach files or the network (``enable_external_access`` off,
extension auto-install and auto-load off, configuration locked), and only ``SELECT``-like and
``EXPLAIN`` statements are run, one per query.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa

from xproj.catalog.lake import Lake
from xproj.schemas.errors import E_QUERY_FAILED, E_READ_ONLY_QUERY, CatalogError
from xproj.schemas.tables import TABLES

_READ_TYPES = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def _connect(lake: Lake, at: Mapping[str, int], names: list[str]) -> duckdb.DuckDBPyConnection:
    if unknown := sorted(set(at) - set(names)):
        raise lake._unknown_table(unknown[0])
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    committed = pa.table({"run_id": pa.array(sorted(lake.committed_run_ids()), pa.string())})
    con.register("_committed_runs", committed)
    for name in names:
        raw = f"_raw_{name}"
        con.register(raw, lake.dataset(name, at.get(name)))
        keep = lake.committed_filter(name)
        where = ""
        if keep is not None:
            column, nullable = keep
            where = f" WHERE {column} IN (SELECT run_id FROM _committed_runs)"
            if nullable:
                where += f" OR {column} IS NULL"
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM "{raw}"{where}')
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _one_read_statement(sql: str, names: list[str]) -> str:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise CatalogError(
            f"query does not parse: {exc}",
            fix=f"check the SQL; tables: {', '.join(names)}.",
            code=E_QUERY_FAILED,
        ) from exc
    if not statements:
        raise CatalogError(
            "empty query.",
            fix=f"give a SELECT statement; tables: {', '.join(names)}.",
            code=E_QUERY_FAILED,
        )
    for statement in statements:
        if statement.type not in _READ_TYPES:
            kind = statement.type.name
            raise CatalogError(
                f"{kind} statements are refused: queries over the lake are read-only "
                f"({statement.query.strip()[:80]!r}).",
                fix="use SELECT (or DESCRIBE/SUMMARIZE/EXPLAIN); change tables through flows.",
                code=E_READ_ONLY_QUERY,
            )
    if len(statements) > 1:
        raise CatalogError(
            f"{len(statements)} statements given; a query runs one statement.",
            fix=f"run the statements one at a time; tables: {', '.join(names)}.",
            code=E_QUERY_FAILED,
        )
    return statements[0].query


def query(lake: Lake, sql: str, at: Mapping[str, int] | None = None) -> pa.Table:
    """Run read-only ``sql`` over the lake's tables and return the result.

    Args:
        lake: the lake to query.
        sql: one read statement (``SELECT``, ``WITH``, ``FROM``, ``DESCRIBE``, ``SUMMARIZE``,
            ``EXPLAIN`` …).
        at: table → version to pin; other tables are read at their latest version.

    Returns:
        The result as an Arrow table.

    Raises:
        CatalogError: XP403 for a statement that is not a read (checked for every statement
            given), XP404 for several statements or when DuckDB fails (its message and the
            table list included), XP401/XP402 for an unknown pinned table/version.

    Example:
        >>> import tempfile
        >>> query(Lake(tempfile.mkdtemp()), "SELECT count(*) AS n FROM runs").to_pylist()
        [{'n': 0}]
    """
    at = dict(at or {})
    names = sorted(set(lake.tables()) | set(TABLES))
    statement = _one_read_statement(sql, names)
    con = _connect(lake, at, names)
    try:
        return con.sql(statement).to_arrow_table()
    except duckdb.Error as exc:
        pinned = ", ".join(f"{t}@{v}" for t, v in sorted(at.items()))
        raise CatalogError(
            f"query failed: {exc}".rstrip(),
            fix=f"check the SQL; tables: {', '.join(names)}"
            + (f" (pinned: {pinned})" if pinned else "")
            + ".",
            code=E_QUERY_FAILED,
        ) from exc
    finally:
        con.close()
