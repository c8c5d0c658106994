"""EntityCS: FewRel reading (detokenizer, mentions, rejects) and the entity switcher.

The last tests run the whole FewRel validation file against the shared Wikidata label TSVs and
check the switcher's guarantees on every row; they skip without ``../shared/data``. They read the
TSVs with a small private loader (``_load_label_tsvs``), not with ``xproj.generators.entitycs.wikidata``.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from xproj.generators.entitycs.fewrel import detokenize, iter_fewrel
from xproj.generators.entitycs.records import EntityNames, Link, LinkedText, NameTable
from xproj.generators.entitycs.switch import (
    SENTENCE_REASONS,
    XLMR_LANGUAGES,
    XLMR_TARGET_LANGUAGES,
    MappedEntity,
    Switcher,
    SwitchSettings,
    SwitchStats,
    _tag_pattern,
    candidate_languages,
    filter_reason,
    sample_languages,
    spacy_sentence_starts,
    split_linked,
)
from xproj.generators.entitycs.wikitext import FLAG_KEYS, RESIDUE_MARKERS
from xproj.schemas.errors import (
    E_EMPTY_SENTENCE,
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    E_SPAN_OUT_OF_TEXT,
    ConfigError,
    InputFormatError,
    Reject,
)
from xproj.schemas.languages import is_known_lang
from xproj.schemas.tables import EntityCSDroppedRow, EntityCSEnRow

# ----------------------------------------------------------------------------- helpers


def linked(text: str, *surfaces: str | tuple[str, str], id: str = "s", target: bool = False):
    """A LinkedText whose links are the first occurrences (left to right) of ``surfaces``.

    A surface is ``"Paris"`` (QID ``"Q:Paris"``) or ``("Paris", "Q90")``; with ``target=True``
    the link gets the surface as title and no QID.
    """
    links, pos = [], 0
    for item in surfaces:
        surface, qid = (item, f"Q:{item}") if isinstance(item, str) else item
        start = text.index(surface, pos)
        pos = start + len(surface)
        links.append(Link(start, pos, surface if target else "", None if target else qid))
    return LinkedText(id, text, tuple(links))


def table(entries: dict[str, dict[str, str]], aliases: dict[str, dict[str, tuple]] | None = None):
    names = NameTable()
    for qid, labels in entries.items():
        names.add(EntityNames(qid, dict(labels), dict((aliases or {}).get(qid, {}))))
    return names


class DictIndex:
    """A title index backed by a dict (what ``wikidata.TitleIndex`` provides for real)."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def qid(self, title: str) -> str | None:
        return self.mapping.get(title)


def tagged(sentence: str, lang: str) -> tuple[list[str], list[str]]:
    """(text outside the tags, tagged contents) of a sentence with ``<lang>…</lang>`` tags."""
    pieces = re.split(f"<{re.escape(lang)}>(.*?)</{re.escape(lang)}>", sentence, flags=re.DOTALL)
    return pieces[0::2], pieces[1::2]


NAMES = table(
    {
        "Q:Paris": {"fr": "Paris", "de": "Paris", "es": "París", "ja": "パリ"},
        "Q:France": {"fr": "France", "de": "Frankreich", "es": "Francia"},
        "Q:Berlin": {"fr": "Berlin", "de": "Berlin", "ja": "ベルリン"},
        "Q:Tokyo": {"ja": "東京"},
        "Q:Nowhere": {"fr": "  ", "ceb": "Wala"},
    }
)
SMALL = SwitchSettings(languages=("fr", "de", "es", "ja"), segment=False)


