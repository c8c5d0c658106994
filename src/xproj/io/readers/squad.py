"""SQuAD-format question answering data: nested SQuAD v1.1/v2.0 JSON and flat Hugging Face rows.

Two layouts are read by :func:`iter_squad`:

* **nested** (SQuAD v1.1/v2.0, XQuAD, MLQA): one JSON document
  ``{"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
  "answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]}``;
* **flat** JSON Lines, one question per line as in the Hugging Face ``squad`` dataset:
  ``{"id", "title", "context", "question", "answers": {"text": [...], "answer_start": [...]}}``.
  Consecutive rows with the same ``(title, context)`` form one paragraph.

Both give :class:`SquadParagraph` items holding their :class:`SquadQuestion` s. ``answer_start`` is
a 0-based offset in Unicode code points, and every answer read satisfies
``context[start:start + len(text)] == text``.

Rejects (one :class:`~xproj.schemas.errors.Reject` per bad question, paragraph or line; with
``on_error="raise"`` the same error is raised instead):

* XP118 an answer whose text is not at its ``answer_start`` in the context, an empty answer text,
  or a question without any answer (SQuAD 2.0 ``is_impossible`` or an empty answer list: PAXQA
  and extractive QA training need an answer span);
* XP119 an empty or whitespace-only question;
* XP108 a missing field (``id``, ``question``, ``answers``, ``context``, ``text``,
  ``answer_start``);
* XP101 a field of the wrong type, or a JSON Lines line that is not JSON;
* XP102 an empty context: the whole paragraph (or, in JSON Lines, the row) is rejected.

A bad question rejects that question only; its paragraph is still yielded with the other questions
(possibly none: the context itself is still usable, e.g. for translation). Whole-file problems
always raise: XP110 file not found, XP101 a nested file that is not valid JSON (with its line and
column), XP108 a nested document without a ``data`` list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any, Literal

from xproj.io.readers._common import (
    OnError,
    check_on_error,
    file_not_found,
    iter_lines,
    json_line_error,
    locate,
    raise_or_reject,
    wrong_type,
)
from xproj.schemas.errors import (
    E_ANSWER_OUT_OF_CONTEXT,
    E_EMPTY_QUESTION,
    E_EMPTY_SENTENCE,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    InputFormatError,
    Reject,
    check_option,
)

SquadFormat = Literal["auto", "nested", "jsonl"]
_JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class SquadAnswer:
    """An answer span: ``context[start:start + len(text)] == text`` (code points, 0-based)."""

    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    """One question with one or more answers in its paragraph's context."""

    id: str
    question: str
    answers: tuple[SquadAnswer, ...]


@dataclass(frozen=True, slots=True)
class SquadParagraph:
    """A context with its questions.

    ``source_id`` is stable for a file: ``<prefix>:<article index>:<paragraph index>`` (0-based,
    as in ``data[a].paragraphs[p]``) for nested files, ``<prefix>:<line of the first row>`` for
    JSON Lines; ``<prefix>`` is ``id_prefix`` or the file stem.
    """

    source_id: str
    title: str
    context: str
    questions: tuple[SquadQuestion, ...]


def _error(message: str, fix: str, code: str) -> InputFormatError:
    return InputFormatError(message, fix=fix, code=code)


def _required_str(
    raw: Mapping[str, Any],
    name: str,
    *,
    missing: tuple[str, str],
    not_str_fix: str,
    empty: tuple[str, str, str],
    where: str = "",
) -> str:
    """``raw[name]``, a string with some non-space text.

    Raises (without a place): XP108 ``missing`` (message, fix) when the field is absent or None,
    XP101 ``<where>'<name>' is <type>, not a string.`` with ``not_str_fix``, ``empty`` (message,
    fix, code) when the string is blank.
    """
    if name not in raw or raw[name] is None:
        raise _error(*missing, E_MISSING_FIELD)
    value = raw[name]
    if not isinstance(value, str):
        raise wrong_type(name, value, "a string", not_str_fix, where)
    if not value.strip():
        raise _error(*empty)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def answer_mismatch(context: str, text: str, start: int) -> str | None:
    """Why ``text`` is not at ``start`` in ``context``, or ``None`` when it is.

    The description quotes what the context holds there and, when the text occurs elsewhere in
    the context, where (first few offsets).

    Example:
        >>> answer_mismatch("Anna lives in Rome.", "Rome", 14) is None
        True
        >>> answer_mismatch("Anna lives in Rome.", "Rome", 13)
        "the context has ' Rom' at 13, not 'Rome' (the text occurs at 14)"
    """
    if not text:
        return "the answer text is empty"
    if start < 0 or start >= len(context):
        where = f"answer_start {start} is outside the context of {len(context)} characters"
    else:
        found = context[start : start + len(text)]
        if found == text:
            return None
        where = f"the context has {found!r} at {start}, not {text!r}"
    hits = []
    pos = context.find(text)
    while pos >= 0 and len(hits) < 4:
        hits.append(pos)
        pos = context.find(text, pos + 1)
    if hits:
        more = ", …" if len(hits) == 4 else ""
        where += f" (the text occurs at {', '.join(map(str, hits))}{more})"
    else:
        where += " (the text does not occur in the context at all)"
    return where


