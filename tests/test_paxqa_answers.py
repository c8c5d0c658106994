"""Character-level answer projection (xproj.generators.paxqa.answers) with hand-made alignments."""

from __future__ import annotations

import pytest

from xproj.generators.paxqa.answers import (
    ANSWER_POLICY,
    CHARACTER_POLICY,
    REASONS,
    _merge_orphans,
    align_contexts,
    glued_fragments,
    pair_sentences,
    paragraph_links,
    policy_for,
    project_answer,
    sentence_pairing,
    split_clitics,
    trim_span,
    whole_words,
)
from xproj.schemas.records import Alignment, TokenSpan
from xproj.text.words import CharacterScriptTokenizer, tokenizer_for

EN = "The Panthers won 24 games in 2015, led by Cam Newton (QB)."
DE = "Die Panthers gewannen 2015 24 Spiele, angeführt von Cam Newton (QB)."


def _tokens(text: str, lang: str):
    return tokenizer_for(lang).tokenize(text)


def _idx(tokens, word: str, nth: int = 0) -> int:
    return [k for k, t in enumerate(tokens) if t[0] == word][nth]


@pytest.fixture(scope="module")
def toks():
    return _tokens(EN, "en"), _tokens(DE, "de")


def _links(en, de, pairs):
    return {(_idx(en, a), _idx(de, b)) for a, b in pairs}


@pytest.mark.parametrize(
    ("answer", "pairs", "expected"),
    [
        ("Cam Newton", [("Cam", "Cam"), ("Newton", "Newton")], "Cam Newton"),
        ("24 games", [("24", "24"), ("games", "Spiele")], "24 Spiele"),
        ("Panthers", [("Panthers", "Panthers")], "Panthers"),
        # partial English token: the whole token is projected
        ("anther", [("Panthers", "Panthers")], "Panthers"),
        # unaligned "games", but "24" is anchored by identical surface
        ("24", [], "24"),
        # brackets kept when balanced inside the span
        (
            "Cam Newton (QB)",
            [("Cam", "Cam"), ("(", "("), ("QB", "QB"), (")", ")")],
            "Cam Newton (QB)",
        ),
    ],
)
def test_projects_and_substring_invariant(toks, answer, pairs, expected):
    en, de = toks
    out = project_answer(EN, EN.index(answer), answer, DE, en, de, _links(en, de, pairs))
    assert out.projected, out.detail
    assert out.text == expected
    assert DE[out.start : out.start + len(out.text)] == out.text


def test_trailing_comma_trimmed(toks):
    en, de = toks
    links = _links(en, de, [("games", "Spiele"), ("games", ",")])
    out = project_answer(EN, EN.index("games"), "games", DE, en, de, links)
    assert out.text == "Spiele"
    assert DE[out.start : out.start + len(out.text)] == out.text


@pytest.mark.parametrize(
    ("start", "answer", "pairs", "reason"),
    [
        (0, "   ", [], "empty_answer"),
        (0, "Panthers", [], "answer_mismatch"),
        (-1, "T", [], "answer_mismatch"),
        (EN.index("led"), "led", [], "no_alignment"),
        (EN.index("led"), "led", [("led", ",")], "punctuation_only"),
    ],
)
def test_rejects_with_reason(toks, start, answer, pairs, reason):
    en, de = toks
    out = project_answer(EN, start, answer, DE, en, de, _links(en, de, pairs))
    assert not out.projected
    assert out.reason == reason and out.reason in REASONS
    assert out.text is None and out.start is None and out.detail


def test_empty_target_rejected(toks):
    en, _ = toks
    out = project_answer(EN, 4, "Panthers", "", en, [], set())
    assert out.reason == "empty_target"


def test_chinese_characters():
    en_text, zh_text = "He lives in Beijing.", "他住在北京。"
    en, zh = _tokens(en_text, "en"), _tokens(zh_text, "zh")
    assert [t for t, _, _ in zh][:5] == ["他", "住", "在", "北", "京"]
    links = {(3, 3), (3, 4), (0, 0)}
    out = project_answer(en_text, 12, "Beijing", zh_text, en, zh, links)
    assert (out.text, out.start) == ("北京", 3)


def test_pair_sentences_covers_everything():
    beads = pair_sentences([10, 20, 30, 5], [11, 52, 6])
    assert [i for b in beads for i in b[0]] == [0, 1, 2, 3]
    assert [j for b in beads for j in b[1]] == [0, 1, 2]
    assert beads[1] == ([1, 2], [1])


