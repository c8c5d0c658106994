"""EntityCS wikitext reader: what it reads from the shared MediaWiki pages, what it leaves, speed.

Reads ``<shared>/entities/wikitext`` (71 raw MediaWiki pages from wtf_wikipedia's test cache) with
``iter_wikitext(fmt="mediawiki")`` and reports:

* articles, paragraphs (running text / list items / table rows), links, rejects with reasons;
* removals per kind (the sum of ``LinkedText.markup`` over all paragraphs);
* markup residue in the cleaned text (``[[``, ``]]``, ``{{``, ``}}``, ``|``, ``<ref``; the
  issue's must-show) over all paragraphs and over running-text paragraphs (those the pipeline
  keeps: no list/table flag), with every paragraph that holds residue listed;
* link offsets checked (``text[start:end]`` non-empty, no outer spaces);
* a round trip through the WikiExtractor format: each paragraph written as a ``<doc>`` line with
  ``<a href>`` links (every other character that could read as markup written as an entity),
  read back with ``fmt="extracted"``; texts and links must come back identical;
* speed: best and median of ``--repeats`` full passes (articles/s, MB/s of input, paragraphs/s),
  for both formats; and the peak Python memory (tracemalloc) of a streaming pass over the folder
  and over ten copies of it: the same peak shows that only one article is held at a time.

No other wikitext cleaner is installed here, so there is no side-by-side baseline; the two
formats are compared with each other.

Run: ``.venv/bin/python -m benchmarks.entitycs_wikitext`` (a few seconds).
"""

from __future__ import annotations

import argparse
import html
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks._common import shared_data_dir, versions, write_result
from generators.entitycs.records import LinkedText
from generators.entitycs.wikitext import (
    FLAG_KEYS,
    RESIDUE_MARKERS,
    is_markup_block,
    iter_wikitext,
    residue_counts,
)
from schemas.errors import Reject

NAME = "entitycs_wikitext"
#: characters written as entities in the round trip, so nothing in a text reads as markup
_ESCAPE = set("&<>'\"[]{}|_:/*#;=!-~")


def _escape(text: str) -> str:
    return "".join(f"&#{ord(c)};" if c in _ESCAPE else c for c in text)


def _to_extracted(items: list[LinkedText]) -> str:
    """WikiExtractor-style ``<doc>`` blocks, one per article, one paragraph per line."""
    out: list[str] = []
    article = None
    for item in items:
        name = item.id.rsplit(":", 1)[0]
        if name != article:
            if article is not None:
                out.append("</doc>")
            out.append(f'<doc id="{len(out)}" title="{html.escape(name)}">')
            out.append(name)
            out.append("")
            article = name
        line, last = [], 0
        for link in item.links:
            line.append(_escape(item.text[last : link.start]))
            href = quote(link.target, safe="")
            line.append(f'<a href="{href}">{_escape(item.text[link.start : link.end])}</a>')
            last = link.end
        line.append(_escape(item.text[last:]))
        out.append("".join(line))
    if article is not None:
        out.append("</doc>")
    return "\n".join(out) + "\n"


