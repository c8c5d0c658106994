"""Wikitext reader: each construct, link offsets, unbalanced markup, files, and the shared pages."""

from __future__ import annotations

import bz2
import inspect
import random
from pathlib import Path

import pytest

from xproj.generators.entitycs.records import LinkedText
from xproj.generators.entitycs.wikitext import (
    FLAG_KEYS,
    article_paragraphs,
    is_markup_block,
    iter_wikitext,
    normalize_title,
    redirect_target,
    residue_counts,
)
from xproj.schemas.errors import ConfigError, InputFormatError, Reject


def _parse(src: str, fmt: str = "mediawiki") -> list[LinkedText]:
    items = list(article_paragraphs(src, "T", file="t.wiki", fmt=fmt))
    assert all(isinstance(x, LinkedText) for x in items), items
    return items


def _links(item: LinkedText) -> list[tuple[str, str]]:
    return [(item.text[link.start : link.end], link.target) for link in item.links]


# (name, wikitext, paragraph texts, links per paragraph as (surface, target), markup counts
# expected somewhere in the article: {kind: total})
CASES = [
    ("link", "A [[Paris]] b.", ["A Paris b."], [[("Paris", "Paris")]], {}),
    ("piped", "[[Paris|the city]] is", ["the city is"], [[("the city", "Paris")]], {}),
    (
        "section",
        "See [[Paris#History|its history]].",
        ["See its history."],
        [[("its history", "Paris")]],
        {},
    ),
    ("section unpiped", "[[Paris#History]]", ["Paris#History"], [[("Paris#History", "Paris")]], {}),
    (
        "underscores kept",
        "[[New_York_City]]",
        ["New_York_City"],
        [[("New_York_City", "New_York_City")]],
        {},
    ),
    (
        "trail",
        "[[cat]]s and [[dog]]'s [[Foo]]Bar",
        ["cats and dog's FooBar"],
        [[("cats", "cat"), ("dog", "dog"), ("Foo", "Foo")]],
        {},
    ),
    (
        "trail after label",
        "the [[Paris|capital]]s.",
        ["the capitals."],
        [[("capitals", "Paris")]],
        {},
    ),
    ("trail stops at nowiki", "[[cat]]<nowiki/>s", ["cats"], [[("cat", "cat")]], {"nowiki": 1}),
    (
        "pipe trick",
        "[[Paris, Texas|]] and [[Mercury (planet)|]]",
        ["Paris and Mercury"],
        [[("Paris", "Paris, Texas"), ("Mercury", "Mercury (planet)")]],
        {"pipe_trick": 2},
    ),
    ("extra pipe", "[[A|b|c]]", ["c"], [[("c", "A")]], {"link_extra_pipe": 1}),
    ("label over lines", "[[A|b\nc]] d", ["b c d"], [[("b c", "A")]], {}),
    ("label in brackets", "[[A|[b]]] c", ["[b] c"], [[("[b]", "A")]], {}),
    (
        "label markup",
        "''[[Foo|'''Bar''' {{lang|fr|baz}}]]''",
        ["Bar baz"],
        [[("Bar baz", "Foo")]],
        {"bold_italic": 4, "template_text": 1},
    ),
    (
        "label spaces trimmed",
        "x [[Foo| bar ]] y",
        ["x bar y"],
        [[("bar", "Foo")]],
        {},
    ),
    # the space before the label is taken back (punctuation after a removal): offsets follow
    ("label after removal", "a <ref>x</ref> [[B|, c]]", ["a, c"], [[(", c", "B")]], {}),
    (
        "file with nested links",
        "A [[File:X.jpg|thumb|A [[cat]] on a [[mat]].]] b.",
        ["A b."],
        [[]],
        {"file": 1},
    ),
    ("image and media", "[[Image:X.png|x]]a[[Media:Y.ogg]]", ["a"], [[]], {"file": 2}),
    ("german file", "[[Datei:X.jpg|mini|[[Y]]]]a", ["a"], [[]], {"file": 1}),
    ("category", "Text.[[Category:Foo|sort key]]", ["Text."], [[]], {"category": 1}),
    (
        "interlanguage",
        "Text. [[de:Katze]][[zh-min-nan:Niau]]",
        ["Text."],
        [[]],
        {"interlanguage": 2},
    ),
    ("interwiki", "a [[wikt:cat|cat]] b", ["a cat b"], [[]], {"interwiki": 1}),
    ("other namespace", "a [[Wikipedia:Manual|manual]]", ["a manual"], [[]], {"namespace_link": 1}),
    ("colon category", "[[:Category:Cats]]", ["Category:Cats"], [[]], {"namespace_link": 1}),
    ("colon article", "[[:Paris]]", ["Paris"], [[("Paris", "Paris")]], {}),
    ("anchor", "[[#History|see below]]", ["see below"], [[]], {"link_anchor": 1}),
    (
        "colon in title",
        "[[Star Wars: A New Hope]]",
        ["Star Wars: A New Hope"],
        [[("Star Wars: A New Hope", "Star Wars: A New Hope")]],
        {},
    ),
    ("entity in target", "[[AT&amp;T]]", ["AT&T"], [[("AT&T", "AT&T")]], {"entity": 1}),
    (
        "nested templates over lines",
        "A{{Infobox|x={{b|{{c}}}}\n|y=[[Z]]\n\n|z=}} b.",
        ["A b."],
        [[]],
        {"template": 1},
    ),
    ("template parameter", "{{{1|x}}}y", ["y"], [[]], {"template": 1}),
    ("comment in template", "a{{x|<!-- }} -->b}} c", ["a c"], [[]], {"template": 1}),
    ("parser function", "a{{#if:x|[[Y]]|z}} b", ["a b"], [[]], {"template": 1}),
    (
        "convert",
        "It is {{convert|5|km|mi}} long.",
        ["It is 5 km long."],
        [[]],
        {"template_text": 1},
    ),
    ("convert range", "{{cvt|5|to|8|km2}}", ["5 to 8 km²"], [[]], {}),
    ("lang", "{{lang|fr|''le chat''}}", ["le chat"], [[]], {"template_text": 1}),
    ("lang-xx", "'''Bodmin''' ({{lang-kw|Bosvena}}) is", ["Bodmin (Bosvena) is"], [[]], {}),
    (
        "ill",
        "by {{ill|Hans Meyer|de|Hans Meyer (Maler)|lt=Meyer}}.",
        ["by Meyer."],
        [[("Meyer", "Hans Meyer")]],
        {},
    ),
    ("nowrap keeps links", "{{nowrap|[[Foo]] bar}}", ["Foo bar"], [[("Foo", "Foo")]], {}),
    ("birth date", "born {{birth date|1950|1|5}}", ["born January 5, 1950"], [[]], {}),
    ("birth date dmy", "born {{Birth date|1950|1|5|df=y}}", ["born 5 January 1950"], [[]], {}),
    (
        "death date and age",
        "died {{death date and age|2001|10|1|1925|11|2}}",
        ["died October 1, 2001 (aged 75)"],
        [[]],
        {},
    ),
    ("as of", "{{As of|2010}}, the town", ["As of 2010, the town"], [[]], {}),
    ("circa", "({{c.|lk=no|965|1040}})", ["(c. 965 – c. 1040)"], [[]], {}),
    ("dashes", "1990{{ndash}}95 and a{{snd}}b", ["1990–95 and a – b"], [[]], {"template_text": 2}),
    (
        "ref",
        "Paris<ref name=a>{{cite web|url=x|title=[[Y]]}}</ref> is big<ref name=a/>.",
        ["Paris is big."],
        [[]],
        {"ref": 2},
    ),
    ("space before punctuation", "Paris <ref>x</ref>.", ["Paris."], [[]], {"ref": 1}),
    (
        "references",
        "Text.\n<references>\n<ref name=a>x</ref>\n</references>",
        ["Text."],
        [[]],
        {"ref": 1},
    ),
    ("empty parentheses", "Bodmin ({{IPA|x}}<ref>y</ref>) is", ["Bodmin is"], [[]], {}),
    (
        "html tags",
        "H<sub>2</sub>O and <small>[[X]]</small><br/>end",
        ["H2O and X end"],
        [[("X", "X")]],
        {"html_tag": 5},
    ),
    ("math", "the sum <math>x^2 | y</math> holds", ["the sum holds"], [[]], {"html_block": 1}),
    ("gallery", "<gallery>\nFile:A.jpg|[[A]]\n</gallery>\nText", ["Text"], [[]], {"html_block": 1}),
    ("pre", "<pre>\n{{x}} [[y]]\n</pre>\nText", ["Text"], [[]], {"html_block": 1}),
    ("nowiki", "<nowiki>''a'' [[b]]</nowiki>", ["''a'' [[b]]"], [[]], {"nowiki": 1}),
    ("comment", "A<!-- [[hidden]] -->B", ["AB"], [[]], {"comment": 1}),
    ("comment over paragraphs", "A <!-- x\n\ny --> B", ["A B"], [[]], {"comment": 1}),
    ("unknown tag stays", "a <foo> b < c", ["a <foo> b < c"], [[]], {}),
    (
        "table",
        "Before.\n{| class=x\n|-\n| [[A]] || b\n|}\nAfter.",
        ["Before.", "After."],
        [[], []],
        {"table": 1},
    ),
    (
        "nested table",
        "{|\n| a\n{|\n| b\n|}\n| {{x|\n|}}\n|}\nAfter.",
        ["After."],
        [[]],
        {"table": 1},
    ),
    ("indented table", ":{|\n| a\n|}\nText", ["Text"], [[]], {"table": 1}),
    ("inline table", "{{x}}{|\n| a\n|}\nText", ["Text"], [[]], {"table": 1}),
    (
        "external link",
        "See [http://x.org the ''site''] now.",
        ["See the site now."],
        [[]],
        {"external_link": 1},
    ),
    ("external link bare", "See [https://x.org].", ["See."], [[]], {"external_link_bare": 1}),
    ("protocol relative", "[//x.org/a b c]", ["b c"], [[]], {"external_link": 1}),
    ("bare url", "At http://x.org/a_b, then", ["At, then"], [[]], {"url": 1}),
    ("brackets", "a [sic] b [1]", ["a [sic] b [1]"], [[]], {}),
    (
        "quotes",
        "'''Bold''' ''it'' '''''both''''' l'amour ''''x''''",
        ["Bold it both l'amour 'x'"],
        [[]],
        {"bold_italic": 8},
    ),
    ("heading", "Intro.\n== History ==\nBody.", ["Intro.", "Body."], [[], []], {"heading": 1}),
    ("heading with comment", "=== H === <!-- c -->\nBody.", ["Body."], [[]], {"heading": 1}),
    ("rule", "A\n----\nB", ["A", "B"], [[], []], {"rule": 1}),
    (
        "list",
        "Intro.\n* one [[A]]\n** two\n# three\n: four\n; five : six\nAfter.",
        ["Intro.", "one A", "two", "three", "four", "five : six", "After."],
        [[], [("A", "A")], [], [], [], [], []],
        {"list": 5},
    ),
    ("list item over lines", "* a {{x|\ny}} b\nText", ["a b", "Text"], [[], []], {"list": 1}),
    ("table row line", "| a || [[B]]", ["a B"], [[("B", "B")]], {"table_row": 1, "table_cell": 1}),
    ("row separator", "|-\nText", ["Text"], [[]], {"table_markup": 1}),
    ("magic word", "__TOC__\nText __NOTOC__", ["Text"], [[]], {"magic_word": 2}),
    (
        "entities",
        "A&nbsp;B &amp; C &mdash; D &#91;1&#93; &#x41;",
        ["A B & C — D [1] A"],
        [[]],
        {"entity": 6},
    ),
    ("invisible characters", "a\u200bb\u00adc\u202fd", ["abc d"], [[]], {}),
    (
        "paragraph lines",
        "Line one\nline two.\n\n  \nNext.",
        ["Line one line two.", "Next."],
        [[], []],
        {},
    ),
    ("spaces", "a   b\tc", ["a b c"], [[]], {}),
    ("unbalanced link", "A [[B and C.", ["A B and C."], [[]], {"unbalanced": 1}),
    (
        "unbalanced link over paragraphs",
        "A [[B\n\nC]] d",
        ["A B", "C d"],
        [[], []],
        {"unbalanced": 2},
    ),
    ("unbalanced template", "A {{B and C.", ["A B and C."], [[]], {"unbalanced": 1}),
    ("stray closers", "A ]] B }} C", ["A B C"], [[]], {"unbalanced": 2}),
    ("unclosed ref", "Text<ref>unclosed\nnext line.", ["Text next line."], [[]], {"unbalanced": 1}),
    ("unclosed comment", "Text <!-- never closed\n\nmore", ["Text"], [[]], {"unbalanced": 1}),
    ("unclosed table", "{|\n| a\n\nText", ["Text"], [[]], {"unbalanced": 1, "table": 1}),
    ("invalid link", "[[{{PAGENAME}}]] x", ["x"], [[]], {"link_invalid": 1}),
    ("empty link", "[[ ]] x", ["x"], [[]], {"link_invalid": 1}),
    ("target over lines", "[[A\nB]] c", ["A B c"], [[]], {"link_invalid": 1}),
    ("empty surface", "[[Foo|<ref>x</ref>]] y", ["y"], [[]], {"link_empty": 1}),
    (
        "xml-escaped page",
        "A&lt;ref&gt;x&lt;/ref&gt; [[B]] &amp;amp;",
        ["A B &"],
        [[("B", "B")]],
        {"ref": 1},
    ),
    (
        "counts carried to the next paragraph",
        "{{Infobox|a=b}}\n\nText.\n\n[[Category:A]]",
        ["Text."],
        [[]],
        {"template": 1, "category": 1},
    ),
]