# ----------------------------------------------------------------------------- detokenizer


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        (["In", "June", "1987", ",", "the", "bridge", "."], "In June 1987, the bridge."),
        (["a", "four", "-", "lane", "bridge"], "a four-lane bridge"),
        (["He", "said", '"', "no", '"', ",", "then", "left", "."], 'He said "no", then left.'),
        (["Smith", "(", "born", "1950", ")", "is", "here"], "Smith (born 1950) is here"),
        (["Paris", "'s", "mayor", "did", "n't", "go"], "Paris's mayor didn't go"),
        (["the", "Smiths", "'", "house"], "the Smiths' house"),
        (["he", "said", "'", "yes", "'", "twice"], "he said 'yes' twice"),
        (["costs", "$", "5", "or", "10", "%", ";", "ok", ":", "fine", "!"],
         "costs $5 or 10%; ok: fine!"),
        (["and", "/", "or", "1990", "–", "2000"], "and/or 1990 – 2000"),
        (["first", "\n", "second", "\xa0", "third"], "first second third"),
        (["“", "quoted", "”", "and", "[", "x", "]"], "“quoted” and [x]"),
        (["\n", "start"], "start"),
    ],
)  # fmt: skip
def test_detokenize_text_and_offsets(tokens, text):
    got, spans = detokenize(tokens)
    assert got == text
    assert len(spans) == len(tokens)
    for tok, (s, e) in zip(tokens, spans, strict=True):
        if tok.strip():
            assert got[s:e] == tok
        else:
            assert s == e
    starts = [s for tok, (s, _) in zip(tokens, spans, strict=True) if tok.strip()]
    assert starts == sorted(starts)


# ----------------------------------------------------------------------------- FewRel reader


def _rec(tokens, h, t):
    return {"tokens": tokens, "h": ["x", h[0], h[1]], "t": ["y", t[0], t[1]]}


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "val.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_fewrel_good_records(tmp_path):
    tokens = ["The", "new", "bridge", "crosses", "the", "Ohio", "River", ";", "the",
              "new", "bridge", "opened", "in", "Ohio", "."]  # fmt: skip
    data = {
        "P177": [
            _rec(tokens, ("Q1", [[1, 2], [9, 10]]), ("Q2", [[5, 6]])),
            _rec(["Paris", "is", "in", "France", "."], ("Q90", [[0]]), ("Q142", [[3]])),
        ],
        "P17": [_rec(["Paris", "is", "in", "France", "."], ("Q90", [[0]]), ("Q142", [[3]]))],
    }
    got = list(iter_fewrel(_write(tmp_path, data)))
    assert [g.id for g in got] == ["P177:0", "P177:1", "P17:0"]
    first = got[0]
    assert first.text == "The new bridge crosses the Ohio River; the new bridge opened in Ohio."
    assert [(first.text[x.start : x.end], x.qid) for x in first.links] == [
        ("new bridge", "Q1"),
        ("Ohio River", "Q2"),
        ("new bridge", "Q1"),
    ]
    assert all(x.target == "" for x in first.links)
    assert first.source == str(tmp_path / "val.json") and first.markup == {}
    # same file, same records
    assert list(iter_fewrel(tmp_path / "val.json")) == got


