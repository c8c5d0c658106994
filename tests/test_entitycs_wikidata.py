"""Wikidata names: label TSV rule and rejects, title index with redirects, the streaming dump."""

from __future__ import annotations

import bz2
import gzip
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from xproj.generators.entitycs.records import EntityNames
from xproj.generators.entitycs.wikidata import (
    MAX_REDIRECT_HOPS,
    TitleIndex,
    char_script,
    iter_wikidata_dump,
    load_names_from_dump,
    main_script,
    pick_label,
    read_label_tsv,
    read_title_index,
    title_index_from_dump,
)
from xproj.generators.entitycs.wikidata.dump import _parse_entity
from xproj.schemas.errors import (
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    InputFormatError,
    Reject,
)

# ----------------------------------------------------------------------------------- label rule


@pytest.mark.parametrize(
    ("names", "script", "label", "aliases"),
    [
        # containment: the name inside most other names
        (["Blue Planet", "Earth", "Planet Earth", "The Earth", "⊕"], None, "Earth",
         ("Blue Planet", "Planet Earth", "The Earth", "⊕")),
        # ≤ 3-character upper-case abbreviations and lower-case spellings are not label-like
        (["CA", "CAN", "Canada", "Dominion of Canada", "ca", "🇨🇦"], None, "Canada",
         ("CA", "CAN", "Dominion of Canada", "ca", "🇨🇦")),
        (["ireland", "Ireland"], None, "Ireland", ("ireland",)),
        # initials lose against a name without them
        (["F. Engels", "Friedrich Engels"], None, "Friedrich Engels", ("F. Engels",)),
        # no containment: the shortest, then the first
        (["Kingdom of Sweden", "Sweden", "SE", "se"], None, "Sweden",
         ("Kingdom of Sweden", "SE", "se")),
        (["Brasil", "Brazil"], None, "Brasil", ("Brazil",)),
        # a single name is the label whatever it looks like
        (["US"], None, "US", ()),
        # nothing label-like: every name is a candidate
        (["UK", "GB"], None, "UK", ("GB",)),
        (["⊕", "♁"], None, "⊕", ("♁",)),
        # stripping and repeats
        ([" Earth ", "Earth", ""], None, "Earth", ()),
        # the file's main script wins over the shorter or earlier name
        (["Canada", "Канада"], None, "Canada", ("Канада",)),
        (["Canada", "Канада"], "CYRILLIC", "Канада", ("Canada",)),
        (["Tokyo", "東京都", "東京"], "HAN-KANA", "東京", ("Tokyo", "東京都")),
        # the script only narrows: no name in it leaves the others
        (["Canada", "CAN"], "CYRILLIC", "Canada", ("CAN",)),
    ],
)  # fmt: skip
def test_pick_label(names, script, label, aliases):
    assert pick_label(names, script) == (label, aliases)


@pytest.mark.parametrize("names", [[], [""], ["  ", "\t"]])
def test_pick_label_nothing(names):
    assert pick_label(names) is None


def test_pick_label_is_order_sensitive_only_in_ties():
    names = ["Planet Earth", "The Earth", "Earth", "Blue Planet"]
    assert pick_label(names)[0] == pick_label(list(reversed(names)))[0] == "Earth"
    assert pick_label(["Brazil", "Brasil"])[0] == "Brazil"


@pytest.mark.parametrize(
    ("text", "script"),
    [("M", "LATIN"), ("М", "CYRILLIC"), ("東", "HAN-KANA"), ("カ", "HAN-KANA"), ("ひ", "HAN-KANA"),
     ("한", "HANGUL"), ("א", "HEBREW"), ("α", "GREEK")],
)  # fmt: skip
def test_char_script(text, script):
    assert char_script(text) == script


@pytest.mark.parametrize(
    ("names", "script"),
    [(["Canada", "Канада", "Москва"], "CYRILLIC"), (["⊕", "123"], None), ([], None),
     (["ヒト", "日本", "Japan"], "HAN-KANA"), (["a", "б"], "CYRILLIC")],
)  # fmt: skip
def test_main_script(names, script):
    assert main_script(names) == script


