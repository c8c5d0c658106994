"""The report as one HTML file: charts as inline SVG, examples as marked-up text, filters in a
few lines of script. Nothing is fetched; every dataset string goes through :func:`_e`.

Spans share a colour with their projection: a source span and the target span it landed on get
the same colour class (by label, as displaCy colours entity types) and the same ``data-span``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from xproj.report.data import Example, Rate, ReportData, run_parameters, run_summary_lines

#: Colour classes (``c0`` … in the stylesheet): labels take them in sorted order.
COLOURS = 12


def _e(value: Any) -> str:
    """Text (or an attribute value) escaped: a dataset string can never become markup."""
    return html.escape(str(value), quote=True)


def _attr_list(values: Iterable[str]) -> str:
    return _e(json.dumps(list(values), ensure_ascii=False))


def _asset(name: str) -> str:
    return resources.files("xproj.report").joinpath("assets", name).read_text(encoding="utf-8")


def _script_hash(script: str) -> str:
    """The page's script as a Content-Security-Policy source: only it may run, so even markup
    that slipped through could run nothing."""
    import base64
    import hashlib

    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _explanation(reason: str) -> str:
    from xproj.schemas.records import explain_reason

    # a generator's own reason (PAXQA, EntityCS) has no sentence: its name says it
    return explain_reason(reason) or reason.replace("_", " ").capitalize() + "."


# -- charts ---------------------------------------------------------------------------------


def _chart(
    title: str, bars: Sequence[tuple[str, float, str]], chart_id: str, left: int, kind: str = ""
) -> str:
    """Horizontal bars as inline SVG: ``(name, fraction of the longest bar, value text)``."""
    if not bars:
        return ""
    row, width = 24, 560
    room = width - left - (170 if not kind else 80)  # leave room for the value text
    rows = []
    for k, (name, fraction, value) in enumerate(bars):
        y, w = k * row, round(room * fraction)
        rows.append(
            f'<g class="bar{" " + kind if kind else ""}" data-name="{_e(name)}">'
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{w}" height="16"></rect>'
            f'<text x="{left + w + 6}" y="{y + 16}">{_e(value)}</text></g>'
        )
    height = row * len(bars) + 4
    return (
        f'<figure class="chart" id="{chart_id}"><figcaption>{_e(title)}</figcaption>'
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}">{"".join(rows)}</svg></figure>'
    )


def _bars(title: str, rates: Sequence[Rate], chart_id: str) -> str:
    """Rates: each bar as long as its rate."""
    bars = [(r.name, r.rate, f"{r.rate:.1%} ({r.kept:,}/{r.total:,})") for r in rates]
    return _chart(title, bars, chart_id, left=150)


def _count_bars(title: str, counts: dict[str, int], chart_id: str, kind: str = "") -> str:
    """Counts: the longest bar for the largest (at least a sliver for any)."""
    top = max(counts.values(), default=0) or 1
    bars = [(name, max(n / top, 0.003), f"{n:,}") for name, n in counts.items()]
    return _chart(title, bars, chart_id, left=190, kind=kind or "count")


def _reason_bars(reasons: dict[str, int]) -> str:
    if not reasons:
        return '<p class="none">Nothing was dropped.</p>'
    explained = "".join(
        f"<dt>{_e(reason)}</dt><dd>{_e(_explanation(reason))}</dd>" for reason in reasons
    )
    return (
        _count_bars("Drop reasons", reasons, "chart-reasons", "drop")
        + f'<dl class="reasons">{explained}</dl>'
    )


# -- examples -------------------------------------------------------------------------------


def _tokens(tokens: Sequence[str], spans: Sequence[tuple[int, int, Any]], side: str) -> str:
    """Tokens with ``spans`` (``(start, end, mark)``, ``mark`` from :func:`_mark`) around their
    ranges."""
    opening: dict[int, tuple[int, tuple[str, str]]] = {}
    taken = [False] * len(tokens)
    for start, end, mark in sorted(spans, key=lambda s: (s[0], s[1])):
        start, end = max(0, start), min(len(tokens), end)
        if start >= end or any(taken[start:end]):
            continue  # outside the sentence, or overlapping one already shown
        for i in range(start, end):
            taken[i] = True
        opening[start] = (end, mark)
    out, i = [], 0
    while i < len(tokens):
        if i in opening:
            end, mark = opening[i]
            inner = " ".join(_token(k, tokens[k], side) for k in range(i, end))
            out.append(mark[0] + inner + mark[1])
            i = end
        else:
            out.append(_token(i, tokens[i], side))
            i += 1
    return " ".join(out)


def _token(i: int, token: str, side: str) -> str:
    return f'<span class="t" data-{side}="{i}">{_e(token)}</span>'


def _mark(
    colour: int, span: int | str, label: str, extra: str = "", title: str = ""
) -> tuple[str, str]:
    """A span's ``<mark>``: its opening and its closing (with the label), to put around the
    span's escaped content."""
    t = f' title="{_e(title)}"' if title else ""
    return (
        f'<mark class="ent c{colour}{" " + extra if extra else ""}" data-span="{_e(span)}" '
        f'data-label="{_e(label)}"{t}>',
        f'<span class="lab">{_e(label)}</span></mark>',
    )