def test_fewrel_overlap_keeps_longer_and_counts(tmp_path):
    tokens = ["The", "Cape", "Girardeau", "Bridge", "is", "old", "."]
    data = {
        "P1": [
            _rec(tokens, ("Q1", [[1, 2, 3]]), ("Q2", [[1, 2]])),  # tail inside head
            _rec(tokens, ("Q1", [[1]]), ("Q2", [[1, 2, 3]])),  # head inside tail
            _rec(tokens, ("Q1", [[1, 2]]), ("Q2", [[1, 2]])),  # same span: head wins
            _rec(tokens, ("Q1", [[1, 2], [1, 2]]), ("Q2", [[5]])),  # listed twice
        ]
    }
    a, b, c, d = iter_fewrel(_write(tmp_path, data))
    assert [(x.qid, a.text[x.start : x.end]) for x in a.links] == [("Q1", "Cape Girardeau Bridge")]
    assert a.markup == {"overlapping_mention": 1}
    assert [x.qid for x in b.links] == ["Q2"] and b.markup == {"overlapping_mention": 1}
    assert [x.qid for x in c.links] == ["Q1"] and c.markup == {"overlapping_mention": 1}
    assert [x.qid for x in d.links] == ["Q1", "Q2"] and d.markup == {"duplicate_mention": 1}


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"h": ["a", "Q1", [[0]]], "t": ["b", "Q2", [[1]]]}, E_MISSING_FIELD),
        (_rec(["a", "b"], ("Q1", [[0]]), ("Q2", [[2]])), E_SPAN_OUT_OF_TEXT),
        (_rec(["a", "b"], ("Q1", [[-1]]), ("Q2", [[1]])), E_SPAN_OUT_OF_TEXT),
        (_rec(["a", "b", "c"], ("Q1", [[0, 2]]), ("Q2", [[1]])), E_MALFORMED_LINE),
        (_rec(["a", "b"], ("P31", [[0]]), ("Q2", [[1]])), E_MALFORMED_LINE),
        (_rec(["a", "b"], ("Q1", []), ("Q2", [[1]])), E_MISSING_FIELD),
        (_rec(["a", "\n", "b"], ("Q1", [[1]]), ("Q2", [[2]])), E_SPAN_OUT_OF_TEXT),
        (_rec(["\n", " "], ("Q1", [[0]]), ("Q2", [[1]])), E_EMPTY_SENTENCE),
        (_rec(["a", 3], ("Q1", [[0]]), ("Q2", [[1]])), E_MALFORMED_LINE),
        ({"tokens": ["a", "b"], "h": "Q1", "t": ["b", "Q2", [[1]]]}, E_MALFORMED_LINE),
        ("not a record", E_MALFORMED_LINE),
    ],
)
def test_fewrel_bad_records_are_rejected(tmp_path, record, code):
    good = _rec(["Paris", "is", "in", "France", "."], ("Q90", [[0]]), ("Q142", [[3]]))
    got = list(iter_fewrel(_write(tmp_path, {"P9": [good, record, good]})))
    assert [type(g).__name__ for g in got] == ["LinkedText", "Reject", "LinkedText"]
    rej = got[1]
    assert isinstance(rej, Reject)
    assert (rej.stage, rej.locator, rej.code) == ("read", "P9:1", code)
    assert rej.source == str(tmp_path / "val.json") and rej.reason
    assert got[2].id == "P9:2"


def test_fewrel_file_errors(tmp_path):
    with pytest.raises(InputFormatError) as err:
        list(iter_fewrel(tmp_path / "missing.json"))
    assert err.value.code == E_FILE_NOT_FOUND
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFormatError) as err:
        list(iter_fewrel(tmp_path / "bad.json"))
    assert err.value.code == E_MALFORMED_LINE and err.value.line == 1
    with pytest.raises(InputFormatError):
        list(iter_fewrel(_write(tmp_path, [1, 2])))
    got = list(iter_fewrel(_write(tmp_path, {"P1": {"not": "a list"}})))
    assert len(got) == 1 and got[0].locator == "P1" and got[0].code == E_MALFORMED_LINE


# ----------------------------------------------------------------------------- settings


def test_xlmr_languages():
    assert len(XLMR_LANGUAGES) == len(set(XLMR_LANGUAGES)) == 93
    assert len(XLMR_TARGET_LANGUAGES) == 92 and "en" not in XLMR_TARGET_LANGUAGES
    assert all(is_known_lang(c) for c in XLMR_LANGUAGES)
    assert SwitchSettings().languages == XLMR_TARGET_LANGUAGES


def test_published_defaults():
    s = SwitchSettings()
    assert (s.max_languages, s.min_links, s.max_links) == (5, 1, 10)
    assert (s.min_chars, s.max_words, s.max_single_link_share) == (20, 128, 0.5)
    assert s.use_aliases is False and s.tags("fr") == ("<fr>", "</fr>")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"languages": ()},
        {"languages": ("fr", "fr")},
        {"languages": ("fr", "qqq")},
        {"languages": ("fr", "en")},
        {"max_languages": 0},
        {"min_links": 3, "max_links": 2},
        {"min_chars": -1},
        {"max_words": 0},
        {"max_single_link_share": 0},
        {"max_single_link_share": 1.5},
        {"open_tag": "<x>"},
        {"close_tag": "{lang}"},
        {"open_tag": "<{lang}{0}>"},
    ],
)
def test_bad_settings(kwargs):
    with pytest.raises(ConfigError):
        SwitchSettings(**kwargs)