# ---------------------------------------------------------------------------------- label TSVs


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


@pytest.fixture
def label_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "labels"
    _write(
        folder / "en.txt",
        "\ufeffQ2\tBlue Planet\tEarth\tPlanet Earth\n"  # 1 (with a byte-order mark)
        "Q16\tCA\tCanada\tDominion of Canada\r\n"  # 2 (CRLF)
        "no tab here\n"  # 3: reject
        "X12\tSomething\n"  # 4: reject, not a QID
        "Q9\t\t \n"  # 5: reject, no name
        "\n"  # 6: blank, counted
        "Q7\tCentauri\t\tProxima\n"  # 7: one empty field, counted
        "Q7\tAlpha Centauri\n"  # 8: duplicate QID, merged
        "q5\thuman\n",  # 9: reject (lower-case q)
    )
    _write(folder / "ru.txt", "Q16\tCanada\tКанада\nQ2\tЗемля\tпланета Земля\nQ99\tМосква\n")
    _write(folder / "xx.txt", "Q2\tZzz\n")
    _write(folder / "bad.txt", b"Q1\t\xff\xfe broken\nQ3\tok\n")
    return folder


def test_read_label_tsv(label_dir: Path):
    table = read_label_tsv(label_dir, ["en", "ru", "de"])
    assert table.languages == ("en", "ru", "de")
    assert table.missing_languages == ["de"]
    assert table.scripts == {"en": "LATIN", "ru": "CYRILLIC"}
    assert len(table) == 4 and "Q99" in table and "Q9" not in table
    earth = table.get("Q2")
    assert earth.labels == {"en": "Earth", "ru": "Земля"}
    assert earth.aliases == {"en": ("Blue Planet", "Planet Earth"), "ru": ("планета Земля",)}
    assert table.get("Q16").labels == {"en": "Canada", "ru": "Канада"}
    assert table.get("Q16").aliases["en"] == ("CA", "Dominion of Canada")
    # the duplicate line's names are merged and the label picked again (line 7 alone: Proxima)
    assert pick_label(["Centauri", "Proxima"])[0] == "Proxima"
    q7 = table.get("Q7")
    assert q7.labels == {"en": "Centauri"} and q7.aliases["en"] == ("Proxima", "Alpha Centauri")
    got = [(r.source, r.locator, r.code) for r in table.rejects]
    en = str(label_dir / "en.txt")
    assert got == [
        (en, "line 3", E_MALFORMED_LINE),
        (en, "line 4", E_MALFORMED_LINE),
        (en, "line 5", E_MISSING_FIELD),
        (en, "line 9", E_MALFORMED_LINE),
    ]
    assert all(r.stage == "read" and r.raw for r in table.rejects)
    assert "'X12'" in table.rejects[1].reason and "Fix:" in table.rejects[1].reason
    counts = table.counts
    assert counts["lines"] == 9 + 3
    assert counts["no tab"] == 1 and counts["bad qid"] == 2 and counts["empty label"] == 1
    assert counts["blank line"] == 1 and counts["empty name field"] == 3
    assert counts["duplicate qid"] == 1 and counts["language not requested"] == 2
    assert counts["entity names"] == 4 + 3


def test_read_label_tsv_files_and_all_languages(label_dir: Path):
    one = read_label_tsv(label_dir / "ru.txt", ["ru"])
    assert len(one) == 3 and one.get("Q99").labels == {"ru": "Москва"} and not one.rejects
    listed = read_label_tsv([label_dir / "ru.txt", label_dir / "xx.txt"], ["xx"])
    assert len(listed) == 1 and listed.get("Q2").labels == {"xx": "Zzz"}
    assert listed.counts["language not requested"] == 1
    everything = read_label_tsv(label_dir, None)
    assert set(everything.languages) == {"bad", "en", "ru", "xx"}
    assert everything.get("Q2").labels["xx"] == "Zzz"
    bad = [r for r in everything.rejects if r.source.endswith("bad.txt")]
    assert [(r.locator, r.code) for r in bad] == [("line 1", E_MALFORMED_LINE)]
    assert "UTF-8" in bad[0].reason and everything.get("Q3").labels == {"bad": "ok"}