def _pair(ex: Example, colours: dict[str, int]) -> str:
    p = ex.payload
    src, tgt = [], []
    for s in p["spans"]:
        colour = colours.get(s["label"], 0)
        if s["reason"] is None:
            src.append((*s["src"], _mark(colour, s["index"], s["label"])))
            tgt.append((*s["tgt"], _mark(colour, s["index"], s["label"])))
        else:
            why = f"{s['reason']}: {_explanation(s['reason'])}"
            if s["merged_into"] is not None:
                why += f" (into span {s['merged_into']})"
            src.append((*s["src"], _mark(colour, s["index"], s["label"], "dropped", why)))
    links = " ".join(f"{i},{j}" for i, j in p["links"])
    drops = "".join(
        f"<li><b>{_e(s['label'])}</b> span {s['index']}: <code>{_e(s['reason'])}</code> — "
        f"{_e(_explanation(s['reason']))}</li>"
        for s in p["spans"]
        if s["reason"] is not None
    )
    return (
        f'<div class="pair" data-links="{_e(links)}">'
        f'<div class="side src" lang="{_e(p["src_lang"])}">'
        f'<span class="code">{_e(p["src_lang"])}</span>{_tokens(p["src_tokens"], src, "s")}</div>'
        '<svg class="links" aria-hidden="true"></svg>'
        f'<div class="side tgt" lang="{_e(ex.lang)}">'
        f'<span class="code">{_e(ex.lang)}</span>{_tokens(p["tgt_tokens"], tgt, "t")}</div>'
        "</div>" + (f'<ul class="drops">{drops}</ul>' if drops else "")
    )


def _chars(text: str, spans: Sequence[tuple[int, int, Any]]) -> str:
    """``text`` with character ``spans`` (``(start, end, mark)``) marked; overlaps skipped."""
    out, at = [], 0
    for start, end, mark in sorted(spans, key=lambda s: (s[0], s[1])):
        if start < at or end > len(text) or start >= end:
            continue
        out.append(_e(text[at:start]))
        out.append(mark[0] + _e(text[start:end]) + mark[1])
        at = end
    out.append(_e(text[at:]))
    return "".join(out)


def _qa(ex: Example) -> str:
    p = ex.payload
    sides = []
    for side, lang in (("en", "en"), ("x", ex.lang)):
        answers = [
            (a, b, _mark(0, k, "answer", "ans")) for k, (a, b) in enumerate(p[f"answers_{side}"])
        ]
        sides.append(
            f'<div class="col" lang="{_e(lang)}"><span class="code">{_e(lang)}</span>'
            f'<p class="q"><mark class="ent c1 question" data-span="q" data-label="question">'
            f'{_e(p[f"question_{side}"])}<span class="lab">question</span></mark></p>'
            f'<p class="ctx">{_chars(p[f"context_{side}"], answers)}</p></div>'
        )
    return f'<p class="title">{_e(p["title"])}</p><div class="cols">{"".join(sides)}</div>'


def _cs(ex: Example) -> str:
    p = ex.payload
    rows = []
    for key, lang in (("en", "en"), ("cs", ex.lang)):
        marks = [
            (a, b, _mark(k % COLOURS, k, code)) for k, (a, b, code) in enumerate(p[f"{key}_spans"])
        ]
        rows.append(
            f'<p class="line" lang="{_e(lang)}"><span class="code">'
            f"{'en' if key == 'en' else 'cs · ' + _e(lang)}</span>{_chars(p[key], marks)}</p>"
        )
    problem = p.get("problem")
    return "".join(rows) + (f'<p class="problem">{_e(problem)}</p>' if problem else "")