def test_switch_settings_keep_their_docstring_and_refuse_unknown_keys():
    """The pydantic config sits after the docstring, so the class is still documented."""
    import pydantic

    assert SwitchSettings.__doc__.startswith("Parameters of the switcher")
    assert SwitchSettings.__pydantic_config__ == {"extra": "forbid"}
    with pytest.raises(pydantic.ValidationError):
        pydantic.TypeAdapter(SwitchSettings).validate_python({"max_languages": 2, "segmnt": False})


# ----------------------------------------------------------------------------- filters


def _words(n: int) -> str:
    return " ".join(["word"] * n)


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (linked("* Paris is the capital of France.", "Paris"), "table_or_list_markup"),
        (linked("# Paris is the capital of France.", "Paris"), "table_or_list_markup"),
        (linked(": Paris is the capital of France.", "Paris"), "table_or_list_markup"),
        (linked("; Paris is the capital of France.", "Paris"), "table_or_list_markup"),
        (linked("| Paris is the capital of France.", "Paris"), "table_or_list_markup"),
        (linked("! Paris is the capital of France.", "Paris"), "table_or_list_markup"),
        (linked('Paris {| class="wikitable" France', "Paris"), "table_or_list_markup"),
        (linked("Paris is big.\n* France is a country.", "Paris"), "table_or_list_markup"),
        (linked("File:Paris.jpg|A view of Paris at night", "Paris"), "file_or_image"),
        (linked("Image: Paris at night seen from the tower", "Paris"), "file_or_image"),
        (linked("A view of Paris|thumb|seen from the tower", "Paris"), "file_or_image"),
        (
            LinkedText("s", "A view of Paris at night, from above", (Link(2, 6, "File:V.jpg"),)),
            "file_or_image",
        ),
        (linked("Paris grew in the 1980s cite web |url=x |title=y", "Paris"), "markup_residue"),
        (linked("Paris is the capital of [[France.", "Paris"), "markup_residue"),
        (linked("Paris is the capital of France}} again.", "Paris"), "markup_residue"),
        (linked("Paris is the capital of France.<ref name=a/>", "Paris"), "markup_residue"),
        (linked("Paris is the capital</en> of France.", "Paris"), "tag_in_text"),
        (linked("Paris has <fr>tags</fr> in its text.", "Paris"), "tag_in_text"),
        (linked("Paris is in France!!", "Paris"), "too_short"),  # 20 characters
        (linked("Paris " + _words(126) + " and France", "Paris"), "too_long"),  # 129 words
        (linked("Paris is the capital of France."), "too_few_links"),
        (
            linked("a b c d e f g h i j k and more", *"abcdefghijk", target=False),
            "too_many_links",
        ),
        (linked("Paris in France on the Seine", "Paris in France on"), "single_link_too_long"),
        (linked("Atlantis is a city in the sea.", "Atlantis"), "no_mapped_entity"),
        (linked("Tokyo is not as big as France.", "Tokyo", "France"), "no_common_language"),
    ],
)
def test_each_filter_drops_with_its_reason(doc, reason):
    sw = Switcher(NAMES, settings=SMALL)
    out = sw.process(doc)
    assert out.en_rows == out.cs_rows == out.entity_rows == []
    assert out.dropped == [EntityCSDroppedRow(doc.id, reason)]
    assert sw.stats.sentences_dropped == {reason: 1}
    assert sw.stats.sentences_read == 1 and sw.stats.sentences_kept == 0
    assert reason in SENTENCE_REASONS


@pytest.mark.parametrize("marker", RESIDUE_MARKERS)
def test_switch_drops_every_residue_the_wikitext_reader_counts(marker):
    doc = linked(f"Paris is the capital {marker} of France, they say.", "Paris")
    assert filter_reason(doc, SMALL, _tag_pattern(SMALL)) == "markup_residue"


def test_switch_default_markup_flags_are_the_readers():
    assert SwitchSettings().markup_flags == FLAG_KEYS


