"""DuckDB queries: the Delta log decides what is visible; pinned versions; read-only; errors."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as pds
import pytest
from deltalake import DeltaTable, write_deltalake

from tests.helpers import lake_with_outcome_runs
from tests.test_tables import sample_rows
from xproj.catalog import Lake, query
from xproj.schemas.errors import (
    E_QUERY_FAILED,
    E_READ_ONLY_QUERY,
    E_UNKNOWN_TABLE,
    E_UNKNOWN_VERSION,
    CatalogError,
)
from xproj.schemas.tables import TABLES


@pytest.fixture
def lake(lake_root) -> Lake:
    """outcomes@0: 3 rows (p0..p2), outcomes@1: +2 rows (p0, p1); runs@0, runs@1."""
    return lake_with_outcome_runs(lake_root, "project", (3, 2))


def _count(lake: Lake, table: str, at=None) -> int:
    return query(lake, f"SELECT count(*) AS n FROM {table}", at=at).column("n")[0].as_py()


@pytest.mark.parametrize(
    ("at", "expected"), [(None, 5), ({"outcomes": 0}, 3), ({"outcomes": 1}, 5)]
)
def test_catalog_query_latest_or_pinned(lake, at, expected):
    assert _count(lake, "outcomes", at) == expected


def test_catalog_query_joins_tables_and_sees_declared_empty_ones(lake):
    result = query(
        lake,
        """
        SELECT r.flow, count(o.pair_id) AS spans, count(o.reason) AS dropped
        FROM runs r JOIN outcomes o USING (run_id) GROUP BY r.flow
        """,
    )
    assert result.to_pylist() == [{"flow": "project", "spans": 5, "dropped": 2}]
    assert _count(lake, "projected") == 0  # declared, never written


@pytest.mark.parametrize(
    "change",
    [
        lambda dt, run_id: dt.delete("pair_id = 'p0'"),
        lambda dt, run_id: write_deltalake(  # one row of a committed run replaces the rest
            dt,
            pa.Table.from_pylist(sample_rows("outcomes", run_id, 1), schema=TABLES["outcomes"]),
            mode="overwrite",
        ),
    ],
    ids=["delete", "overwrite"],
)
def test_catalog_query_does_not_see_rows_removed_by_delta(lake, change):
    path = lake.path("outcomes")
    change(DeltaTable(path), lake.read("runs")["run_id"][0].as_py())
    globbed = pds.dataset(sorted(str(p) for p in path.glob("*.parquet")), format="parquet")
    visible = _count(lake, "outcomes")
    assert globbed.count_rows() > visible  # the removed rows are still on disk
    assert visible == lake.read("outcomes").num_rows
    assert visible in (1, 3)
    assert _count(lake, "outcomes", at={"outcomes": 1}) == 5  # time travel still sees them


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO outcomes SELECT * FROM outcomes",
        "CREATE TABLE x AS SELECT 1",
        "COPY outcomes TO 'out.csv'",
        "ATTACH 'other.db'",
        "INSTALL delta",
        "LOAD delta",
        "SET threads = 1",
        "RESET threads",
        "PRAGMA version",
        "DROP VIEW outcomes",
        "UPDATE outcomes SET label = 'x'",
        "DELETE FROM outcomes",
        "EXPORT DATABASE 'dump'",
        "CALL pragma_version()",
        "BEGIN TRANSACTION",
        "USE memory",
        "SELECT 1; CREATE TABLE y AS SELECT 2",
    ],
)
def test_catalog_query_refuses_non_read_statements(lake, sql):
    with pytest.raises(CatalogError) as err:
        query(lake, sql)
    assert err.value.code == E_READ_ONLY_QUERY
    assert "read-only" in str(err.value)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT label FROM outcomes LIMIT 1",
        "FROM outcomes SELECT label LIMIT 1",
        "WITH a AS (SELECT label FROM outcomes) SELECT * FROM a LIMIT 1",
        "DESCRIBE outcomes",
        "SUMMARIZE runs",
        "EXPLAIN SELECT * FROM outcomes",
    ],
)
def test_catalog_query_allows_read_statements(lake, sql):
    assert query(lake, sql).num_rows >= 1


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELECT * FROM outcomez", "outcomez"),
        ("SELEC 1", "syntax error"),
        ("SELECT nope FROM runs", "nope"),
        ("SELECT * FROM read_csv('/etc/hostname')", "disabled"),
        ("SELECT * FROM read_parquet('outcomes/*.parquet')", "disabled"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("  ", "empty query"),
    ],
)
def test_catalog_query_errors_carry_duckdb_message_and_tables(lake, sql, needle):
    with pytest.raises(CatalogError) as err:
        query(lake, sql)
    assert err.value.code == E_QUERY_FAILED
    assert needle in str(err.value)
    from xproj.schemas.tables import TABLES

    assert "tables: " + ", ".join(sorted(TABLES)) in str(err.value)  # every declared table


@pytest.mark.parametrize(
    ("at", "code"),
    [({"outcomez": 0}, E_UNKNOWN_TABLE), ({"outcomes": 7}, E_UNKNOWN_VERSION)],
)
def test_catalog_query_unknown_pinned_table_or_version(lake, at, code):
    with pytest.raises(CatalogError) as err:
        query(lake, "SELECT 1", at=at)
    assert err.value.code == code


def test_catalog_query_empty_lake(lake_root):
    assert query(Lake(lake_root), "SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 0}]


@pytest.mark.parametrize(
    "where",
    [
        "label = 'PER'",
        "span_index >= 1",
        "reason IS NULL",
        "tgt_start IS NOT NULL",
        "pair_id LIKE 'p%'",
    ],
)
def test_catalog_query_filters_see_committed_rows(lake, where):
    # A filtered scan must return what filtering the whole table returns: file statistics must
    # never prune files that hold matching rows.
    import duckdb

    full = lake.read("outcomes")
    con = duckdb.connect()
    con.register("t", full)
    expected = con.sql(f"SELECT count(*) FROM t WHERE {where}").fetchall()[0][0]
    scan = query(lake, f"SELECT count(*) AS n FROM outcomes WHERE {where}").column("n")[0].as_py()
    assert expected > 0
    assert scan == expected
