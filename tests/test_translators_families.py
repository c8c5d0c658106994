"""Model families: language-code mapping, prompt conventions, family detection (no models)."""

from __future__ import annotations

import json

import pytest

from xproj.schemas.errors import (
    E_UNKNOWN_FAMILY,
    E_UNKNOWN_LANGUAGE,
    E_UNKNOWN_STRATEGY,
    E_UNSUPPORTED_LANGUAGE,
    ConfigError,
    LanguageCodeError,
)
from xproj.schemas.languages import normalize_lang
from xproj.translators.families import (
    M2M100_CODES,
    MBART50_CODES,
    NLLB_CODES,
    ModelLanguages,
    Prompt,
    declared_pair,
    detect_family,
    family_names,
    get_family,
)

# (family, user code, family code)
LANG_CASES = [
    ("nllb", "en", "eng_Latn"),
    ("nllb", "eng", "eng_Latn"),
    ("nllb", "eng_Latn", "eng_Latn"),
    ("nllb", "de-AT", "deu_Latn"),
    ("nllb", "ger", "deu_Latn"),
    ("nllb", "pt-BR", "por_Latn"),
    ("nllb", "zh", "zho_Hans"),
    ("nllb", "zh-TW", "zho_Hant"),
    ("nllb", "zh-Hant", "zho_Hant"),
    ("nllb", "ar", "arb_Arab"),
    ("nllb", "fa", "pes_Arab"),
    ("nllb", "prs", "prs_Arab"),
    ("nllb", "ms", "zsm_Latn"),
    ("nllb", "sw", "swh_Latn"),
    ("nllb", "ko", "kor_Hang"),
    ("nllb", "ks", "kas_Arab"),
    ("nllb", "ks-Deva", "kas_Deva"),
    ("nllb", "sat", "sat_Beng"),
    ("nllb", "nb", "nob_Latn"),
    ("nllb", "yue", "yue_Hant"),
    ("m2m100", "en", "__en__"),
    ("m2m100", "__de__", "__de__"),
    ("m2m100", "nso", "__ns__"),
    ("m2m100", "he", "__he__"),
    ("m2m100", "iw", "__he__"),
    ("m2m100", "zh-CN", "__zh__"),
    ("m2m100", "fra", "__fr__"),
    ("mbart50", "en", "en_XX"),
    ("mbart50", "de", "de_DE"),
    ("mbart50", "zh", "zh_CN"),
    ("mbart50", "pt-BR", "pt_XX"),
    ("mbart50", "tl", "tl_XX"),
    ("mbart50", "ja_XX", "ja_XX"),
    ("madlad", "de", "<2de>"),
    ("madlad", "<2fr>", "<2fr>"),
    ("madlad", "ceb", "<2ceb>"),
    ("madlad", "deu", "<2de>"),
]


@pytest.mark.parametrize(("family", "code", "expected"), LANG_CASES)
def test_families_lang_code_maps_user_codes(family, code, expected):
    assert get_family(family).lang_code(code) == expected


# (family, code, a close match the error must name)
UNSUPPORTED_CASES = [
    ("nllb", "no", "nob_Latn"),
    ("nllb", "sr-Latn", "srp_Cyrl"),
    ("nllb", "yue-Hans", "yue_Hant"),
    ("m2m100", "fil", "__tl__"),
    ("m2m100", "nn", "__no__"),
    ("mbart50", "es-Cyrl", "es_XX"),
    ("mbart50", "nb", None),
    ("madlad", "ajp", None),
]


@pytest.mark.parametrize(("family", "code", "close"), UNSUPPORTED_CASES)
def test_families_unsupported_language_lists_close_matches(family, code, close):
    fam = get_family(family)
    with pytest.raises(LanguageCodeError) as info:
        fam.lang_code(code)
    err = info.value
    assert err.code == E_UNSUPPORTED_LANGUAGE
    assert fam.title in err.message and repr(code) in err.message
    if close is not None:
        assert close in err.message.split("Close matches it supports:")[1]
    assert "languages()" in (err.fix or "")


@pytest.mark.parametrize("family", ["nllb", "m2m100", "mbart50", "madlad", "marian"])
def test_families_unknown_code_is_xp201(family):
    with pytest.raises(LanguageCodeError) as info:
        get_family(family).lang_code("qqq")
    assert info.value.code == E_UNKNOWN_LANGUAGE


