"""What a run report shows, read from the lake: rates, drop reasons, a sample and the worst cases.

Three kinds of runs have examples of their own:

* projection runs (``project_parallel``, ``translate_train``, ``translate_test``): one example
  per sentence pair of ``projected``, with its ``outcomes`` (where each source span landed, or
  why it did not) and its word ``alignments``; rates are projected spans over source spans;
* ``paxqa``: one example per kept question, both contexts with the answer; rates are kept
  examples over kept and dropped ones (``paxqa_dropped`` gives the reasons);
* ``entitycs``: one example per code-switched sentence beside its English one; rates are kept
  sentences over kept and dropped ones (``entitycs_dropped``).

The sample is deterministic (evenly spaced over the run's rows in id order, per language), so a
report of the same run is the same file.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xproj.catalog.lineage import RunRecord

PROJECTION_FLOWS = ("project_parallel", "translate_train", "translate_test")
REPORTED_FLOWS = (*PROJECTION_FLOWS, "paxqa", "entitycs")
LIST_RUNS = 'xproj query "SELECT run_id, flow, finished_at FROM runs ORDER BY finished_at DESC"'
#: Examples per language in the sample, and worst cases per drop reason (defaults).
SAMPLE_PER_LANG = 60
WORST_PER_REASON = 5


@dataclass(frozen=True, slots=True)
class Rate:
    """``kept`` of ``total`` for one language or label."""

    name: str
    kept: int
    total: int

    @property
    def rate(self) -> float:
        return self.kept / self.total if self.total else 0.0


@dataclass(slots=True)
class Example:
    """One row of the report's examples.

    ``kind`` says which fields ``payload`` holds: ``pair`` (tokens, spans, links), ``qa``
    (contexts, questions, answers) or ``cs`` (English and code-switched text with entity spans).
    ``labels`` and ``reasons`` are what the filters match.
    """

    kind: str
    key: str
    lang: str
    labels: tuple[str, ...]
    reasons: tuple[str, ...]
    payload: dict[str, Any]


@dataclass(slots=True)
class ReportData:
    """Everything a report shows about one run."""

    run: RunRecord
    kind: str  #: ``pair``, ``qa`` or ``cs``
    unit: str  #: what the rates count (``spans projected``, ``examples kept`` …)
    by_lang: list[Rate]
    by_label: list[Rate]
    reasons: dict[str, int]
    examples: list[Example]
    worst: dict[str, list[Example]] = field(default_factory=dict)
    total_examples: int = 0  #: rows the sample was drawn from
    #: a chart of counts (not rates), with its title: e.g. kept PAXQA examples per answer kind
    counts: dict[str, int] = field(default_factory=dict)
    counts_title: str = ""

    @property
    def languages(self) -> list[str]:
        return sorted({e.lang for e in self.examples} | {r.name for r in self.by_lang})

    @property
    def labels(self) -> list[str]:
        seen = {label for e in self.examples for label in e.labels}
        return sorted(seen | {r.name for r in self.by_label})


def load_report_data(
    lake: Any,
    run_id: str,
    *,
    sample: int = SAMPLE_PER_LANG,
    worst: int = WORST_PER_REASON,
) -> ReportData:
    """Read run ``run_id`` (or a unique prefix of it) from ``lake``.

    Raises:
        CatalogError: XP402 when the lake has no committed run with that id (naming the latest
            runs), XP406 for a run whose flow has no rows to show (``publish``, fan-out).
    """
    from xproj.schemas.errors import E_NOTHING_TO_EXPORT, CatalogError

    run = find_run(lake, run_id)
    if run.flow in PROJECTION_FLOWS:
        return _projection(lake, run, sample, worst)
    if run.flow == "paxqa":
        return _paxqa(lake, run, sample, worst)
    if run.flow == "entitycs":
        return _entitycs(lake, run, sample, worst)
    raise CatalogError(
        f"run {run.run_id} is a {run.flow!r} run, which writes no examples to show.",
        fix="report a projection, translate-train, translate-test, PAXQA or EntityCS run "
        f"({LIST_RUNS} lists them).",
        code=E_NOTHING_TO_EXPORT,
    )


def find_run(lake: Any, given: str) -> RunRecord:
    """The committed run whose id is ``given`` or starts with it."""
    import pyarrow.compute as pc

    from xproj.catalog.lineage import full_run_id
    from xproj.schemas.errors import E_UNKNOWN_VERSION, CatalogError

    runs = lake.read("runs") if lake.latest_version("runs") is not None else None
    ids = runs.column("run_id").to_pylist() if runs is not None else []
    run_id = full_run_id(given, ids, "the lake's runs")
    if run_id not in ids:
        latest = []
        if runs is not None:
            rows = sorted(runs.to_pylist(), key=lambda r: r["finished_at"], reverse=True)
            latest = [f"{r['run_id'][:8]} ({r['flow']})" for r in rows[:5]]
        raise CatalogError(
            f"the lake {lake.root} has no run {given!r}"
            + (f"; its latest: {', '.join(latest)}." if latest else " (it has no runs yet)."),
            fix=f"give a run id that a flow printed ({LIST_RUNS} lists them; 8 characters do).",
            code=E_UNKNOWN_VERSION,
        )
    row = runs.filter(pc.field("run_id") == run_id).to_pylist()[0]
    return RunRecord.from_row(row)


def _table(
    lake: Any,
    table: str,
    run_id: str,
    columns: list[str] | None = None,
    ids: Iterable[str] | None = None,
    id_column: str = "pair_id",
    where: Any = None,
) -> Any:
    """``table``'s rows of the run as Arrow: only ``columns``, only those whose ``id_column``
    is in ``ids`` when given and where ``where`` holds; None when the table does not exist
    yet."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if lake.latest_version(table) is None:
        return None
    where = (
        pc.field("run_id") == run_id if where is None else where & (pc.field("run_id") == run_id)
    )
    if ids is not None:
        where = where & pc.is_in(pc.field(id_column), pa.array(sorted(set(ids)), pa.string()))
    return lake.read(table, columns=columns, filter=where)