@pytest.mark.parametrize(
    "doc",
    [
        linked("Paris is in France!!!", "Paris"),  # 21 characters
        linked("Paris " + _words(125) + " and France", "Paris"),  # 128 words
        linked("a b c d e f g h i j and more", *"abcdefghij"),  # 10 links
        linked("Paris in France on the Sei", "Paris in Fran"),  # 13/26 = 50 %
        linked("Paris and Berlin are far apart", "Paris", "Berlin"),
    ],
)
def test_filter_boundaries_are_kept(doc):
    letters = {f"Q:{c}": {"fr": c.upper()} for c in "abcdefghij"}
    names = table({**letters, "Q:Paris in Fran": {"fr": "P"}})
    names.add(NAMES.get("Q:Paris"))
    names.add(NAMES.get("Q:Berlin"))
    sw = Switcher(names, settings=SMALL)
    out = sw.process(doc)
    assert sw.stats.sentences_kept == 1, out.dropped
    assert filter_reason(doc, SMALL, _tag_pattern(SMALL)) is None


def test_entity_reasons_and_english_stays_untagged():
    text = "Paris, Atlantis, Lemuria, Nowhere and Berlin are places."
    doc = LinkedText(
        "d",
        text,
        (
            Link(0, 5, "Paris (city)"),  # mapped through the title index
            Link(7, 15, "Atlantis"),  # title not in the index
            Link(17, 24, "", "Q:Lemuria"),  # QID without names
            Link(26, 33, "", "Q:Nowhere"),  # only a blank label in a configured language
            Link(38, 44, "", "Q:Berlin"),
        ),
    )
    index = DictIndex({"Paris (city)": "Q:Paris"})
    sw = Switcher(NAMES, index, SMALL)
    out = sw.process(doc)
    assert sw.stats.entity_reasons == {
        "unmapped_title": 1,
        "qid_not_in_label_table": 1,
        "empty_label": 1,
    }
    assert sw.stats.links == 5 and sw.stats.entities_mapped == 2
    assert out.en_rows == [
        EntityCSEnRow(
            id="d",
            en_sentence="<en>Paris</en>, Atlantis, Lemuria, Nowhere and <en>Berlin</en> are places.",
        )
    ]
    # Paris: fr de es ja; Berlin: fr de ja → candidates fr de ja
    assert [r.language for r in out.cs_rows] == ["fr", "de", "ja"]
    ja = out.cs_rows[2].cs_sentence
    assert ja == "<ja>パリ</ja>, Atlantis, Lemuria, Nowhere and <ja>ベルリン</ja> are places."
    assert [(r.language, r.qid, r.switched_surface) for r in out.entity_rows][-2:] == [
        ("ja", "Q:Paris", "パリ"),
        ("ja", "Q:Berlin", "ベルリン"),
    ]
    # without a title index the titled link is unmapped too
    sw2 = Switcher(NAMES, None, SMALL)
    sw2.process(doc)
    assert sw2.stats.entity_reasons["unmapped_title"] == 2


def test_aliases_only_when_enabled():
    names = table({"Q1": {"fr": "Lutèce"}}, {"Q1": {"fr": ("Paname", "Ville Lumière")}})
    doc = LinkedText("a", "Paris is the capital city.", (Link(0, 5, "", "Q1"),))
    base = SwitchSettings(languages=("fr",), segment=False)
    out = Switcher(names, settings=base).process(doc)
    assert [r.switched_surface for r in out.entity_rows] == ["Lutèce"]
    with_aliases = SwitchSettings(languages=("fr",), segment=False, use_aliases=True)
    picked = set()
    for k in range(60):
        d = LinkedText(f"a{k}", doc.text, doc.links)
        picked |= {
            r.switched_surface
            for r in Switcher(names, settings=with_aliases).process(d).entity_rows
        }
    assert picked == {"Lutèce", "Paname", "Ville Lumière"}
    # an alias alone makes a language available only with aliases on
    only_alias = table({"Q1": {}}, {"Q1": {"fr": ("Paname",)}})
    assert Switcher(only_alias, settings=base).process(doc).dropped[0].reason == "no_mapped_entity"
    assert Switcher(only_alias, settings=with_aliases).process(doc).cs_rows[0].cs_sentence == (
        "<fr>Paname</fr> is the capital city."
    )


# ----------------------------------------------------------------------------- segmentation


