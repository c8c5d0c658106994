"""The Arrow schema of every table xproj writes, and ``conform`` to cast and check data against it.

This is the one place that declares tables: adding a table (``translations`` …) means adding an
entry to :data:`TABLES`; the lake, staging and query layers pick it up from here. Columns are
non-nullable unless declared otherwise, and :func:`conform` enforces that.

This module imports pyarrow, so ``schemas/__init__`` does not import it; use
``from xproj.schemas.tables import TABLES, conform``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from xproj.schemas.errors import E_SCHEMA_MISMATCH, E_UNKNOWN_TABLE, CatalogError

SPAN = pa.struct(
    [pa.field("start", pa.int32()), pa.field("end", pa.int32()), pa.field("label", pa.string())]
)
"""A labeled ``[start, end)`` span (token or character offsets)."""

LINK = pa.struct([pa.field("src", pa.int32()), pa.field("tgt", pa.int32())])
"""One word-alignment link between a source and a target token index."""

ANSWERS = pa.struct(
    [
        pa.field("text", pa.list_(pa.string())),
        pa.field("answer_start", pa.list_(pa.int32())),
    ]
)
"""SQuAD-style answers: texts and their character offsets in the context, in parallel lists."""

INPUT_REF = pa.struct(
    [
        pa.field("name", pa.string()),
        pa.field("ref", pa.string()),
        pa.field("version", pa.int64()),
        pa.field("sha256", pa.string()),
    ]
)
"""An input of a run: a file or dataset (with its sha256) or a lake table (with its version)."""

OUTPUT_REF = pa.struct(
    [pa.field("table", pa.string()), pa.field("version", pa.int64()), pa.field("rows", pa.int64())]
)
"""An output of a run: the table version it created (null when it wrote no rows) and its rows."""

UTC_TIME = pa.timestamp("us", tz="UTC")


def _req(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=False)


def _opt(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=True)


_S = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()
_F64 = pa.float64()
_STRS = pa.list_(pa.string())
_SPANS = pa.list_(SPAN)

_PAIR_KEY = [_req("run_id", _S), _req("pair_id", _S), _req("src_lang", _S), _req("tgt_lang", _S)]

TABLES: dict[str, pa.Schema] = {
    # One row per sentence pair and projection method.
    "projected": pa.schema(
        [
            *_PAIR_KEY,
            _req("src_text", _S),
            _req("src_tokens", _STRS),
            _req("src_tags", _STRS),
            _req("tgt_text", _S),
            _req("tgt_tokens", _STRS),
            _req("tgt_tags", _STRS),
            _req("tgt_spans", _SPANS),
            _req("tgt_char_spans", _SPANS),
            _req("method", _S),
            # Null for methods that use no word aligner (marker-based projection).
            _opt("aligner", _S),
            _opt("aligner_model", _S),
            # The translation model, for rows whose target side xproj translated.
            _opt("translation_model", _S),
            _req("tokenizer", _S),
            _req("n_source_spans", _I32),
            _req("n_projected", _I32),
        ]
    ),
    # One row per source span: where it landed, or the DropReason value why it did not.
    "outcomes": pa.schema(
        [
            *_PAIR_KEY,
            _req("span_index", _I32),
            _req("label", _S),
            _req("src_start", _I32),
            _req("src_end", _I32),
            _req("src_text", _S),
            _opt("tgt_start", _I32),
            _opt("tgt_end", _I32),
            _opt("tgt_char_start", _I32),
            _opt("tgt_char_end", _I32),
            _opt("tgt_text", _S),
            _opt("reason", _S),
            _opt("merged_into", _I32),
            _req("method", _S),
            # The model score that chose the target (codec: re-ranked log-probability; markers:
            # the fuzzy similarity), and how the outcome came about.
            _opt("score", _F64),
            _opt("detail", _S),
        ]
    ),
    "alignments": pa.schema([*_PAIR_KEY, _req("aligner", _S), _req("links", pa.list_(LINK))]),
    # One row per source sentence and target language a run translated.
    "translations": pa.schema(
        [
            _req("run_id", _S),
            _req("sentence_id", _S),
            _req("src_lang", _S),
            _req("tgt_lang", _S),
            _req("source_text", _S),
            _req("translation", _S),
            _req("model_id", _S),
            _req("quantization", _S),
            _req("decoding", _S),
            # Null for an ordinary translation, else why not (empty, too_long).
            _opt("flag", _S),
            _req("segments", _I32),
            _req("truncated", pa.bool_()),
            # Model projection routes: the marked translation (markers) or the translation with
            # the chosen markers inserted (codec); null for align.
            _opt("marked", _S),
        ]
    ),
    # Mirrors xproj.schemas.errors.Reject, plus the run that rejected the record.
    "rejected": pa.schema(
        [
            _req("run_id", _S),
            _req("stage", _S),
            _req("source", _S),
            _req("locator", _S),
            _req("code", _S),
            _req("reason", _S),
            _req("raw", _S),
        ]
    ),
    "runs": pa.schema(
        [
            _req("run_id", _S),
            _req("run_key", _S),
            _req("flow", _S),
            _req("status", _S),
            _req("started_at", UTC_TIME),
            _req("finished_at", UTC_TIME),
            _req("parameters", _S),
            _req("code_version", _S),
            _req("inputs", pa.list_(INPUT_REF)),
            _req("outputs", pa.list_(OUTPUT_REF)),
            _opt("aligner", _S),
            _req("models", _STRS),
            _req("metrics", _S),
            _req("timings", _S),
        ]
    ),
    "evaluations": pa.schema(
        [
            _req("eval_id", _S),
            _opt("run_id", _S),
            _req("created_at", UTC_TIME),
            _req("kind", _S),
            _req("dataset", _S),
            _req("system", _S),
            _req("label", _S),
            _req("precision", _F64),
            _req("recall", _F64),
            _req("f1", _F64),
            _opt("aer", _F64),
            _req("n_gold", _I64),
            _req("n_pred", _I64),
            _req("n_correct", _I64),
            _req("params", _S),
        ]
    ),
    # EntityCS (generators/entitycs): one row per kept English sentence, `<en>…</en>` around the
    # entities that were switched.
    "entitycs_en": pa.schema([_req("run_id", _S), _req("id", _S), _req("en_sentence", _S)]),
    # One row per kept sentence and sampled language; `<xx>…</xx>` around switched entities.
    "entitycs_cs": pa.schema(
        [
            _req("run_id", _S),
            _req("id", _S),
            _req("en_sentence", _S),
            _req("cs_sentence", _S),
            _req("language", _S),
        ]
    ),
    # One row per switched entity occurrence, for analysis.
    "entitycs_entities": pa.schema(
        [
            _req("run_id", _S),
            _req("id", _S),
            _req("language", _S),
            _req("qid", _S),
            _req("en_surface", _S),
            _req("switched_surface", _S),
        ]
    ),
    # One row per sentence (or record) the builder did not keep, with the reason.
    "entitycs_dropped": pa.schema([_req("run_id", _S), _req("id", _S), _req("reason", _S)]),
    # PAXQA (generators/paxqa): one bilingual row per kept example and language. `answers_*` are
    # SQuAD-style answer lists; every answer satisfies context[start:start+len(text)] == text.
    "paxqa": pa.schema(
        [
            _req("run_id", _S),
            _req("id", _S),
            _req("source_id", _S),
            _req("title", _S),
            _req("language", _S),
            _req("context_en", _S),
            _req("context_x", _S),
            _req("question_en", _S),
            _req("question_x", _S),
            _req("answers_en", ANSWERS),
            _req("answers_x", ANSWERS),
            # `generated` (question generation) or `given` (the input's own questions)
            _req("question_source", _S),
            # answer candidate kind (`entity`, `noun_chunk`, `number`, `date`, `capitalised`) or
            # `given`
            _req("answer_kind", _S),
            # mean log-probability per token of question_en under the QG model (null: given)
            _opt("qg_score", _F64),
            # mean log-probability per token of question_x under the translation model
            _req("translation_score", _F64),
            # token F1 of question_en against question_x translated back (null: not computed)
            _opt("round_trip", _F64),
            _req("constraints", _STRS),
            _req("constraints_satisfied", _STRS),
            _req("constraints_unsatisfied", _STRS),
            # `plain`, `n_best` or `prefix` (xproj.generators.paxqa.constraints)
            _req("constraint_method", _S),
        ]
    ),
    # One row per example (or answer candidate) not kept, with the stage and reason.
    "paxqa_dropped": pa.schema(
        [
            _req("run_id", _S),
            _req("id", _S),
            _req("source_id", _S),
            _req("language", _S),
            _req("stage", _S),
            _req("reason", _S),
            _req("detail", _S),
            _opt("answer_en", _S),
            _opt("question_en", _S),
            _opt("question_x", _S),
        ]
    ),
    # One row per source text and scope (xproj.translators.cache): not a run output but appended flush
    # by flush (Lake.append). `key` is xproj.translators.cache.cache_key over the next six columns; the
    # same key may appear twice (concurrent writers), and readers take the earliest row. The
    # columns from `translation` to `detail` are xproj.translators.base.Translation's fields.
    "translation_cache": pa.schema(
        [
            _req("key", _S),
            _req("model_id", _S),
            _req("quantization", _S),
            _req("src_lang", _S),
            _req("tgt_lang", _S),
            _req("options", _S),
            _req("source", _S),
            _req("translation", _S),
            _req("tokens", _I32),
            _req("source_tokens", _I32),
            _req("segments", _I32),
            _opt("flag", _S),
            _req("truncated", pa.bool_()),
            _req("detail", _S),
            _req("created_at", UTC_TIME),
            # The run that translated the text; null when written outside a run.
            _opt("run_id", _S),
        ]
    ),
}

#: Tables written outside runs, a part at a time (``Lake.append``): their rows are never hidden
#: from readers. Every other table with a ``run_id`` column holds run outputs, and readers see
#: only the rows of runs that have a ``runs`` row.
APPENDED_TABLES = frozenset({"translation_cache"})

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


def schema_of(name: str) -> pa.Schema:
    """The declared schema of table ``name``.

    Raises:
        CatalogError: XP401 when no table of that name is declared.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise CatalogError(
            f"no table {name!r} is declared; declared tables: {', '.join(sorted(TABLES))}.",
            fix="use one of the declared tables, or declare the new one in schemas/tables.py.",
            code=E_UNKNOWN_TABLE,
        ) from None