def test_read_label_tsv_compressed(tmp_path: Path):
    with gzip.open(tmp_path / "fr.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("Q90\tParis\tVille Lumière\n")
    table = read_label_tsv(tmp_path, ["fr"])
    assert table.get("Q90").labels == {"fr": "Paris"}


@pytest.mark.parametrize("which", ["folder", "file", "list"])
def test_read_label_tsv_missing(tmp_path: Path, which: str):
    missing = tmp_path / "nope" if which == "folder" else tmp_path / "nope.txt"
    arg = [missing] if which == "list" else missing
    with pytest.raises(InputFormatError) as err:
        read_label_tsv(arg, ["en"])
    assert err.value.code == E_FILE_NOT_FOUND


# --------------------------------------------------------------------------------- title index


@pytest.fixture
def title_files(tmp_path: Path) -> tuple[Path, Path]:
    titles = _write(
        tmp_path / "titles.tsv",
        "New_York_City\tQ60\n"  # 1
        "new York City\tQ60\n"  # 2: same title, same QID: fine
        "New York City\tQ61\n"  # 3: reject, already Q60
        "Big Apple (disambiguation)\tQ2\n"  # 4
        "Loop A\tQ700\n"  # 5
        "Bad line\n"  # 6: reject
        "Empty\t\n"  # 7: reject
        "Wrong\tP31\n"  # 8: reject
        "Too\tmany\tQ1\n"  # 9: reject
        "Old name\tQ55\n"  # 10
        "\n",  # 11: blank, counted
    )
    redirects = _write(
        tmp_path / "redirects.tsv",
        "NYC\tNew_York_City\n"  # 1
        "Big_Apple\tNYC\n"  # 2: a chain of two
        "Loop_A\tLoop B\n"  # 3: cycle
        "Loop B\tLoop A\n"  # 4: cycle
        "Self\tself\n"  # 5: reject, to itself
        "Gotham\tNew York City#Nicknames\n"  # 6: section dropped
        "Old name\tNowhere\n"  # 7: target unknown
        "Half\n",  # 8: reject
    )
    return titles, redirects


@pytest.mark.parametrize(
    ("title", "qid"),
    [("New York City", "Q60"), ("New_York_City", "Q60"), ("new York City", "Q60"),
     ("NYC", "Q60"), ("Nyc", None), ("nYC", "Q60"), ("Big_Apple", "Q60"), ("big Apple", "Q60"),
     ("Big apple", None), ("Gotham", "Q60"), ("New York City#History", "Q60"),
     ("#History", None), ("", None), ("Unknown", None), ("Old name", "Q55"),
     ("Loop A", "Q700"), ("Loop B", None), ("Big Apple (disambiguation)", "Q2")],
)  # fmt: skip
def test_title_index_lookup(title_files, title, qid):
    index = read_title_index(*title_files)
    assert index.qid(title) == qid


def test_title_index_rejects_and_cycles(title_files):
    titles, redirects = title_files
    index = read_title_index(titles, redirects)
    got = sorted((Path(r.source).name, r.locator) for r in index.rejects)
    assert got == sorted(
        [("titles.tsv", f"line {n}") for n in (3, 6, 7, 8, 9)]
        + [("redirects.tsv", f"line {n}") for n in (3, 4, 5, 8)]
    )
    assert all(r.code == E_MALFORMED_LINE for r in index.rejects)
    cycle = [r for r in index.rejects if "cycle" in r.reason]
    assert len(cycle) == 2 and "Loop A → Loop B → Loop A" in cycle[0].reason
    assert index.counts["redirect in a cycle"] == 2 and index.counts["conflicting title"] == 1
    assert index.counts["blank line"] == 1 and index.counts["title lines"] == 10
    assert index.redirect_count == 4  # NYC, Big Apple, Gotham, Old name
    assert len(index) == 4 and "NYC" in index and "Nowhere" not in index
    assert index.resolve("Big_Apple") == "New York City"
    assert index.chain("Big Apple") == ["Big Apple", "NYC", "New York City"]


def test_title_index_runtime_cycle_and_long_chain():
    index = TitleIndex()
    index.add("A", "Q1")
    index.add_redirect("A", "B")
    index.add_redirect("B", "A")  # a cycle added after loading: lookups must still end
    assert index.qid("B") == "Q1" and index.qid("A") == "Q1"
    assert index.counts["redirect cycle"] == 2
    for n in range(MAX_REDIRECT_HOPS + 5):
        index.add_redirect(f"T{n}", f"T{n + 1}")
    index.add(f"T{MAX_REDIRECT_HOPS + 5}", "Q9")
    index.add("T0", "Q8")
    assert index.qid("T0") == "Q8"  # the end is too far: the nearest known title on the chain
    assert index.counts["redirect chain too long"] == 1
    assert index.qid(f"T{MAX_REDIRECT_HOPS}") == "Q9"


def test_title_index_from_entities():
    index = TitleIndex.from_entities(
        [
            EntityNames("Q1", {}, {}, "Douglas_Adams"),
            EntityNames("Q2", {"en": "x"}, {}, None),
            Reject("read", "d.json", "line 3", E_MALFORMED_LINE, "bad"),
            EntityNames("Q3", {}, {}, "Douglas Adams"),
        ]
    )
    assert index.qid("Douglas Adams") == "Q1" and len(index) == 1
    assert index.counts["conflicting title"] == 1 and len(index.rejects) == 1


# ---------------------------------------------------------------------------------- the dump


def _label(lang: str, value: object) -> dict:
    return {"language": lang, "value": value}


def _claims(qid: str) -> dict:
    return {
        "P31": [
            {
                "mainsnak": {
                    "snaktype": "value",
                    "property": "P31",
                    "datavalue": {"value": {"id": "Q5"}, "type": "wikibase-entityid"},
                },
                "type": "statement",
                "id": f"{qid}$1",
                "rank": "normal",
                # keys that mean something at the top level, nested here
                "qualifiers": {"P1": [{"snaktype": "value", "labels": "not labels"}]},
            }
        ]
    }


def _item(qid: str, labels: dict, aliases: dict | None = None, enwiki: str | None = None, **extra):
    entity = {
        "type": "item",
        "id": qid,
        "labels": {lang: _label(lang, v) for lang, v in labels.items()},
        "descriptions": {lang: _label(lang, "a thing") for lang in labels},
        "aliases": {lang: [_label(lang, v) for v in vs] for lang, vs in (aliases or {}).items()},
        "claims": _claims(qid),
        "sitelinks": {
            "dewiki": {"site": "dewiki", "title": "Irgendwas", "badges": []},
            **({"enwiki": {"site": "enwiki", "title": enwiki, "badges": []}} if enwiki else {}),
        },
        "lastrevid": 1,
    }
    entity.update(extra)
    return entity


def _dumps(obj: dict, ascii_only: bool = False) -> str:
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":"))