def _drop(ex: Example) -> str:
    p = ex.payload
    facts = [("stage", p.get("stage")), ("detail", p.get("detail")),
             ("question", p.get("question_en")), ("answer", p.get("answer_en"))]  # fmt: skip
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts if v)
    return f'<p class="id">{_e(ex.key)}</p>' + (f'<dl class="facts">{items}</dl>' if items else "")


def _example(ex: Example, colours: dict[str, int]) -> str:
    body = {"pair": lambda: _pair(ex, colours), "qa": lambda: _qa(ex), "cs": lambda: _cs(ex)}.get(
        ex.kind, lambda: _drop(ex)
    )()
    return (
        f'<article class="ex {_e(ex.kind)}" data-lang="{_e(ex.lang)}" '
        f'data-labels="{_attr_list(ex.labels)}" data-reasons="{_attr_list(ex.reasons)}">'
        f'<header><span class="key">{_e(ex.key)}</span>'
        f'<span class="lang">{_e(ex.lang)}</span></header>{body}</article>'
    )


# -- the page -------------------------------------------------------------------------------


def _select(name: str, title: str, values: Sequence[str]) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (
        f'<label>{_e(title)} <select id="filter-{name}" data-filter="{name}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document."""
    run = data.run
    colours = {label: k % COLOURS for k, label in enumerate(data.labels)}
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in run_summary_lines(run))
    legend = "".join(
        f'<mark class="ent c{colours[label]}">{_e(label)}</mark>' for label in data.labels
    ) if data.kind == "pair" else ""  # fmt: skip
    label_title = {"pair": "label", "qa": "answer kind", "cs": "label"}[data.kind]
    filters = (
        _select("lang", "language", data.languages)
        + (_select("label", label_title, data.labels) if data.labels else "")
        + (_select("reason", "drop reason", list(data.reasons)) if data.reasons else "")
    )
    sample = "".join(_example(ex, colours) for ex in data.examples)
    worst = "".join(
        f'<section class="worst" data-reason="{_e(reason)}"><h3><code>{_e(reason)}</code> '
        f'({data.reasons.get(reason, 0):,})</h3><p class="why">{_e(_explanation(reason))}</p>'
        + "".join(_example(ex, colours) for ex in examples)
        + "</section>"
        for reason, examples in data.worst.items()
        if examples
    )
    title = f"xproj report · {run.flow} · run {run.run_id[:8]}"
    script = _asset("report.js")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '{_script_hash(script)}'; img-src data:">
<title>{_e(title)}</title>
<style>{_asset("report.css")}</style>
</head>
<body>
<header class="top"><h1>{_e(title)}</h1><dl class="facts">{facts}</dl>
<details><summary>Settings</summary><pre>{_e(run_parameters(run))}</pre></details></header>
<section id="charts"><h2>Rates: {_e(data.unit)}</h2>
<div class="charts">{_bars("By language", data.by_lang, "chart-lang")}
{_bars("By " + label_title, data.by_label, "chart-label")}
{_count_bars(data.counts_title, data.counts, "chart-counts")}</div>
<h2>Why spans or examples were dropped</h2>{_reason_bars(data.reasons)}</section>
<section id="filters"><h2>Examples</h2><div class="legend">{legend}</div>
<form class="filters">{filters}
<span class="count"><b id="shown">{len(data.examples)}</b> of {len(data.examples):,} sampled
examples shown ({data.total_examples:,} in the run)</span></form></section>
<section id="sample">{sample or '<p class="none">The run has no examples.</p>'}</section>
<section id="worst"><h2>Worst cases per drop reason</h2>
{worst or '<p class="none">No drops.</p>'}</section>
<footer>Made by xproj from the lake's committed tables; self-contained (no network).</footer>
<script>{script}</script>
</body>
</html>
"""


def report_path(lake: Any, run_id: str) -> Path:
    """Where a flow writes the report of run ``run_id``: ``<lake>/_reports/<run id>.html``."""
    return Path(lake.root) / "_reports" / f"{run_id}.html"


def write_report(lake: Any, run_id: str, out: str | os.PathLike[str] | None = None) -> Path:
    """Write the report of run ``run_id`` to ``out`` (a file, or a folder to put
    ``<run id>.html`` in; default ``<lake>/_reports/<run id>.html``), through a temporary name
    renamed at the end; returns the path."""
    from xproj.io.writers.atomic import atomic_path
    from xproj.report.data import load_report_data

    data = load_report_data(lake, run_id)
    path = Path(out) if out is not None else report_path(lake, data.run.run_id)
    if path.is_dir():  # a folder: the report goes in it
        path = path / f"{data.run.run_id}.html"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(render_report(data), encoding="utf-8")
    return path