@pytest.mark.parametrize(
    ("text", "surfaces", "starts", "expected"),
    [
        ("One here. Two there.", ["here"], [10], ["One here.", "Two there."]),
        # a cut inside a link merges the sentences it crosses
        ("Go to St. Louis now. Then stop.", ["St. Louis"], [10, 21], ["Go to St. Louis now.", "Then stop."]),
        ("A b. C d. E f.", ["b. C d. E"], [5, 10], ["A b. C d. E f."]),
        # blank pieces are skipped, edges trimmed, cuts at 0 or the end ignored
        ("  First one.   \n  Second.  ", ["First"], [0, 15, 27], ["First one.", "Second."]),
    ],
)  # fmt: skip
def test_split_linked(text, surfaces, starts, expected):
    doc = linked(text, *surfaces, id="p")
    got = split_linked(doc, starts)
    assert [g.text for g in got] == expected
    assert [g.id for g in got] == [f"p#{k}" for k in range(len(expected))]
    surf = [g.text[x.start : x.end] for g in got for x in g.links]
    assert surf == [text[x.start : x.end] for x in doc.links]


def test_spacy_segmentation_never_cuts_a_link():
    text = "The band Panic! at the Disco played in Paris. They left for Berlin."
    starts = spacy_sentence_starts(text)
    link_start = text.index("Panic!")
    link_end = link_start + len("Panic! at the Disco")
    assert any(link_start < c < link_end for c in starts)  # spaCy itself cuts inside the link
    doc = linked(text, ("Panic! at the Disco", "Q:Panic"), "Paris", "Berlin", id="doc")
    names = table(
        {"Q:Panic": {"fr": "Panic!"}, **{q: NAMES.get(q).labels for q in ("Q:Paris", "Q:Berlin")}}
    )
    sw = Switcher(names, settings=SwitchSettings(languages=("fr", "de")))
    out = sw.process(doc)
    assert [r.en_sentence for r in out.en_rows] == [
        "The band <en>Panic! at the Disco</en> played in <en>Paris</en>.",
        "They left for <en>Berlin</en>.",
    ]
    assert [r.id for r in out.en_rows] == ["doc#0", "doc#1"]
    assert sw.stats.sentences_read == 2 and sw.stats.sentences_kept == 2


@pytest.mark.parametrize(
    "settings",
    [
        SwitchSettings(languages=("fr",), segment_language="sw"),
        SwitchSettings(languages=("fr",), spacy_pipeline="no_such_spacy_package_xyz"),
    ],
)
def test_unloadable_segmenter_is_a_reason_not_a_crash(settings):
    sw = Switcher(NAMES, settings=settings)
    out = sw.process(linked("Paris is the capital of France. Yes.", "Paris", id="doc"))
    assert out.dropped == [EntityCSDroppedRow("doc", "segmenter_unavailable")]
    assert sw.stats.documents_dropped == {"segmenter_unavailable": 1}
    assert sw.stats.sentences_read == 0


@pytest.mark.parametrize(
    ("markup", "segment", "dropped"),
    [
        ({"list": 1}, True, 2),
        ({"table_row": 1}, False, 1),
        ({"list": 0, "template": 3}, True, 0),
        ({}, False, 0),
    ],
)
def test_flagged_list_and_table_records_are_dropped(markup, segment, dropped):
    text = "Paris is the capital of France. Berlin is the capital of Germany."
    base = linked(text, "Paris", "France", "Berlin", id="w:1")
    doc = LinkedText(base.id, base.text, base.links, markup=markup)
    sw = Switcher(NAMES, settings=SwitchSettings(languages=("fr", "de"), segment=segment))
    out = sw.process(doc)
    assert sw.stats.sentences_dropped.get("table_or_list_markup", 0) == dropped
    assert len(out.en_rows) == sw.stats.sentences_read - dropped
    assert sw.stats.input_markup == {k: v for k, v in markup.items() if v}


def test_blank_record_is_counted():
    sw = Switcher(NAMES, settings=SMALL)
    assert sw.process(LinkedText("e", "   ", ())).dropped == [EntityCSDroppedRow("e", "empty_text")]
    assert sw.stats.documents_dropped == {"empty_text": 1}


# ----------------------------------------------------------------------------- languages