def _entity_lines() -> list[str]:
    """The test dump's lines; comments give each 1-based line number."""
    q1 = _item(
        "Q1",
        {"en": "Douglas Adams", "fr": "Douglas Adams", "de": "Douglas Adams", "ru": "Дуглас Адамс"},
        {"en": ["DNA", "Douglas Noël Adams"], "de": ["D. Adams"]},
        'Douglas "DNA" Adams \\ 42',
    )
    q2 = _item("Q2", {"de": "Erde"}, enwiki="Earth")  # no requested label
    prop = {"type": "property", "id": "P31", "datatype": "wikibase-item",
            "labels": {"en": _label("en", "instance of")}, "descriptions": {}, "aliases": {},
            "claims": {}}  # fmt: skip
    lexeme = {"type": "lexeme", "id": "L5", "lemmas": {"en": _label("en", "run")}, "claims": {}}
    trick = _item("Q4", {"en": 'tricky ,"claims":{ label', "fr": "claims"}, enwiki="Tricky")
    # keys in an unusual order: sitelinks and labels after claims
    odd = {"type": "item", "id": "Q5", "claims": _claims("Q5"),
           "sitelinks": {"enwiki": {"title": "Odd", "site": "enwiki", "badges": []}},
           "labels": {"fr": _label("fr", "Bizarre")}, "aliases": {}}  # fmt: skip
    no_claims = {"type": "item", "id": "Q6", "labels": {"en": _label("en", "No claims")}}
    bad_values = _item("Q7", {"en": 7, "fr": "Sept"}, {"fr": ["ok", 3]}, enwiki="Seven")
    q8 = _item("Q8", {"en": "Ünïcode"}, enwiki="Ünïcode title")
    return [
        "[",  # 1
        _dumps(q1) + ",",  # 2
        _dumps(q2) + ",",  # 3
        _dumps(prop) + ",",  # 4
        _dumps(lexeme) + ",",  # 5
        '{"type":"item","id":"Q3","labels":{"en":',  # 6: truncated line
        _dumps(trick) + ",",  # 7
        _dumps(odd) + ",",  # 8
        _dumps(no_claims) + ",",  # 9
        '{"type":"item","labels":{}}' + ",",  # 10: no id
        _dumps(bad_values) + ",",  # 11
        '"just a string",',  # 12
        _dumps(q8, ascii_only=True),  # 13: escaped unicode, last entity, no comma
        "]",  # 14
    ]