_ANSWER_FIX = (
    "set answer_start to the 0-based offset, in Unicode code points (not bytes or UTF-16 units), "
    "where the answer text begins in the context, or correct the answer text."
)


def _check_answer_keys(obj: Mapping[str, Any], qid: str, what: str, fix: str) -> None:
    """Raise XP108 (without a place) unless ``obj`` has both ``text`` and ``answer_start``."""
    missing = [key for key in ("text", "answer_start") if key not in obj]
    if missing:
        raise _error(
            f"question {qid!r}: {what} has no {', '.join(map(repr, missing))}.",
            fix,
            E_MISSING_FIELD,
        )


def _answer_pairs(raw: Any, qid: str) -> list[tuple[Any, Any]]:
    """``(text, start)`` pairs from a list of answer objects or HF's ``{"text": [], ...}``."""
    if isinstance(raw, Mapping):
        _check_answer_keys(
            raw, qid, "'answers'", 'write answers as {"text": [...], "answer_start": [...]}.'
        )
        texts, starts = raw["text"], raw["answer_start"]
        if not (_is_seq(texts) and _is_seq(starts)) or len(texts) != len(starts):
            raise _error(
                f"question {qid!r}: answers 'text' and 'answer_start' must be lists of the same "
                f"length (got {texts!r} and {starts!r}).",
                "give one answer_start per answer text.",
                E_MALFORMED_LINE,
            )
        return list(zip(texts, starts, strict=True))
    if not _is_seq(raw):
        fix = 'write answers as [{"text": ..., "answer_start": ...}, ...].'
        raise wrong_type("answers", raw, "a list", fix, where=f"question {qid!r}: ")
    pairs = []
    for k, answer in enumerate(raw):
        if not isinstance(answer, Mapping):
            raise _error(
                f"question {qid!r}: answer {k} is {answer!r}, not an object.",
                'write each answer as {"text": ..., "answer_start": ...}.',
                E_MALFORMED_LINE,
            )
        _check_answer_keys(
            answer, qid, f"answer {k}", 'give each answer "text" and "answer_start".'
        )
        pairs.append((answer["text"], answer["answer_start"]))
    return pairs


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def parse_question(raw: Any, context: str) -> SquadQuestion:
    """One question object (nested ``qas`` entry or flat row) checked against its context.

    Raises:
        InputFormatError without a place (readers add it): XP101 wrong types, XP108 a missing
        field, XP119 an empty question, XP118 no answer or an answer not in the context.
    """
    if not isinstance(raw, Mapping):
        raise _error(
            f"the question is {type(raw).__name__}, not an object.",
            'write each question as {"id", "question", "answers"}.',
            E_MALFORMED_LINE,
        )
    qid = raw.get("id")
    if qid is None or qid == "":
        raise _error(
            f"a question has no 'id' (fields: {', '.join(map(str, raw))}).",
            "give every question a unique id.",
            E_MISSING_FIELD,
        )
    if not isinstance(qid, str | int) or isinstance(qid, bool):
        raise _error(
            f"the question id {qid!r} is not a string.", "use string ids.", E_MALFORMED_LINE
        )
    qid = str(qid)
    question = _required_str(
        raw,
        "question",
        missing=(f"question {qid!r} has no 'question' field.", "add the question text."),
        not_str_fix="give the question text as a string.",
        empty=(
            f"question {qid!r} is empty.",
            "remove questions without text or fill them in.",
            E_EMPTY_QUESTION,
        ),
        where=f"question {qid!r}: ",
    )
    if raw.get("is_impossible") is True:
        raise _error(
            f"question {qid!r} is unanswerable (SQuAD 2.0 is_impossible); an extractive answer "
            "in the context is needed.",
            "drop unanswerable questions from the input (they are not used for PAXQA data).",
            E_ANSWER_OUT_OF_CONTEXT,
        )
    if "answers" not in raw or raw["answers"] is None:
        raise _error(
            f"question {qid!r} has no 'answers' field.",
            "add the answers (text and answer_start).",
            E_MISSING_FIELD,
        )
    pairs = _answer_pairs(raw["answers"], qid)
    if not pairs:
        raise _error(
            f"question {qid!r} has no answer (unanswerable, SQuAD 2.0 style); an extractive "
            "answer in the context is needed.",
            "drop unanswerable questions, or give the answer text and answer_start.",
            E_ANSWER_OUT_OF_CONTEXT,
        )
    answers = []
    for k, (text, start) in enumerate(pairs):
        if text is None:
            raise _error(
                f"question {qid!r}: answer {k} has no text.",
                "give the answer text.",
                E_MISSING_FIELD,
            )
        if start is None:
            raise _error(
                f"question {qid!r}: answer {k} has no answer_start.",
                "give the answer's character offset.",
                E_MISSING_FIELD,
            )
        if not isinstance(text, str) or not _is_int(start):
            raise _error(
                f"question {qid!r}: answer {k} has text {text!r} and answer_start {start!r}; "
                "expected a string and an integer.",
                _ANSWER_FIX,
                E_MALFORMED_LINE,
            )
        start = int(start)
        why = answer_mismatch(context, text, start)
        if why is not None:
            raise _error(
                f"question {qid!r}, answer {k}: {why}.", _ANSWER_FIX, E_ANSWER_OUT_OF_CONTEXT
            )
        answers.append(SquadAnswer(text, start))
    return SquadQuestion(qid, question, tuple(answers))