def _timed(path: Path, fmt: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _item in iter_wikitext(path, fmt=fmt):
            pass
        times.append(time.perf_counter() - t0)
    return times


def _speed(times: list[float], articles: int, nbytes: int, paragraphs: int) -> dict[str, Any]:
    best, median = min(times), statistics.median(times)
    return {
        "seconds_best": round(best, 4),
        "seconds_median": round(median, 4),
        "articles_per_s": round(articles / best, 1),
        "mb_per_s": round(nbytes / 1e6 / best, 2),
        "paragraphs_per_s": round(paragraphs / best, 1),
    }


def _peak_memory(path: Path) -> int:
    tracemalloc.start()
    for _item in iter_wikitext(path):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def _copies(files: list[Path], root: Path, n: int) -> Path:
    """A folder with ``n`` copies of every file (symbolic links), for the streaming check."""
    for i in range(n):
        sub = root / f"copy{i:02d}"
        sub.mkdir()
        for f in files:
            (sub / f.name).symlink_to(f.resolve())
    return root


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--folder", type=Path, default=None, help="default: <shared>/entities/wikitext"
    )
    args = parser.parse_args(argv)
    folder = args.folder or shared_data_dir() / "entities" / "wikitext"
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    nbytes = sum(p.stat().st_size for p in files)

    items = list(iter_wikitext(folder, fmt="mediawiki"))
    paras = [x for x in items if isinstance(x, LinkedText)]
    rejects = [x for x in items if isinstance(x, Reject)]
    prose = [x for x in paras if not is_markup_block(x)]
    articles = len({x.id.rsplit(":", 1)[0] for x in paras})

    removals: Counter[str] = Counter()
    for item in paras:
        removals.update({k: v for k, v in item.markup.items() if k not in FLAG_KEYS})
    bad_offsets = [
        (x.id, link.start, link.end)
        for x in paras
        for link in x.links
        if not x.text[link.start : link.end]
        or x.text[link.start : link.end] != x.text[link.start : link.end].strip()
    ]
    residue_all = residue_counts(x.text for x in paras)
    residue_prose = residue_counts(x.text for x in prose)
    residue_where = []
    for x in paras:
        found = {m: x.text.count(m) for m in RESIDUE_MARKERS if m in x.text}
        if found:
            i = min(x.text.index(m) for m in found)
            residue_where.append(
                {
                    "id": x.id,
                    "source": x.source,
                    "flagged": is_markup_block(x),
                    "residue": found,
                    "unbalanced_counted": x.markup.get("unbalanced", 0),
                    "context": x.text[max(0, i - 60) : i + 60],
                }
            )

    with tempfile.TemporaryDirectory() as tmp:
        extracted = Path(tmp) / "wiki_00"
        extracted.write_text(_to_extracted(paras), encoding="utf-8")
        back = [x for x in iter_wikitext(extracted, fmt="extracted") if isinstance(x, LinkedText)]
        same_text = sum(a.text == b.text for a, b in zip(paras, back, strict=False))
        same_links = sum(
            [(link.start, link.end, link.target) for link in a.links]
            == [(link.start, link.end, link.target) for link in b.links]
            for a, b in zip(paras, back, strict=False)
        )
        ext_bytes = extracted.stat().st_size
        ext_times = _timed(extracted, "extracted", args.repeats)

    mw_times = _timed(folder, "mediawiki", args.repeats)
    peak = _peak_memory(folder)
    with tempfile.TemporaryDirectory() as tmp:
        peak_10x = _peak_memory(_copies(files, Path(tmp), 10))
    largest = max(p.stat().st_size for p in files)

    payload: dict[str, Any] = {
        "data": {
            "folder": str(folder),
            "files": len(files),
            "bytes": nbytes,
            "largest_file_bytes": largest,
        },
        "articles_with_paragraphs": articles,
        "rejects": [
            {"source": Path(r.source).name, "code": r.code, "reason": r.reason} for r in rejects
        ],
        "paragraphs": {
            "all": len(paras),
            "running_text": len(prose),
            "list": sum(1 for x in paras if x.markup.get("list")),
            "table_row": sum(1 for x in paras if x.markup.get("table_row")),
        },
        "links": {
            "all": sum(len(x.links) for x in paras),
            "in_running_text": sum(len(x.links) for x in prose),
            "distinct_targets": len({link.target for x in paras for link in x.links}),
            "bad_offsets": len(bad_offsets),
        },
        "removals": dict(sorted(removals.items(), key=lambda kv: -kv[1])),
        "residue_all_paragraphs": residue_all,
        "residue_running_text": residue_prose,
        "residue_where": residue_where,
        "round_trip_extracted": {
            "paragraphs_back": len(back),
            "same_text": same_text,
            "same_links": same_links,
            "exact": same_text == same_links == len(paras) == len(back),
        },
        "speed": {
            "repeats": args.repeats,
            "mediawiki": _speed(mw_times, len(files), nbytes, len(paras)),
            "extracted": {**_speed(ext_times, articles, ext_bytes, len(back)), "bytes": ext_bytes},
        },
        "memory": {
            "tracemalloc_peak_bytes_one_pass": peak,
            "tracemalloc_peak_bytes_10x_input": peak_10x,
            "peak_10x_over_1x": round(peak_10x / peak, 3),
            "peak_over_largest_file": round(peak / largest, 2),
        },
        "versions": versions(["xproj"]),
    }
    path = write_result(NAME, payload)
    _print(payload, path)
    return payload


def _print(p: dict[str, Any], path: Path) -> None:
    d = p["data"]
    print(
        f"{d['files']} files, {d['bytes'] / 1e6:.2f} MB: {p['articles_with_paragraphs']} articles"
    )
    for r in p["rejects"]:
        print(f"  reject {r['code']} {r['source']}: {r['reason']}")
    print("paragraphs", p["paragraphs"])
    print("links", p["links"])
    print("removals", p["removals"])
    for key in ("residue_all_paragraphs", "residue_running_text"):
        print(key, p[key])
    for w in p["residue_where"]:
        print(f"  residue {w['id']} ({w['source']}): {w['residue']} …{w['context']}…")
    print("round trip (extracted)", p["round_trip_extracted"])
    for fmt, s in p["speed"].items():
        if isinstance(s, dict):
            print(
                f"{fmt}: {s['articles_per_s']} articles/s, {s['mb_per_s']} MB/s, "
                f"{s['paragraphs_per_s']} paragraphs/s (best of {p['speed']['repeats']})"
            )
    m = p["memory"]
    print(
        f"peak traced memory {m['tracemalloc_peak_bytes_one_pass'] / 1e6:.2f} MB "
        f"({m['peak_over_largest_file']}x the largest file); over 10 copies of the folder "
        f"{m['tracemalloc_peak_bytes_10x_input'] / 1e6:.2f} MB ({m['peak_10x_over_1x']}x)"
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
