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


def _rows(
    lake: Any,
    table: str,
    run_id: str,
    columns: list[str] | None = None,
    pairs: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """``table``'s rows of the run (only ``columns``; only those of ``pairs`` when given; none
    when the table does not exist yet)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if lake.latest_version(table) is None:
        return []
    where = pc.field("run_id") == run_id
    if pairs is not None:
        where = where & pc.is_in(pc.field("pair_id"), pa.array(sorted(set(pairs)), pa.string()))
    return lake.read(table, columns=columns, filter=where).to_pylist()


def _spread(rows: Sequence[Any], n: int) -> list[Any]:
    """``n`` rows evenly spaced over ``rows`` (all of them when there are fewer)."""
    if n <= 0:
        return []
    if len(rows) <= n:
        return list(rows)
    step = len(rows) / n
    return [rows[int(k * step)] for k in range(n)]


def _sample(examples: Iterable[Example], n: int) -> list[Example]:
    """Up to ``n`` examples per language, evenly spaced in id order: those with labels first
    (a pair without spans shows nothing to check), then the others."""
    by_lang: dict[str, list[Example]] = defaultdict(list)
    for ex in sorted(examples, key=lambda e: (e.lang, e.key)):
        by_lang[ex.lang].append(ex)
    out = []
    for lang in sorted(by_lang):
        labelled = [ex for ex in by_lang[lang] if ex.labels]
        rest = [ex for ex in by_lang[lang] if not ex.labels]
        picked = _spread(labelled, n)
        out += sorted(picked + _spread(rest, n - len(picked)), key=lambda e: e.key)
    return out


def _rates(counts: Mapping[str, Counter]) -> list[Rate]:
    return [Rate(name, c["kept"], c["total"]) for name, c in sorted(counts.items())]


# -- projection runs ------------------------------------------------------------------------


def _projection(lake: Any, run: RunRecord, sample: int, worst: int) -> ReportData:
    """Rates from every outcome of the run (four columns); full rows only for the pairs shown,
    so a run of millions of pairs makes a report as quickly as a small one."""
    Key = tuple[str, str]
    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_label: dict[str, Counter] = defaultdict(Counter)
    reasons: Counter = Counter()
    lost: dict[str, Counter] = defaultdict(Counter)  # reason → pair → spans lost for it
    kept_in: Counter = Counter()  # pair → spans projected
    for o in _rows(lake, "outcomes", run.run_id, ["pair_id", "tgt_lang", "label", "reason"]):
        key: Key = (o["pair_id"], o["tgt_lang"])
        kept = o["reason"] is None
        for counts in (by_lang[o["tgt_lang"]], by_label[o["label"]]):
            counts["total"] += 1
            counts["kept"] += kept
        if kept:
            kept_in[key] += 1
        else:
            reasons[o["reason"]] += 1
            lost[o["reason"]][key] += 1
    pairs = _rows(lake, "projected", run.run_id, ["pair_id", "tgt_lang", "n_source_spans"])
    stubs = [
        Example("pair", p["pair_id"], p["tgt_lang"], ("x",) if p["n_source_spans"] else (), (), {})
        for p in pairs
    ]
    chosen: list[Key] = [(e.key, e.lang) for e in _sample(stubs, sample)]
    worst_keys = {
        reason: sorted(counts, key=lambda k, c=counts: (-c[k], kept_in[k], k[1], k[0]))[:worst]
        for reason, counts in lost.items()
    }
    wanted = set(chosen) | {k for keys in worst_keys.values() for k in keys}
    ids = {pair_id for pair_id, _ in wanted}
    outcomes: dict[Key, list[dict]] = defaultdict(list)
    for o in _rows(lake, "outcomes", run.run_id, pairs=ids):
        outcomes[(o["pair_id"], o["tgt_lang"])].append(o)
    links = {
        (a["pair_id"], a["tgt_lang"]): [(link["src"], link["tgt"]) for link in a["links"] or ()]
        for a in _rows(lake, "alignments", run.run_id, pairs=ids)
    }
    examples: dict[Key, Example] = {}
    for row in _rows(lake, "projected", run.run_id, pairs=ids):
        key = (row["pair_id"], row["tgt_lang"])
        if key not in wanted:
            continue
        spans = sorted(outcomes.get(key, []), key=lambda o: o["span_index"])
        examples[key] = Example(
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
                "links": links.get(key, []),
                "method": row["method"],
            },
        )
    return ReportData(
        run,
        "pair",
        "source spans projected",
        _rates(by_lang),
        _rates(by_label),
        dict(reasons.most_common()),
        [examples[k] for k in chosen if k in examples],
        {
            reason: [examples[k] for k in worst_keys[reason] if k in examples]
            for reason, _ in reasons.most_common()
        },
        len(pairs),
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
    kept = _rows(lake, "paxqa", run.run_id)
    dropped = _rows(lake, "paxqa_dropped", run.run_id)
    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for row in kept:
        for counts in (by_lang[row["language"]], by_kind[row["answer_kind"]]):
            counts["total"] += 1
            counts["kept"] += 1
    reasons: Counter = Counter()
    for row in dropped:
        by_lang[row["language"]]["total"] += 1
        reasons[row["reason"]] += 1
    examples = [
        Example(
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
        for row in kept
    ]
    dropped_examples = [
        Example(
            "drop",
            f"{row['id']}#{k}",
            row["language"],
            (),
            (row["reason"],),
            {
                "stage": row["stage"],
                "detail": row["detail"],
                "question_en": row.get("question_en"),
                "answer_en": row.get("answer_en"),
            },
        )
        for k, row in enumerate(dropped)
    ]
    return ReportData(
        run,
        "qa",
        "examples kept",
        _rates(by_lang),
        _rates(by_kind),
        dict(reasons.most_common()),
        _sample(examples, sample),
        {
            reason: _spread(
                sorted(
                    (e for e in dropped_examples if reason in e.reasons),
                    key=lambda e: (e.lang, e.key),
                ),
                worst,
            )
            for reason in reasons
        },  # fmt: skip
        len(examples),
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
    from xproj.io.exports.entitycs import strip_tags, switch_tags

    open_tag, close_tag = switch_tags(run.parameters)
    english = {row["id"]: row["en_sentence"] for row in _rows(lake, "entitycs_en", run.run_id)}
    kept = _rows(lake, "entitycs_cs", run.run_id)
    dropped = _rows(lake, "entitycs_dropped", run.run_id)
    by_lang: dict[str, Counter] = defaultdict(Counter)
    examples = []
    for row in kept:
        lang = row["language"]
        by_lang[lang]["total"] += 1
        by_lang[lang]["kept"] += 1
        cs_text, cs_spans = strip_tags(
            row["cs_sentence"], open_tag=open_tag, close_tag=close_tag, record=row["id"]
        )
        en_text, en_spans = "", []
        if row["id"] in english:
            en_text, en_spans = strip_tags(
                english[row["id"]], open_tag=open_tag, close_tag=close_tag, record=row["id"]
            )
        examples.append(
            Example(
                "cs",
                f"{row['id']}@{lang}",
                lang,
                (),
                (),
                {
                    "en": en_text,
                    "en_spans": [(s.start, s.end, s.language) for s in en_spans],
                    "cs": cs_text,
                    "cs_spans": [(s.start, s.end, s.language) for s in cs_spans],
                },
            )
        )
    reasons = Counter(row["reason"] for row in dropped)
    drops = [
        Example("drop", row["id"], "", (), (row["reason"],), {"stage": "", "detail": ""})
        for row in dropped
    ]
    return ReportData(
        run,
        "cs",
        "sentences kept",
        _rates(by_lang),
        [],
        dict(reasons.most_common()),
        _sample(examples, sample),
        {r: _spread([d for d in drops if r in d.reasons], worst) for r in reasons},
        len(examples),
    )


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
