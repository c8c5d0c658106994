"""Streaming the Wikidata JSON dump: throughput per format and memory while reading.

A synthetic dump of 200,000 entities is written to a temporary folder in the shape of the real
one (``[`` line, one entity per line ending with a comma, ``]`` line): labels and descriptions in
1–30 of 30 languages (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, CJK, Hangul names),
aliases, enwiki and other sitelinks, 2–8 claims with references and qualifiers, about 1 % properties,
so lines are 1–3 KB like the real dump's smaller entities. The reader
(:func:`xproj.generators.entitycs.wikidata.iter_wikidata_dump`) then streams each format keeping 22
languages, and we report:

* entities/s and MB/s (uncompressed bytes) per format and decompressor (Python's ``gzip``/``bz2``
  modules, or a ``gzip``/``bzip2`` process), with the rate of decompression alone beside it to
  show where the time goes, and the same reads with whole-line parsing (``fast=False``);
* parse-only rates of the claims-skipping path against whole-line parsing for entities with
  0 / 3 / 10 / 40 claims: skipping claims costs a little on claim-less lines and gains with every
  claim (real items often carry tens);
* resident memory (``VmRSS``) and its peak (``VmHWM``) at 50k / 100k / 200k entities while
  streaming without keeping anything, in a fresh process so other phases do not count;
* the same while collecting everything into a ``NameTable`` (``load_names_from_dump``), in
  another fresh process, for comparison;
* with ``../shared/data`` present: how often the English label chosen by the label-TSV rule is
  one of the entity's mention surfaces in FewRel (a proxy for "is the real label"), against the
  plain "first label-like name" rule.

Bar: ≥ 20,000 entities/s; memory flat while streaming.

Run: ``python -m benchmarks.wikidata_dump`` (``--entities N`` for a smaller run; writes
``benchmarks/results/wikidata_dump.json``).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import Timer, status_kb, versions, write_result

LANGUAGES_30 = (
    "en de fr es it nl ru pl pt sv ja zh ar uk ca cs fi hu ko tr he vi id fa el ro da hi bg sr"
).split()
#: the 22 kept when reading (the rest are read past)
KEEP_22 = tuple(LANGUAGES_30[:22])
CHECKPOINTS = (50_000, 100_000, 200_000)

_SYLLABLES = {
    "latin": "ka ri to na mel sor an vel ber gan dor lin mar ta ces ul".split(),
    "cyrillic": "ка ри то на мел сор ан вел бер ган дор лин".split(),
    "greek": "κα ρι το να μελ σορ αν βελ".split(),
    "arabic": "كا ري تو نا مل سر ان".split(),
    "hebrew": "קא רי טו נא מל סר".split(),
    "devanagari": "का रि तो ना मे सो".split(),
    "cjk": list("東京大学山川市国立中央研究所北南西"),
    "hangul": list("서울대한국산강시립중앙연구소"),
}
_SCRIPT_OF = {
    "ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic", "sr": "cyrillic", "el": "greek",
    "ar": "arabic", "fa": "arabic", "he": "hebrew", "hi": "devanagari", "ja": "cjk",
    "zh": "cjk", "ko": "hangul",
}  # fmt: skip


def _name(rng: random.Random, lang: str) -> str:
    script = _SCRIPT_OF.get(lang, "latin")
    parts = _SYLLABLES[script]
    if script in ("cjk", "hangul"):
        return "".join(rng.choice(parts) for _ in range(rng.randint(2, 5)))
    words = [
        "".join(rng.choice(parts) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(1, 3))
    ]
    return " ".join(w[:1].upper() + w[1:] for w in words)


def _hash(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _claim(rng: random.Random, qid: str, pid: str) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.6:
        target = rng.randint(1, 100_000_000)
        value: dict[str, Any] = {
            "value": {"entity-type": "item", "numeric-id": target, "id": f"Q{target}"},
            "type": "wikibase-entityid",
        }
        datatype = "wikibase-item"
    elif kind < 0.8:
        value = {
            "value": {
                "time": f"+{rng.randint(1500, 2024)}-00-00T00:00:00Z",
                "timezone": 0,
                "before": 0,
                "after": 0,
                "precision": 9,
                "calendarmodel": "http://www.wikidata.org/entity/Q1985727",
            },
            "type": "time",
        }
        datatype = "time"
    else:
        value = {"value": f"{rng.getrandbits(40):x}", "type": "string"}
        datatype = "external-id"
    statement: dict[str, Any] = {
        "mainsnak": {
            "snaktype": "value",
            "property": pid,
            "hash": _hash(rng),
            "datavalue": value,
            "datatype": datatype,
        },
        "type": "statement",
        "id": f"{qid}${rng.getrandbits(128):032x}",
        "rank": "normal",
    }
    if rng.random() < 0.3:
        statement["references"] = [
            {
                "hash": _hash(rng),
                "snaks": {
                    "P143": [
                        {
                            "snaktype": "value",
                            "property": "P143",
                            "datavalue": {
                                "value": {"entity-type": "item", "numeric-id": 328, "id": "Q328"},
                                "type": "wikibase-entityid",
                            },
                            "datatype": "wikibase-item",
                        }
                    ]
                },
                "snaks-order": ["P143"],
            }
        ]
    return statement


def make_entity(rng: random.Random, number: int) -> dict[str, Any]:
    """One synthetic entity: item ``Q<number>``, or about 1 % of the time property ``P<number>``."""
    is_property = rng.random() < 0.01
    eid = f"P{number}" if is_property else f"Q{number}"
    roll = rng.random()
    k = (
        rng.randint(1, 4)
        if roll < 0.45
        else rng.randint(5, 14)
        if roll < 0.85
        else rng.randint(15, 30)
    )
    langs = rng.sample(LANGUAGES_30, k)
    if "en" not in langs and rng.random() < 0.6:
        langs[0] = "en"
    entity: dict[str, Any] = {"type": "property" if is_property else "item", "id": eid}
    if is_property:
        entity["datatype"] = "external-id"
    entity["labels"] = {lang: {"language": lang, "value": _name(rng, lang)} for lang in langs}
    entity["descriptions"] = {
        lang: {"language": lang, "value": _name(rng, lang).lower() + " of " + _name(rng, lang)}
        for lang in langs[: max(1, k // 2)]
    }
    entity["aliases"] = {
        lang: [{"language": lang, "value": _name(rng, lang)} for _ in range(rng.randint(1, 3))]
        for lang in langs[: k // 3]
    }
    pids = rng.sample(range(17, 3000), rng.randint(1, 6))
    entity["claims"] = {f"P{p}": [_claim(rng, eid, f"P{p}")] for p in pids}
    if not is_property:
        wikis = [lang for lang in langs if rng.random() < 0.5]
        if "en" in langs and rng.random() < 0.8 and "en" not in wikis:
            wikis.append("en")
        entity["sitelinks"] = {
            f"{lang}wiki": {
                "site": f"{lang}wiki",
                "title": entity["labels"][lang]["value"],
                "badges": [],
            }
            for lang in wikis
        }
    entity["lastrevid"] = rng.randint(10**8, 2 * 10**9)
    return entity


def write_dump(path: Path, count: int, seed: int = 13) -> int:
    """Write a synthetic dump (plain, ``.gz`` or ``.bz2`` by suffix); returns uncompressed bytes."""
    rng = random.Random(seed)
    opener = {".gz": lambda p: gzip.open(p, "wb", compresslevel=6), ".bz2": bz2.open}.get(
        path.suffix, lambda p: open(p, "wb")
    )
    size = 0
    with opener(path) as out:
        out.write(b"[\n")
        size += 2
        for number in range(1, count + 1):
            line = json.dumps(make_entity(rng, number), ensure_ascii=False, separators=(",", ":"))
            data = line.encode("utf-8") + (b",\n" if number < count else b"\n")
            out.write(data)
            size += len(data)
        out.write(b"]\n")
        size += 2
    return size


def _memory_child(path: str, mode: str, checkpoints: list[int]) -> dict[str, Any]:
    """Run in a fresh process: stream (``mode="stream"``) or collect (``"table"``), sampling RSS."""
    from xproj.generators.entitycs.records import EntityNames
    from xproj.generators.entitycs.wikidata import LoadedNames, iter_wikidata_dump

    samples = []
    start = {"rss_kb": status_kb("VmRSS"), "peak_kb": status_kb("VmHWM")}
    table = LoadedNames(KEEP_22) if mode == "table" else None
    counts: Counter[str] = Counter()
    todo = list(checkpoints)
    t0 = time.perf_counter()

    def sample() -> None:
        samples.append(
            {
                "entities_read": counts["entities"] + counts["property skipped"],
                "rss_mb": round(status_kb("VmRSS") / 1024, 1),
                "peak_rss_mb": round(status_kb("VmHWM") / 1024, 1),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )

    for item in iter_wikidata_dump(path, KEEP_22, external=False, counts=counts):
        if table is not None and isinstance(item, EntityNames) and item.labels:
            table.add(item)
        if todo and counts["entities"] + counts["property skipped"] >= todo[0]:
            todo.pop(0)
            sample()
    if todo:
        sample()
    return {
        "mode": mode,
        "before_read": {
            "rss_mb": round(start["rss_kb"] / 1024, 1),
            "peak_rss_mb": round(start["peak_kb"] / 1024, 1),
        },
        "checkpoints": samples,
        "entities": counts["entities"],
        "table_entities": len(table) if table is not None else None,
    }


def _run_memory_child(path: Path, mode: str, checkpoints: list[int]) -> dict[str, Any]:
    code = (
        "import json, sys; from benchmarks.wikidata_dump import _memory_child; "
        f"print(json.dumps(_memory_child({str(path)!r}, {mode!r}, {checkpoints!r})))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _decompress_only(path: Path, external: bool) -> float:
    """Seconds to read every line without parsing (the decompression floor)."""
    from xproj.generators.entitycs.wikidata.dump import _dump_lines

    with Timer() as t:
        for _ in _dump_lines(path, external):
            pass
    return t.seconds


def _read_rate(
    path: Path, external: bool, size: int, fast: bool, repeats: int = 1
) -> dict[str, Any]:
    """Stream the whole dump keeping :data:`KEEP_22` (fastest of ``repeats`` passes, since other
    work on a shared machine only ever slows a pass down); throughput and the reader's counts."""
    from xproj.generators.entitycs.wikidata import iter_wikidata_dump

    best = float("inf")
    for _ in range(repeats):
        counts: Counter[str] = Counter()
        with Timer() as t:
            for _ in iter_wikidata_dump(path, KEEP_22, external=external, counts=counts, fast=fast):
                pass
        best = min(best, t.seconds)
    return {
        "passes": repeats,
        "seconds": round(best, 2),
        "entities": counts["entities"],
        "entities_per_s": round(counts["entities"] / best),
        "lines_per_s": round(counts["lines"] / best),
        "mb_per_s_uncompressed": round(size / 1e6 / best, 1),
        "mb_per_s_compressed": round(path.stat().st_size / 1e6 / best, 1),
        "fast_path": counts["fast path"],
        "full_parse": counts["full parse"],
        "properties_skipped": counts["property skipped"],
        "rejects": counts["rejects"],
    }


