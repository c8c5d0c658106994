"""Every table xproj writes, declared once: a record type per table, its Arrow schema derived.

A table is a frozen dataclass registered with :func:`table`; its fields, in order, are the
table's columns, and their annotations give the Arrow types (``str`` → string, ``int`` → int32,
``float`` → float64, ``X | None`` → nullable, ``Annotated[..., <arrow type>]`` for anything
else). Tables that hold run outputs (``run_output=True``) get a leading ``run_id`` column that
their records leave out: the executor stamps it when it converts a shard's records to Arrow
(:func:`xproj.schemas.arrow.conform`), once.

Adding a table means adding a record class here; the lake, staging and query layers pick it up
from :data:`TABLES`. Conversion and checking live in :mod:`xproj.schemas.arrow`.

Example:
    >>> TABLES["rejected"].names
    ['run_id', 'stage', 'source', 'locator', 'code', 'reason', 'raw']
    >>> RECORDS["rejected"].__name__
    'Reject'
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import pyarrow as pa

from xproj.schemas.errors import E_UNKNOWN_TABLE, CatalogError, Reject

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

I64 = Annotated[int, pa.int64()]
Time = Annotated[datetime, UTC_TIME]
Strs = Sequence[str]
#: Items with ``start``, ``end`` and ``label`` (``TokenSpan``, ``CharSpan``, or dicts).
Spans = Annotated[Sequence[Any], pa.list_(SPAN)]
#: ``(src, tgt)`` token index pairs.
Links = Annotated[Sequence[Any], pa.list_(LINK)]
#: Items with ``text`` and ``answer_start`` (:class:`Answers`, or a dict).
AnswerList = Annotated[Any, ANSWERS]

TABLES: dict[str, pa.Schema] = {}
"""Table name → its Arrow schema (derived from :data:`RECORDS`)."""

RECORDS: dict[str, type] = {}
"""Table name → the record type of its rows."""

RUN_OUTPUTS: set[str] = set()
"""Tables whose records leave ``run_id`` out (it is stamped when they are converted)."""

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int32(),
    float: pa.float64(),
    bool: pa.bool_(),
}


def _arrow_type(hint: Any, where: str) -> tuple[pa.DataType, bool]:
    """The Arrow type of an annotation and whether it is nullable."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"{where}: only `X | None` unions are supported")
        return _arrow_type(args[0], where)[0], True
    if origin is Annotated:
        explicit = [a for a in hint.__metadata__ if isinstance(a, pa.DataType)]
        if explicit:
            return explicit[0], False
        return _arrow_type(typing.get_args(hint)[0], where)
    if origin in (Sequence, list, tuple):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return pa.list_(_arrow_type(args[0], where)[0]), False
    if hint in _SCALARS:
        return _SCALARS[hint], False
    raise TypeError(f"{where}: no Arrow type for {hint!r}; annotate it as Annotated[..., type]")


def schema_of_record(cls: type, *, run_output: bool) -> pa.Schema:
    """The Arrow schema of a record type (a leading ``run_id`` for run outputs)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [pa.field("run_id", pa.string(), nullable=False)] if run_output else []
    for f in dataclasses.fields(cls):
        type_, nullable = _arrow_type(hints[f.name], f"{cls.__name__}.{f.name}")
        fields.append(pa.field(f.name, type_, nullable=nullable))
    return pa.schema(fields)


def table(name: str, *, run_output: bool = True) -> Callable[[type], type]:
    """Register a dataclass as the record type of table ``name``."""

    def register(cls: type) -> type:
        RECORDS[name] = cls
        TABLES[name] = schema_of_record(cls, run_output=run_output)
        if run_output:
            RUN_OUTPUTS.add(name)
        return cls

    return register


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


def empty(name: str) -> pa.Table:
    """An empty table with ``name``'s declared schema."""
    return schema_of(name).empty_table()