def test_paragraph_links_map_back_to_paragraph_tokens():
    en_text, de_text = "A cat sat. A dog ran.", "Eine Katze saß. Ein Hund lief."
    en, de = _tokens(en_text, "en"), _tokens(de_text, "de")
    pairing = sentence_pairing(en_text, de_text, en, de)
    assert len(pairing.pairs) == 2
    # bead-local (1, 1) in the second sentence is dog -> Hund
    links = paragraph_links(pairing, [set(), {(1, 1)}])
    ((i, j),) = links
    assert (en[i][0], de[j][0]) == ("dog", "Hund")
    out = project_answer(en_text, en_text.index("dog"), "dog", de_text, en, de, links)
    assert out.text == "Hund"


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("in Rome, Italy.", (3, 15), "Rome, Italy"),
        ("«Rom", (0, 4), "Rom"),
        ("«Rom»", (0, 5), "«Rom»"),
        ("a (QB) b", (2, 5), "(QB)"),
        ("(QB)", (0, 4), "(QB)"),
        # an opener's closer within reach is taken along: a title is one unit
        ("作了《戴立克人的诅咒》。", (2, 4), "《戴立克人的诅咒》"),
        # ... but not past a sentence end, nor beyond the reach
        ("作了《戴立。克人》", (2, 4), "戴"),
        ("a (b c d e f g h i j k l m n) o", (2, 4), "b"),
    ],
)
def test_trim_span(text, span, expected):
    s, e = trim_span(text, *span)
    assert text[s:e] == expected


@pytest.mark.parametrize(
    ("beads", "expected"),
    [
        ([([0], [0]), ([], [1]), ([1], [2])], [([0], [0, 1]), ([1], [2])]),
        ([([0], []), ([1], [0])], [([0, 1], [0])]),
        ([([0], [])], [([0], [])]),
        ([([0], [0])], [([0], [0])]),
    ],
)
def test_orphan_beads_join_a_neighbour(beads, expected):
    assert _merge_orphans(beads) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1996年的MPEG-2占51.6%", ["1996", "年", "的", "MPEG-2", "占", "51.6", "%"]),
        ("超过14,000人", ["超", "过", "14,000", "人"]),
        ("玛丽·麦特琳 (Oursel)", ["玛", "丽", "·", "麦", "特", "琳", "(", "Oursel", ")"]),
        ("カタカナ", ["カ", "タ", "カ", "ナ"]),
        ("", []),
    ],
)
def test_character_script_tokenizer(text, expected):
    tokens = CharacterScriptTokenizer().tokenize(text)
    assert [t for t, _, _ in tokens] == expected
    assert all(text[s:e] == t for t, s, e in tokens)


def test_alignment_tokenizer_per_language():
    assert tokenizer_for("zh").name == "xproj.cjk-chars"
    assert tokenizer_for("ja").name == "icu:ja"
    assert tokenizer_for("th").name == "icu:th"
    assert tokenizer_for("de").name == "spacy.blank:de"
    assert policy_for("zh") is CHARACTER_POLICY and policy_for("zh-Hans") is CHARACTER_POLICY
    assert policy_for("ar") is ANSWER_POLICY


def test_numbers_anchor_in_chinese_even_full_width():
    en_text, zh_text = "It was built in 1996 by them.", "它建于１９９６年。"
    tok = CharacterScriptTokenizer()
    en, zh = _tokens(en_text, "en"), tok.tokenize(zh_text)
    # no links at all: the number is found by identity after NFKC normalisation
    out = project_answer(en_text, en_text.index("1996"), "1996", zh_text, en, zh, set())
    assert out.projected and out.text == "１９９６"
    assert zh_text[out.start : out.start + len(out.text)] == out.text


@pytest.mark.parametrize(
    ("word", "vocabulary", "expected"),
    [
        ("وقت", {}, ["وقت"]),  # "time": the rest is no word, so no clitic
        ("والكتاب", {}, ["و", "الكتاب"]),  # article after the prefix: always split
        ("وبول", {"بول": 1}, ["و", "بول"]),  # the rest is a corpus word
        ("وبول", {}, ["وبول"]),
        ("وبالكتاب", {}, ["و", "ب", "الكتاب"]),  # conjunction, then preposition
        ("بوالكتاب", {}, ["بوالكتاب"]),  # a preposition cannot precede the conjunction
        ("Paul", {"aul": 1}, ["Paul"]),  # other scripts untouched
        ("و", {}, ["و"]),
    ],
)
def test_split_clitics(word, vocabulary, expected):
    text = "قال " + word
    tokens = split_clitics([("قال", 0, 3), (word, 4, len(text))], vocabulary)
    assert [t for t, _, _ in tokens] == ["قال", *expected]
    assert all(text[s:e] == t for t, s, e in tokens)


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("قال وبول سامويلسون", (5, 8), "بول"),  # a conjunction left outside stays outside
        ("قال وبول سامويلسون", (4, 8), "وبول"),
        ("قال بالكتاب", (5, 11), "بالكتاب"),  # a preposition is part of the word
        ("قال وبالكتاب", (6, 12), "بالكتاب"),
        ("bookcase", (4, 6), "bookcase"),  # a cut word is widened
        ("a book", (2, 6), "book"),
        ("北京大学", (0, 2), "北京"),  # Han characters are never joined
        ("MPEG-2兼容", (0, 4), "MPEG"),
    ],
)
def test_whole_words(text, span, expected):
    s, e = whole_words(text, *span)
    assert text[s:e] == expected