def _context(raw: Mapping[str, Any]) -> str:
    """The ``context`` of a paragraph or row; raises XP108/XP101/XP102 without a place."""
    return _required_str(
        raw,
        "context",
        missing=(
            f"no 'context' field (fields: {', '.join(map(str, raw))}).",
            "add the context text.",
        ),
        not_str_fix="give the context as a string.",
        empty=("the context is empty.", "remove paragraphs without a context.", E_EMPTY_SENTENCE),
    )


def _title(raw: Mapping[str, Any]) -> str:
    title = raw.get("title")
    if title is None:
        return ""
    if not isinstance(title, str):
        raise wrong_type(
            "title", title, "a string", "give the title as a string (or leave it out)."
        )
    return title


def _raw(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:500]
    except (TypeError, ValueError):
        return repr(value)[:500]


def iter_squad(
    path: str | os.PathLike[str],
    *,
    on_error: OnError = "reject",
    id_prefix: str | None = None,
    fmt: SquadFormat = "auto",
) -> Iterator[SquadParagraph | Reject]:
    """Yield the paragraphs of a SQuAD-format file, and a ``Reject`` for each bad item.

    Args:
        path: nested SQuAD JSON, or flat JSON Lines (HF ``squad`` rows).
        on_error: ``reject`` yields a ``Reject`` (stage ``read``) for each bad question,
            paragraph or line; ``raise`` raises the first problem instead.
        id_prefix: prefix of the paragraphs' ``source_id``; default the file stem.
        fmt: ``auto`` takes ``*.jsonl``/``*.ndjson`` as flat rows and, for other names, looks at
            the first non-blank line: one complete JSON object with a ``context`` or ``question``
            field means flat rows, anything else a nested document. ``nested``/``jsonl`` force it.

    Returns:
        An iterator of :class:`SquadParagraph` and :class:`~xproj.schemas.errors.Reject` items, in file
        order. In JSON Lines a reject comes when its line is read, a paragraph once its last row
        is read. Rejects are located by file and ``data[a].paragraphs[p].qas[q]`` path (nested)
        or by file and line (flat); their reason names the question id.

    Raises:
        InputFormatError: XP110 file not found; XP101 a nested file that is not JSON (with line
            and column); XP108 a nested document without ``data``; with ``on_error="raise"``,
            the first bad record (see the module docstring).
        ConfigError: XP301 for an ``on_error`` or ``fmt`` that is not a choice.

    Example:
        >>> for item in iter_squad("dev-v1.1.json"):  # doctest: +SKIP
        ...     print(item.source_id, len(item.questions))
        dev-v1.1:0:0 5
    """
    check_on_error(on_error)
    check_option(
        "fmt", fmt, ("auto", "nested", "jsonl"), fix='pass fmt="auto", "nested" or "jsonl".'
    )
    prefix = id_prefix if id_prefix is not None else Path(path).stem
    if fmt == "auto":
        fmt = _detect(path)
    if fmt == "jsonl":
        yield from _iter_flat(path, on_error, prefix)
    else:
        yield from _iter_nested(path, on_error, prefix)


def _detect(path: str | os.PathLike[str]) -> str:
    if Path(path).suffix.lower() in _JSONL_SUFFIXES:
        return "jsonl"
    for _, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            first = json.loads(line)
        except json.JSONDecodeError:
            return "nested"
        if isinstance(first, Mapping) and ("context" in first or "question" in first):
            return "jsonl"
        return "nested"
    return "nested"