@pytest.mark.parametrize(
    ("src", "texts", "links", "counts"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_entitycs_wikitext_constructs(src, texts, links, counts):
    items = _parse(src)
    assert [x.text for x in items] == texts
    assert [_links(x) for x in items] == links
    total: dict[str, int] = {}
    for item in items:
        for key, value in item.markup.items():
            total[key] = total.get(key, 0) + value
    for key, value in counts.items():
        assert total.get(key, 0) == value, (key, total)


@pytest.mark.parametrize(("src", "texts", "links", "counts"), [c[1:] for c in CASES])
def test_entitycs_wikitext_offsets_exact(src, texts, links, counts):
    """Every link's offsets cut its surface out of the text, and no surface has outer spaces."""
    for item in _parse(src):
        for link in item.links:
            surface = item.text[link.start : link.end]
            assert surface and surface == surface.strip()
        assert item.text == item.text.strip()
        assert "  " not in item.text


_FUZZ_TOKENS = [
    "[[", "]]", "{{", "}}", "{{{", "}}}", "|", "[", "]", "{|", "|}", "\n", "\n\n", "''", "'''",
    "<ref>", "</ref>", "<ref name=a/>", "<!--", "-->", "<math>", "</math>", "<nowiki>",
    "</nowiki>", "==", "* ", "# ", ": ", "File:", "Category:", "de:", ":", "#", "http://x.org",
    "&nbsp;", "&amp;", "word", "Paris", " ", "s", "(", ")", ",", ".", "__TOC__", "<br/>",
    "<small>", "</small>", "convert", "lang", "!!", "-", "----", '<a href="X">', "</a>",
    "&lt;ref&gt;", "é", "\u00a0",
]  # fmt: skip


@pytest.mark.parametrize("fmt", ["mediawiki", "extracted"])
def test_entitycs_wikitext_random_markup_never_breaks(fmt):
    """Random soups of markup: no exception, and every record keeps the reader's promises."""
    rng = random.Random(5)
    seen = 0
    for _ in range(2000):
        src = "".join(rng.choice(_FUZZ_TOKENS) for _ in range(rng.randint(1, 60)))
        for item in article_paragraphs(src, "F", fmt=fmt):
            if isinstance(item, Reject):
                assert item.code in ("XP102", "XP101"), item
                continue
            seen += 1
            assert item.text == item.text.strip() and "  " not in item.text, (src, item)
            assert "\n" not in item.text
            for link in item.links:
                surface = item.text[link.start : link.end]
                assert surface and surface == surface.strip(), (src, item)
                assert link.target and not any(c in link.target for c in "[]{}|\n"), (src, link)
    assert seen > 1000


def test_entitycs_wikitext_ids_sources_and_flags():
    src = "{{Infobox\n|a=b\n}}\n'''X''' is\na [[Y]].\n\n== H ==\n* item\n\nLast."
    items = _parse(src)
    assert [(x.id, x.source) for x in items] == [
        ("T:1", "t.wiki:4"),
        ("T:2", "t.wiki:8"),
        ("T:3", "t.wiki:10"),
    ]
    assert [is_markup_block(x) for x in items] == [False, True, False]
    assert items[1].markup["list"] == 1 and "list" in FLAG_KEYS
    assert items[0].markup["template"] == 1  # the infobox before the lead
    assert items[1].markup["heading"] == 1  # the heading before the list


def test_entitycs_wikitext_flattened_page():
    src = "Lead [[A]] text. ==History== Body one. ===Sub=== Body two. ==Links== * [[B]] * c"
    items = _parse(src)
    assert [x.text for x in items] == ["Lead A text.", "Body one.", "Body two.", "B", "c"]
    assert sum(x.markup.get("heading", 0) for x in items) == 3
    assert [is_markup_block(x) for x in items] == [False, False, False, True, True]
    assert {x.source for x in items} == {"t.wiki:1"}


@pytest.mark.parametrize(
    ("src", "code", "words"),
    [
        ("#REDIRECT [[Toronto]]", "XP102", "redirect to 'Toronto'"),
        ("#redirect: [[Foo#Bar|x]]\n[[Category:R]]", "XP102", "redirect to 'Foo'"),
        ("{{Infobox}}\n[[Category:X]]\n== H ==", "XP102", "no paragraph text"),
        ("{{a|" * 60 + "}}" * 60, None, None),  # deep templates are just removed
        ("{{lang|x|" * 60 + "y" + "}}" * 60, "XP101", "nested more than"),
    ],
)
def test_entitycs_wikitext_article_rejects(src, code, words):
    items = list(article_paragraphs(src, "T", file="t.wiki"))
    if code is None:
        assert items and all(isinstance(x, Reject) for x in items)  # nothing left, but no crash
        return
    assert len(items) == 1 and isinstance(items[0], Reject)
    assert items[0].code == code and words in items[0].reason
    assert items[0].stage == "read" and items[0].source == "t.wiki"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("new_York_City", "New York City"),
        ("  many   spaces_ here ", "Many spaces here"),
        ("AT&amp;T", "AT&T"),
        ("Paris#History", "Paris"),
        (":Category:Cats", "Category:Cats"),
        ("éclair", "Éclair"),
        ("ßtraße", "ßtraße"),  # upper-casing ß gives two letters: MediaWiki keeps it
        ("a%20b", "A b"),
        ("100% Pure", "100% Pure"),
        ("e\u0301te", "\u00c9te"),  # NFC, then upper-case
        ("iPod", "IPod"),
        ("", ""),
        ("#Section", ""),
    ],
)
def test_entitycs_wikitext_normalize_title(title, expected):
    assert normalize_title(title) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#REDIRECT [[Toronto]]", "Toronto"),
        ("  #Redirect [[Foo_bar#Sec]]", "Foo_bar"),
        ("Text [[Toronto]]", None),
        ("* #REDIRECT [[X]]", None),
    ],
)
def test_entitycs_wikitext_redirect_target(text, expected):
    assert redirect_target(text) == expected