def _rows(lake: Any, table: str, run_id: str, **kw: Any) -> list[dict[str, Any]]:
    """:func:`_table` as Python rows (only call it for what is shown: the sample, the worst)."""
    found = _table(lake, table, run_id, **kw)
    return found.to_pylist() if found is not None else []


def _counts(table: Any, keys: list[str]) -> dict[Any, int]:
    """Rows per value of ``keys`` (a tuple of values for several keys), counted by Arrow."""
    import pyarrow.compute as pc

    if table is None or table.num_rows == 0:
        return {}
    grouped = table.group_by(keys).aggregate([(keys[0], "count", pc.CountOptions("all"))])
    values = [grouped.column(k).to_pylist() for k in keys]
    n = grouped.column(f"{keys[0]}_count").to_pylist()
    return {(v[0] if len(keys) == 1 else tuple(v)): c for *v, c in zip(*values, n, strict=True)}


def _rates_of(total: Mapping[Any, int], kept: Mapping[Any, int]) -> list[Rate]:
    return [Rate(str(name), kept.get(name, 0), n) for name, n in sorted(total.items())]


def _spread(rows: Sequence[Any], n: int) -> list[Any]:
    """``n`` rows evenly spaced over ``rows`` (all of them when there are fewer)."""
    if n <= 0:
        return []
    if len(rows) <= n:
        return list(rows)
    step = len(rows) / n
    return [rows[int(k * step)] for k in range(n)]