def parse_rates_by_claims(per_size: int = 10_000, repeats: int = 3) -> list[dict[str, Any]]:
    """Parse-only entities/s of the claims-skipping path and of whole-line parsing, for entities
    with 0, 3, 10 and 40 claims (real items often carry tens), best of ``repeats``."""
    from xproj.generators.entitycs.wikidata.dump import _labels_of, _parse_entity

    rng = random.Random(5)
    wanted = frozenset(KEEP_22)
    rows = []
    for claims in (0, 3, 10, 40):
        lines = []
        for number in range(1, per_size + 1):
            entity = make_entity(rng, number)
            pids = rng.sample(range(17, 3000), claims)
            entity["claims"] = {f"P{p}": [_claim(rng, entity["id"], f"P{p}")] for p in pids}
            for key in ("sitelinks", "lastrevid"):  # keep the dump's key order
                if key in entity:
                    entity[key] = entity.pop(key)
            lines.append(json.dumps(entity, ensure_ascii=False, separators=(",", ":")).encode())
        rate = {}
        for fast in (True, False):
            best = float("inf")
            for _ in range(repeats):
                counts: Counter[str] = Counter()
                with Timer() as t:
                    for line in lines:
                        obj, _title = _parse_entity(line, False, counts, fast)
                        _labels_of(obj["labels"], KEEP_22, wanted, counts)
                best = min(best, t.seconds)
            rate[fast] = len(lines) / best
        rows.append(
            {
                "claims": claims,
                "mean_line_bytes": round(sum(map(len, lines)) / len(lines)),
                "skip_claims_entities_per_s": round(rate[True]),
                "whole_line_entities_per_s": round(rate[False]),
                "speedup": round(rate[True] / rate[False], 2),
            }
        )
    return rows