def test_entitycs_wikitext_residue_counts():
    counts = residue_counts(["clean", "a [[b", "x | y |", "<REF>", "{{ }}"])
    assert counts == {
        "[[": 1,
        "]]": 0,
        "{{": 1,
        "}}": 1,
        "|": 2,
        "<ref": 1,
        "texts": 5,
        "texts_with_residue": 4,
    }


def test_entitycs_wikitext_extracted_lines():
    src = (
        'The <a href="New%20York%20City">city</a>s and [[Paris|the capital]].\n'
        'A <a href="https://x.org">site</a> and &lt;b&gt; text.\n'
        "\n"
        "* a list [[Item]]"
    )
    items = _parse(src, fmt="extracted")
    assert [x.text for x in items] == [
        "The citys and the capital.",
        "A site and <b> text.",
        "a list Item",
    ]
    assert _links(items[0]) == [("citys", "New York City"), ("the capital", "Paris")]
    assert [x.source for x in items] == ["t.wiki:1", "t.wiki:2", "t.wiki:4"]
    assert is_markup_block(items[2])


def test_entitycs_wikitext_extracted_escaped_anchor():
    items = _parse("x &lt;a href=&quot;Foo%20bar&quot;&gt;foo&lt;/a&gt; y", fmt="extracted")
    assert [x.text for x in items] == ["x foo y"]
    assert _links(items[0]) == [("foo", "Foo bar")]