def _sample_ids(
    table: Any, lang_column: str, id_column: str, n: int, labelled: Any = None
) -> list[tuple[str, str]]:
    """Up to ``n`` ``(id, language)`` per language, evenly spaced in id order: those where
    ``labelled`` (a boolean Arrow expression) holds first, then the others."""
    import pyarrow.compute as pc

    if table is None:
        return []
    out = []
    for lang in sorted(set(table.column(lang_column).to_pylist())):
        rows = table.filter(pc.field(lang_column) == lang).sort_by(id_column)
        groups = [rows] if labelled is None else [rows.filter(labelled),
                                                  rows.filter(~labelled)]  # fmt: skip
        picked: list[str] = []
        for group in groups:
            rows_at = _spread(range(group.num_rows), n - len(picked))
            picked += group.column(id_column).take(rows_at).to_pylist() if rows_at else []
        out += [(pid, lang) for pid in sorted(picked)]
    return out


# -- projection runs ------------------------------------------------------------------------


def _projection(lake: Any, run: RunRecord, sample: int, worst: int) -> ReportData:
    """Rates counted by Arrow over the run's outcomes (four columns); Python rows only for the
    pairs shown, so a run of millions of pairs costs its counting, not its rows."""
    import pyarrow.compute as pc

    outcomes = _table(lake, "outcomes", run.run_id, ["pair_id", "tgt_lang", "label", "reason"])
    dropped = kept = None
    if outcomes is not None:
        lost = pc.is_valid(outcomes["reason"])
        dropped, kept = outcomes.filter(lost), outcomes.filter(pc.invert(lost))
    reasons = dict(sorted(_counts(dropped, ["reason"]).items(), key=lambda kv: (-kv[1], kv[0])))
    worst_keys = _most_lost(dropped, reasons, worst)
    pairs = _table(lake, "projected", run.run_id, ["pair_id", "tgt_lang", "n_source_spans"])
    chosen = _sample_ids(pairs, "tgt_lang", "pair_id", sample, pc.field("n_source_spans") > 0)
    wanted = set(chosen) | {k for keys in worst_keys.values() for k in keys}
    ids = {pair_id for pair_id, _ in wanted}
    spans: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for o in _rows(lake, "outcomes", run.run_id, ids=ids):
        spans[(o["pair_id"], o["tgt_lang"])].append(o)
    links = {
        (a["pair_id"], a["tgt_lang"]): [(link["src"], link["tgt"]) for link in a["links"] or ()]
        for a in _rows(lake, "alignments", run.run_id, ids=ids)
    }
    examples: dict[tuple[str, str], Example] = {}
    for row in _rows(lake, "projected", run.run_id, ids=ids):
        key = (row["pair_id"], row["tgt_lang"])
        if key in wanted:
            examples[key] = _pair_example(row, spans.get(key, []), links.get(key, []))
    return ReportData(
        run,
        "pair",
        "source spans projected",
        _rates_of(_counts(outcomes, ["tgt_lang"]), _counts(kept, ["tgt_lang"])),
        _rates_of(_counts(outcomes, ["label"]), _counts(kept, ["label"])),
        reasons,
        [examples[k] for k in chosen if k in examples],
        {r: [examples[k] for k in keys if k in examples] for r, keys in worst_keys.items()},
        pairs.num_rows if pairs is not None else 0,
    )


def _most_lost(dropped: Any, reasons: Mapping[str, int], n: int) -> dict[str, list]:
    """Per drop reason, the ``n`` pairs that lost most spans for it (ties: by language and id),
    ranked by Arrow."""
    import pyarrow.compute as pc

    if dropped is None or dropped.num_rows == 0:
        return {}
    keys = ["reason", "pair_id", "tgt_lang"]
    lost = dropped.group_by(keys).aggregate([("reason", "count", pc.CountOptions("all"))])
    out = {}
    for reason in reasons:
        top = (
            lost.filter(pc.field("reason") == reason)
            .sort_by(
                [
                    ("reason_count", "descending"),
                    ("tgt_lang", "ascending"),
                    ("pair_id", "ascending"),
                ]
            )  # fmt: skip
            .slice(0, n)
        )
        out[reason] = list(
            zip(top["pair_id"].to_pylist(), top["tgt_lang"].to_pylist(), strict=True)
        )
    return out