def label_rule_proxy(shared: Path) -> dict[str, Any] | None:
    """How often the chosen English label is a FewRel mention surface of the entity."""
    from xproj.generators.entitycs.wikidata import pick_label, read_label_tsv

    fewrel = shared / "entities" / "fewrel" / "val_wiki.json"
    labels = shared / "entities" / "wikidata-labels" / "en.txt"
    if not (fewrel.is_file() and labels.is_file()):
        return None
    surfaces: dict[str, set[str]] = {}
    for records in json.loads(fewrel.read_text(encoding="utf-8")).values():
        for record in records:
            for mention in (record["h"], record["t"]):
                surfaces.setdefault(mention[1], set()).add(mention[0].casefold())
    table = read_label_tsv([labels], ["en"])
    names: dict[str, list[str]] = {}
    with open(labels, encoding="utf-8") as fh:
        for line in fh:
            qid, *rest = line.rstrip("\n").split("\t")
            if qid in surfaces:
                names[qid] = [n.strip() for n in rest if n.strip()]

    def first_label_like(ns: list[str]) -> str:
        keep = [n for n in ns if any(c.isalpha() for c in n) and not (len(n) <= 3 and n.isupper())]
        return (keep or ns)[0]

    multi = [q for q, ns in names.items() if len(set(ns)) > 1]
    ours = sum(table.get(q).labels["en"].casefold() in surfaces[q] for q in multi)
    first = sum(first_label_like(names[q]).casefold() in surfaces[q] for q in multi)
    reachable = sum(any(n.casefold() in surfaces[q] for n in names[q]) for q in multi)
    assert all(pick_label(names[q], "LATIN")[0] == table.get(q).labels["en"] for q in multi)
    return {
        "entities_in_fewrel_with_several_names": len(multi),
        "label_is_a_mention_surface": {
            "this_rule": round(ours / len(multi), 3),
            "first_label_like_name": round(first / len(multi), 3),
            "any_name_is_a_surface (ceiling)": round(reachable / len(multi), 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--no-bz2", action="store_true", help="skip the .json.bz2 format")
    args = parser.parse_args()
    from xproj.generators.entitycs.wikidata import JSON_BACKEND

    count = args.entities
    load_before = os.getloadavg()
    checkpoints = [c for c in CHECKPOINTS if c <= count] or [count]
    work = Path(tempfile.mkdtemp(prefix="xproj-wikidata-"))
    result: dict[str, Any] = {"entities": count, "languages_in_dump": 30, "languages_kept": 22}
    try:
        plain = work / "dump.json"
        with Timer() as t:
            size = write_dump(plain, count)
        print(f"wrote {count} entities, {size / 1e6:.0f} MB in {t.seconds:.0f}s", flush=True)
        result["uncompressed_mb"] = round(size / 1e6, 1)
        result["mean_line_bytes"] = round(size / count)
        formats = {"json": plain}
        gz = work / "dump.json.gz"
        subprocess.run(f"gzip -6 -c {plain} > {gz}", shell=True, check=True)
        formats["json.gz"] = gz
        if not args.no_bz2:
            b2 = work / "dump.json.bz2"
            subprocess.run(f"bzip2 -9 -c {plain} > {b2}", shell=True, check=True)
            formats["json.bz2"] = b2
        result["file_mb"] = {k: round(p.stat().st_size / 1e6, 1) for k, p in formats.items()}

        runs = [("json", plain, False, True), ("json, whole-line parse", plain, False, False)]
        runs += [("json.gz, python gzip", gz, False, True)]
        runs += [("json.gz, python gzip, whole-line parse", gz, False, False)]
        if shutil.which("gzip"):
            runs += [("json.gz, gzip process", gz, True, True)]
        if "json.bz2" in formats:
            runs += [("json.bz2, python bz2", formats["json.bz2"], False, True)]
            if shutil.which("bzip2"):
                runs += [("json.bz2, bzip2 process", formats["json.bz2"], True, True)]
        rates: dict[str, Any] = {}
        for label, path, external, fast in runs:
            row = _read_rate(path, external, size, fast, 1 if "bz2" in label else 3)
            if fast:
                row["decompress_only_lines_per_s"] = round(
                    (count + 2) / _decompress_only(path, external)
                )
            rates[label] = row
            print(label, row, flush=True)
        result["read"] = rates
        result["fast_path_speedup"] = {
            "json": round(
                rates["json"]["entities_per_s"] / rates["json, whole-line parse"]["entities_per_s"],
                2,
            ),
            "json.gz": round(
                rates["json.gz, python gzip"]["entities_per_s"]
                / rates["json.gz, python gzip, whole-line parse"]["entities_per_s"],
                2,
            ),
        }

        result["parse_only_by_claims"] = parse_rates_by_claims()
        print("parse only", result["parse_only_by_claims"], flush=True)
        result["memory_streaming"] = _run_memory_child(formats["json.gz"], "stream", checkpoints)
        print("stream", result["memory_streaming"], flush=True)
        result["memory_collecting_table"] = _run_memory_child(
            formats["json.gz"], "table", checkpoints
        )
        print("table", result["memory_collecting_table"], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    stream = result["memory_streaming"]["checkpoints"]
    result["memory_streaming_growth_mb"] = round(
        stream[-1]["peak_rss_mb"] - stream[0]["peak_rss_mb"], 1
    )
    result["load_average_1_5_15"] = {"before": load_before, "after": os.getloadavg()}
    result["bar_entities_per_s"] = 20_000
    result["meets_bar"] = {k: v["entities_per_s"] >= 20_000 for k, v in rates.items()}
    shared = Path(
        os.environ.get("XPROJ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    result["label_rule_proxy"] = label_rule_proxy(shared) if shared.is_dir() else None
    result["json_backend"] = JSON_BACKEND
    result["versions"] = versions(["orjson"])
    path = write_result("wikidata_dump", result)
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "read",
                    "fast_path_speedup",
                    "parse_only_by_claims",
                    "memory_streaming",
                    "memory_collecting_table",
                    "meets_bar",
                    "label_rule_proxy",
                )
            },
            indent=1,
            ensure_ascii=False,
        )
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
