"""The one summary of a run: counts per table, per stage and reason, and the one renderer.

Every flow's run ends in a :class:`RunSummary`. The executor builds it from the counts each shard
recorded when it was staged, so a run resumed after a crash reports the same figures as one that
never stopped. One drop convention holds everywhere: a record, span, candidate or sentence that
did not make it is counted under ``<stage>.<reason>`` (``read.XP101``, ``project.no_alignment``,
``answer.answer_not_projected``). What each flow counts is declared as :class:`Tally` objects:
which table rows count, which column holds the reason (null: kept), and the columns to break the
counts down by (a language, a label).

:func:`render` writes the summary for the terminal (``text``) or as the Prefect artifact
(``markdown``); the CLI and the artifact never format metrics on their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Source:
    """Rows of ``table`` counted by a tally: dropped when ``reason`` (a column) is set.

    ``reason=None`` counts every row as kept; ``stage`` names a column holding the stage of a
    drop (else the tally's ``stage`` is used).
    """

    table: str
    reason: str | None = None
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """Something a run counts: how many there were, how many were kept, and why the rest went.

    Attributes:
        name: what is counted (``spans``, ``candidates``, ``sentences``).
        sources: the tables whose rows are counted.
        kept: the word for a kept item (``projected``, ``examples``).
        stage: the stage of drops whose source has no stage column.
        group: a column to break the counts down by (``tgt_lang``), or None.
        label: a column for a second breakdown (``label``), or None.
    """

    name: str
    sources: tuple[Source, ...]
    kept: str = "kept"
    stage: str = ""
    group: str | None = None
    label: str | None = None

    def count(self, table: str, rows: pa.Table) -> list[list[Any]]:
        """``[group, label, stage, reason, n]`` for the rows of ``table`` (a staged shard's)."""
        out: list[list[Any]] = []
        for source in self.sources:
            if source.table != table or rows.num_rows == 0:
                continue
            columns = {
                "g": self.group,
                "l": self.label,
                "s": source.stage,
                "r": source.reason,
            }
            used = [c for c in dict.fromkeys(columns.values()) if c is not None]
            if used:
                grouped = rows.select(used).group_by(used, use_threads=False)
                counted = grouped.aggregate([([], "count_all")]).to_pylist()
            else:
                counted = [{"count_all": rows.num_rows}]
            for row in counted:
                out.append(
                    [
                        row.get(columns["g"]) if columns["g"] else None,
                        row.get(columns["l"]) if columns["l"] else None,
                        row.get(columns["s"]) if columns["s"] else self.stage,
                        row.get(columns["r"]) if columns["r"] else None,
                        row["count_all"],
                    ]
                )
        return out


#: Projection outcomes, one per source span and target language: kept when ``reason`` is null.
SPANS = Tally(
    "spans",
    (Source("outcomes", reason="reason"),),
    kept="projected",
    stage="project",
    group="tgt_lang",
    label="label",
)


def merge_counts(into: dict[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """Add nested counts: numbers add up, mappings merge key by key, other values are kept.

    Example:
        >>> merge_counts({"a": 1, "b": {"x": 2}}, {"a": 2, "b": {"x": 1, "y": 1}, "c": "z"})
        {'a': 3, 'b': {'x': 3, 'y': 1}, 'c': 'z'}
    """
    for key, value in other.items():
        if isinstance(value, Mapping):
            merge_counts(into.setdefault(key, {}), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            into[key] = into.get(key, 0) + value
        else:
            into.setdefault(key, value)
    return into


def counts_delta(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """``after - before`` for nested counts (what one shard added to running counters).

    Example:
        >>> counts_delta({"a": 5, "b": {"x": 3}, "n": ["z"]}, {"a": 2, "b": {"x": 3}})
        {'a': 3, 'b': {'x': 0}, 'n': ['z']}
    """
    out: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, Mapping):
            out[key] = counts_delta(value, old if isinstance(old, Mapping) else {})
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = value - (old if isinstance(old, int | float) else 0)
        else:
            out[key] = value
    return out


def _block(counts: Counter, kept_word: str) -> dict[str, Any]:
    total = sum(counts.values())
    kept = counts.get(None, 0)
    dropped = {k: v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])) if k is not None}
    return {
        "total": total,
        kept_word: kept,
        "rate": round(kept / total, 6) if total else 0.0,
        "dropped": dropped,
    }


def build_tally(tally: Tally, rows: Iterable[list[Any]]) -> dict[str, Any]:
    """The summary block of one tally from the ``[group, label, stage, reason, n]`` rows."""
    overall: Counter = Counter()
    groups: dict[Any, Counter] = {}
    labels: dict[Any, Counter] = {}
    group_labels: dict[Any, dict[Any, Counter]] = {}
    for group, label, stage, reason, n in rows:
        key = None if reason is None else f"{stage}.{reason}" if stage else str(reason)
        overall[key] += n
        if tally.group:
            groups.setdefault(group, Counter())[key] += n
        if tally.label:
            labels.setdefault(label, Counter())[key] += n
        if tally.group and tally.label:
            group_labels.setdefault(group, {}).setdefault(label, Counter())[key] += n
    block = {"kept_word": tally.kept, **_block(overall, "kept")}
    if tally.group:
        block["by"] = {
            str(g): {
                **_block(c, "kept"),
                **(
                    {
                        "labels": {
                            str(lab): _block(lc, "kept")
                            for lab, lc in sorted(group_labels.get(g, {}).items(), key=str)
                        }
                    }
                    if tally.label
                    else {}
                ),
            }
            for g, c in sorted(groups.items(), key=lambda kv: str(kv[0]))
        }
    if tally.label:
        block["labels"] = {
            str(lab): _block(c, "kept")
            for lab, c in sorted(labels.items(), key=lambda kv: str(kv[0]))
        }
    return block


def gold_block(counts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Precision, recall and F1 per label and micro-averaged (``_micro``) from summed counts
    ``{label: {"gold": g, "pred": p, "correct": c}}``; None when there was no gold span."""
    from xproj.projectors.metrics import span_scores_from_counts

    scores = span_scores_from_counts(dict(counts))
    if scores.micro.n_gold == 0:
        return None
    return {
        r["label"]: {
            k: r[k] for k in ("precision", "recall", "f1", "n_gold", "n_pred", "n_correct")
        }
        for r in scores.as_rows()
    }


def gold_scores(block: Mapping[str, Any]):
    """The :class:`~xproj.projectors.metrics.SpanScores` behind a :func:`gold_block`."""
    from xproj.projectors.metrics import MICRO, span_scores_from_counts

    return span_scores_from_counts(
        {
            label: {"gold": g["n_gold"], "pred": g["n_pred"], "correct": g["n_correct"]}
            for label, g in block.items()
            if label != MICRO
        }
    )


@dataclass
class RunSummary:
    """What a run did, committed or reused: the CLI prints it, ``runs.metrics`` stores it.

    Attributes:
        flow: the flow's name.
        title: one line naming the dataset and what the flow did with it.
        run_id, run_key: the run (for a reused run, the earlier run's id).
        versions: table → the version holding the run's rows.
        reused: whether an identical earlier run was reused instead of running.
        records: ``read`` (input records), ``rejected_at_read``, ``processed`` (records that
            went through a step, once per fan-out key such as a target language),
            ``rejected`` (of those, rejected by a step) and ``used`` (the rest).
        rejected: rejected records per ``<stage>.<code>``.
        rows: rows per output table.
        tallies: one block per :class:`Tally` of the flow (total, kept, rate, dropped per
            ``<stage>.<reason>``, breakdowns).
        stats: the flow's own counters (cache use, model work, …), summed over shards.
        gold: scores against gold spans when the input had them, else None.
        notes: remarks worth a line of their own.
        attempt: what the attempt that staged the last shard did: ``shards_run``,
            ``shards_reused`` (staged by an earlier attempt) and the ``stats`` of the shards it
            ran (e.g. how much it translated after a crash).
        staging: where the run's shards are staged (for messages).
    """

    flow: str
    title: str
    run_id: str
    run_key: str
    versions: dict[str, int] = field(default_factory=dict)
    reused: bool = False
    records: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    tallies: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    gold: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    attempt: dict[str, Any] = field(default_factory=dict)
    staging: str = ""

    def to_metrics(self) -> dict[str, Any]:
        """The JSON-ready form stored in ``runs.metrics``."""
        return {
            "title": self.title,
            "records": dict(self.records),
            "rejected": dict(self.rejected),
            "rows": dict(self.rows),
            "tallies": self.tallies,
            "stats": self.stats,
            "gold": self.gold,
            "notes": list(self.notes),
            "attempt": self.attempt,
        }

    @property
    def metrics(self) -> dict[str, Any]:
        return self.to_metrics()

    @classmethod
    def from_metrics(
        cls,
        flow: str,
        run_id: str,
        run_key: str,
        metrics: Mapping[str, Any],
        *,
        versions: Mapping[str, int] | None = None,
        reused: bool = False,
    ) -> RunSummary:
        """The summary of a committed run, from its ``runs.metrics``."""
        return cls(
            flow=flow,
            title=metrics.get("title", flow),
            run_id=run_id,
            run_key=run_key,
            versions=dict(versions or {}),
            reused=reused,
            records=dict(metrics.get("records", {})),
            rejected=dict(metrics.get("rejected", {})),
            rows=dict(metrics.get("rows", {})),
            tallies=dict(metrics.get("tallies", {})),
            stats=dict(metrics.get("stats", {})),
            gold=metrics.get("gold"),
            notes=list(metrics.get("notes", [])),
            attempt=dict(metrics.get("attempt", {})),
        )

    @property
    def used(self) -> int:
        """Records that went through without being rejected."""
        return int(self.records.get("used", 0))


# ---- rendering ----------------------------------------------------------------------------------


def _reasons(dropped: Mapping[str, int], total: int) -> str:
    if not dropped:
        return "none"
    return ", ".join(
        f"{k} {v} ({v / total:.1%})" if total else f"{k} {v}" for k, v in dropped.items()
    )


def _flat(stats: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in sorted(stats.items()):
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out += _flat(value, f"{name}.")
        elif value is not None and value != {} and value != []:
            out.append((name, value))
    return out


def _records_line(s: RunSummary) -> str:
    r = s.records
    line = (
        f"records: {r.get('read', 0)} read, {r.get('rejected_at_read', 0)} rejected at reading; "
        f"{r.get('processed', 0)} processed, {r.get('rejected', 0)} rejected, "
        f"{r.get('used', 0)} used"
    )
    if s.rejected:
        line += " (rejected: " + ", ".join(f"{k} {v}" for k, v in sorted(s.rejected.items())) + ")"
    return line


def _gold_line(gold: Mapping[str, Any]) -> str:
    from xproj.projectors.metrics import MICRO

    m = gold[MICRO]
    return (
        f"against gold: P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f} "
        f"({m['n_gold']} gold spans)"
    )


def render(summary: RunSummary, fmt: str = "text") -> str:
    """The summary as terminal text (``text``) or as a Markdown artifact (``markdown``)."""
    return _markdown(summary) if fmt == "markdown" else "\n".join(_text(summary))


def _text(s: RunSummary) -> list[str]:
    state = "reused identical earlier run" if s.reused else "committed"
    lines = [
        f"run {s.run_id} {state}: "
        + (", ".join(f"{t}@v{v}" for t, v in sorted(s.versions.items())) or "no versions")
    ]
    lines.append(_records_line(s))
    if s.rows:
        lines.append("rows: " + ", ".join(f"{t} {n}" for t, n in sorted(s.rows.items())))
    for name, t in s.tallies.items():
        kept_word = t.get("kept_word", "kept")
        lines.append(
            f"{name}: {t['total']}, {kept_word} {t['kept']} (rate {t['rate']:.3f}); "
            f"dropped: {_reasons(t['dropped'], t['total'])}"
        )
        for group, b in t.get("by", {}).items():
            lines.append(
                f"  {group}: {name} {b['total']}, {kept_word} {b['kept']} (rate {b['rate']:.3f}); "
                f"dropped: {_reasons(b['dropped'], b['total'])}"
            )
    if s.gold:
        lines.append(_gold_line(s.gold))
    stats = _flat(s.stats)
    if stats:
        lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in stats))
    lines += [f"note: {n}" for n in s.notes]
    return lines


def _markdown(s: RunSummary) -> str:
    state = "reused identical earlier run" if s.reused else "committed"
    lines = [
        f"# {s.title}",
        "",
        f"run `{s.run_id}` {state}: "
        + (", ".join(f"`{t}@v{v}`" for t, v in sorted(s.versions.items())) or "no versions"),
        "",
        _records_line(s),
    ]
    for name, t in s.tallies.items():
        kept_word = t.get("kept_word", "kept")
        lines += [
            "",
            f"## {name}",
            "",
            f"| | {name} | {kept_word} | rate | dropped (share) |",
            "|---|---:|---:|---:|---|",
        ]
        rows = [*t.get("by", {}).items(), *t.get("labels", {}).items(), ("all", t)]
        for key, b in rows:
            lines.append(
                f"| {key} | {b['total']} | {b['kept']} | {b['rate']:.3f} | "
                f"{_reasons(b['dropped'], b['total'])} |"
            )
    if s.gold:
        lines += [
            "",
            "## against gold",
            "",
            "| label | P | R | F1 | gold |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, g in s.gold.items():
            lines.append(
                f"| {label} | {g['precision']:.3f} | {g['recall']:.3f} | {g['f1']:.3f} | "
                f"{g['n_gold']} |"
            )
    stats = _flat(s.stats)
    if stats:
        lines += ["", "## counts", ""] + [f"- {k}: {v}" for k, v in stats]
    if s.notes:
        lines += ["", *[f"> {n}" for n in s.notes]]
    return "\n".join(lines)
