"""Export bilingual PAXQA rows as SQuAD v1.1 / MLQA-style files for the four QA directions.

Each input row holds one example in both languages (``id, source_id, title, context_en,
context_x, question_en, question_x, answers_en, answers_x, language``; answers as
``{"text": [...], "answer_start": [...]}``; other keys, e.g. scores, are ignored). A direction is
named *question language – context language*:

========  ===============  ==============  ==============
direction question          context         answers
========  ===============  ==============  ==============
en-en     ``question_en``  ``context_en``  ``answers_en``
x-x       ``question_x``   ``context_x``   ``answers_x``
en-x      ``question_en``  ``context_x``   ``answers_x``
x-en      ``question_x``   ``context_en``  ``answers_en``
========  ===============  ==============  ==============

For each direction two files are written into ``out_dir``, named as in MLQA with ``x`` replaced
by the language code (``c`` = context language, ``q`` = question language):

* ``{split}-context-{c}-question-{q}.json``: a nested SQuAD v1.1 document. Articles group the
  paragraphs by ``title`` and paragraphs group the questions by context, both in first-seen
  order, so a context repeated over several rows appears once with several ``qas``. It loads
  with ``datasets.load_dataset("json", data_files=path, field="data")`` (one row per article)
  and with any SQuAD v1.1 reader (e.g. :func:`xproj.io.readers.squad.iter_squad`).
* ``{split}-context-{c}-question-{q}.jsonl``: flat Hugging Face ``squad`` rows (``id, title,
  context, question, answers{text, answer_start}``), one per example, in the same grouped order
  (rows of one paragraph are consecutive). It loads with
  ``datasets.load_dataset("json", data_files=path)``.

QA ids are the rows' ``id`` unchanged, so the same example has the same id in every direction (as
in MLQA, where ids join the language pairs); ids must therefore be unique among the rows.

Before anything is written every row is checked: the fields the requested directions use are
present, questions and contexts are non-empty, and every answer satisfies
``context[start:start + len(text)] == text``. Any violation raises a coded error (XP118 for an
answer outside its context) naming the example id; nothing is written or dropped silently. All
files are first written to temporary names beside their targets and renamed only when every file
is complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

from xproj.io.readers.squad import (
    SquadAnswer,
    SquadParagraph,
    SquadQuestion,
    answer_mismatch,
)
from xproj.io.writers.atomic import temp_path_for
from xproj.io.writers.squad import dump_squad, dump_squad_jsonl
from xproj.schemas.errors import (
    E_ANSWER_OUT_OF_CONTEXT,
    E_BAD_CONFIG,
    E_EMPTY_QUESTION,
    E_EMPTY_SENTENCE,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    E_UNSUPPORTED_LANGUAGE,
    ConfigError,
    InputFormatError,
    LanguageCodeError,
)
from xproj.schemas.languages import normalize_lang

#: The four directions, question language – context language.
DIRECTIONS = ("en-en", "x-x", "en-x", "x-en")

# direction -> (question side, context/answers side)
_SIDES = {"en-en": ("en", "en"), "x-x": ("x", "x"), "en-x": ("en", "x"), "x-en": ("x", "en")}
_SPLIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One written file and what it holds."""

    direction: str
    layout: str  # "nested" (SQuAD v1.1 JSON) or "jsonl" (flat HF rows)
    path: Path
    question_lang: str
    context_lang: str
    articles: int
    paragraphs: int
    questions: int
    answers: int


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What :func:`export_directions` wrote."""

    out_dir: Path
    language: str
    split: str
    examples: int
    files: tuple[ExportedFile, ...]

    def paths(self) -> list[Path]:
        return [f.path for f in self.files]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (paths as strings)."""
        return {
            "out_dir": str(self.out_dir),
            "language": self.language,
            "split": self.split,
            "examples": self.examples,
            "files": [
                {
                    "direction": f.direction,
                    "layout": f.layout,
                    "path": str(f.path),
                    "question_lang": f.question_lang,
                    "context_lang": f.context_lang,
                    "articles": f.articles,
                    "paragraphs": f.paragraphs,
                    "questions": f.questions,
                    "answers": f.answers,
                }
                for f in self.files
            ],
        }


