"""Show a result table in the terminal, or write it as CSV, JSON Lines or Parquet.

Formats:
    ``table``: aligned columns for a terminal (wide characters counted as two), long cells cut
        with ``…``, at most ``max_rows`` rows, and a footer with the row count.
    ``csv``: a header and every row; list and struct cells are written as JSON text.
    ``json``: JSON Lines, one object per row (what ``datasets.load_dataset("json")`` and
        ``duckdb``'s ``read_json`` read, and what can be streamed and appended); timestamps as
        ISO 8601 strings, non-finite floats as null.
    ``parquet``: the table as is, to a file (or to stdout when it is not a terminal).

``max_rows`` only limits the terminal table; files get every row (limit in SQL instead).
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError, check_choice

Format = Literal["table", "csv", "json", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("table", "csv", "json", "jsonl", "parquet")
MAX_CELL = 40


def _display_width(text: str) -> int:
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _cut(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` display columns, ending in ``…`` when cut."""
    if _display_width(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = _display_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _display_width(text))
    return gap + text if right else text + gap


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value.replace("\n", "⏎").replace("\t", " ")
    if isinstance(value, list | dict):
        return json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def format_table(table: pa.Table, max_rows: int = 50, max_cell: int = MAX_CELL) -> str:
    """``table`` as aligned text columns with a row-count footer.

    Example:
        >>> print(format_table(pa.table({"label": ["PER", "LOC"], "f1": [0.91234, 0.5]})))
        label      f1
        -----  ------
        PER    0.9123
        LOC       0.5
        2 rows
    """
    shown = table.slice(0, max(max_rows, 0))
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types]
    header = [_cut(name, max_cell) for name in table.column_names]
    body = [[_cut(_cell(v), max_cell) for v in row.values()] for row in shown.to_pylist()]
    widths = [
        max([_display_width(h)] + [_display_width(r[i]) for r in body])
        for i, h in enumerate(header)
    ]
    lines = [
        "  ".join(_pad(h, w, n) for h, w, n in zip(header, widths, numeric, strict=True)).rstrip()
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        cells = [_pad(c, w, n) for c, w, n in zip(row, widths, numeric, strict=True)]
        lines.append("  ".join(cells).rstrip())
    n = table.num_rows
    footer = f"{n} row{'s' if n != 1 else ''}"
    if shown.num_rows < n:
        footer += f" (showing the first {shown.num_rows}; raise max_rows or use LIMIT)"
    lines.append(footer)
    return "\n".join(lines)


def _flatten_nested(table: pa.Table) -> pa.Table:
    """List and struct columns as JSON text, for CSV (which has no nested types)."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_nested(field.type):
            texts = [
                None if v is None else json.dumps(_jsonable(v), ensure_ascii=False)
                for v in column.to_pylist()
            ]
            columns.append(pa.array(texts, pa.string()))
        else:
            columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _json_lines(table: pa.Table, sink: IO[str]) -> None:
    for batch in table.to_batches():
        for row in batch.to_pylist():
            sink.write(json.dumps(_jsonable(row), ensure_ascii=False) + "\n")


def render(
    table: pa.Table,
    fmt: Format = "table",
    output: str | os.PathLike[str] | None = None,
    max_rows: int = 50,
) -> None:
    """Write ``table`` in format ``fmt`` to the file ``output``, or to stdout when it is None.

    Args:
        table: the rows to show or write.
        fmt: ``table``, ``csv``, ``json`` (JSON Lines; ``jsonl`` is the same) or ``parquet``.
        output: a file path; stdout when None.
        max_rows: rows shown by the ``table`` format (the other formats write every row).

    Raises:
        ConfigError: XP301 for an unknown format, or Parquet to a terminal.

    Example:
        >>> render(pa.table({"x": [1, 2]}), "json")
        {"x": 1}
        {"x": 2}
    """
    check_choice("output format", fmt, FORMATS)
    if fmt == "parquet":
        if output is not None:
            pq.write_table(table, Path(output))
            return
        if sys.stdout.isatty():
            raise ConfigError(
                "refusing to write Parquet (binary) to a terminal.",
                fix="give an output file, or redirect stdout to a file.",
                code=E_BAD_CONFIG,
            )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        sys.stdout.flush()
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return
    if output is None:
        _write_text(table, fmt, sys.stdout, max_rows)
        return
    with Path(output).open("w", encoding="utf-8", newline="") as sink:
        _write_text(table, fmt, sink, max_rows)


def _write_text(table: pa.Table, fmt: str, sink: IO[str], max_rows: int) -> None:
    if fmt == "table":
        sink.write(format_table(table, max_rows) + "\n")
    elif fmt in ("json", "jsonl"):
        _json_lines(table, sink)
    else:
        buffer = io.BytesIO()
        pcsv.write_csv(_flatten_nested(table), buffer)
        sink.write(buffer.getvalue().decode("utf-8"))
