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
  and over ten copies of it: the same peak shows that only one article is held at a time;
* the whole switching pipeline over the same paragraphs (the issue's must-show counts residue in
  *kept* sentences): :class:`~xproj.generators.entitycs.switch.Switcher` with the published defaults
  (``segment=True``: spaCy ``sentencizer`` sentences; filters; QID mapping; up to 5 of XLM-R's 92
  target languages, of which the shared label tables cover those listed in the result), then
  sentences read / kept / dropped per reason, cs sentences per language, and the residue of every
  marker in the kept English sentences (``en_sentence`` with its ``<en>`` tags removed) and in
  every ``cs_sentence`` (as written; the ``<xx>`` tags hold no marker). A paragraph with residue
  has each of its sentences listed with what became of it.

**Title → QID proxy.** The shared data has no enwiki title → QID table for these articles' links,
so the benchmark builds one with :meth:`TitleIndex.from_names` from
``<shared>/entities/wikidata-labels/en.txt``: every English name of an entity (label and
aliases, normalised as titles) maps to its QID, the first entity in file order winning a name
that several share (each later one counted as a collision). English labels stand in for enwiki
titles; a label is often the title but not always, so the mapped share and the switched entities
are indicative, not what real sitelinks would give. The result says how many links it mapped.

No other wikitext cleaner is installed here, so there is no side-by-side baseline; the two
formats are compared with each other.

Run: ``.venv/bin/python -m benchmarks.entitycs_wikitext`` (about 20 s on 2 cores: the
speed passes and reading the label tables take most of it).
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

from benchmarks._common import Timer, shared_data_dir, versions, write_result
from xproj.generators.entitycs.records import LinkedText
from xproj.generators.entitycs.switch import Switcher, SwitchSettings, spacy_sentence_starts
from xproj.generators.entitycs.wikidata import TitleIndex, read_label_tsv
from xproj.generators.entitycs.wikitext import (
    FLAG_KEYS,
    RESIDUE_MARKERS,
    is_markup_block,
    iter_wikitext,
    residue_counts,
)
from xproj.schemas.errors import Reject
from xproj.schemas.tables import EntityCSEnRow, EntityCSRow

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


def _found(text: str) -> dict[str, int]:
    """The residue markers in one text and how often each occurs (as :func:`residue_counts`)."""
    out = {}
    for marker in RESIDUE_MARKERS:
        n = text.lower().count(marker) if marker == "<ref" else text.count(marker)
        if n:
            out[marker] = n
    return out


def _context(text: str, found: dict[str, int], width: int = 60) -> str:
    i = min(text.lower().index(m) for m in found)
    return text[max(0, i - width) : i + width]


def _paragraph_id(sentence_id: str) -> str:
    return sentence_id.rsplit("#", 1)[0]


def _title_proxy(paras: list[LinkedText], labels: Path) -> tuple[TitleIndex, dict[str, Any]]:
    """The English-label title index (:meth:`TitleIndex.from_names`) and what it maps of the
    paragraphs' links (the ``en_label`` of an example is the label :func:`pick_label` chose)."""
    en_names = read_label_tsv(labels, ["en"])
    index = TitleIndex.from_names(en_names, lang="en")
    targets: Counter[str] = Counter(link.target for x in paras for link in x.links)
    qids = {t: index.qid(t) for t in targets}
    mapped = {t: q for t, q in qids.items() if q is not None}
    label_of = {}
    for qid in set(mapped.values()):
        entry = en_names.get(qid)
        label_of[qid] = entry.labels.get("en", "") if entry else ""
    links = sum(targets.values())
    links_mapped = sum(n for t, n in targets.items() if t in mapped)
    examples = [
        {"target": t, "qid": mapped[t], "en_label": label_of[mapped[t]], "links": n}
        for t, n in targets.most_common()
        if t in mapped
    ][:12]
    unmapped = [{"target": t, "links": n} for t, n in targets.most_common() if t not in mapped][:12]
    info = {
        "source": str(labels / "en.txt"),
        "entities": len(en_names),
        "label_rejects": len(en_names.rejects),
        "index_titles": len(index),
        "index_counts": dict(sorted(index.counts.items())),
        "name_collisions": index.counts["conflicting title"],
        "links_all_paragraphs": links,
        "links_mapped": links_mapped,
        "links_mapped_share": round(links_mapped / links, 4) if links else None,
        "distinct_targets": len(targets),
        "distinct_targets_mapped": len(mapped),
        "most_linked_mapped": examples,
        "most_linked_unmapped": unmapped,
    }
    return index, info