def _write_dump(folder: Path, suffix: str, lines: list[str] | None = None) -> Path:
    data = ("\n".join(lines or _entity_lines()) + "\n").encode("utf-8")
    path = folder / f"dump{suffix}"
    if suffix.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    elif suffix.endswith(".bz2"):
        path.write_bytes(bz2.compress(data))
    else:
        path.write_bytes(data)
    return path


FORMATS = [
    (".json", False),
    (".json.gz", False),
    (".json.bz2", False),
    pytest.param(".json.gz", True, marks=pytest.mark.skipif(not shutil.which("gzip"), reason="no gzip")),
    pytest.param(".json.bz2", True, marks=pytest.mark.skipif(not shutil.which("bzip2"), reason="no bzip2")),
]  # fmt: skip


@pytest.mark.parametrize(("suffix", "external"), FORMATS)
def test_iter_wikidata_dump(tmp_path: Path, suffix: str, external: bool):
    path = _write_dump(tmp_path, suffix)
    counts: Counter[str] = Counter()
    items = list(iter_wikidata_dump(path, ["en", "fr"], external=external, counts=counts))
    names = {i.qid: i for i in items if isinstance(i, EntityNames)}
    rejects = [i for i in items if isinstance(i, Reject)]
    assert list(names) == ["Q1", "Q2", "Q4", "Q5", "Q6", "Q7", "Q8"]
    assert names["Q1"] == EntityNames(
        "Q1", {"en": "Douglas Adams", "fr": "Douglas Adams"}, {}, 'Douglas "DNA" Adams \\ 42'
    )
    assert names["Q2"] == EntityNames("Q2", {}, {}, "Earth")
    assert names["Q4"].labels == {"en": 'tricky ,"claims":{ label', "fr": "claims"}
    assert names["Q5"] == EntityNames("Q5", {"fr": "Bizarre"}, {}, "Odd")
    assert names["Q6"] == EntityNames("Q6", {"en": "No claims"}, {}, None)
    assert names["Q7"] == EntityNames("Q7", {"fr": "Sept"}, {}, "Seven")
    assert names["Q8"] == EntityNames("Q8", {"en": "Ünïcode"}, {}, "Ünïcode title")
    assert [(r.locator, r.code) for r in rejects] == [
        ("line 6", E_MALFORMED_LINE),
        ("line 10", E_MISSING_FIELD),
        ("line 12", E_MALFORMED_LINE),
    ]
    assert all(r.source == str(path) and r.stage == "read" and r.raw for r in rejects)
    assert counts["lines"] == 14 and counts["entities"] == 7 and counts["rejects"] == 3
    assert counts["property skipped"] == 1 and counts["other entity type skipped"] == 1
    assert counts["array bracket or blank line"] == 2 and counts["bad name value"] == 1
    # Q1, Q2, Q4, Q7, Q8 take the fast path; Q5, Q6 (and the bad lines) are parsed whole
    assert counts["fast path"] == 5 and counts["full parse"] == 5