def _pair_example(row: Mapping[str, Any], outcomes: list[dict], links: list) -> Example:
    spans = sorted(outcomes, key=lambda o: o["span_index"])
    return Example(
        "pair",
        row["pair_id"],
        row["tgt_lang"],
        tuple(sorted({o["label"] for o in spans})),
        tuple(sorted({o["reason"] for o in spans if o["reason"]})),
        {
            "src_lang": row["src_lang"],
            "src_tokens": list(row["src_tokens"]),
            "tgt_tokens": list(row["tgt_tokens"]),
            "spans": [_outcome(o) for o in spans],
            "links": links,
            "method": row["method"],
        },
    )


def _outcome(o: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "index": o["span_index"],
        "label": o["label"],
        "src": (o["src_start"], o["src_end"]),
        "tgt": (o["tgt_start"], o["tgt_end"]) if o["tgt_start"] is not None else None,
        "reason": o["reason"],
        "merged_into": o["merged_into"],
        "detail": o["detail"],
    }


# -- PAXQA ----------------------------------------------------------------------------------


def _paxqa(lake: Any, run: RunRecord, sample: int, worst: int) -> ReportData:
    kept = _table(lake, "paxqa", run.run_id, ["id", "language", "answer_kind"])
    dropped = _table(lake, "paxqa_dropped", run.run_id, ["id", "language", "stage", "reason"])
    total = Counter(_counts(kept, ["language"])) + Counter(_counts(dropped, ["language"]))
    reasons = dict(sorted(_counts(dropped, ["reason"]).items(), key=lambda kv: (-kv[1], kv[0])))
    chosen = _sample_ids(kept, "language", "id", sample)
    rows = {
        (r["id"], r["language"]): r
        for r in _rows(lake, "paxqa", run.run_id, ids={i for i, _ in chosen}, id_column="id")
    }
    examples = [_qa_example(rows[k]) for k in chosen if k in rows]
    worst_examples = {
        reason: [
            _drop_example(r, r["language"])
            for r in _dropped_of(lake, "paxqa_dropped", run.run_id, reason, worst)
        ]
        for reason in reasons
    }
    return ReportData(
        run,
        "qa",
        "examples kept",
        _rates_of(total, _counts(kept, ["language"])),
        [],
        reasons,
        examples,
        worst_examples,
        kept.num_rows if kept is not None else 0,
        counts=dict(sorted(_counts(kept, ["answer_kind"]).items())),
        counts_title="Kept examples by answer kind",
    )


def _dropped_of(lake: Any, table: str, run_id: str, reason: str, n: int) -> list[dict[str, Any]]:
    """``n`` of the run's dropped rows of one reason, evenly spaced in id order."""
    import pyarrow.compute as pc

    found = _table(lake, table, run_id, where=pc.field("reason") == reason)
    if found is None:
        return []
    found = found.sort_by("id")
    return found.take(_spread(range(found.num_rows), n)).to_pylist()


def _qa_example(row: Mapping[str, Any]) -> Example:
    return Example(
        "qa",
        row["id"],
        row["language"],
        (row["answer_kind"],),
        (),
        {
            "title": row["title"],
            "question_en": row["question_en"],
            "question_x": row["question_x"],
            "context_en": row["context_en"],
            "context_x": row["context_x"],
            "answers_en": _answers(row["answers_en"]),
            "answers_x": _answers(row["answers_x"]),
            "question_source": row["question_source"],
        },
    )


def _drop_example(row: Mapping[str, Any], lang: str) -> Example:
    return Example(
        "drop",
        row["id"],
        lang,
        (),
        (row["reason"],),
        {
            "stage": row.get("stage"),
            "detail": row.get("detail"),
            "question_en": row.get("question_en"),
            "answer_en": row.get("answer_en"),
        },
    )


def _answers(answers: Mapping[str, Any] | None) -> list[tuple[int, int]]:
    """Character ranges of SQuAD-style answers."""
    if not answers:
        return []
    return [
        (start, start + len(text))
        for text, start in zip(answers["text"], answers["answer_start"], strict=True)
    ]