def _read_text(path: str | os.PathLike[str]) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise file_not_found(path) from None
    except UnicodeDecodeError as err:
        raise InputFormatError(
            f"the file is not valid UTF-8 ({err.reason} at byte {err.start}).",
            fix="convert the file to UTF-8.",
            file=str(path),
            code=E_MALFORMED_LINE,
        ) from None


def _iter_nested(
    path: str | os.PathLike[str], on_error: str, prefix: str
) -> Iterator[SquadParagraph | Reject]:
    text = _read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputFormatError(
            f"the file is not valid JSON ({err.msg} at column {err.colno}).",
            fix="repair the JSON, or write one question per line and name the file *.jsonl.",
            file=str(path),
            line=err.lineno,
            code=E_MALFORMED_LINE,
        ) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("data"), list):
        got = f"keys {sorted(map(str, doc))}" if isinstance(doc, Mapping) else type(doc).__name__
        raise InputFormatError(
            f"not a SQuAD document: no 'data' list ({got}).",
            fix='write {"version": "1.1", "data": [{"title", "paragraphs": [...]}]}, or flat '
            "rows in a *.jsonl file.",
            file=str(path),
            code=E_MISSING_FIELD,
        )
    where_file = str(path)

    def problem(err: InputFormatError, record: str, raw: Any) -> Reject:
        return raise_or_reject(locate(err, file=where_file, record=record), on_error, _raw(raw))

    for a, article in enumerate(doc["data"]):
        if not isinstance(article, Mapping) or not isinstance(article.get("paragraphs"), list):
            err = _error(
                "the article has no 'paragraphs' list.",
                'write each article as {"title": ..., "paragraphs": [...]}.',
                E_MISSING_FIELD,
            )
            yield problem(err, f"data[{a}]", article)
            continue
        try:
            title = _title(article)
        except InputFormatError as err:
            yield problem(err, f"data[{a}]", {"title": article.get("title")})
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            here = f"data[{a}].paragraphs[{p}]"
            try:
                if not isinstance(paragraph, Mapping):
                    raise _error(
                        f"the paragraph is {type(paragraph).__name__}, not an object.",
                        'write each paragraph as {"context": ..., "qas": [...]}.',
                        E_MALFORMED_LINE,
                    )
                context = _context(paragraph)
                qas = paragraph.get("qas")
                if not isinstance(qas, list):
                    raise _error(
                        "the paragraph has no 'qas' list.",
                        "add the questions as a 'qas' list (empty if there are none).",
                        E_MISSING_FIELD,
                    )
            except InputFormatError as err:
                n = len(paragraph.get("qas") or []) if isinstance(paragraph, Mapping) else 0
                if n:
                    err = _error(
                        f"{err.message} Its {n} questions are not read.", err.fix, err.code
                    )
                yield problem(err, here, paragraph)
                continue
            questions = []
            for q, raw_q in enumerate(qas):
                try:
                    questions.append(parse_question(raw_q, context))
                except InputFormatError as err:
                    qid = raw_q.get("id") if isinstance(raw_q, Mapping) else None
                    label = f"{here}.qas[{q}]" + (f" (id {qid!r})" if qid is not None else "")
                    yield problem(err, label, raw_q)
            yield SquadParagraph(f"{prefix}:{a}:{p}", title, context, tuple(questions))


def _iter_flat(
    path: str | os.PathLike[str], on_error: str, prefix: str
) -> Iterator[SquadParagraph | Reject]:
    where_file = str(path)
    key: tuple[str, str] | None = None
    first_line = 0
    questions: list[SquadQuestion] = []

    def flush() -> SquadParagraph | None:
        if key is None:
            return None
        return SquadParagraph(f"{prefix}:{first_line}", key[0], key[1], tuple(questions))

    def problem(err: InputFormatError, number: int, row: Any, line: str) -> Reject:
        rid = row.get("id") if isinstance(row, Mapping) else None
        record = None if rid is None else str(rid)
        return raise_or_reject(
            locate(err, file=where_file, line=number, record=record), on_error, line
        )

    for number, line in iter_lines(path):
        if not line.strip():
            continue
        row: Any = None
        try:
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise json_line_error(err) from None
            if not isinstance(row, Mapping):
                raise _error(
                    f"the line holds a {type(row).__name__}, not an object.",
                    "write one JSON object per line.",
                    E_MALFORMED_LINE,
                )
            row_key = (_title(row), _context(row))
        except InputFormatError as err:
            yield problem(err, number, row, line)
            continue
        if row_key != key:
            done = flush()
            if done is not None:
                yield done
            key, first_line, questions = row_key, number, []
        try:
            questions.append(parse_question(row, row_key[1]))
        except InputFormatError as err:
            yield problem(err, number, row, line)
    done = flush()
    if done is not None:
        yield done
