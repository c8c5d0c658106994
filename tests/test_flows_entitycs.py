"""The entitycs flow end to end: on a small FewRel-style file written here, and on the whole shared
FewRel set with the 22-language label tables, every output row checked (not a sample)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.entitycs_samples import write_small_fewrel
from xproj.catalog import Lake, query
from xproj.flows.entitycs import EntityCSConfig

pytestmark = pytest.mark.slow

TAG = re.compile(r"<([a-z]{2,3}(?:-[a-z]+)?)>(.*?)</\1>")


@pytest.fixture(scope="module", autouse=True)
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def outside(tagged: str) -> list[str]:
    """The text between tagged entities (what must not change when entities switch)."""
    return TAG.split(tagged)[0::3]


def surfaces(tagged: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in TAG.finditer(tagged)]


def check_run(lake: Lake, run_id: str, names, settings) -> dict:
    """Every cs row differs from its en row only inside tags; every switched surface is the name
    of its QID in that language; every kept sentence obeys the filters."""
    en = query(lake, f"SELECT id, en_sentence FROM entitycs_en WHERE run_id = '{run_id}'")
    cs = query(lake, f"SELECT * FROM entitycs_cs WHERE run_id = '{run_id}'").to_pylist()
    ent = query(lake, f"SELECT * FROM entitycs_entities WHERE run_id = '{run_id}'").to_pylist()
    en_by_id = dict(
        zip(en.column("id").to_pylist(), en.column("en_sentence").to_pylist(), strict=True)
    )
    for row in cs:
        assert row["en_sentence"] == en_by_id[row["id"]]
        assert outside(row["cs_sentence"]) == outside(row["en_sentence"])
        langs = {lang for lang, _ in surfaces(row["cs_sentence"])}
        assert langs == {row["language"]}
        assert len(surfaces(row["cs_sentence"])) == len(surfaces(row["en_sentence"]))
    for row in ent:
        entry = names.get(row["qid"])
        assert entry is not None and row["switched_surface"] == entry.labels[row["language"]]
    for sentence in en_by_id.values():
        plain = TAG.sub(lambda m: m.group(2), sentence)
        assert len(plain) > settings.min_chars and len(plain.split()) <= settings.max_words
        tagged = surfaces(sentence)  # the switched entities: a subset of the sentence's links
        assert settings.min_links <= len(tagged) <= settings.max_links
        assert not any(m in plain for m in ("[[", "]]", "{{", "}}", "<ref"))

    return {"en": len(en_by_id), "cs": len(cs), "entities": len(ent)}


def test_entitycs_small_file_deterministic(tmp_path):
    from xproj.flows.entitycs import entitycs
    from xproj.generators.entitycs.wikidata import read_label_tsv

    src, labels = write_small_fewrel(tmp_path)
    base = {
        "source": {"path": str(src), "format": "fewrel"},
        "names": {"path": str(labels)},
        "languages": ["de", "fr", "sw"],
        "seed": 7,
    }
    first = entitycs(EntityCSConfig(**base, lake=str(tmp_path / "a")))
    entitycs(EntityCSConfig(**base, lake=str(tmp_path / "b"), shard_size=1))
    m = first.metrics["stats"]
    assert first.metrics["tallies"]["sentences"] == {
        "kept_word": "kept",
        "total": 3,
        "kept": 2,
        "rate": round(2 / 3, 6),
        "dropped": {"filter.too_short": 1},
    }
    assert m["sentences_read"] == 3 and m["sentences_kept"] == 2
    assert m["sentences_dropped"] == {"too_short": 1}
    # sentence 0: all of de/fr/sw have both entities; sentence 2: only de/fr have both
    assert m["per_language"]["sw"]["sentences"] == 1 and m["cs_sentences"] == 5
    for table in ("entitycs_en", "entitycs_cs", "entitycs_entities", "entitycs_dropped"):
        cols = "* EXCLUDE (run_id)"
        a = query(Lake(tmp_path / "a"), f"SELECT {cols} FROM {table} ORDER BY ALL").to_pylist()
        b = query(Lake(tmp_path / "b"), f"SELECT {cols} FROM {table} ORDER BY ALL").to_pylist()
        assert a == b, table  # same inputs + seed → identical tables, whatever the sharding
    names = read_label_tsv(labels, ["de", "fr", "sw"])
    got = check_run(Lake(tmp_path / "a"), first.run_id, names, EntityCSConfig(**base).settings())
    assert got == {"en": 2, "cs": 5, "entities": 10}
    cs = (
        query(
            Lake(tmp_path / "a"),
            "SELECT cs_sentence FROM entitycs_cs WHERE language = 'de' ORDER BY id",
        )
        .column("cs_sentence")
        .to_pylist()
    )
    assert cs[0] == "Anna Smith was born in <de>Paris</de>, the capital of <de>Frankreich</de>."


def test_entitycs_fewrel_shared_every_row(shared_data: Path, tmp_path):
    from xproj.flows.entitycs import entitycs
    from xproj.generators.entitycs.wikidata import read_label_tsv

    fewrel = shared_data / "entities" / "fewrel" / "val_wiki.json"
    labels = shared_data / "entities" / "wikidata-labels"
    cfg = EntityCSConfig(
        source={"path": str(fewrel), "format": "fewrel"},
        names={"path": str(labels)},
        lake=str(tmp_path / "lake"),
        seed=1,
    )
    result = entitycs(cfg)
    m = result.metrics["stats"]
    assert m["sentences_read"] == 11_200
    assert m["sentences_read"] == m["sentences_kept"] + sum(m["sentences_dropped"].values())
    settings = cfg.settings()
    names = read_label_tsv(labels, settings.languages)
    got = check_run(Lake(tmp_path / "lake"), result.run_id, names, settings)
    assert got["en"] == m["sentences_kept"] and got["cs"] == m["cs_sentences"] > 10_000
    assert got["entities"] == m["entities_switched"]
    dropped = query(Lake(tmp_path / "lake"), "SELECT count(*) AS n FROM entitycs_dropped")
    assert dropped.column("n")[0].as_py() == sum(m["sentences_dropped"].values())


def test_entitycs_wikitext_with_a_wikidata_dump(tmp_path):
    """MediaWiki links are mapped through the dump's enwiki sitelinks; names come from the dump."""
    import gzip
    import json

    from xproj.flows.entitycs import entitycs

    article = tmp_path / "wiki" / "Paris.txt"
    article.parent.mkdir()
    article.write_text(
        "{{Infobox city|name=Paris}}\n'''Paris''' is the capital of [[France]] and lies on the "
        "[[Seine|river Seine]].<ref>A source.</ref> It has many famous and very old [[museum]]s.\n\n"
        "* [[Paris]] in a list item is dropped.\n[[Category:Capitals]]\n"
    )

    def entity(qid, title, names):
        labels = {lang: {"language": lang, "value": v} for lang, v in names.items()}
        return {
            "type": "item",
            "id": qid,
            "labels": labels,
            "aliases": {},
            "claims": {},
            "sitelinks": {"enwiki": {"site": "enwiki", "title": title}},
        }

    dump = tmp_path / "dump.json.gz"
    lines = [
        entity("Q142", "France", {"en": "France", "de": "Frankreich", "fr": "France"}),
        entity("Q1471", "Seine", {"en": "Seine", "de": "Seine", "fr": "Seine"}),
        entity("Q90", "Paris", {"en": "Paris", "de": "Paris"}),
    ]
    with gzip.open(dump, "wt", encoding="utf-8") as fh:
        fh.write("[\n" + ",\n".join(json.dumps(x) for x in lines) + "\n]\n")
    cfg = EntityCSConfig(
        source={"path": str(article.parent), "format": "mediawiki"},
        names={"path": str(dump), "format": "wikidata"},
        languages=["de", "fr"],
        lake=str(tmp_path / "lake"),
    )
    result = entitycs(cfg)
    lake = Lake(tmp_path / "lake")
    cs = query(lake, "SELECT language, cs_sentence FROM entitycs_cs ORDER BY language").to_pylist()
    assert cs[0] == {
        "language": "de",
        "cs_sentence": "Paris is the capital of <de>Frankreich</de> "
        "and lies on the <de>Seine</de>.",
    }
    assert [r["language"] for r in cs] == ["de", "fr"]
    dropped = result.metrics["stats"]["sentences_dropped"]
    assert dropped.get("table_or_list_markup") == 1  # the list item
    assert result.metrics["stats"]["entity_reasons"].get("unmapped_title") == 1  # [[museum]]s


