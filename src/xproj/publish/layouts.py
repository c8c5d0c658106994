"""How the rows of a table version become Hub configs, with features ``datasets`` understands.

A *layout* turns the committed rows of one table into configs (one per language by default),
each an Arrow table whose schema carries its ``datasets`` features (the ``huggingface`` schema
metadata that ``datasets`` writes and reads), so ``load_dataset`` gives back ``ClassLabel`` tags
and SQuAD answers without a loading script:

==================  =====================================================  =========================
table               columns of every config                                configs (``language``)
==================  =====================================================  =========================
``projected``       ``id, language, tokens, ner_tags`` (``ClassLabel``,    target language
                    IOB2), ``text, spans`` (character spans of ``text``),
                    ``source_language, source_text, source_tokens,
                    source_ner_tags``
``paxqa``           ``id, title, context, question, answers{text,          ``{lang}.{q}-{c}``: one per
                    answer_start}`` (SQuAD)                                language and direction
                                                                           (question – context)
``entitycs_cs``     the training export (``xproj.io.exports.entitycs``):   switched language, and
                    ``id, language, text, entity_spans`` and, with a       ``en`` for the English
                    tokenizer, ``input_ids, attention_mask, entity_ids``   sentences of the same runs
any other table     its own columns                                        the table's language
                                                                           column, or ``--config-by
                                                                           COLUMN``
==================  =====================================================  =========================

``config_by="none"`` puts every language into one config, ``default``, with the language in a
column (``paxqa`` is always per language: its English side would repeat once per language).
Config names are folders and ``datasets`` names: a value that cannot be one (``/``, spaces,
over 64 characters) is an error, never a path.

Rows are sorted by id within a config, so the same table version always gives the same files.
An id twice in one config (two runs that made the same rows) is an error that names the runs:
publish one of them (``--run``), never both silently.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_NOTHING_TO_EXPORT,
    CatalogError,
    ConfigError,
    InputFormatError,
)

logger = logging.getLogger("xproj")

#: Tables with a layout of their own; any other table is published with its own columns.
LAYOUT_TABLES = ("projected", "paxqa", "entitycs_cs")
#: The column that holds a row's (non-English) language, per table.
LANGUAGE_COLUMNS = {
    "projected": "tgt_lang",
    "outcomes": "tgt_lang",
    "alignments": "tgt_lang",
    "translations": "tgt_lang",
    "paxqa": "language",
    "paxqa_dropped": "language",
    "entitycs_cs": "language",
    "entitycs_entities": "language",
}
#: The most bytes of Arrow data per Parquet file (``datasets`` pushes 500 MB shards).
MAX_SHARD_BYTES = 256 << 20
#: What a config name may be: it is a folder in the repository and a name ``datasets`` loads.
CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def natural_key(text: str) -> tuple:
    """Sort key that orders the numbers in ids by value (``s:2`` before ``s:10``).

    Example:
        >>> sorted(["s:10", "s:2", "t:1"], key=natural_key)
        ['s:2', 's:10', 't:1']
    """
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(text)))


def check_config_name(name: str, column: str | None = None) -> str:
    """``name`` if it can be a config (a folder and a ``datasets`` config name), else XP301."""
    if not CONFIG_NAME.fullmatch(name) or ".." in name or name.lower() == "readme.md":
        where = f" (a value of column {column!r})" if column else ""
        raise ConfigError(
            f"{name[:80]!r}{where} cannot be a config name: configs are folders in the "
            "repository, named with letters, digits, '_', '.' and '-' (at most 64).",
            fix="make configs by a column of short code-like values (a language, a label), or "
            "use --config-by none.",
            code=E_BAD_CONFIG,
        )
    return name


@dataclass(slots=True)
class Config:
    """One config of the dataset: its rows (features in the schema) and what they hold.

    Attributes:
        name: the config name (``es``, ``de.en-de``, ``default``).
        table: the rows, typed by ``features`` (an Arrow table).
        features: the ``datasets.Features`` of the rows.
        languages: the languages of the text in the rows (``en`` included where it is).
        runs: run id → rows of that run in the config.
        rejected: reason → rows of the table that the layout could not write (the EntityCS
            export's ``too_long``, ``entity_without_tokens``), never dropped silently.
    """

    name: str
    table: pa.Table
    features: Any
    languages: tuple[str, ...]
    runs: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.table.num_rows

    def shards(self) -> list[pa.Table]:
        """The rows cut into Parquet files of at most :data:`MAX_SHARD_BYTES` of Arrow data."""
        n = max(1, math.ceil(self.table.nbytes / MAX_SHARD_BYTES))
        size = max(1, math.ceil(self.table.num_rows / n))
        return [self.table.slice(i * size, size) for i in range(n)] if self.rows else [self.table]


@dataclass(frozen=True, slots=True)
class Layout:
    """How one kind of table is published: its name, the card's task metadata, its configs.

    Attributes:
        kind: ``ner``, ``qa``, ``entitycs`` or ``table``.
        task_categories: the card's ``task_categories``.
        task_ids: the card's ``task_ids``.
        tags: extra card ``tags``.
    """

    kind: str
    task_categories: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


LAYOUTS = {
    "projected": Layout(
        "ner",
        ("token-classification",),
        ("named-entity-recognition",),
        ("label-projection", "machine-translated"),
    ),
    "paxqa": Layout(
        "qa", ("question-answering",), ("extractive-qa",), ("paxqa", "cross-lingual", "synthetic")
    ),
    "entitycs_cs": Layout(
        "entitycs",
        ("fill-mask",),
        ("masked-language-modeling",),
        ("entitycs", "code-switching", "synthetic"),
    ),
}


def layout_of(table: str) -> Layout:
    """The layout of ``table`` (its own columns for a table without one)."""
    return LAYOUTS.get(table, Layout("table"))


def _features(spec: Mapping[str, Any]):
    from datasets import Features

    return Features(spec)


def _typed(rows: list[dict[str, Any]], features) -> pa.Table:
    """Rows as an Arrow table whose schema carries ``features`` (``huggingface`` metadata)."""
    return pa.Table.from_pylist(rows, schema=features.arrow_schema)


def _check_unique(config: str, rows: Iterable[Mapping[str, Any]], key: str = "id") -> None:
    """Refuse a config in which an id comes twice, naming the runs that made it."""
    runs_of: dict[str, set[str]] = defaultdict(set)
    counts: Counter = Counter()
    for row in rows:
        counts[row[key]] += 1
        runs_of[row[key]].add(row.get("_run") or "?")
    twice = [k for k, n in counts.items() if n > 1]
    if twice:
        runs = sorted({r for k in twice for r in runs_of[k]})
        raise ConfigError(
            f"config {config!r} would hold {len(twice)} ids twice (e.g. {twice[0]!r}), made by "
            f"runs {', '.join(runs)}.",
            fix="publish the rows of one run: --run RUN_ID (xproj versions TABLE lists them), "
            "or publish each run into its own split (--split).",
            code=E_BAD_CONFIG,
        )


def _run_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(r["_run"] for r in rows).items()))


# -- projected NER --------------------------------------------------------------------------------


def iob2_names(labels: Iterable[str], start: Sequence[str] = ()) -> list[str]:
    """``O`` then ``B-L``, ``I-L`` per label: the names of ``start`` kept in their order (a
    card's earlier ``ClassLabel``), new labels appended sorted.

    Example:
        >>> iob2_names(["PER", "LOC"])
        ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']
        >>> iob2_names(["ORG", "PER"], ["O", "B-PER", "I-PER"])
        ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG']
    """
    names = list(start) or ["O"]
    if names[0] != "O":
        names = ["O", *[n for n in names if n != "O"]]
    known = {n[2:] for n in names if n != "O"}
    for label in sorted(set(labels) - known):
        names += [f"B-{label}", f"I-{label}"]
    return names


def _iob2_ids(n_tokens: int, spans: Iterable[Mapping[str, Any]], index: Mapping[str, int]):
    ids = [0] * n_tokens
    for span in spans:
        ids[span["start"]] = index[f"B-{span['label']}"]
        for k in range(span["start"] + 1, span["end"]):
            ids[k] = index[f"I-{span['label']}"]
    return ids


def _source_spans(row: Mapping[str, Any]) -> list[Any]:
    from xproj.schemas.tags import spans_from_tags

    return [
        {"start": s.start, "end": s.end, "label": s.label}
        for s in spans_from_tags(row["src_tags"], "auto")
    ]


def ner_features(names: Sequence[str]):
    """The features of a projected NER config (``ner_tags`` a ``ClassLabel`` over ``names``)."""
    from datasets import ClassLabel, List, Value

    span = {"start": Value("int32"), "end": Value("int32"), "label": Value("string")}
    return _features(
        {
            "id": Value("string"),
            "language": Value("string"),
            "tokens": List(Value("string")),
            "ner_tags": List(ClassLabel(names=list(names))),
            "text": Value("string"),
            "spans": List(span),
            "source_language": Value("string"),
            "source_text": Value("string"),
            "source_tokens": List(Value("string")),
            "source_ner_tags": List(ClassLabel(names=list(names))),
        }
    )


def ner_configs(
    rows: list[dict[str, Any]], config_by: str, known_names: Sequence[str] = ()
) -> list[Config]:
    """Configs of ``projected`` rows: target tokens and IOB2 ``ner_tags`` from the projected
    token spans, the character spans, and the source side with its tags as IOB2."""
    src_spans = [_source_spans(r) for r in rows]
    labels = {s["label"] for r in rows for s in r["tgt_spans"]}
    labels |= {s["label"] for spans in src_spans for s in spans}
    names = iob2_names(labels, known_names)
    index = {n: i for i, n in enumerate(names)}
    features = ner_features(names)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row, spans in zip(rows, src_spans, strict=True):
        name = row["tgt_lang"] if config_by == "language" else "default"
        groups[name].append(
            {
                "id": row["pair_id"],
                "language": row["tgt_lang"],
                "tokens": list(row["tgt_tokens"]),
                "ner_tags": _iob2_ids(len(row["tgt_tokens"]), row["tgt_spans"], index),
                "text": row["tgt_text"],
                "spans": [dict(s) for s in row["tgt_char_spans"]],
                "source_language": row["src_lang"],
                "source_text": row["src_text"],
                "source_tokens": list(row["src_tokens"]),
                "source_ner_tags": _iob2_ids(len(row["src_tokens"]), spans, index),
                "_run": row["run_id"],
            }
        )
    return [_config(name, group, features) for name, group in sorted(groups.items())]


def _config(name: str, group: list[dict[str, Any]], features, rejected=None) -> Config:
    check_config_name(name)
    group.sort(key=lambda r: natural_key(r["id"]))
    _check_unique(name, group)
    runs = _run_counts(group)
    languages = sorted(
        {r["language"] for r in group}
        | {r.get("source_language") for r in group if r.get("source_language")}
    )
    for r in group:
        del r["_run"]
    return Config(name, _typed(group, features), features, tuple(languages), runs, rejected or {})


# -- PAXQA ------------------------------------------------------------------------------------------


def squad_features():
    """SQuAD's features: ``id, title, context, question, answers{text, answer_start}``."""
    from datasets import List, Value

    return _features(
        {
            "id": Value("string"),
            "title": Value("string"),
            "context": Value("string"),
            "question": Value("string"),
            "answers": {"text": List(Value("string")), "answer_start": List(Value("int32"))},
        }
    )


def check_qa_config_by(config_by: str) -> None:
    """Refuse (XP301) a PAXQA layout other than by language."""
    if config_by != "language":
        raise ConfigError(
            "paxqa is published as one config per language and direction: an example's English "
            "side would repeat once per language in a config of all languages.",
            fix="leave --config-by out (language); pick languages with --lang.",
            code=E_BAD_CONFIG,
        )


def qa_configs(rows: list[dict[str, Any]], config_by: str) -> list[Config]:
    """Configs of ``paxqa`` rows: one per language and direction, SQuAD rows; every answer is
    checked against its context first (``xproj.io.exports.paxqa.check_rows``)."""
    from xproj.io.exports.paxqa import _SIDES, DIRECTIONS, check_rows

    check_qa_config_by(config_by)
    features = squad_features()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    langs: dict[str, set[str]] = defaultdict(set)
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_lang[row["language"]].append(row)
    for lang, lang_rows in sorted(by_lang.items()):
        check_rows(lang_rows, language=lang, directions=DIRECTIONS)
        for direction in DIRECTIONS:
            q_side, c_side = _SIDES[direction]
            q = "en" if q_side == "en" else lang
            c = "en" if c_side == "en" else lang
            name = f"{lang}.{q}-{c}"
            langs[name] |= {q, c}
            for row in lang_rows:
                groups[name].append(
                    {
                        "id": row["id"],
                        "title": row["title"],
                        "context": row[f"context_{c_side}"],
                        "question": row[f"question_{q_side}"],
                        "answers": dict(row[f"answers_{c_side}"]),
                        "_run": row["run_id"],
                        "language": lang,
                    }
                )
    configs = []
    for name, group in sorted(groups.items()):
        group.sort(key=lambda r: (natural_key(r["id"]), r["language"]))
        _check_unique(name, ({"id": (r["id"], r["language"]), "_run": r["_run"]} for r in group))
        runs = _run_counts(group)
        for r in group:
            del r["_run"], r["language"]
        configs.append(
            Config(name, _typed(group, features), features, tuple(sorted(langs[name])), runs)
        )
    return configs


# -- EntityCS ---------------------------------------------------------------------------------------


def entitycs_features(with_tokens: bool):
    """The training export's features (``xproj.io.exports.entitycs``); without a tokenizer
    only the fields that need none."""
    from datasets import List, Value

    spec: dict[str, Any] = {
        "id": Value("string"),
        "language": Value("string"),
        "text": Value("string"),
    }
    if with_tokens:
        spec |= {
            "input_ids": List(Value("int32")),
            "attention_mask": List(Value("int8")),
            "entity_ids": List(Value("int32")),
        }
    spec["entity_spans"] = List(List(Value("int32"), length=2))
    return _features(spec)


def entitycs_configs(
    rows: list[dict[str, Any]],
    config_by: str,
    *,
    tokenizer: Any = None,
    tags: Mapping[str, tuple[str, str]] | None = None,
) -> list[Config]:
    """Configs of ``entitycs_en`` and ``entitycs_cs`` rows as training records: tags removed,
    entity spans, and with a fast ``tokenizer`` token ids and each token's entity index. A row
    the export cannot write is counted by reason in its config's ``rejected``."""
    from xproj.io.exports.entitycs import ExportStats, encode, strip_tags
    from xproj.schemas.tables import CS_CLOSE_TAG, CS_OPEN_TAG

    features = entitycs_features(tokenizer is not None)
    tags = dict(tags or {})
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rejected: dict[str, Counter] = defaultdict(Counter)
    by_run: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        lang = row.get("language") or "en"
        by_run[(row["run_id"], lang)].append(row)
    for (run_id, lang), group in sorted(by_run.items()):
        open_tag, close_tag = tags.get(run_id, (CS_OPEN_TAG, CS_CLOSE_TAG))
        name = lang if config_by == "language" else "default"
        stats = ExportStats()
        if tokenizer is not None:
            records = list(
                encode(
                    group,
                    tokenizer,
                    on_error="reject",
                    open_tag=open_tag,
                    close_tag=close_tag,
                    stats=stats,
                )
            )
        else:  # the export's fields that need no tokenizer; bad tags rejected as encode does
            records = []
            for row in group:
                tagged = row.get("cs_sentence") or row["en_sentence"]
                try:
                    text, spans = strip_tags(
                        tagged, language=lang, open_tag=open_tag, close_tag=close_tag,
                        record=row["id"],
                    )  # fmt: skip
                except InputFormatError as err:
                    stats.reject("bad_tags", row["id"], lang, err.message)
                    continue
                records.append(
                    {
                        "id": row["id"],
                        "language": lang,
                        "text": text,
                        "entity_spans": [[s.start, s.end] for s in spans],
                    }
                )
        rejected[name].update(stats.rejected)
        for example in stats.examples:
            logger.warning(
                "EntityCS row %s (%s) not written: %s, %s",
                example["id"], example["language"], example["reason"], example["detail"],
            )  # fmt: skip
        for record in records:
            record["_run"] = run_id
            groups[name].append(record)
    return [
        _config(name, group, features, dict(sorted(rejected[name].items())))
        for name, group in sorted(groups.items())
    ]


# -- any other table -------------------------------------------------------------------------------


def table_configs(table: str, data: pa.Table, config_by: str) -> list[Config]:
    """Configs of any table, with its own columns: split by ``config_by`` (``language``: the
    table's language column; a column name; ``none``)."""
    from datasets import Features

    column = LANGUAGE_COLUMNS.get(table) if config_by == "language" else config_by
    if config_by == "language" and column is None:
        column = "none"
    if column != "none" and column not in data.column_names:
        raise ConfigError(
            f"table {table!r} has no column {column!r} to make configs by.",
            fix=f"use --config-by none or one of its columns: {', '.join(data.column_names)}.",
            code=E_BAD_CONFIG,
        )
    features = Features.from_arrow_schema(data.schema)
    run_ids = data["run_id"].to_pylist() if "run_id" in data.column_names else None
    keys = data[column].to_pylist() if column != "none" else ["default"] * data.num_rows
    order: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        order[str(key) if key is not None else "none"].append(i)
    lang_columns = [c for c in ("src_lang", "tgt_lang", "language") if c in data.column_names]
    configs = []
    for name, idx in sorted(order.items()):
        check_config_name(name, None if column == "none" else column)
        part = data.take(pa.array(idx, pa.int64()))
        part = part.replace_schema_metadata(features.arrow_schema.metadata)
        langs = sorted({v for c in lang_columns for v in part[c].to_pylist() if v})
        runs = dict(sorted(Counter(run_ids[i] for i in idx).items())) if run_ids else {}
        configs.append(Config(name, part, features, tuple(langs), runs))
    return configs


def check_not_empty(table: str, version: int, configs: Sequence[Config], why: str) -> None:
    """Refuse to publish nothing."""
    if not any(c.rows for c in configs):
        raise CatalogError(
            f"{table}@{version} has no committed rows to publish{why}; nothing was written.",
            fix="check the table, version and --run/--lang filters: xproj versions " + table,
            code=E_NOTHING_TO_EXPORT,
        )


ConfigBuilder = Callable[..., list[Config]]
