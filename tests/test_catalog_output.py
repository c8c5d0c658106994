"""Output: terminal tables, CSV, JSON Lines and Parquet."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from xproj.io.writers.results import _display_width, format_table, render
from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

SPANS = pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32()), ("label", pa.string())]))


def _sample() -> pa.Table:
    return pa.table(
        {
            "pair_id": ["p1", "p2", "p3"],
            "text": ["Angela Merkel", "北京欢迎你", "a\nb"],
            "n": pa.array([1, None, 300], pa.int32()),
            "f1": [0.912345, float("nan"), 1.0],
            "spans": pa.array([[{"start": 0, "end": 2, "label": "PER"}], [], None], SPANS),
            "at": pa.array(
                [datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC")
            ),
        }
    )


def _cells(line: str) -> list[str]:
    """The line as terminal cells: a wide character fills two."""
    out = []
    for ch in line:
        out.extend([ch] * _display_width(ch))
    return out


def test_catalog_output_table_aligns_columns_with_wide_characters():
    lines = format_table(_sample()).splitlines()
    assert lines[-1] == "3 rows"
    rule = lines[1]
    widths = [len(seg) for seg in rule.split("  ")]
    separators = [sum(widths[: i + 1]) + 2 * i for i in range(len(widths) - 1)]
    total = len(rule)
    for line in [lines[0], *lines[2:-1]]:
        cells = _cells(line) + [" "] * (total - len(_cells(line)))
        assert len(cells) == total
        assert all(cells[p] == " " and cells[p + 1] == " " for p in separators), line
    assert "北京欢迎你" in lines[3] and "null" in lines[3] and "a⏎b" in lines[4]
    assert lines[4].split()[2] == "300" and _cells(lines[4])[separators[2] - 1] == "0"


@pytest.mark.parametrize(("max_cell", "expected"), [(5, "Ange…"), (40, "Angela Merkel")])
def test_catalog_output_table_cuts_long_cells(max_cell, expected):
    text = format_table(pa.table({"t": ["Angela Merkel"]}), max_cell=max_cell)
    assert text.splitlines()[2] == expected


@pytest.mark.parametrize(
    ("max_rows", "footer"),
    [
        (2, "3 rows (showing the first 2; raise max_rows or use LIMIT)"),
        (3, "3 rows"),
        (10, "3 rows"),
    ],
)
def test_catalog_output_table_limits_rows(max_rows, footer):
    lines = format_table(_sample(), max_rows=max_rows).splitlines()
    assert lines[-1] == footer
    assert len(lines) == 2 + min(max_rows, 3) + 1


def test_catalog_output_table_single_row_and_empty():
    assert format_table(pa.table({"x": [1]})).splitlines()[-1] == "1 row"
    assert format_table(pa.table({"x": pa.array([], pa.int64())})).splitlines() == [
        "x",
        "-",
        "0 rows",
    ]


def test_catalog_output_json_lines(tmp_path):
    out = tmp_path / "r.jsonl"
    render(_sample(), "json", out, max_rows=1)  # max_rows does not limit files
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    assert rows[0]["spans"] == [{"start": 0, "end": 2, "label": "PER"}]
    assert rows[1]["f1"] is None and rows[1]["n"] is None and rows[1]["text"] == "北京欢迎你"
    assert rows[0]["at"] == "2025-01-02T03:04:05+00:00"


def test_catalog_output_csv_with_nested_as_json(tmp_path):
    out = tmp_path / "r.csv"
    render(_sample(), "csv", out)
    back = pcsv.read_csv(out)
    assert back.num_rows == 3
    assert json.loads(back["spans"][0].as_py()) == [{"start": 0, "end": 2, "label": "PER"}]
    assert back["text"].to_pylist() == ["Angela Merkel", "北京欢迎你", "a\nb"]


def test_catalog_output_parquet_round_trip(tmp_path):
    out = tmp_path / "r.parquet"
    render(_sample(), "parquet", out)
    back = pq.read_table(out).cast(_sample().schema)
    assert back.drop_columns(["f1"]).equals(_sample().drop_columns(["f1"]))
    assert str(back["f1"].to_pylist()) == "[0.912345, nan, 1.0]"


@pytest.mark.parametrize(
    ("fmt", "first_line"), [("table", "pair_id"), ("json", '{"pair_id"'), ("csv", '"pair_id"')]
)
def test_catalog_output_to_stdout(capsys, fmt, first_line):
    render(_sample(), fmt)
    assert capsys.readouterr().out.startswith(first_line)


def test_catalog_output_unknown_format():
    with pytest.raises(ConfigError) as err:
        render(_sample(), "xlsx")
    assert err.value.code == E_BAD_CONFIG and "parquet" in str(err.value)