def _entity(qid: str, langs: str) -> MappedEntity:
    return MappedEntity(Link(0, 1), qid, {lang: (f"{qid}-{lang}",) for lang in langs.split()})


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([], ()),
        (["fr de es"], ("fr", "de", "es")),
        (["fr de es", "de es ja"], ("de", "es")),
        (["es fr", "ja fr es de"], ("fr", "es")),  # configured order, not the entities'
        (["fr", "de"], ()),
        (["fr de ja", "fr ja", "ja de fr"], ("fr", "ja")),
        (["fr ceb", "ceb"], ()),  # ceb is not configured
    ],
)
def test_candidate_languages_intersection(entities, expected):
    ents = [_entity(f"Q{i}", langs) for i, langs in enumerate(entities)]
    assert candidate_languages(ents, SMALL) == expected


def test_sampling_is_seeded_by_sentence_id_only():
    s = SwitchSettings(segment=False)
    cands = s.languages[:40]
    a = [sample_languages(cands, f"id{k}", s) for k in range(200)]
    assert a == [sample_languages(cands, f"id{k}", s) for k in range(200)]
    assert all(len(x) == 5 and len(set(x)) == 5 and set(x) <= set(cands) for x in a)
    assert all(list(x) == [c for c in cands if c in x] for x in a)  # configured order
    assert len(set(a)) > 150  # depends on the id
    other = SwitchSettings(segment=False, seed=1)
    assert [sample_languages(cands, f"id{k}", other) for k in range(200)] != a
    assert sample_languages(("fr", "de"), "x", s) == ("fr", "de")  # fewer than 5: all
    three = SwitchSettings(segment=False, max_languages=3)
    assert len(sample_languages(cands, "x", three)) == 3
    # every candidate gets picked sometime
    assert set().union(*a) == set(cands)


def _docs(n: int) -> list[LinkedText]:
    rng = random.Random(7)
    pool = ["Paris", "France", "Berlin"]
    out = []
    for k in range(n):
        picks = rng.sample(pool, rng.randint(1, 3))
        text = "In the news, " + " and ".join(picks) + " were mentioned today."
        out.append(linked(text, *picks, id=f"n{k}"))
    return out


def test_order_and_sharding_do_not_change_output():
    docs = _docs(300)
    settings = SwitchSettings(languages=("fr", "de", "es", "ja"), segment=False, max_languages=2)

    def run(batch):
        sw = Switcher(NAMES, settings=settings)
        rows = []
        for d in batch:
            out = sw.process(d)
            rows += out.en_rows + out.cs_rows + out.entity_rows + out.dropped
        return rows, sw.stats

    rows, stats = run(docs)
    shuffled = docs[:]
    random.Random(3).shuffle(shuffled)
    rows2, stats2 = run(shuffled)
    key = repr  # records of several tables: their repr names the type and every field
    assert sorted(rows, key=key) == sorted(rows2, key=key)
    assert stats.as_dict() == stats2.as_dict()
    # two shards merged give the same counts
    half_a, sa = run(docs[::2])
    half_b, sb = run(docs[1::2])
    merged = SwitchStats()
    merged.merge(sa)
    merged.merge(sb)
    assert merged.as_dict() == stats.as_dict()
    assert sorted(half_a + half_b, key=key) == sorted(rows, key=key)
    assert stats.cs_sentences > 300 and len(stats.language_sentences) == 4


# ----------------------------------------------------------------------------- full FewRel run


def _load_label_tsvs(folder: Path, languages) -> tuple[NameTable, dict[tuple[str, str], str]]:
    """Private reader of the shared TSVs ``QID<TAB>name<TAB>name…``: first name = label.

    Returns the table (label first, other names as aliases) and ``(qid, lang) → label``.
    """
    names = NameTable(tuple(languages))
    labels: dict[tuple[str, str], str] = {}
    for lang in languages:
        path = folder / f"{lang}.txt"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            qid, *found = line.split("\t")
            found = [n.strip() for n in found if n.strip()]
            if found:
                names.add(EntityNames(qid, {lang: found[0]}, {lang: tuple(found[1:])}))
                labels[qid, lang] = found[0]
    return names, labels


