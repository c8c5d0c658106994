"""Inputs of PAXQA: English–X context pairs, from bitext, a Hugging Face dataset, or SQuAD data.

Every reader yields one :class:`ContextPair` (or one :class:`~xproj.schemas.errors.Reject`) per input
record, in order, so nothing vanishes:

* **bitext** (``bitext``): ``english ||| x``, ``english<TAB>x``, or two line-aligned files
  (:func:`xproj.io.readers.bitext.iter_bitext`); a line is one context, a sentence or a paragraph.
  Two files of different lengths are an error (XP106) before anything is read.
* **Hugging Face** (``hf``): a dataset with a ``translation`` column (``{"en": …, "de": …}``, as
  the Hub's parallel corpora have) or two text columns named by ``en_column`` / ``x_column``.
* **SQuAD** (``squad``): SQuAD v1.1/v2.0 JSON or SQuAD-style JSONL in English
  (:func:`xproj.io.readers.squad.iter_squad`); the contexts are translated by the run's translation
  model (``context_x`` is ``None`` here) and the file's own questions and answers come along, for
  runs that translate existing QA data instead of generating questions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_EMPTY_SENTENCE,
    E_MISSING_FIELD,
    ConfigError,
    InputFormatError,
    Reject,
)

ContextFormat = Literal["bitext", "hf", "squad"]


@dataclass(frozen=True, slots=True)
class ContextPair:
    """One English context and its X counterpart.

    Attributes:
        source_id: where it came from (``file:line``, ``dataset:split:row``, SQuAD's
            ``file:article:paragraph``); example ids start with it.
        title: the article title (``""`` for bitext).
        context_en: the English context.
        context_x: the X context; ``None`` when the run translates it (SQuAD input).
        questions: the input's own questions (SQuAD input; ``SquadQuestion`` records).
        position: the record's place in its input (0-based, rejected records counted; for
            SQuAD the paragraph's place among the paragraphs read, as SQuAD rejects are mostly
            single questions), for links read by position (``given.v1``); set by
            :func:`iter_contexts`.
    """

    source_id: str
    title: str
    context_en: str
    context_x: str | None
    questions: tuple[Any, ...] = field(default=())
    position: int | None = field(default=None, compare=False)


def iter_contexts(
    path: str | os.PathLike[str],
    fmt: ContextFormat,
    lang: str,
    *,
    tgt_path: str | os.PathLike[str] | None = None,
    bitext_format: Literal["auto", "pipes", "tsv"] = "auto",
    split: str = "train",
    hf_config: str | None = None,
    en_column: str = "en",
    x_column: str | None = None,
    id_column: str | None = None,
    id_prefix: str | None = None,
) -> Iterator[ContextPair | Reject]:
    """Context pairs of one input, one item per record, in input order.

    Args:
        path: the file, folder, or Hugging Face dataset name.
        fmt: ``bitext``, ``hf`` or ``squad``.
        lang: the X language (the ``translation`` column's key for ``hf``).
        tgt_path: the X file of a two-file bitext.
        bitext_format: ``auto``, ``pipes`` or ``tsv`` (one-file bitext).
        split, hf_config: the Hugging Face split and configuration.
        en_column, x_column: text columns of an ``hf`` dataset without a ``translation`` column
            (``x_column`` defaults to ``lang``).
        id_column: an ``hf`` column holding record ids (default: ``dataset:split:row``).
        id_prefix: what ``source_id`` starts with, naming the input (default: the file stem,
            or the dataset as given); never a machine path.
    """
    if fmt == "bitext":
        return _positioned(_iter_bitext(path, tgt_path, bitext_format, id_prefix))
    if fmt == "hf":
        return _positioned(
            _iter_hf(
                path, lang, split, hf_config, en_column, x_column or lang, id_column, id_prefix
            )
        )
    if fmt == "squad":
        return _positioned(_iter_squad(path, id_prefix), count_rejects=False)
    raise ConfigError(
        f"unknown context format {fmt!r}.",
        fix="use bitext, hf or squad.",
        code=E_BAD_CONFIG,
    )


def _positioned(
    items: Iterator[ContextPair | Reject], *, count_rejects: bool = True
) -> Iterator[ContextPair | Reject]:
    """Each pair with its place in the input: the items before it, rejects counted only when
    ``count_rejects`` (a reader that yields one item per record)."""
    position = 0
    for item in items:
        if isinstance(item, ContextPair):
            yield replace(item, position=position)
            position += 1
        else:
            yield item
            if count_rejects:
                position += 1


def _iter_bitext(path, tgt_path, bitext_format, id_prefix) -> Iterator[ContextPair | Reject]:
    from xproj.io.readers.bitext import iter_bitext

    name = id_prefix or Path(path).stem
    for item in iter_bitext(path, fmt=bitext_format, tgt_path=tgt_path, on_error="reject"):
        if isinstance(item, Reject):
            yield item
            continue
        number, en, x = item
        yield ContextPair(f"{name}:{number}", "", en, x)


def _iter_hf(
    path, lang, split, hf_config, en_column, x_column, id_column, id_prefix
) -> Iterator[ContextPair | Reject]:
    from xproj.io.readers.hf import _load

    source = os.fspath(path)
    name = id_prefix or source
    dataset = _load(path, hf_config, split, None, None, source)
    columns = set(dataset.column_names)
    nested = "translation" in columns
    needed = {"translation"} if nested else {en_column, x_column}
    if not needed <= columns:
        raise InputFormatError(
            f"the dataset has no column {sorted(needed - columns)} (columns: {sorted(columns)}).",
            fix="give a dataset with a 'translation' column ({'en': ..., '<lang>': ...}) or name "
            "the two text columns (en_column, x_column).",
            file=source,
            code=E_MISSING_FIELD,
        )
    for row_number, row in enumerate(dataset):
        record = str(row[id_column]) if id_column and id_column in row else str(row_number)
        source_id = f"{name}:{split}:{record}"
        if nested:
            pair = row["translation"] or {}
            en, x = pair.get("en"), pair.get(lang)
        else:
            en, x = row.get(en_column), row.get(x_column)
        problem = None
        if not isinstance(en, str) or not isinstance(x, str):
            problem = InputFormatError(
                f"row {row_number} lacks an English or {lang} text.",
                fix=f"give both texts (translation['en'] and translation[{lang!r}]).",
                file=source,
                record=record,
                code=E_MISSING_FIELD,
            )
        elif not en.strip() or not x.strip():
            problem = InputFormatError(
                f"row {row_number} has an empty side.",
                fix="remove the row or fill in both texts.",
                file=source,
                record=record,
                code=E_EMPTY_SENTENCE,
            )
        if problem is not None:
            yield Reject.from_error("read", problem, raw=repr(row)[:500])
        else:
            yield ContextPair(source_id, "", en.strip(), x.strip())


def _iter_squad(path, id_prefix) -> Iterator[ContextPair | Reject]:
    from xproj.io.readers.squad import SquadParagraph, iter_squad

    for item in iter_squad(path, on_error="reject", id_prefix=id_prefix):
        if isinstance(item, SquadParagraph):
            yield ContextPair(item.source_id, item.title, item.context, None, item.questions)
        else:
            yield item