def _switch_pipeline(paras: list[LinkedText], labels: Path) -> dict[str, Any]:
    """Run the Switcher (published defaults, ``segment=True``) and count residue in its rows."""
    settings = SwitchSettings()
    with Timer() as t_index:
        index, proxy = _title_proxy(paras, labels)
    with Timer() as t_names:
        names = read_label_tsv(labels, settings.languages)
    switcher = Switcher(names, index, settings)
    # load the spaCy pipeline before timing the pass
    spacy_sentence_starts("One. Two.", settings.segment_language, settings.spacy_pipeline)
    en_rows: list[EntityCSEnRow] = []
    cs_rows: list[EntityCSRow] = []
    fate: dict[str, str] = {}
    with Timer() as t_switch:
        for para in paras:
            out = switcher.process(para)
            en_rows += out.en_rows
            cs_rows += out.cs_rows
            fate.update((d.id, d.reason) for d in out.dropped)
    fate.update((r.id, "kept") for r in en_rows)
    st = switcher.stats
    source_of = {x.id: x.source for x in paras}

    en_open, en_close = settings.tags(settings.source_language)
    kept_en = [(r.id, r.en_sentence.replace(en_open, "").replace(en_close, "")) for r in en_rows]
    kept_cs = [(f"{r.id} ({r.language})", r.cs_sentence) for r in cs_rows]
    kept_where = []
    for kind, rows in (("en", kept_en), ("cs", kept_cs)):
        for sid, text in rows:
            found = _found(text)
            if found:
                kept_where.append(
                    {
                        "row": kind,
                        "id": sid,
                        "source": source_of[_paragraph_id(sid.split(" ", 1)[0])],
                        "residue": found,
                        "context": _context(text, found),
                    }
                )

    # every sentence of a paragraph with residue, and what the pipeline did with it
    residue_sentences = []
    for para in paras:
        if not _found(para.text):
            continue
        for sent in switcher.sentences(para):
            found = _found(sent.text)
            if found:
                residue_sentences.append(
                    {
                        "id": sent.id,
                        "source": para.source,
                        "fate": fate.get(sent.id, fate.get(para.id, "?")),
                        "residue": found,
                        "context": _context(sent.text, found),
                    }
                )

    stats = st.as_dict()
    return {
        "settings": {
            "segment": settings.segment,
            "segment_language": settings.segment_language,
            "spacy_pipeline": settings.spacy_pipeline,
            "max_languages": settings.max_languages,
            "seed": settings.seed,
            "languages_configured": len(settings.languages),
            "languages_with_labels": [
                lang for lang in settings.languages if lang not in names.missing_languages
            ],
            "label_entities_loaded": len(names),
        },
        "title_proxy": proxy,
        "paragraphs_in": len(paras),
        "sentences_read": st.sentences_read,
        "sentences_kept": st.sentences_kept,
        "sentences_dropped": stats["sentences_dropped"],
        "documents_dropped": stats["documents_dropped"],
        "counts_add_up": st.sentences_read
        == st.sentences_kept + sum(st.sentences_dropped.values()),
        "links_in_filtered_sentences": st.links,
        "entities_mapped": st.entities_mapped,
        "entity_reasons": stats["entity_reasons"],
        "cs_sentences": st.cs_sentences,
        "entities_switched": st.entities_switched,
        "per_language": stats["per_language"],
        "residue_kept_en_sentences": residue_counts(text for _, text in kept_en),
        "residue_cs_sentences": residue_counts(text for _, text in kept_cs),
        "residue_kept_where": kept_where,
        "residue_sentences_of_residue_paragraphs": residue_sentences,
        "seconds": {
            "en_labels_and_title_index": round(t_index.seconds, 3),
            "target_label_tables": round(t_names.seconds, 3),
            "switch_pass": round(t_switch.seconds, 3),
            "paragraphs_per_s": round(len(paras) / t_switch.seconds, 1),
            "sentences_per_s": round(st.sentences_read / t_switch.seconds, 1),
        },
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--folder", type=Path, default=None, help="default: <shared>/entities/wikitext"
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="label tables (<lang>.txt); default: <shared>/entities/wikidata-labels",
    )
    args = parser.parse_args(argv)
    folder = args.folder or shared_data_dir() / "entities" / "wikitext"
    labels = args.labels or shared_data_dir() / "entities" / "wikidata-labels"
    for path in (folder, labels / "en.txt"):
        if not path.exists():
            raise SystemExit(f"{path} not found")
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
        found = _found(x.text)
        if found:
            residue_where.append(
                {
                    "id": x.id,
                    "source": x.source,
                    "flagged": is_markup_block(x),
                    "residue": found,
                    "unbalanced_counted": x.markup.get("unbalanced", 0),
                    "context": _context(x.text, found),
                }
            )
    switched = _switch_pipeline(paras, labels)

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
        "switch_pipeline": switched,
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
    for key in (
        "paragraphs",
        "links",
        "removals",
        "residue_all_paragraphs",
        "residue_running_text",
    ):
        print(key, p[key])
    for w in p["residue_where"]:
        print(f"  residue {w['id']} ({w['source']}): {w['residue']} …{w['context']}…")
    sw = p["switch_pipeline"]
    tp = sw["title_proxy"]
    print(
        f"title proxy ({tp['source']}): {tp['index_titles']} titles from {tp['entities']} "
        f"entities, {tp['name_collisions']} collisions; links mapped {tp['links_mapped']} of "
        f"{tp['links_all_paragraphs']} ({tp['distinct_targets_mapped']} of "
        f"{tp['distinct_targets']} distinct targets)"
    )
    print(
        f"switch ({len(sw['settings']['languages_with_labels'])} of "
        f"{sw['settings']['languages_configured']} target languages have labels): "
        f"{sw['paragraphs_in']} paragraphs, sentences read {sw['sentences_read']}, kept "
        f"{sw['sentences_kept']}, dropped {sw['sentences_dropped']}, documents dropped "
        f"{sw['documents_dropped']}"
    )
    print(
        f"  entities mapped {sw['entities_mapped']} of {sw['links_in_filtered_sentences']} links "
        f"in filtered sentences {sw['entity_reasons']}; cs sentences {sw['cs_sentences']}"
    )
    print("  per language", {k: v["sentences"] for k, v in sw["per_language"].items()})
    for key in ("residue_kept_en_sentences", "residue_cs_sentences"):
        print(f"  {key}", sw[key])
    for w in sw["residue_kept_where"]:
        print(
            f"  KEPT residue {w['row']} {w['id']} ({w['source']}): {w['residue']} …{w['context']}…"
        )
    for w in sw["residue_sentences_of_residue_paragraphs"]:
        print(f"  residue sentence {w['id']} → {w['fate']}: {w['residue']} …{w['context']}…")
    print("  seconds", sw["seconds"])
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