@pytest.fixture(scope="module")
def fewrel_run(shared_data):
    folder = shared_data / "entities" / "wikidata-labels"
    langs = sorted(p.stem for p in folder.glob("*.txt"))
    names, labels = _load_label_tsvs(folder, langs)
    docs = [r for r in iter_fewrel(shared_data / "entities" / "fewrel" / "val_wiki.json")]
    settings = SwitchSettings(segment=False)
    sw = Switcher(names, settings=settings)
    outs = [sw.process(d) for d in docs if isinstance(d, LinkedText)]
    return docs, names, labels, settings, sw.stats, outs


@pytest.mark.slow
@pytest.mark.shared_data
def test_fewrel_reads_every_record(fewrel_run):
    docs = fewrel_run[0]
    assert len(docs) == 11200
    assert not [d for d in docs if isinstance(d, Reject)]
    assert len({d.id for d in docs}) == 11200
    assert all(len(d.links) >= 2 and len({x.qid for x in d.links}) == 2 for d in docs)


@pytest.mark.slow
@pytest.mark.shared_data
def test_fewrel_switch_invariants(fewrel_run):
    docs, names, labels, settings, stats, outs = fewrel_run
    by_id = {d.id: d for d in docs}
    tag_re = _tag_pattern(settings)
    n_cs = n_ent = 0
    for out in outs:
        assert len(out.en_rows) + len(out.dropped) == 1
        for en in out.en_rows:
            doc = by_id[en.id]
            assert filter_reason(doc, settings, tag_re) is None  # kept sentences pass the filters
            outside, en_ents = tagged(en.en_sentence, "en")
            assert 1 <= len(en_ents) <= len(doc.links) <= 10
            assert (
                "".join(p for pair in zip(outside, en_ents + [""], strict=True) for p in pair)
                == doc.text
            )
            cs = [r for r in out.cs_rows if r.id == en.id]
            langs = [r.language for r in cs]
            assert 1 <= len(langs) <= 5 and len(set(langs)) == len(langs)
            assert langs == [x for x in settings.languages if x in langs]
            for row in cs:
                lang = row.language
                assert row.en_sentence == en.en_sentence
                cs_outside, cs_ents = tagged(row.cs_sentence, lang)
                assert cs_outside == outside  # identical outside the entity tags
                ents = [e for e in out.entity_rows if e.id == en.id and e.language == lang]
                assert [e.switched_surface for e in ents] == cs_ents
                assert [e.en_surface for e in ents] == en_ents
                for e in ents:  # the label, as the table gives it
                    assert e.switched_surface == names.get(e.qid).labels[lang]
                    assert e.switched_surface == labels[e.qid, lang]
                n_cs += 1
                n_ent += len(ents)
        for drop in out.dropped:
            assert drop.reason in SENTENCE_REASONS
    assert n_cs == stats.cs_sentences == sum(len(o.cs_rows) for o in outs)
    assert n_ent == stats.entities_switched == sum(len(o.entity_rows) for o in outs)
    assert stats.sentences_read == 11200
    assert stats.sentences_kept + sum(stats.sentences_dropped.values()) == 11200
    assert stats.sentences_kept == sum(len(o.en_rows) for o in outs) > 1000
    assert set(stats.language_sentences) <= set(XLMR_TARGET_LANGUAGES)
    assert not {"ceb", "ilo", "war", "yo"} & set(stats.language_sentences)  # not XLM-R languages
    d = stats.as_dict()
    assert sum(v["sentences"] for v in d["per_language"].values()) == stats.cs_sentences
    assert sum(v["entities"] for v in d["per_language"].values()) == stats.entities_switched


@pytest.mark.slow
@pytest.mark.shared_data
def test_fewrel_run_is_deterministic_and_order_free(fewrel_run):
    docs, names, labels, settings, stats, outs = fewrel_run
    linked_docs = [d for d in docs if isinstance(d, LinkedText)]
    sw = Switcher(names, settings=settings)
    again = [sw.process(d) for d in reversed(linked_docs)][::-1]
    assert again == outs
    assert sw.stats.as_dict() == stats.as_dict()
