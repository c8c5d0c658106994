"""Records and Arrow data → tables of the declared schemas (:mod:`xproj.schemas.tables`).

:func:`conform` converts a shard's records (or row dicts) to Arrow, column by column, once, and
casts and checks Arrow data (tables, record batches) against a table's schema; a table it made
already has the schema and is not cast again. What does not fit is refused with XP405, naming
the table and the first offending column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from xproj.schemas.errors import E_SCHEMA_MISMATCH, CatalogError
from xproj.schemas.tables import RECORDS, RUN_OUTPUTS, schema_of

_INTS = (pa.types.is_integer,)
_STRINGS = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_LISTS = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
    pa.types.is_fixed_size_list,
)


def _is(type_: pa.DataType, preds: tuple) -> bool:
    return any(p(type_) for p in preds)


def _compatible(src: pa.DataType, dst: pa.DataType) -> bool:
    """Whether ``src`` may be cast to ``dst`` without changing what the values mean.

    Width and encoding changes are fine (int64 → int32 when values fit, large_string → string,
    dictionary → its values); kind changes are not (a string column never becomes an int column,
    even if its text parses as numbers).
    """
    if pa.types.is_null(src) or src == dst:
        return True
    if pa.types.is_dictionary(src):
        return _compatible(src.value_type, dst)
    if _is(dst, _INTS):
        return _is(src, _INTS)
    if pa.types.is_floating(dst):
        return pa.types.is_floating(src) or _is(src, _INTS)
    if _is(dst, _STRINGS):
        return _is(src, _STRINGS)
    if pa.types.is_timestamp(dst):
        return pa.types.is_timestamp(src)
    if _is(dst, _LISTS):
        return _is(src, _LISTS) and _compatible(src.value_type, dst.value_type)
    if pa.types.is_struct(dst):
        if not pa.types.is_struct(src):
            return False
        src_fields = {src.field(i).name: src.field(i).type for i in range(src.num_fields)}
        dst_fields = {dst.field(i).name: dst.field(i).type for i in range(dst.num_fields)}
        return src_fields.keys() == dst_fields.keys() and all(
            _compatible(src_fields[k], dst_fields[k]) for k in dst_fields
        )
    return False


def _mismatch(table: str, column: str, problem: str, fix: str) -> CatalogError:
    return CatalogError(
        f"table {table!r}, column {column!r}: {problem}",
        fix=fix,
        code=E_SCHEMA_MISMATCH,
    )


def _member(value: Any, name: str, index: int) -> Any:
    """Field ``name`` of a struct value: a dict's key, a plain tuple's ``index``-th item, else the
    attribute (dataclasses, named tuples).

    Raises:
        TypeError: for a value that has no such field (a list, a number, a short tuple), so
            the column is refused with XP405 like any other value that does not fit.
    """
    if isinstance(value, Mapping):
        return value.get(name)
    try:
        return value[index] if type(value) is tuple else getattr(value, name)
    except (AttributeError, IndexError):
        raise TypeError(f"{value!r} has no field {name!r}") from None


def _array(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """``values`` as an Arrow array of ``type_``, built column by column: struct members are read
    from dicts, tuples or attributes (records, spans), lists are flattened once."""
    if pa.types.is_struct(type_):
        nulls = [v is None for v in values]
        children = [
            _array([None if v is None else _member(v, f.name, i) for v in values], f.type)
            for i, f in enumerate(type_)
        ]
        mask = pa.array(nulls, pa.bool_()) if any(nulls) else None
        return pa.StructArray.from_arrays(children, fields=list(type_), mask=mask)
    if pa.types.is_list(type_):
        for v in values:
            if isinstance(v, str | bytes):  # pyarrow would split it into characters
                raise TypeError(f"a string where a list is expected: {v[:40]!r}")
        if not pa.types.is_nested(type_.value_type):
            return pa.array(values, type=type_)  # lists of scalars: pyarrow's own loop
        offsets, flat, nulls = [0], [], []
        for v in values:
            nulls.append(v is None)
            if v is not None:
                flat.extend(v)
            offsets.append(len(flat))
        child = _array(flat, type_.value_type)
        mask = pa.array(nulls, pa.bool_()) if any(nulls) else None
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), child, type=type_, mask=mask)
    return pa.array(values, type=type_)


def _column_from_rows(table: str, field: pa.Field, values: list[Any]) -> pa.Array:
    try:
        return _array(values, field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        first_bad = _first_bad_value(field.type, values)
        where = f" (row {first_bad[0]}: {first_bad[1]!r})" if first_bad else ""
        raise _mismatch(
            table,
            field.name,
            f"values do not fit type {field.type}{where}: {exc}",
            f"give {field.name!r} values of type {field.type}.",
        ) from exc


def _first_bad_value(type_: pa.DataType, values: list[Any]) -> tuple[int, Any] | None:
    for i, value in enumerate(values):
        try:
            _array([value], type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return i, value
    return None


def _check_columns(name: str, schema: pa.Schema, present: Sequence[str], row: int | None) -> None:
    """Refuse a missing or an undeclared column (``row``: the row dict they were read from)."""
    at = "" if row is None else f"row {row}; "
    if missing := [c for c in schema.names if c not in present]:
        raise _mismatch(
            name,
            missing[0],
            f"missing ({at}missing columns: {', '.join(missing)}).",
            "give every column of the table (None, or nulls, where the column is nullable).",
        )
    if extra := [c for c in present if c not in schema.names]:
        raise _mismatch(
            name,
            extra[0],
            f"not a column of the table ({at}extra columns: {', '.join(extra)}).",
            f"remove it, or declare it in schemas/tables.py; columns: {', '.join(schema.names)}.",
        )


def _table_from_rows(
    name: str, schema: pa.Schema, rows: Sequence[Any], run_id: str | None
) -> pa.Table:
    record = RECORDS.get(name)
    if any(not isinstance(r, Mapping) for r in rows):  # records (a row dict among them is refused)
        if record is None or any(type(r) is not record for r in rows):
            bad = next(r for r in rows if record is None or type(r) is not record)
            raise _mismatch(
                name,
                schema.names[0],
                "records and row dicts are mixed."
                if isinstance(bad, Mapping)
                else f"a {type(bad).__name__} is not a row of the table.",
                f"give {record.__name__ if record else 'row dict'} records, row dicts or Arrow "
                "data.",
            )
        if name in RUN_OUTPUTS and run_id is None:
            raise ValueError(f"records of run output table {name!r} need the run_id to stamp")
        stamped = name in RUN_OUTPUTS  # the records leave run_id out
        columns = {
            f.name: [run_id] * len(rows)
            if stamped and f.name == "run_id"
            else [getattr(r, f.name) for r in rows]
            for f in schema
        }
    else:
        if run_id is not None and name in RUN_OUTPUTS:
            rows = [{"run_id": run_id, **r} for r in rows]
        for i, row in enumerate(rows):
            _check_columns(name, schema, list(row), i)
        columns = {f.name: [row[f.name] for row in rows] for f in schema}
    arrays = [_column_from_rows(name, f, columns[f.name]) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _cast_table(name: str, schema: pa.Schema, data: pa.Table) -> pa.Table:
    present = data.column_names
    if len(set(present)) != len(present):
        dup = next(c for c in present if present.count(c) > 1)
        raise _mismatch(name, dup, "appears more than once.", "give each column once.")
    _check_columns(name, schema, present, None)
    arrays = []
    for field in schema:
        column = data.column(field.name)
        if not _compatible(column.type, field.type):
            raise _mismatch(
                name,
                field.name,
                f"has type {column.type}, expected {field.type}.",
                f"convert the column to {field.type} before writing.",
            )
        try:
            arrays.append(column.cast(field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise _mismatch(
                name,
                field.name,
                f"cannot be cast from {column.type} to {field.type}: {exc}",
                f"convert the column to {field.type} (values must fit) before writing.",
            ) from exc
    return pa.Table.from_arrays(arrays, schema=schema)


def conform(
    name: str,
    data: pa.Table | pa.RecordBatch | Sequence[Any],
    *,
    run_id: str | None = None,
) -> pa.Table:
    """Cast ``data`` to table ``name``'s declared schema and check it.

    Columns are put in declared order; integer widths, string encodings and list/struct layouts are
    cast (overflow is an error); a change of kind (text to number …), a missing or extra column, or
    a null in a non-nullable column is refused.

    Args:
        name: a key of :data:`~xproj.schemas.tables.TABLES`.
        data: an Arrow table or record batch, records of the table's type
            (:data:`~xproj.schemas.tables.RECORDS`), or row dicts (each with every column).
        run_id: stamped in the ``run_id`` column of a run-output table's records (and of its
            row dicts that leave it out).

    Returns:
        A table with exactly ``TABLES[name]`` as its schema.

    Raises:
        CatalogError: XP405 naming the table and the first offending column; XP401 for a
            table that is not declared.

    Example:
        >>> rows = [{"run_id": "r", "stage": "read", "source": "a.conll", "locator": "line 3",
        ...          "code": "XP103", "reason": "3 tokens but 2 tags", "raw": "EU rejects"}]
        >>> conform("rejected", rows).num_rows
        1
    """
    schema = schema_of(name)
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        # a table this module made already has the schema: nothing to cast
        same = data.schema.equals(schema, check_metadata=False)
        table = data if same else _cast_table(name, schema, data)
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        table = _table_from_rows(name, schema, data, run_id)
    else:
        raise CatalogError(
            f"cannot write a {type(data).__name__} to table {name!r}.",
            fix="pass a pyarrow Table, a RecordBatch, records or a list of row dicts.",
            code=E_SCHEMA_MISMATCH,
        )
    for field in schema:
        if not field.nullable and (nulls := table.column(field.name).null_count):
            raise _mismatch(
                name,
                field.name,
                f"{nulls} null value(s) in a non-nullable column.",
                "fill the column in every row.",
            )
    return table