@pytest.mark.parametrize(
    ("table", "size"),
    [(NLLB_CODES, 202), (M2M100_CODES, 100), (MBART50_CODES, 52)],
)
def test_families_tables_complete_and_unambiguous(table, size):
    assert len(table) == len(set(table)) == size
    family = {202: "nllb", 100: "m2m100", 52: "mbart50"}[size]
    internal = list(get_family(family).languages().values())
    assert len(internal) == len(set(internal)) == size  # no two codes name the same language


def test_families_nllb_table_matches_transformers():
    tokenization = pytest.importorskip("transformers.models.nllb.tokenization_nllb")
    assert list(NLLB_CODES) == list(tokenization.FAIRSEQ_LANGUAGE_CODES)


def test_families_mbart50_table_matches_transformers():
    tokenization = pytest.importorskip("transformers.models.mbart50.tokenization_mbart50")
    assert list(MBART50_CODES) == list(tokenization.FAIRSEQ_LANGUAGE_CODES)


@pytest.mark.parametrize("family", ["nllb", "m2m100", "mbart50", "madlad"])
def test_families_every_family_code_round_trips(family):
    fam = get_family(family)
    for code, internal in fam.languages().items():
        assert normalize_lang(internal) == internal
        assert fam.lang_code(internal) == code


# (family, source code, target code, prompt)
PROMPT_CASES = [
    ("nllb", "eng_Latn", "deu_Latn", Prompt(("eng_Latn",), ("deu_Latn",))),
    ("m2m100", "__en__", "__de__", Prompt(("__en__",), ("__de__",))),
    ("mbart50", "en_XX", "de_DE", Prompt(("en_XX",), ("de_DE",))),
    ("madlad", "en", "<2de>", Prompt(("<2de>",), ())),
    ("marian", "en", "de", Prompt((), ())),
    ("marian", "en", ">>fra<<", Prompt((">>fra<<",), ())),
]


@pytest.mark.parametrize(("family", "src", "tgt", "expected"), PROMPT_CASES)
def test_families_prompt_convention(family, src, tgt, expected):
    assert get_family(family).prompt(src, tgt) == expected


def test_families_model_vocabulary_restricts_languages():
    model = ModelLanguages(tokens=frozenset({"eng_Latn", "deu_Latn"}))
    nllb = get_family("nllb")
    assert nllb.lang_code("de", model=model) == "deu_Latn"
    with pytest.raises(LanguageCodeError) as info:
        nllb.lang_code("fr", model=model)
    assert info.value.code == E_UNSUPPORTED_LANGUAGE


@pytest.mark.parametrize(
    ("vocab", "code", "expected"),
    [
        ({"<2de>", "<2iw>", "<2sr_Latn>", "<2xyz>", "▁the"}, "he", "<2iw>"),
        ({"<2de>", "<2iw>", "<2sr_Latn>"}, "sr-Latn", "<2sr_Latn>"),
        ({"<2de>", "<2zh>"}, "zh-CN", "<2zh>"),
    ],
)
def test_families_madlad_reads_tags_from_vocabulary(vocab, code, expected):
    madlad = get_family("madlad")
    model = ModelLanguages(tokens=madlad.language_tokens(vocab))
    assert madlad.lang_code(code, model=model) == expected
    assert madlad.lang_code("ja", side="source", model=model) == "ja"  # source: no tag needed


# (model languages, side, code, expected or None for an XP202)
MARIAN_CASES = [
    (ModelLanguages(source=("en",), target=("de",)), "source", "eng", "en"),
    (ModelLanguages(source=("en",), target=("de",)), "target", "de-CH", "de"),
    (ModelLanguages(source=("en",), target=("de",)), "target", "fr", None),
    (ModelLanguages(source=("en",), target=("de",)), "source", "de", None),
    (ModelLanguages(), "target", "fr", "fr"),  # pair unknown: passed through
    (
        ModelLanguages(tokens=frozenset({">>fra<<", ">>spa<<"}), source=("en",)),
        "target",
        "es",
        ">>spa<<",
    ),
]


@pytest.mark.parametrize(("model", "side", "code", "expected"), MARIAN_CASES)
def test_families_marian_checks_the_pair(model, side, code, expected):
    marian = get_family("marian")
    if expected is None:
        with pytest.raises(LanguageCodeError) as info:
            marian.lang_code(code, side=side, model=model)
        assert info.value.code == E_UNSUPPORTED_LANGUAGE
    else:
        assert marian.lang_code(code, side=side, model=model) == expected