# -- projection --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PairKey:
    pair_id: str
    src_lang: str
    tgt_lang: str


@table("projected")
@dataclass(frozen=True, slots=True)
class ProjectedRow(_PairKey):
    """One sentence pair and projection method: both sides, and the target's projected spans as
    tags, token spans and character spans."""

    src_text: str
    src_tokens: Strs
    src_tags: Strs
    tgt_text: str
    tgt_tokens: Strs
    tgt_tags: Strs
    tgt_spans: Spans
    tgt_char_spans: Spans
    method: str
    #: null for methods that use no word aligner (the model routes)
    aligner: str | None
    aligner_model: str | None
    #: the translation model, for rows whose target side xproj translated
    translation_model: str | None
    tokenizer: str
    n_source_spans: int
    n_projected: int


@table("outcomes")
@dataclass(frozen=True, slots=True)
class OutcomeRow(_PairKey):
    """One source span: where it landed (token and character offsets), or the ``DropReason``
    value why it did not."""

    span_index: int
    label: str
    src_start: int
    src_end: int
    src_text: str
    tgt_start: int | None
    tgt_end: int | None
    tgt_char_start: int | None
    tgt_char_end: int | None
    tgt_text: str | None
    reason: str | None
    merged_into: int | None
    method: str
    #: the model score that chose the target (codec: re-ranked log-probability; markers: the
    #: fuzzy similarity)
    score: float | None
    #: how the outcome came about
    detail: str | None


@table("alignments")
@dataclass(frozen=True, slots=True)
class AlignmentRow(_PairKey):
    """The word alignment of one pair."""

    aligner: str
    links: Links


@table("translations")
@dataclass(frozen=True, slots=True)
class TranslationRow:
    """One source sentence and target language a run translated."""

    sentence_id: str
    src_lang: str
    tgt_lang: str
    source_text: str
    translation: str
    model_id: str
    quantization: str
    decoding: str
    #: null for an ordinary translation, else why not (empty, too_long)
    flag: str | None
    segments: int
    truncated: bool
    #: model routes: the marked translation (markers) or the translation with the chosen markers
    #: inserted (codec); null for align
    marked: str | None = None


@table("aligner_priors")
@dataclass(frozen=True, slots=True)
class AlignerPriorsRow:
    """The statistics a run's aligner learned once over its whole input and aligned every shard
    with (``xproj.projectors.aligners.priors``), stored with the run."""

    src_lang: str
    tgt_lang: str
    aligner: str
    #: sentence pairs they were counted from (input sample and extra bitext)
    pairs: I64
    sha256: str
    #: the saved priors file (``xproj-eflomal-priors/1``)
    priors: str


# ``rejected``: the records a run could not use, one row per record (xproj.schemas.errors.Reject).
table("rejected")(Reject)


# -- runs, evaluations, the translation cache ------------------------------------------------------


@table("runs", run_output=False)
@dataclass(frozen=True, slots=True)
class RunRow:
    """One committed run (``xproj.catalog.lineage.RunRecord`` makes it)."""

    run_id: str
    run_key: str
    flow: str
    status: str
    started_at: Time
    finished_at: Time
    parameters: str
    code_version: str
    inputs: Annotated[Sequence[Any], pa.list_(INPUT_REF)]
    outputs: Annotated[Sequence[Any], pa.list_(OUTPUT_REF)]
    aligner: str | None
    models: Strs
    metrics: str
    timings: str


@table("evaluations", run_output=False)
@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """One score of a system against gold, per label (``ALL`` for the micro average); of a run,
    or standalone (``run_id`` null)."""

    eval_id: str
    run_id: str | None
    created_at: Time
    kind: str
    dataset: str
    system: str
    label: str
    precision: float
    recall: float
    f1: float
    aer: float | None
    n_gold: I64
    n_pred: I64
    n_correct: I64
    params: str