# ---- files ---------------------------------------------------------------------------------

DOCS = (
    '<doc id="12" url="https://en.wikipedia.org/wiki?curid=12" title="Anarchism">\n'
    "Anarchism\n"
    "\n"
    'Anarchism is a <a href="political%20philosophy">political philosophy</a>.\n'
    "It rejects [[hierarchy|hierarchies]].\n"
    "</doc>\n"
    '<doc id="25" url="https://en.wikipedia.org/wiki?curid=25" title="Autism">\n'
    "Autism\n"
    "\n"
    "</doc>\n"
    '<doc id="39" title="Albedo">\n'
    "Albedo\n"
    "Albedo is a [[measure]].\n"
)


def test_entitycs_wikitext_extracted_file(tmp_path: Path):
    path = tmp_path / "wiki_00"
    path.write_text(DOCS, encoding="utf-8")
    items = list(iter_wikitext(path))
    texts = [(x.id, x.source, x.text) for x in items if isinstance(x, LinkedText)]
    assert texts == [
        ("Anarchism:1", f"{path}:4", "Anarchism is a political philosophy."),
        ("Anarchism:2", f"{path}:5", "It rejects hierarchies."),
        ("Albedo:1", f"{path}:13", "Albedo is a measure."),
    ]
    rejects = [x for x in items if isinstance(x, Reject)]
    assert [(r.code, r.locator) for r in rejects] == [("XP102", "line 8"), ("XP101", "line 11")]
    assert "Autism" in rejects[0].reason and "not closed" in rejects[1].reason
    assert items[0].links[0].target == "political philosophy"