def test_iter_wikidata_dump_aliases_properties_and_all_languages(tmp_path: Path):
    path = _write_dump(tmp_path, ".json")
    counts: Counter[str] = Counter()
    items = [
        i
        for i in iter_wikidata_dump(path, None, aliases=True, properties=True, counts=counts)
        if isinstance(i, EntityNames)
    ]
    by_id = {i.qid: i for i in items}
    assert by_id["P31"] == EntityNames("P31", {"en": "instance of"}, {}, None)
    q1 = by_id["Q1"]
    assert set(q1.labels) == {"en", "fr", "de", "ru"}
    assert q1.aliases == {"en": ("DNA", "Douglas Noël Adams"), "de": ("D. Adams",)}
    assert by_id["Q7"].aliases == {"fr": ("ok",)}  # the bad alias value is counted, not kept
    assert counts["bad name value"] == 2 and "L5" not in by_id


def test_iter_wikidata_dump_qids_filter(tmp_path: Path):
    path = _write_dump(tmp_path, ".json.gz")
    counts: Counter[str] = Counter()
    items = list(iter_wikidata_dump(path, ["en"], qids={"Q2", "Q5"}, counts=counts))
    assert [i.qid for i in items if isinstance(i, EntityNames)] == ["Q2", "Q5"]
    # the filter runs before parsing: the truncated Q3 line is skipped unread, and only the lines
    # whose id the pattern cannot see are parsed (and rejected)
    assert [i.locator for i in items if isinstance(i, Reject)] == ["line 10", "line 12"]
    assert counts["not requested"] == 6 and counts["fast path"] + counts["full parse"] == 4


def test_fast_path_matches_full_parse(tmp_path: Path):
    import orjson

    for raw in _entity_lines():
        line = raw.rstrip(",").encode()
        try:
            full = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(full, dict) or "labels" not in full:
            continue
        fast, title = _parse_entity(line, True, Counter())
        for key in ("id", "labels", "aliases"):
            assert fast.get(key) == full.get(key)
        assert title == ((full.get("sitelinks") or {}).get("enwiki") or {}).get("title")


def test_line_cut_inside_the_claims_is_rejected(tmp_path: Path):
    whole = _dumps(_item("Q1", {"en": "One"}, enwiki="One"))
    cut = whole[: whole.index('"claims":') + 30]
    path = _write_dump(tmp_path, ".json", ["[", cut + ",", whole, "]"])
    items = list(iter_wikidata_dump(path, ["en"]))
    assert isinstance(items[0], Reject) and items[0].locator == "line 2"
    assert items[1] == EntityNames("Q1", {"en": "One"}, {}, "One")


def test_fast_and_whole_line_parsing_agree(tmp_path: Path):
    path = _write_dump(tmp_path, ".json")
    for aliases in (False, True):
        fast, slow = Counter(), Counter()
        got = list(iter_wikidata_dump(path, None, aliases=aliases, counts=fast))
        want = list(iter_wikidata_dump(path, None, aliases=aliases, counts=slow, fast=False))
        assert got == want
        assert fast["fast path"] == 5 and slow["fast path"] == 0


@pytest.mark.parametrize(("suffix", "external"), FORMATS[1:])
def test_truncated_compressed_dump_ends_with_a_reject(tmp_path: Path, suffix: str, external: bool):
    whole = _write_dump(tmp_path, suffix)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    items = list(iter_wikidata_dump(cut, ["en"], external=external))
    assert isinstance(items[-1], Reject) and "truncated or corrupt" in items[-1].reason
    assert items[-1].code == E_MALFORMED_LINE