def direction_file_names(direction: str, language: str, split: str = "train") -> tuple[str, str]:
    """``(nested name, flat name)`` of a direction, e.g. ``train-context-ar-question-en.json``."""
    q_side, c_side = _SIDES[direction]
    q = "en" if q_side == "en" else language
    c = "en" if c_side == "en" else language
    stem = f"{split}-context-{c}-question-{q}"
    return f"{stem}.json", f"{stem}.jsonl"


def _check_options(language: str, split: str, directions: Sequence[str]) -> tuple[str, tuple]:
    lang = normalize_lang(language)
    if lang == "en":
        raise LanguageCodeError(
            "language is 'en': the x side must be another language, or the en-x files would "
            "overwrite the en-en ones.",
            fix="pass the code of the non-English side (e.g. language='de').",
            code=E_UNSUPPORTED_LANGUAGE,
        )
    if not isinstance(split, str) or not _SPLIT_RE.match(split):
        raise ConfigError(
            f"split={split!r} cannot be part of a file name.",
            fix="use letters, digits, '_', '-' or '.', e.g. 'train' or 'dev'.",
            code=E_BAD_CONFIG,
        )
    if isinstance(directions, str):
        directions = (directions,)
    dirs = tuple(directions)
    unknown = [d for d in dirs if d not in _SIDES]
    if unknown or not dirs or len(set(dirs)) != len(dirs):
        why = f"unknown {unknown}" if unknown else "empty or repeated"
        raise ConfigError(
            f"directions {list(dirs)!r}: {why}.",
            fix=f"pass some of {', '.join(DIRECTIONS)} (question language - context language), "
            "each once.",
            code=E_BAD_CONFIG,
        )
    return lang, dirs


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _problem(rid: str, message: str, fix: str, code: str) -> InputFormatError:
    return InputFormatError(f"example {rid!r}: {message}", fix=fix, record=rid, code=code)


def _text_field(row: Mapping[str, Any], name: str, rid: str, empty_code: str) -> str:
    value = row.get(name)
    if value is None:
        raise _problem(rid, f"no '{name}' field.", f"give every row a '{name}'.", E_MISSING_FIELD)
    if not isinstance(value, str):
        raise _problem(
            rid,
            f"'{name}' is {type(value).__name__}, not a string.",
            f"give '{name}' as a string.",
            E_MALFORMED_LINE,
        )
    if not value.strip():
        what = "question" if empty_code == E_EMPTY_QUESTION else "context"
        raise _problem(
            rid,
            f"'{name}' is empty.",
            f"reject examples with an empty {what} before exporting.",
            empty_code,
        )
    return value


def _answers(row: Mapping[str, Any], side: str, context: str, rid: str) -> tuple[SquadAnswer, ...]:
    name = f"answers_{side}"
    raw = row.get(name)
    if raw is None:
        raise _problem(rid, f"no '{name}' field.", f"give every row '{name}'.", E_MISSING_FIELD)
    if not isinstance(raw, Mapping) or "text" not in raw or "answer_start" not in raw:
        raise _problem(
            rid,
            f"'{name}' is {raw!r}; expected {{'text': [...], 'answer_start': [...]}}.",
            "store answers as a text list and an answer_start list of the same length.",
            E_MISSING_FIELD if isinstance(raw, Mapping) else E_MALFORMED_LINE,
        )
    texts, starts = raw["text"], raw["answer_start"]
    seqs = all(isinstance(v, Sequence) and not isinstance(v, str) for v in (texts, starts))
    if not seqs or len(texts) != len(starts):
        raise _problem(
            rid,
            f"'{name}' text {texts!r} and answer_start {starts!r} are not lists of one length.",
            "give one answer_start per answer text.",
            E_MALFORMED_LINE,
        )
    if not texts:
        raise _problem(
            rid,
            f"'{name}' holds no answer.",
            "reject examples without an answer before exporting.",
            E_ANSWER_OUT_OF_CONTEXT,
        )
    answers = []
    for k, (text, start) in enumerate(zip(texts, starts, strict=True)):
        if not isinstance(text, str) or not _is_int(start):
            raise _problem(
                rid,
                f"{name}[{k}] has text {text!r} and answer_start {start!r}; expected a string "
                "and an integer.",
                "store answer texts as strings and offsets as integers.",
                E_MALFORMED_LINE,
            )
        why = answer_mismatch(context, text, int(start))
        if why is not None:
            raise _problem(
                rid,
                f"{name}[{k}] breaks the substring invariant in context_{side}: {why}.",
                f"fix the projection so that context_{side}[start:start+len(text)] == text, or "
                "reject the example before exporting.",
                E_ANSWER_OUT_OF_CONTEXT,
            )
        answers.append(SquadAnswer(text, int(start)))
    return tuple(answers)