def test_entitycs_wikitext_extracted_without_docs(tmp_path: Path):
    """A long file without <doc> blocks is read in chunks; numbers and lines run on."""
    path = tmp_path / "plain.txt"
    path.write_text("".join(f"Line {i} of [[T{i}]].\n\n" for i in range(1, 1501)), "utf-8")
    items = list(iter_wikitext(path, fmt="extracted"))
    assert all(isinstance(x, LinkedText) for x in items)
    assert [x.id for x in items] == [f"plain:{i}" for i in range(1, 1501)]
    assert items[1200].source == f"{path}:2401" and items[1200].text == "Line 1201 of T1201."
    assert _links(items[-1]) == [("T1500", "T1500")]


def test_entitycs_wikitext_compressed_file(tmp_path: Path):
    path = tmp_path / "AA" / "wiki_00.bz2"
    path.parent.mkdir()
    path.write_bytes(bz2.compress(DOCS.encode()))
    ids = [x.id for x in iter_wikitext(tmp_path) if isinstance(x, LinkedText)]
    assert ids == ["Anarchism:1", "Anarchism:2", "Albedo:1"]


def test_entitycs_wikitext_folder(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "Bodmin.txt").write_text("'''Bodmin''' is in [[Cornwall]].\n\nMore.", "utf-8")
    (tmp_path / "sub" / "Truro.wiki").write_text("[[Truro]] too.", "utf-8")
    (tmp_path / ".hidden").write_text("[[Ignored]]", "utf-8")
    (tmp_path / "latin1.txt").write_bytes("ok\nline two\ncaf\xe9".encode("latin-1"))
    (tmp_path / "dump.xml").write_text('<mediawiki xmlns="x">\n<page/>', "utf-8")
    items = list(iter_wikitext(tmp_path, fmt="auto"))
    got = [(x.id, x.text) if isinstance(x, LinkedText) else (x.code, x.locator) for x in items]
    assert got == [
        ("Bodmin:1", "Bodmin is in Cornwall."),
        ("Bodmin:2", "More."),
        ("XP109", "line 1"),
        ("XP101", "line 3"),
        ("sub/Truro:1", "Truro too."),
    ]
    assert items[0].links[0].target == "Cornwall"
    only = list(iter_wikitext(tmp_path, pattern="*.wiki"))
    assert [x.id for x in only] == ["sub/Truro:1"]