@pytest.mark.skipif(not shutil.which("gzip"), reason="no gzip")
def test_stopping_early_stops_the_decompressor(tmp_path: Path):
    lines = ["["] + [_dumps(_item(f"Q{n}", {"en": f"E{n}"})) + "," for n in range(1, 3000)]
    path = _write_dump(tmp_path, ".json.gz", lines + ['{"type":"item","id":"Q0"}', "]"])
    stream = iter_wikidata_dump(path, ["en"], external=True)
    assert next(stream).qid == "Q1"
    stream.close()  # must not hang or leave an error behind
    assert sum(1 for _ in iter_wikidata_dump(path, ["en"], external=True)) == 3000


def test_missing_dump(tmp_path: Path):
    with pytest.raises(InputFormatError) as err:
        list(iter_wikidata_dump(tmp_path / "none.json.gz", ["en"]))
    assert err.value.code == E_FILE_NOT_FOUND


def test_load_names_from_dump(tmp_path: Path):
    path = _write_dump(tmp_path, ".json.bz2")
    titles = TitleIndex()
    table = load_names_from_dump(path, ["en", "ru"], aliases=True, titles=titles)
    assert table.languages == ("en", "ru")
    assert sorted(table._names) == ["Q1", "Q4", "Q6", "Q8"]  # Q2, Q5, Q7: no en/ru label
    assert table.get("Q1").labels == {"en": "Douglas Adams", "ru": "Дуглас Адамс"}
    assert table.get("Q1").aliases == {"en": ("DNA", "Douglas Noël Adams")}
    assert table.counts["no label in the requested languages"] == 3
    assert [r.locator for r in table.rejects] == ["line 6", "line 10", "line 12"]
    assert titles.qid("Earth") == "Q2" and titles.qid("Odd") == "Q5" and len(titles) == 6

    only = load_names_from_dump(path, ["en"], qids=["Q2", "Q8"], keep_unlabelled=True)
    assert sorted(only._names) == ["Q2", "Q8"] and only.get("Q2").labels == {}


def test_title_index_from_dump(tmp_path: Path):
    path = _write_dump(tmp_path, ".json")
    redirects = _write(tmp_path / "r.tsv", 'The Earth\tEarth\nDNA\tDouglas_"DNA"_Adams_\\_42\n')
    index = title_index_from_dump(path, redirects)
    assert index.qid("the_Earth") == "Q2" and index.qid("DNA") == "Q1"
    assert index.qid("Ünïcode title") == "Q8" and index.qid("Irgendwas") is None
    assert len(index.rejects) == 3 and index.counts["entities"] == 7


# ------------------------------------------------------------------------------ shared data


def _shared_labels(shared_data: Path) -> Path:
    folder = shared_data / "entities" / "wikidata-labels"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return folder


@pytest.mark.shared_data
def test_shared_label_tsvs(shared_data: Path):
    table = read_label_tsv(_shared_labels(shared_data), ["en", "ru", "ja", "zh", "xx"])
    assert table.missing_languages == ["xx"] and not table.rejects
    assert table.counts["lines"] == table.counts["entity names"] > 100_000
    assert table.counts["language not requested"] == 18
    assert table.scripts == {"en": "LATIN", "ru": "CYRILLIC", "ja": "HAN-KANA", "zh": "HAN-KANA"}
    earth, canada = table.get("Q2"), table.get("Q16")
    assert earth.labels == {"en": "Earth", "ru": "Земля", "ja": "地球", "zh": "地球"}
    assert canada.labels["en"] == "Canada" and canada.labels["ru"] == "Канада"
    assert "Blue Marble" in earth.aliases["en"] and "Canada" in canada.aliases["ru"]
    for qid in ("Q2", "Q5", "Q16", "Q17", "Q30"):
        names = table.get(qid)
        for lang, label in names.labels.items():
            assert label not in names.aliases.get(lang, ())  # a label is never also an alias


