"""Entity-linked sentences from JSONL, Parquet or a Hugging Face dataset, as :class:`LinkedText`.

One record per sentence, either with ``text`` and character mentions, or with ``tokens`` and
token mentions (the text is then the tokens joined by :func:`xproj.generators.entitycs.fewrel.detokenize`,
which records exact offsets)::

    {"id": "s1", "text": "Ada Lovelace was born in London.",
     "mentions": [{"start": 0, "end": 12, "qid": "Q7259"}, {"start": 25, "end": 31, "title": "London"}]}
    {"id": "s2", "tokens": ["Ada", "Lovelace", "was", "born", "in", "London", "."],
     "mentions": [{"tokens": [0, 1], "qid": "Q7259"}]}

A mention names its entity by ``qid`` (``Q\\d+``) or by page ``title`` (mapped later through a
title index). Field names are configurable (:class:`LinkedFields`). A record that cannot be read
(no text, a mention outside the text, overlapping mentions, a malformed QID) becomes a
:class:`~xproj.schemas.errors.Reject` naming the file and line or record; nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from xproj.generators.entitycs.records import Link, LinkedText
from xproj.schemas.errors import (
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    E_SPAN_OUT_OF_TEXT,
    E_UNKNOWN_FORMAT,
    InputFormatError,
    Reject,
)

_QID = re.compile(r"Q[1-9]\d*")


@dataclass(frozen=True)
class LinkedFields:
    """Field names of an entity-linked record."""

    id: str = "id"
    text: str = "text"
    tokens: str = "tokens"
    mentions: str = "mentions"
    start: str = "start"
    end: str = "end"
    token_indices: str = "tokens"
    qid: str = "qid"
    title: str = "title"


class _Bad(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def record_to_linked(record: Any, default_id: str, fields: LinkedFields = LinkedFields()):
    """One record → :class:`LinkedText` (raises ``_Bad`` with a code and a reason)."""
    from xproj.generators.entitycs.fewrel import detokenize

    if not isinstance(record, Mapping):
        raise _Bad(E_MALFORMED_LINE, f"the record is {type(record).__name__}, not an object")
    rid = record.get(fields.id)
    rid = default_id if rid is None else str(rid)
    mentions = record.get(fields.mentions)
    if not isinstance(mentions, list):
        raise _Bad(E_MISSING_FIELD, f"no '{fields.mentions}' list")
    offsets = None
    if isinstance(record.get(fields.text), str):
        text = record[fields.text]
    elif isinstance(record.get(fields.tokens), list):
        tokens = [str(t) for t in record[fields.tokens]]
        text, offsets = detokenize(tokens)
    else:
        raise _Bad(E_MISSING_FIELD, f"neither '{fields.text}' nor '{fields.tokens}'")
    if not text.strip():
        raise _Bad(E_MISSING_FIELD, "the text is empty")
    links = []
    for k, m in enumerate(mentions):
        if not isinstance(m, Mapping):
            raise _Bad(E_MALFORMED_LINE, f"mention {k} is not an object")
        if m.get(fields.start) is not None and m.get(fields.end) is not None:
            start, end = m[fields.start], m[fields.end]
        elif offsets is not None and isinstance(m.get(fields.token_indices), list):
            idx = m[fields.token_indices]
            if not idx or not all(isinstance(i, int) and 0 <= i < len(offsets) for i in idx):
                raise _Bad(E_SPAN_OUT_OF_TEXT, f"mention {k}: token indices {idx} outside the text")
            start, end = offsets[min(idx)][0], offsets[max(idx)][1]
        else:
            raise _Bad(E_MISSING_FIELD, f"mention {k} has no character or token span")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise _Bad(E_SPAN_OUT_OF_TEXT, f"mention {k} [{start}, {end}) is outside the text")
        qid = m.get(fields.qid)
        title = m.get(fields.title) or ""
        if qid is not None and not (isinstance(qid, str) and _QID.fullmatch(qid)):
            raise _Bad(E_MALFORMED_LINE, f"mention {k}: {qid!r} is not a Wikidata QID")
        if qid is None and not title:
            raise _Bad(
                E_MISSING_FIELD, f"mention {k} has neither '{fields.qid}' nor '{fields.title}'"
            )
        links.append(Link(start, end, str(title), qid))
    links.sort(key=lambda link: (link.start, link.end))
    for a, b in zip(links, links[1:], strict=False):
        if b.start < a.end:
            raise _Bad(
                E_SPAN_OUT_OF_TEXT,
                f"mentions [{a.start}, {a.end}) and [{b.start}, {b.end}) overlap",
            )
    return LinkedText(rid, text, tuple(links))


def iter_linked(
    path: str | os.PathLike[str],
    *,
    fmt: Literal["auto", "jsonl", "parquet", "hf"] = "auto",
    fields: LinkedFields = LinkedFields(),
    split: str = "train",
) -> Iterator[LinkedText | Reject]:
    """Stream entity-linked sentences: one :class:`LinkedText` or :class:`Reject` per record.

    Args:
        path: a ``.jsonl`` / ``.parquet`` file, or (``fmt="hf"``) a dataset name or local folder.
        fmt: the format (``auto``: by suffix).
        fields: field names.
        split: the split of a Hugging Face dataset.
    """
    p = Path(path)
    if fmt == "auto":
        fmt = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}.get(p.suffix, "")
        if not fmt:
            raise _format_error(p)
    if fmt != "hf" and not p.is_file():
        from xproj.io.readers._common import file_not_found

        raise file_not_found(p)
    for locator, record, raw in _records(p, fmt, split):
        if isinstance(record, json.JSONDecodeError):
            reason = f"the line is not valid JSON ({record.msg}). Fix: one object per line."
            yield Reject("read", str(p), locator, E_MALFORMED_LINE, reason, raw[:500])
            continue
        if isinstance(record, InputFormatError):
            yield Reject.from_error("read", record, raw)
            continue
        try:
            yield record_to_linked(record, f"{p.stem}:{locator}", fields)
        except _Bad as bad:
            yield Reject("read", str(p), locator, bad.code, f"{bad}.", raw[:500])


def _records(p: Path, fmt: str, split: str) -> Iterator[tuple[str, Any, str]]:
    if fmt == "jsonl":
        from xproj.io.readers._common import iter_checked_lines

        for number, line, error in iter_checked_lines(p):
            if error is not None:  # a reject for this line, not U+FFFD in the text
                yield f"line {number}", error, line
                continue
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line), line
            except json.JSONDecodeError as err:
                yield f"line {number}", err, line
        return
    if fmt == "parquet":
        from xproj.io.readers._common import open_parquet

        parquet = open_parquet(p, fix="check the file, or pass the format (jsonl) for JSON Lines.")
        count = 0
        for batch in parquet.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                count += 1
                yield f"row {count}", record, json.dumps(record, default=str)
        return
    import datasets

    data = (
        datasets.load_from_disk(str(p))
        if p.is_dir()
        else datasets.load_dataset(str(p), split=split)
    )
    if isinstance(data, datasets.DatasetDict):
        data = data[split]
    for count, record in enumerate(data, 1):
        yield f"row {count}", record, json.dumps(record, default=str)


def _format_error(p: Path) -> InputFormatError:
    return InputFormatError(
        f"cannot tell the format of {p.name}.",
        fix="name the file *.jsonl or *.parquet, or pass the format (jsonl, parquet, hf).",
        file=str(p),
        code=E_UNKNOWN_FORMAT,
    )