def test_entitycs_config_embeds_the_switch_settings(tmp_path):
    """The switcher's settings are declared once (SwitchSettings); the top-level keys configs
    used before ``switch:`` still work, a key under ``switch`` wins, unknown keys are refused."""
    from pydantic import ValidationError

    from xproj.generators.entitycs.switch import SwitchSettings
    from xproj.schemas.errors import ConfigError

    base = {"source": {"path": "s.json", "format": "fewrel"}, "names": {"path": "n"}}
    top = EntityCSConfig(**base, seed=13, languages=["fr", "de"], max_languages=2)
    assert top.switch == SwitchSettings(seed=13, languages=("fr", "de"), max_languages=2)
    both = EntityCSConfig(**base, seed=13, switch={"seed": 7})
    assert both.switch.seed == 7
    assert top.settings().segment is False  # FewRel is sentence-level
    wiki = {**base, "source": {"path": "articles", "format": "mediawiki"}}
    assert EntityCSConfig(**wiki).settings().segment is True
    assert EntityCSConfig(**wiki, segment=False).settings().segment is False
    with pytest.raises(ValidationError, match="sede"):
        EntityCSConfig(**base, switch={"sede": 1})
    with pytest.raises((ConfigError, ValidationError), match="max_languages"):
        EntityCSConfig(**base, max_languages=0)