def test_entitycs_wikitext_streams_and_rejects_unreadable(tmp_path: Path):
    """Files are opened one at a time: one removed after the first paragraph is a Reject."""
    (tmp_path / "a.txt").write_text("First.", "utf-8")
    (tmp_path / "b.txt").write_text("Second.", "utf-8")
    stream = iter_wikitext(tmp_path)
    assert inspect.isgenerator(stream)
    assert next(stream).text == "First."
    (tmp_path / "b.txt").unlink()
    rest = list(stream)
    assert len(rest) == 1 and isinstance(rest[0], Reject)
    assert rest[0].code == "XP110" and rest[0].source.endswith("b.txt")


def test_entitycs_wikitext_bad_arguments(tmp_path: Path):
    with pytest.raises(InputFormatError) as info:
        list(iter_wikitext(tmp_path / "missing"))
    assert info.value.code == "XP110"
    with pytest.raises(ConfigError) as info2:
        list(iter_wikitext(tmp_path, fmt="html"))
    assert info2.value.code == "XP301"


# ---- the shared MediaWiki pages --------------------------------------------------------------


@pytest.mark.shared_data
def test_entitycs_wikitext_shared_pages(shared_data: Path):
    folder = shared_data / "entities" / "wikitext"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    items = list(iter_wikitext(folder))
    paras = [x for x in items if isinstance(x, LinkedText)]
    rejects = [x for x in items if isinstance(x, Reject)]
    files = {p.name for p in folder.iterdir() if p.is_file()}
    read = {x.source.rsplit(":", 1)[0].rsplit("/", 1)[-1] for x in paras}
    rejected = {r.source.rsplit("/", 1)[-1] for r in rejects}
    # every page gives paragraphs or a reject, never nothing
    assert read | rejected == files
    assert all(r.code == "XP102" for r in rejects), rejects  # redirect / tables only
    assert len(paras) > 1500 and sum(len(x.links) for x in paras) > 4000
    for item in paras:
        for link in item.links:
            surface = item.text[link.start : link.end]
            assert surface and surface == surface.strip() and link.target, (item.id, link)
    residue = residue_counts(x.text for x in paras)
    for marker in ("[[", "]]", "{{", "}}", "<ref"):
        assert residue[marker] == 0, (marker, residue)
    # a "|" may only survive where the page itself is broken, and that is counted
    for item in paras:
        if "|" in item.text:
            assert item.markup.get("unbalanced", 0) > 0, item.id
