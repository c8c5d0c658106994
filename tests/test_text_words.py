"""The tokenizer registry (xproj.text.words): segmenter per language, suffixes, numbers, scripts."""

from __future__ import annotations

import pytest

from xproj.text.words import describe_tokenizers, segmenter_table, tokenizer_for

# (language, text, tokens)
CASES = [
    # Thai, Lao, Khmer, Burmese: ICU dictionary words; numbers and Latin words cut out of the run
    ("th", "ภาษาไทยง่าย", ["ภาษา", "ไทย", "ง่าย"]),
    ("th", "ประมาณ16,000 คน", ["ประมาณ", "16,000", "คน"]),
    ("th", "เวลา 3:08 นาที", ["เวลา", "3:08", "นาที"]),
    ("th", "ราคา ๓.๕ บาท", ["ราคา", "๓.๕", "บาท"]),  # Thai digits stay one number
    ("th", "ใช้Windowsได้", ["ใช้", "Windows", "ได้"]),
    ("lo", "ພາສາລາວ", ["ພາສາ", "ລາວ"]),
    ("km", "ភាសា\u200bខ្មែរ", ["ភាសា", "ខ្មែរ"]),  # a zero-width space is no token
    ("km", "បាស្ក", ["បាស្ក"]),  # ICU cuts before the subscript consonant; the cluster is kept
    ("my", "မြန်မာဘာသာ", ["မြန်မာဘာသာ"]),
    ("bo", "བོད་ཀྱི་སྐད", ["བོད", "་", "ཀྱི", "་", "སྐད"]),  # syllables
    ("ja", "東京に住んでいます", ["東京", "に", "住", "んで", "い", "ます"]),
    ("zh", "1996年的MPEG-2", ["1996", "年", "的", "MPEG-2"]),
    # numbers whole whatever the tokenizer (spaCy splits these)
    ("ko", "16,000원", ["16,000", "원"]),
    ("pl", "wersja 3.5", ["wersja", "3.5"]),
    ("hi", "कीमत ३.५ रुपये", ["कीमत", "३.५", "रुपये"]),
    # case suffixes on names are tokens of their own
    ("tr", "John Elway'in takımı", ["John", "Elway", "'in", "takımı"]),
    ("tr", "1990'larda İstanbul'da", ["1990", "'larda", "İstanbul", "'da"]),
    ("az", "Bakı'nın", ["Bakı", "'nın"]),
    ("fi", "EU:n jäsen", ["EU", ":n", "jäsen"]),
    # ... but not where the apostrophe belongs to the word
    ("tr", "don't", ["don't"]),
    ("fr", "L'homme", ["L'", "homme"]),
    # in Latin-script text the tokenizer's own splits stand
    ("en", "I cannot", ["I", "can", "not"]),
]


@pytest.mark.parametrize(("lang", "text", "tokens"), CASES)
def test_text_words_tokens(lang, text, tokens):
    result = tokenizer_for(lang).tokenize(text)
    assert [t for t, _, _ in result] == tokens
    assert all(text[s:e] == t for t, s, e in result)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("tha_Thai", "icu:th"),
        ("th-TH", "icu:th"),
        ("jpn_Jpan", "icu:ja"),
        ("zho_Hant", "xproj.cjk-chars"),
        ("yue_Hant", "xproj.cjk-chars"),  # by its script: no entry of its own
        ("shn_Mymr", "icu:shn"),
        ("dzo_Tibt", "icu:dz"),
        ("spa_Latn", "spacy.blank:es"),
        ("hau_Latn", "spacy.blank:xx"),
    ],
)
def test_text_words_registry_choice(code, name):
    assert tokenizer_for(code).name == name


def test_text_words_segmenter_override_and_unknown():
    assert tokenizer_for("th", "spacy").name == "spacy.blank:th"
    with pytest.raises(ValueError, match="unknown segmenter"):
        tokenizer_for("th", "nonsense")


def test_text_words_describe_names_versions():
    described = describe_tokenizers(["th", "es"])
    assert described["th"].startswith("icu:th (PyICU ") and "ICU " in described["th"]
    assert described["es"].startswith("spacy.blank:es (spaCy ")


def test_text_words_readme_table_matches_registry():
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for segmenter, langs in segmenter_table():
        assert f"| `{segmenter}` | {langs} |" in readme


def test_text_words_missing_dedicated_segmenter_says_what_to_install(monkeypatch):
    from xproj.schemas.errors import ConfigError
    from xproj.text import words

    def missing():
        raise ImportError("no module", name="jieba")

    monkeypatch.setitem(words._DEDICATED, "jieba", missing)
    with pytest.raises(ConfigError, match="pip install jieba"):
        words._dedicated("jieba")


def test_text_words_offsets_from_a_segmenter_that_drops_zero_width_spaces():
    from xproj.text.words import words_to_tokens

    text = "នឹង\u200bមាន ធ្វើការ\u200bរួច ។"
    tokens = words_to_tokens(text, lambda t: ["នឹង", "មាន", "ធ្វើ", "ការរួច", " ", "។"])
    assert [t for t, _, _ in tokens] == ["នឹង", "មាន", "ធ្វើ", "ការ\u200bរួច", "។"]
    assert all(text[s:e] == t for t, s, e in tokens)
    with pytest.raises(ValueError, match="not next in the text"):
        words_to_tokens("abc", lambda t: ["x"])