@pytest.mark.parametrize(
    ("alias", "name"),
    [("NLLB-200", "nllb"), ("m2m_100", "m2m100"), ("mbart-50", "mbart50"), ("opus-mt", "marian")],
)
def test_families_get_family_accepts_aliases(alias, name):
    assert get_family(alias).name == name


def test_families_unknown_family_name_is_coded():
    with pytest.raises(ConfigError) as info:
        get_family("nllbb")
    assert info.value.code == E_UNKNOWN_STRATEGY and "nllb" in info.value.message
    assert set(family_names()) == {"nllb", "m2m100", "mbart50", "madlad", "marian", "text2text"}


# (folder name, files, expected family)
DETECT_CASES = [
    ("any", {"xproj-model.json": {"family": "madlad"}}, "madlad"),
    ("any", {"tokenizer_config.json": {"tokenizer_class": "NllbTokenizerFast"}}, "nllb"),
    ("any", {"tokenizer_config.json": {"tokenizer_class": "M2M100Tokenizer"}}, "m2m100"),
    ("any", {"tokenizer_config.json": {"tokenizer_class": "MarianTokenizer"}}, "marian"),
    ("any", {"tokenizer_config.json": {"tokenizer_class": "MBart50Tokenizer"}}, "mbart50"),
    ("any", {"config.json": {"model_type": "marian"}}, "marian"),
    ("any", {"config.json": {"model_type": "t5"}}, "madlad"),
    ("nllb-200-distilled-600M", {"config.json": {"model_type": "m2m_100"}}, "nllb"),
    ("m2m100_418M", {"config.json": {"model_type": "m2m_100"}}, "m2m100"),
    ("opus-mt-en-de-ct2", {"config.json": {"add_source_bos": False}}, "marian"),
]


@pytest.mark.parametrize(("name", "files", "expected"), DETECT_CASES)
def test_families_detect_family_from_folder(tmp_path, name, files, expected):
    folder = tmp_path / name
    folder.mkdir()
    for file, content in files.items():
        (folder / file).write_text(json.dumps(content))
    manifest = files.get("xproj-model.json")
    assert detect_family(folder, manifest).name == expected


def test_families_detect_family_fails_with_fix(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"add_source_bos": False}))
    with pytest.raises(ConfigError) as info:
        detect_family(tmp_path)
    assert info.value.code == E_UNKNOWN_FAMILY
    assert str(tmp_path) in str(info.value) and "family=" in (info.value.fix or "")


# (folder name, tokenizer_config, manifest, expected pair)
PAIR_CASES = [
    ("x", {"source_lang": "en", "target_lang": "de"}, None, (("en",), ("de",))),
    ("x", {"source_lang": "eng", "target_lang": "fra+spa"}, None, (("en",), ("fr", "es"))),
    ("opus-mt-en-de", {}, None, (("en",), ("de",))),
    ("opus-mt-tc-big-en-fr", {}, None, (("en",), ("fr",))),
    ("opus-mt-en-ROMANCE", {}, None, (("en",), ())),
    ("x", {}, {"source": "Helsinki-NLP/opus-mt-de-en"}, (("de",), ("en",))),
    ("x", {}, {"languages": {"source": ["ru"], "target": ["uk"]}}, (("ru",), ("uk",))),
    ("x", {}, None, ((), ())),
]


@pytest.mark.parametrize(("name", "config", "manifest", "expected"), PAIR_CASES)
def test_families_declared_pair(tmp_path, name, config, manifest, expected):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    assert declared_pair(folder, manifest) == expected


def test_text2text_family_has_no_prompt_and_passes_codes_through():
    family = get_family("t5")
    assert family.name == "text2text" and get_family("qg") is family
    assert family.prompt("en", "en") == Prompt()
    assert family.lang_code("en") == "en" and family.lang_code("deu_Latn") == "de"
    assert family.language_tokens(["<2de>", "eng_Latn", "<hl>"]) == frozenset()


def test_text2text_family_is_never_detected_from_a_t5_folder(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text('{"tokenizer_class": "T5Tokenizer"}')
    assert detect_family(tmp_path).name == "madlad"
    assert detect_family(tmp_path, {"family": "text2text"}).name == "text2text"