@pytest.mark.slow
@pytest.mark.shared_data
def test_shared_label_tsvs_every_file(shared_data: Path):
    folder = _shared_labels(shared_data)
    languages = sorted(p.name.split(".")[0] for p in folder.glob("*.txt"))
    table = read_label_tsv(folder, languages)
    assert not table.missing_languages and not table.rejects
    assert table.counts["lines"] == table.counts["entity names"] > 400_000
    assert all(table.scripts[lang] for lang in languages)
    assert len(table) > 50_000


@pytest.mark.parametrize(
    ("tools", "external", "suffix", "want"),
    [
        ({"gzip"}, None, ".json.gz", "gzip"),
        ({"pigz", "gzip"}, None, ".json.gz", "pigz"),
        (set(), None, ".json.gz", None),  # no tool: Python's module
        ({"gzip"}, True, ".json.gz", "gzip"),
        ({"pigz"}, False, ".json.gz", None),
        ({"bzip2", "lbzip2"}, None, ".json.bz2", "lbzip2"),
        ({"bzip2"}, True, ".json.bz2", "bzip2"),
        ({"gzip", "bzip2"}, True, ".json", None),
    ],
)
def test_external_decompressor_choice(monkeypatch, tmp_path, tools, external, suffix, want):
    from xproj.generators.entitycs.wikidata import dump as wikidata

    monkeypatch.setattr(wikidata.shutil, "which", lambda t: f"/bin/{t}" if t in tools else None)
    command = wikidata._external_command(tmp_path / f"d{suffix}", external)
    assert (command[0] if command else None) == (f"/bin/{want}" if want else None)


def test_external_decompressor_required_but_missing(monkeypatch, tmp_path):
    from xproj.generators.entitycs.wikidata import dump as wikidata

    monkeypatch.setattr(wikidata.shutil, "which", lambda t: None)
    with pytest.raises(InputFormatError) as err:
        wikidata._external_command(tmp_path / "d.json.bz2", True)
    assert err.value.code == E_FILE_NOT_FOUND and "lbzip2" in str(err.value)


# ------------------------------------------------------------------ names standing in for titles


def test_title_index_from_names(tmp_path: Path):
    (tmp_path / "en.txt").write_text(
        "Q90\tParis\tCity of Light\tparis\n"  # 'paris' repeats Paris once normalised
        "Q830149\tParis\tParis, Texas\n"  # a later entity with the same name: Q90 stays
        "Q5\thuman being\tHuman_being\n"  # underscores and the first letter normalised
        "Q7\tAT&amp;T\n",
        encoding="utf-8",
    )
    names = read_label_tsv(tmp_path / "en.txt", ["en"])
    index = TitleIndex.from_names(names, lang="en")
    assert index.qid("Paris") == "Q90" and index.qid("paris#History") == "Q90"
    assert index.qid("City_of_Light") == "Q90" and index.qid("Paris, Texas") == "Q830149"
    assert index.qid("Human being") == "Q5" and index.qid("AT&T") == "Q7"
    assert index.qid("Lyon") is None and len(index) == 5
    assert index.counts == Counter(
        {"names": 8, "titles": 5, "repeated name": 2, "conflicting title": 1}
    )


def test_title_index_from_names_other_language_and_entities():
    entities = [
        EntityNames("Q1", {"fr": "Allemagne"}, {"fr": ("RFA",)}),
        EntityNames("Q2", {"en": "Germany"}, {}),  # no French name
        EntityNames("Q3", {"fr": "  "}, {}),  # blank only
        EntityNames("Q4", {"fr": "rfa"}, {}),  # 'Rfa' ≠ 'RFA': titles stay case-sensitive
    ]
    index = TitleIndex.from_names(entities, lang="fr")
    assert index.qid("allemagne") == "Q1" and index.qid("RFA") == "Q1"
    assert index.qid("Rfa") == "Q4" and index.qid("Germany") is None
    assert index.counts["entities without a name"] == 2 and index.counts["titles"] == 3