# -- EntityCS -------------------------------------------------------------------------------


def _entitycs(lake: Any, run: RunRecord, sample: int, worst: int) -> ReportData:
    from xproj.io.exports.entitycs import switch_tags

    tags = switch_tags(run.parameters)
    english = _table(lake, "entitycs_en", run.run_id, ["id"])
    kept = _table(lake, "entitycs_cs", run.run_id, ["id", "language"])
    dropped = _table(lake, "entitycs_dropped", run.run_id, ["id", "reason"])
    n_english = english.num_rows if english is not None else 0
    n_dropped = dropped.num_rows if dropped is not None else 0
    reasons = dict(sorted(_counts(dropped, ["reason"]).items(), key=lambda kv: (-kv[1], kv[0])))
    chosen = _sample_ids(kept, "language", "id", sample)
    ids = {i for i, _ in chosen}
    rows = {
        (r["id"], r["language"]): r
        for r in _rows(lake, "entitycs_cs", run.run_id, ids=ids, id_column="id")
    }
    en = {
        r["id"]: r["en_sentence"]
        for r in _rows(lake, "entitycs_en", run.run_id, ids=ids, id_column="id")
    }
    examples = [_cs_example(rows[k], en.get(k[0]), tags) for k in chosen if k in rows]
    return ReportData(
        run,
        "cs",
        "English sentences kept",
        [Rate("all languages", n_english, n_english + n_dropped)],
        [],
        reasons,
        examples,
        {
            r: [
                _drop_example(d, "")
                for d in _dropped_of(lake, "entitycs_dropped", run.run_id, r, worst)
            ]
            for r in reasons
        },  # fmt: skip
        kept.num_rows if kept is not None else 0,
        counts=dict(sorted(_counts(kept, ["language"]).items())),
        counts_title="Code-switched sentences by language",
    )


def _cs_example(row: Mapping[str, Any], english: str | None, tags: tuple[str, str]) -> Example:
    """Both sentences without their tags, and the entity spans; a sentence whose tags do not
    parse is shown as stored, with the problem named."""
    from xproj.io.exports.entitycs import strip_tags
    from xproj.schemas.errors import InputFormatError

    payload: dict[str, Any] = {}
    for key, tagged in (("en", english or ""), ("cs", row["cs_sentence"])):
        try:
            text, spans = strip_tags(tagged, open_tag=tags[0], close_tag=tags[1], record=row["id"])
            payload[key], payload[f"{key}_spans"] = text, [(s.start, s.end, s.language)
                                                             for s in spans]  # fmt: skip
        except InputFormatError as err:
            payload[key], payload[f"{key}_spans"] = tagged, []
            payload["problem"] = str(err)
    return Example("cs", f"{row['id']}@{row['language']}", row["language"], (), (), payload)


def run_summary_lines(run: RunRecord) -> list[tuple[str, str]]:
    """The run's facts the report's header lists (flow, id, when, models, settings)."""
    lines = [
        ("flow", run.flow),
        ("run", run.run_id),
        ("finished", f"{run.finished_at:%Y-%m-%d %H:%M UTC}" if run.finished_at else "?"),
        ("status", run.status),
    ]
    if run.models:
        lines.append(("models", ", ".join(run.models)))
    if run.aligner:
        lines.append(("aligner", run.aligner))
    # files by name (the settings below hold the paths): a report is often shared
    inputs = ", ".join(
        f"{i.name}: {os.path.basename(i.ref) if os.path.isabs(i.ref) else i.ref}"
        for i in run.inputs
    )
    if inputs:
        lines.append(("inputs", inputs))
    gold = (run.metrics.get("gold") or {}).get("_micro")
    if gold:
        lines.append(("gold", "P {precision:.3f} · R {recall:.3f} · F1 {f1:.3f}".format(**gold)))
    return lines


def run_parameters(run: RunRecord) -> str:
    """The run's settings as indented JSON."""
    return json.dumps(run.parameters, sort_keys=True, ensure_ascii=False, indent=2)
