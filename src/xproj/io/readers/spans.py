"""JSONL and Parquet records with text and labeled character spans.

A record holds an ``id`` (optional), a ``text`` and ``spans``: a list of ``{"start", "end",
"label"}`` objects (or ``[start, end, label]`` triples) with character offsets, end exclusive.
Optionally ``tokens`` (and ``token_offsets``, ``[start, end]`` per token) give the tokenization;
without them the text is tokenized with :func:`xproj.text.simple.simple_tokenize`, forced to split at
every span edge so the character spans round-trip exactly. Field names are configurable.

Span rules: spans must lie inside the text, have ``end > start`` and cover some non-space text;
whitespace at a span's edges is trimmed (the labeled words are unchanged). Spans must not overlap
(NER spans here are flat). With given tokens, every span edge must fall on a token edge.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from xproj.io.readers._common import (
    OnError,
    check_on_error,
    iter_lines,
    json_line_error,
    locate,
    open_parquet,
    raise_or_reject,
    sentence_id,
    wrong_type,
)
from xproj.schemas.errors import (
    E_EMPTY_SENTENCE,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    E_SPAN_OUT_OF_TEXT,
    E_UNKNOWN_FORMAT,
    InputFormatError,
    Reject,
)
from xproj.schemas.languages import normalize_lang
from xproj.schemas.records import AnnotatedSentence, CharSpan, char_span_to_token, token_offsets
from xproj.text.simple import simple_tokenize

SpanFormat = Literal["auto", "jsonl", "parquet"]
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class SpanFields:
    """Names of the fields in a record and in each span object."""

    id: str = "id"
    text: str = "text"
    spans: str = "spans"
    tokens: str = "tokens"
    token_offsets: str = "token_offsets"
    start: str = "start"
    end: str = "end"
    label: str = "label"


def _error(message: str, fix: str, code: str) -> InputFormatError:
    return InputFormatError(message, fix=fix, code=code)


def _get_span(raw: Any, fields: SpanFields, k: int) -> tuple[Any, Any, Any]:
    if isinstance(raw, Mapping):
        missing = [key for key in (fields.start, fields.end, fields.label) if key not in raw]
        if missing:
            raise _error(
                f"span {k} ({raw!r}) has no {', '.join(repr(m) for m in missing)}.",
                f"give each span '{fields.start}', '{fields.end}' and '{fields.label}' (or pass "
                "the field names your data uses).",
                E_MISSING_FIELD,
            )
        return raw[fields.start], raw[fields.end], raw[fields.label]
    if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 3:
        return raw[0], raw[1], raw[2]
    raise _error(
        f"span {k} is {raw!r}; expected an object with start, end and label.",
        'write spans as {"start": 0, "end": 4, "label": "PER"}.',
        E_MALFORMED_LINE,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _char_spans(text: str, raw_spans: Any, fields: SpanFields) -> list[CharSpan]:
    if not isinstance(raw_spans, list | tuple):
        fix = "give the spans as a list (empty for a sentence without spans)."
        raise wrong_type(fields.spans, raw_spans, "a list", fix)
    spans = []
    for k, raw in enumerate(raw_spans):
        start, end, label = _get_span(raw, fields, k)
        where = f"span {k} [{start!r}, {end!r}) {label!r}"
        fix = "use 0-based character offsets into the text, end exclusive."
        if not (_is_int(start) and _is_int(end)):
            raise _error(f"{where}: offsets must be integers.", fix, E_SPAN_OUT_OF_TEXT)
        if not isinstance(label, str) or not label.strip():
            raise _error(f"{where}: the label must be a non-empty string.", fix, E_SPAN_OUT_OF_TEXT)
        if not 0 <= start < end <= len(text):
            why = (
                "ends at or before its start"
                if end <= start
                else f"is outside the text of {len(text)} characters"
            )
            raise _error(f"{where} {why}.", fix, E_SPAN_OUT_OF_TEXT)
        covered = text[start:end]
        if not covered.strip():
            raise _error(f"{where} covers only whitespace.", fix, E_SPAN_OUT_OF_TEXT)
        lead = len(covered) - len(covered.lstrip())
        trail = len(covered) - len(covered.rstrip())
        spans.append(CharSpan(start + lead, end - trail, label))
    spans.sort()
    for a, b in zip(spans, spans[1:], strict=False):
        if b.start < a.end:
            raise _error(
                f"spans {a.label} [{a.start}, {a.end}) {text[a.start : a.end]!r} and {b.label} "
                f"[{b.start}, {b.end}) {text[b.start : b.end]!r} overlap; spans must be flat.",
                "keep one of the overlapping spans (nested entities are not supported).",
                E_SPAN_OUT_OF_TEXT,
            )
    return spans


def _tokens(
    text: str, record: Mapping[str, Any], fields: SpanFields, spans: Sequence[CharSpan]
) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    raw_tokens = record.get(fields.tokens)
    if raw_tokens is None:
        edges = [e for s in spans for e in (s.start, s.end)]
        triples = simple_tokenize(text, boundaries=edges)
        return tuple(t for t, _, _ in triples), tuple((s, e) for _, s, e in triples)
    if not isinstance(raw_tokens, list | tuple) or not all(
        isinstance(t, str) and t.strip() for t in raw_tokens
    ):
        raise _error(
            f"'{fields.tokens}' must be a list of non-empty strings.",
            f"fix the tokens, or drop '{fields.tokens}' to let xproj tokenize the text.",
            E_MALFORMED_LINE,
        )
    tokens = tuple(raw_tokens)
    if not tokens:
        raise _error(
            "the record has text but an empty token list.",
            f"fill in the tokens, or drop '{fields.tokens}' to tokenize the text.",
            E_EMPTY_SENTENCE,
        )
    raw_offsets = record.get(fields.token_offsets)
    if raw_offsets is None:
        try:
            return tokens, token_offsets(text, tokens)
        except ValueError as err:
            raise _error(
                f"the tokens do not match the text ({err}).",
                "give tokens that appear in the text in order, or give token offsets.",
                E_SPAN_OUT_OF_TEXT,
            ) from None
    offsets = []
    if not isinstance(raw_offsets, list | tuple) or len(raw_offsets) != len(tokens):
        raise _error(
            f"'{fields.token_offsets}' must hold one [start, end] per token ({len(tokens)}).",
            "give one offset pair per token, or drop the offsets.",
            E_MALFORMED_LINE,
        )
    for k, (token, pair) in enumerate(zip(tokens, raw_offsets, strict=True)):
        ok = isinstance(pair, Sequence) and len(pair) == 2 and all(_is_int(x) for x in pair)
        if not ok or text[pair[0] : pair[1]] != token or pair[0] < 0:
            raise _error(
                f"token {k} {token!r} has offsets {pair!r}, which do not select it in the text.",
                "fix the token offsets (0-based characters, end exclusive) or drop them.",
                E_SPAN_OUT_OF_TEXT,
            )
        offsets.append((pair[0], pair[1]))
    return tokens, tuple(offsets)


def record_to_sentence(
    record: Any, default_id: str, lang: str, fields: SpanFields = SpanFields()
) -> AnnotatedSentence:
    """Turn one record into a sentence with token spans that map back to the exact char spans.

    Raises:
        InputFormatError (without file or line; readers add them): XP101 wrong types, XP102
            empty text, XP105 bad or overlapping spans or tokens that do not match the text, XP108
            a missing field.

    Example:
        >>> s = record_to_sentence({"text": "Anna lives in Rome.",
        ...                         "spans": [{"start": 14, "end": 18, "label": "LOC"}]}, "r:1", "en")
        >>> s.tokens, s.spans, s.char_spans
        (('Anna', 'lives', 'in', 'Rome', '.'), (TokenSpan(start=3, end=4, label='LOC'),), \
(CharSpan(start=14, end=18, label='LOC'),))
    """
    if not isinstance(record, Mapping):
        raise _error(
            f"the record is {type(record).__name__}, not an object.",
            "write one JSON object per line.",
            E_MALFORMED_LINE,
        )
    sid = record.get(fields.id)
    sid = default_id if sid is None else str(sid)
    for name in (fields.text, fields.spans):
        if name not in record or record[name] is None:
            raise _error(
                f"the record has no '{name}' field (fields: {', '.join(map(str, record))}).",
                "add the field, or pass the field names your data uses.",
                E_MISSING_FIELD,
            )
    text = record[fields.text]
    if not isinstance(text, str):
        raise wrong_type(fields.text, text, "a string", "give the text as a string.")
    if not text.strip():
        raise _error(
            "the text is empty.",
            "remove records without text.",
            E_EMPTY_SENTENCE,
        )
    spans = _char_spans(text, record[fields.spans], fields)
    tokens, offsets = _tokens(text, record, fields, spans)
    token_spans = []
    for span in spans:
        token_span, exact = char_span_to_token(span, offsets)
        if token_span is None or not exact:
            inside = [
                tokens[i] for i, (s, e) in enumerate(offsets) if s < span.end and span.start < e
            ]
            raise _error(
                f"span {span.label} [{span.start}, {span.end}) {text[span.start : span.end]!r} does "
                f"not start and end on token edges (tokens it touches: {inside}).",
                "fix the span offsets or the tokens, or drop the tokens to let xproj tokenize.",
                E_SPAN_OUT_OF_TEXT,
            )
        token_spans.append(token_span)
    return AnnotatedSentence(sid, lang, tokens, tuple(token_spans), text, offsets)


def _detect(path: str | os.PathLike[str], fmt: str) -> str:
    if fmt in ("jsonl", "parquet"):
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    raise InputFormatError(
        f"cannot tell the format from the file name (suffix {suffix!r}).",
        fix='name the file *.jsonl or *.parquet, or pass fmt="jsonl" / fmt="parquet".',
        file=str(path),
        code=E_UNKNOWN_FORMAT,
    )


def iter_spans(
    path: str | os.PathLike[str],
    lang: str,
    *,
    fmt: SpanFormat = "auto",
    on_error: OnError = "raise",
    id_prefix: str | None = None,
    fields: SpanFields = SpanFields(),
) -> Iterator[AnnotatedSentence | Reject]:
    """Yield one ``AnnotatedSentence`` (or ``Reject``) per record of a JSONL or Parquet file.

    Args:
        path: ``*.jsonl``/``*.ndjson``/``*.json`` (one object per line; blank lines are not
            records) or ``*.parquet``.
        lang: language of the texts (any code :func:`~xproj.schemas.languages.normalize_lang` accepts).
        fmt: ``auto`` (by file suffix), ``jsonl`` or ``parquet``.
        on_error: ``raise`` stops at the first bad record; ``reject`` yields a ``Reject`` for it.
        id_prefix: ids of records without an id are ``<id_prefix>:<record number>``; default
            the file stem.
        fields: field names, if they differ from ``id``, ``text``, ``spans`` …

    Raises:
        InputFormatError: bad records (see :func:`record_to_sentence`), located by file and line
            (JSONL) or file and record id (Parquet); XP101 for a line that is not JSON; XP108 when
            a Parquet file lacks the text or spans column; XP109 for an unknown format.
        LanguageCodeError: XP201 for an unknown ``lang``.

    Example:
        >>> # "ner.jsonl": {"id": "a", "text": "Anna sings", "spans": [[0, 4, "PER"]]}
        >>> next(iter_spans("ner.jsonl", "en")).spans  # doctest: +SKIP
        (TokenSpan(start=0, end=1, label='PER'),)
    """
    lang = normalize_lang(lang)
    check_on_error(on_error)
    if _detect(path, fmt) == "jsonl":
        yield from _iter_jsonl(path, lang, on_error, id_prefix, fields)
    else:
        yield from _iter_parquet(path, lang, on_error, id_prefix, fields)


def _iter_jsonl(
    path: str | os.PathLike[str],
    lang: str,
    on_error: str,
    id_prefix: str | None,
    fields: SpanFields,
) -> Iterator[AnnotatedSentence | Reject]:
    count = 0
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        count += 1
        if count == 1:
            _check_first_line(path, number, line)
        default_id = sentence_id(path, count, id_prefix)
        record: Any = None
        try:
            record = json.loads(line)
            sentence = record_to_sentence(record, default_id, lang, fields)
        except json.JSONDecodeError as err:
            problem = json_line_error(err)
        except InputFormatError as err:
            problem = err
        else:
            yield sentence
            continue
        rid = record.get(fields.id) if isinstance(record, Mapping) else None
        placed = locate(
            problem, file=str(path), line=number, record=default_id if rid is None else str(rid)
        )
        yield raise_or_reject(placed, on_error, line)


def _check_first_line(path: str | os.PathLike[str], number: int, line: str) -> None:
    """One clear error when the file is not JSON Lines at all (its first line is no object; a
    broken object is the record's own problem, rejected as usual)."""
    if line.lstrip().startswith("{"):
        return
    looks = "CoNLL (token and tag columns)" if len(line.split()) >= 2 else "plain text"
    raise InputFormatError(
        f"the first line is not a JSON object: the file looks like {looks}, not JSON Lines.",
        fix="give one JSON object per line, or name the file's format (--source-format / "
        "format: conll for token<TAB>tag lines, text for plain sentences).",
        file=str(path),
        line=number,
        code=E_UNKNOWN_FORMAT,
    )


def _iter_parquet(
    path: str | os.PathLike[str],
    lang: str,
    on_error: str,
    id_prefix: str | None,
    fields: SpanFields,
) -> Iterator[AnnotatedSentence | Reject]:
    parquet = open_parquet(path, fix='check the file, or pass fmt="jsonl" for JSON Lines.')
    names = parquet.schema_arrow.names
    missing = [c for c in (fields.text, fields.spans) if c not in names]
    if missing:
        raise InputFormatError(
            f"columns {missing} are missing (columns: {names}).",
            fix="pass the column names your data uses (fields=SpanFields(text=..., spans=...)).",
            file=str(path),
            code=E_MISSING_FIELD,
        )
    count = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for record in batch.to_pylist():
            count += 1
            default_id = sentence_id(path, count, id_prefix)
            try:
                sentence = record_to_sentence(record, default_id, lang, fields)
            except InputFormatError as err:
                rid = record.get(fields.id)
                label = default_id if rid is None else f"{rid} (row {count})"
                placed = locate(err, file=str(path), record=label)
                yield raise_or_reject(placed, on_error, json.dumps(record, default=str))
            else:
                yield sentence