@dataclass(frozen=True, slots=True)
class _Checked:
    id: str
    source_id: str
    title: str
    question: dict[str, str]
    context: dict[str, str]
    answers: dict[str, tuple[SquadAnswer, ...]]


def _check_row(row: Any, index: int, lang: str, sides: set[str], q_sides: set[str]) -> _Checked:
    if not isinstance(row, Mapping):
        raise InputFormatError(
            f"row {index} is {type(row).__name__}, not a mapping.",
            fix="pass rows as dicts with PAXQA's fields.",
            record=f"row {index}",
            code=E_MALFORMED_LINE,
        )
    rid = row.get("id")
    if rid is None or rid == "":
        raise InputFormatError(
            f"row {index} has no 'id'.",
            fix="give every example a unique id.",
            record=f"row {index}",
            code=E_MISSING_FIELD,
        )
    rid = str(rid)
    row_lang = row.get("language")
    if row_lang is not None:
        try:
            same = normalize_lang(str(row_lang)) == lang
        except LanguageCodeError:
            same = False
        if not same:
            raise LanguageCodeError(
                f"example {rid!r}: its language is {row_lang!r}, but the export is for {lang!r}.",
                fix="export each language's rows separately (filter on the language column).",
                record=rid,
                code=E_UNSUPPORTED_LANGUAGE,
            )
    title = row.get("title")
    if title is not None and not isinstance(title, str):
        raise _problem(
            rid, f"'title' is {type(title).__name__}.", "give titles as strings.", E_MALFORMED_LINE
        )
    question = {
        s: _text_field(row, f"question_{s}", rid, E_EMPTY_QUESTION) for s in sorted(q_sides)
    }
    context = {s: _text_field(row, f"context_{s}", rid, E_EMPTY_SENTENCE) for s in sorted(sides)}
    answers = {s: _answers(row, s, context[s], rid) for s in sorted(sides)}
    source_id = row.get("source_id")
    return _Checked(
        rid, "" if source_id is None else str(source_id), title or "", question, context, answers
    )


def check_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    language: str,
    directions: Sequence[str] = DIRECTIONS,
) -> list[_Checked]:
    """Validate rows for export; raise the first problem (with a count of the others).

    Raises:
        InputFormatError: XP118 an answer not at its offset in its context (or no answer), XP119
            an empty question, XP102 an empty context, XP108 a missing field, XP101 a wrong type
            or a repeated example id; the error's ``record`` is the example id.
        LanguageCodeError: XP202 a row whose ``language`` is not ``language``.
    """
    lang, dirs = _check_options(language, "train", directions)
    q_sides = {_SIDES[d][0] for d in dirs}
    c_sides = {_SIDES[d][1] for d in dirs}
    checked: list[_Checked] = []
    problems: list[InputFormatError | LanguageCodeError] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            item = _check_row(row, index, lang, c_sides, q_sides)
            if item.id in seen:
                raise _problem(
                    item.id,
                    f"the id is used by rows {seen[item.id]} and {index}; QA ids must be unique "
                    "per file.",
                    "give every example a unique id.",
                    E_MALFORMED_LINE,
                )
        except (InputFormatError, LanguageCodeError) as err:
            problems.append(err)
            continue
        seen[item.id] = index
        checked.append(item)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            others = ", ".join(str(p.record) for p in problems[1:6])
            more = ", …" if len(problems) > 6 else ""
            message = (
                f"{first.message} ({len(problems) - 1} more rows have problems: {others}{more})"
            )
            raise type(first)(message, fix=first.fix, record=first.record, code=first.code)
        raise first
    return checked