@table("translation_cache", run_output=False)
@dataclass(frozen=True, slots=True)
class CacheRow:
    """One source text and scope (``xproj.translators.cache``): not a run output but appended
    flush by flush (``Lake.append``). ``key`` is ``cache_key`` over the next six columns; the same
    key may appear twice (concurrent writers), and readers take the earliest row. The columns
    from ``translation`` to ``detail`` are ``xproj.translators.base.Translation``'s fields."""

    key: str
    model_id: str
    quantization: str
    src_lang: str
    tgt_lang: str
    options: str
    source: str
    translation: str
    tokens: int
    source_tokens: int
    segments: int
    flag: str | None
    truncated: bool
    detail: str
    created_at: Time
    #: the run that translated the text; null when written outside a run
    run_id: str | None


#: Tables written outside runs, a part at a time (``Lake.append``): their rows are never hidden
#: from readers. Every other table with a ``run_id`` column holds run outputs, and readers see
#: only the rows of runs that have a ``runs`` row.
APPENDED_TABLES = frozenset({"translation_cache"})


# -- EntityCS (xproj.generators.entitycs) ---------------------------------------------------------


@table("entitycs_en")
@dataclass(frozen=True, slots=True)
class EntityCSEnRow:
    """One kept English sentence, ``<en>…</en>`` around the entities that were switched."""

    id: str
    en_sentence: str


#: The default tags around a switched entity in ``cs_sentence`` (``{lang}``: its language);
#: a run may choose others (``SwitchSettings.open_tag`` / ``close_tag``).
CS_OPEN_TAG = "<{lang}>"
CS_CLOSE_TAG = "</{lang}>"


@table("entitycs_cs")
@dataclass(frozen=True, slots=True)
class EntityCSRow:
    """One kept sentence and sampled language; ``<xx>…</xx>`` around switched entities."""

    id: str
    en_sentence: str
    cs_sentence: str
    language: str


@table("entitycs_entities")
@dataclass(frozen=True, slots=True)
class EntityCSEntityRow:
    """One switched entity occurrence, for analysis."""

    id: str
    language: str
    qid: str
    en_surface: str
    switched_surface: str


@table("entitycs_dropped")
@dataclass(frozen=True, slots=True)
class EntityCSDroppedRow:
    """One sentence (or record) the builder did not keep, with the reason."""

    id: str
    reason: str


# -- PAXQA (xproj.generators.paxqa) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answers:
    """SQuAD-style answers: every ``context[start:start + len(text)] == text``."""

    text: tuple[str, ...]
    answer_start: tuple[int, ...]


@table("paxqa")
@dataclass(frozen=True, slots=True)
class PaxqaRow:
    """One kept bilingual example and language."""

    id: str
    source_id: str
    title: str
    language: str
    context_en: str
    context_x: str
    question_en: str
    question_x: str
    answers_en: AnswerList
    answers_x: AnswerList
    #: ``generated`` (question generation) or ``given`` (the input's own questions)
    question_source: str
    #: answer candidate kind (``entity``, ``noun_chunk``, ``number``, ``date``, ``capitalised``)
    #: or ``given``
    answer_kind: str
    #: mean log-probability per token of question_en under the QG model (null: given)
    qg_score: float | None
    #: mean log-probability per token of question_x under the translation model
    translation_score: float
    #: token F1 of question_en against question_x translated back (null: not computed)
    round_trip: float | None
    constraints: Strs
    constraints_satisfied: Strs
    constraints_unsatisfied: Strs
    #: ``plain``, ``n_best`` or ``prefix`` (xproj.generators.paxqa.constraints)
    constraint_method: str


@table("paxqa_dropped")
@dataclass(frozen=True, slots=True)
class PaxqaDroppedRow:
    """One example (or answer candidate) not kept, with the stage and reason."""

    id: str
    source_id: str
    language: str
    stage: str
    reason: str
    detail: str
    answer_en: str | None = None
    question_en: str | None = None
    question_x: str | None = None