def _mismatch(table: str, column: str, problem: str, fix: str) -> CatalogError:
    return CatalogError(
        f"table {table!r}, column {column!r}: {problem}",
        fix=fix,
        code=E_SCHEMA_MISMATCH,
    )


def _column_from_rows(table: str, field: pa.Field, values: list[Any]) -> pa.Array:
    if _is(field.type, _LISTS):
        # pyarrow would split a string into a list of its characters.
        for i, value in enumerate(values):
            if isinstance(value, str | bytes):
                raise _mismatch(
                    table,
                    field.name,
                    f"row {i} has a string where a list is expected: {value[:40]!r}.",
                    f"give {field.name!r} a list (e.g. tokens split by the tokenizer).",
                )
    try:
        return pa.array(values, type=field.type)
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
            pa.array([value], type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return i, value
    return None


def _table_from_rows(name: str, schema: pa.Schema, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    expected = set(schema.names)
    for i, row in enumerate(rows):
        keys = set(row)
        if missing := [c for c in schema.names if c not in keys]:
            raise _mismatch(
                name,
                missing[0],
                f"missing in row {i} (missing columns: {', '.join(missing)}).",
                "give every row every column of the table (None where the column is nullable).",
            )
        if extra := sorted(keys - expected):
            raise _mismatch(
                name,
                extra[0],
                f"not a column of the table (row {i}; extra columns: {', '.join(extra)}).",
                f"remove it, or declare it in schemas/tables.py; "
                f"columns: {', '.join(schema.names)}.",
            )
    arrays = [_column_from_rows(name, f, [row[f.name] for row in rows]) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _cast_table(name: str, schema: pa.Schema, data: pa.Table) -> pa.Table:
    present = data.column_names
    if len(set(present)) != len(present):
        dup = next(c for c in present if present.count(c) > 1)
        raise _mismatch(name, dup, "appears more than once.", "give each column once.")
    if missing := [c for c in schema.names if c not in present]:
        raise _mismatch(
            name,
            missing[0],
            f"missing (missing columns: {', '.join(missing)}).",
            "add the column (null-filled if it is nullable).",
        )
    if extra := [c for c in present if c not in schema.names]:
        raise _mismatch(
            name,
            extra[0],
            f"not a column of the table (extra columns: {', '.join(extra)}).",
            f"drop it, or declare it in schemas/tables.py; columns: {', '.join(schema.names)}.",
        )
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


def conform(name: str, data: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]) -> pa.Table:
    """Cast ``data`` to table ``name``'s declared schema and check it.

    Columns are put in declared order; integer widths, string encodings and list/struct layouts are
    cast (overflow is an error); a change of kind (text to number …), a missing or extra column, or
    a null in a non-nullable column is refused.

    Args:
        name: a key of :data:`TABLES`.
        data: an Arrow table or record batch, or a sequence of row dicts (each with every column).

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
        table = _cast_table(name, schema, data)
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        table = _table_from_rows(name, schema, data)
    else:
        raise CatalogError(
            f"cannot write a {type(data).__name__} to table {name!r}.",
            fix="pass a pyarrow Table, a RecordBatch or a list of row dicts.",
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


def empty(name: str) -> pa.Table:
    """An empty table with ``name``'s declared schema."""
    return schema_of(name).empty_table()