class _DictAligner:
    """Links tokens by a small dictionary, to test align_contexts without eflomal."""

    def __init__(self, pairs):
        self.pairs = pairs
        self.seen = []

    def align(self, items):
        self.seen.extend(items)
        return [
            Alignment(
                frozenset(
                    (i, j)
                    for i, s in enumerate(src)
                    for j, t in enumerate(tgt)
                    if (s, t) in self.pairs
                )
            )
            for src, tgt in items
        ]


def test_align_contexts_splits_arabic_clitics_and_projects_whole_words():
    en_text = "He met Paul Samuelson and the book. Paul is here."
    ar_text = "التقى وبول سامويلسون والكتاب. بول هنا."
    aligner = _DictAligner({("Paul", "بول"), ("Samuelson", "سامويلسون"), ("book", "الكتاب")})
    (al,) = align_contexts([(en_text, ar_text)], "ar", aligner)
    assert ["و", "بول"] == [t for t, _, _ in al.x_tokens][1:3]
    assert all(ar_text[s:e] == t for t, s, e in al.x_tokens)
    ans = "Paul Samuelson"
    out = project_answer(
        en_text, en_text.index(ans), ans, ar_text, al.en_tokens, al.x_tokens, al.links
    )
    assert out.text == "بول سامويلسون"
    out = project_answer(
        en_text, en_text.index("book"), "book", ar_text, al.en_tokens, al.x_tokens, al.links
    )
    assert out.text == "الكتاب"


def test_align_contexts_keeps_numbers_whole_in_chinese():
    en_text, zh_text = "In 1996 Tesla came.", "1996年特斯拉来了。"
    aligner = _DictAligner({("In", "年")})
    (al,) = align_contexts([(en_text, zh_text)], "zh", aligner)
    assert aligner.seen[0][1][:2] == ["1996", "年"]
    out = project_answer(
        en_text, 3, "1996", zh_text, al.en_tokens, al.x_tokens, al.links, policy=policy_for("zh")
    )
    assert out.text == "1996"


def test_align_contexts_thai_pairs_sentences_by_a_first_alignment():
    # two English sentences; Thai marks its two sentences with a space only
    en_text, th_text = "Cats sleep. Dogs run fast.", "แมวนอน สุนัขวิ่งเร็ว"
    aligner = _DictAligner({("Cats", "แมว"), ("sleep", "นอน"), ("Dogs", "สุนัข"), ("run", "วิ่ง")})
    (al,) = align_contexts([(en_text, th_text)], "th", aligner)
    x_words = [t for t, _, _ in al.x_tokens]
    assert x_words == ["แมว", "นอน", "สุนัข", "วิ่ง", "เร็ว"]
    # first call: the whole paragraph; second: one bead per English sentence
    assert len(aligner.seen) == 3 and al.beads == 2
    assert aligner.seen[1][1] == ["แมว", "นอน"] and aligner.seen[2][1] == ["สุนัข", "วิ่ง", "เร็ว"]
    out = project_answer(
        en_text, en_text.index("Dogs"), "Dogs", th_text, al.en_tokens, al.x_tokens, al.links
    )
    assert out.text == "สุนัข"


def test_glued_pieces_join_a_thai_answer_but_not_across_a_space():
    th_text = "โมมุส คือ"  # a transliterated name ICU cuts into pieces, then a word
    tokens = [("โม", 0, 2), ("มุส", 2, 5), ("คือ", 6, 9)]
    assert glued_fragments(tokens, {1}, TokenSpan(1, 2, "A")) == TokenSpan(0, 2, "A")
    # a linked neighbour is not taken; nor is one across a space
    assert glued_fragments(tokens, {0, 1}, TokenSpan(1, 2, "A")) == TokenSpan(1, 2, "A")
    assert glued_fragments(tokens, {0}, TokenSpan(0, 2, "A")) == TokenSpan(0, 2, "A")
    assert th_text[tokens[0][1] : tokens[1][2]] == "โมมุส"