def _paragraphs(checked: Sequence[_Checked], q_side: str, c_side: str) -> list[SquadParagraph]:
    """Group by title, then by context, both in first-seen order."""
    groups: dict[str, dict[str, tuple[str, list[SquadQuestion]]]] = {}
    for item in checked:
        context = item.context[c_side]
        by_context = groups.setdefault(item.title, {})
        if context not in by_context:
            by_context[context] = (item.source_id, [])
        by_context[context][1].append(
            SquadQuestion(item.id, item.question[q_side], item.answers[c_side])
        )
    return [
        SquadParagraph(source_id, title, context, tuple(questions))
        for title, by_context in groups.items()
        for context, (source_id, questions) in by_context.items()
    ]


def export_directions(
    rows: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike[str],
    *,
    language: str,
    split: str = "train",
    directions: Sequence[str] = DIRECTIONS,
) -> ExportSummary:
    """Write SQuAD v1.1 JSON and flat JSON Lines files for each QA direction.

    Args:
        rows: PAXQA example rows (dicts); see the module docstring.
        out_dir: folder for the files (created).
        language: code of the non-English side (``de``, ``ar``, ``zh`` …); used in file names
            and checked against each row's ``language`` when present.
        split: first part of the file names (``train``, ``dev`` …).
        directions: some of ``en-en``, ``x-x``, ``en-x``, ``x-en`` (question – context).

    Returns:
        An :class:`ExportSummary` with, per written file, its direction, layout, path and counts
        of articles, paragraphs, questions and answers. Files are listed per direction in the
        order given, nested file first.

    Raises:
        InputFormatError: a row that cannot be exported (see :func:`check_rows`); no file is
            written then.
        ConfigError: XP301 a bad ``split`` or ``directions``.
        LanguageCodeError: XP201 an unknown ``language``, XP202 ``language='en'`` or a row of
            another language.

    Example:
        >>> summary = export_directions(rows, "out/paxqa-de", language="de")  # doctest: +SKIP
        >>> [f.path.name for f in summary.files][:2]  # doctest: +SKIP
        ['train-context-en-question-en.json', 'train-context-en-question-en.jsonl']
    """
    lang, dirs = _check_options(language, split, directions)
    checked = check_rows(rows, language=lang, directions=dirs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[Path, Path]] = []
    files: list[ExportedFile] = []
    try:
        for direction in dirs:
            q_side, c_side = _SIDES[direction]
            paragraphs = _paragraphs(checked, q_side, c_side)
            counts = {
                "articles": len({p.title for p in paragraphs}),
                "paragraphs": len(paragraphs),
                "questions": sum(len(p.questions) for p in paragraphs),
                "answers": sum(len(q.answers) for p in paragraphs for q in p.questions),
            }
            q_lang = "en" if q_side == "en" else lang
            c_lang = "en" if c_side == "en" else lang
            for layout, name in zip(
                ("nested", "jsonl"), direction_file_names(direction, lang, split), strict=True
            ):
                target = out / name
                tmp = temp_path_for(target)
                pending.append((tmp, target))
                with tmp.open("w", encoding="utf-8", newline="\n") as handle:
                    if layout == "nested":
                        dump_squad(paragraphs, handle, version="1.1")
                    else:
                        dump_squad_jsonl(paragraphs, handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                files.append(ExportedFile(direction, layout, target, q_lang, c_lang, **counts))
        for tmp, target in pending:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    return ExportSummary(out, lang, split, len(checked), tuple(files))
