"""CTranslate2 translator on tiny random models of every family.

The models are random: their translations are garbage, so these tests check the mechanics
(language codes and prompts, streaming order, splitting, flags, scoring) against independent
references (the tiny models' own prompt builder, one-by-one ``translate_batch``, transformers'
forward pass), never translation quality.
"""

from __future__ import annotations

import math
import random

import pytest

from xproj.schemas.errors import (
    E_BACKEND_FAILED,
    E_BAD_CONFIG,
    E_INPUT_TOO_LONG,
    E_MISSING_FIELD,
    E_UNKNOWN_LANGUAGE,
    E_UNSUPPORTED_LANGUAGE,
    BackendError,
    ConfigError,
    InputFormatError,
    LanguageCodeError,
)
from xproj.testing.tiny_mt import FAMILIES, MAX_POSITIONS, MT_SAMPLE_TEXT
from xproj.testing.tiny_mt import prompt as reference_prompt
from xproj.text.sentences import sentence_spans
from xproj.translators import (
    CT2Translator,
    DecodingOptions,
    convert,
    pick_compute_type,
    pick_device,
)
from xproj.translators.segment import pack

pytestmark = pytest.mark.slow

# Target language per family (the Marian model translates en→de only).
TARGETS = {"marian": "de", "nllb": "de", "m2m100": "fr", "madlad": "es", "mbart50": "ru"}
SHORT = DecodingOptions(max_decoding_length=12)


@pytest.fixture(scope="module")
def translators(tiny_mt_models):
    return {
        family: CT2Translator(paths["ct2"], device="cpu")
        for family, paths in tiny_mt_models.items()
    }


def _sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` English texts of shuffled lengths (one to three sample sentences each)."""
    rng = random.Random(seed)
    pool = list(MT_SAMPLE_TEXT["en"])
    return [" ".join(rng.sample(pool, rng.randint(1, 3))) for _ in range(n)]


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_family_detected_from_folder(translators, family):
    translator = translators[family]
    assert translator.family == family
    assert translator.device == "cpu" and translator.quantization.startswith("int8")
    assert translator.model_max_length == MAX_POSITIONS
    info = translator.describe()
    assert info["family"] == family and info["model_id"] == translator.model_id


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_prompt_matches_reference_convention(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    text = MT_SAMPLE_TEXT["en"][3]
    expected_source, expected_prefix = reference_prompt(
        family, translator._tokenizer, text, "en", tgt
    )
    assert translator.source_tokens([text], "en", tgt) == [expected_source]
    assert list(translator.prompt("en", tgt).target_prefix) == (expected_prefix or [])


# (family, user codes, model codes)
CODE_CASES = [
    ("nllb", ("eng", "zh-CN"), ("eng_Latn", "zho_Hans")),
    ("nllb", ("en-US", "rus_Cyrl"), ("eng_Latn", "rus_Cyrl")),
    ("m2m100", ("en", "ger"), ("__en__", "__de__")),
    ("mbart50", ("en-GB", "es"), ("en_XX", "es_XX")),
    ("madlad", ("en", "fra"), ("en", "<2fr>")),
    ("marian", ("eng", "de-AT"), ("en", "de")),
]


@pytest.mark.parametrize(("family", "codes", "expected"), CODE_CASES)
def test_ct2_language_codes(translators, family, codes, expected):
    assert translators[family].language_codes(*codes) == expected


@pytest.mark.parametrize(
    ("family", "src", "tgt"),
    [
        ("marian", "en", "fr"),  # a one-pair model
        ("marian", "fr", "de"),
        ("madlad", "en", "ja"),  # no <2ja> tag in the tiny vocabulary
        ("nllb", "en", "no"),
        ("mbart50", "en", "ca"),
    ],
)
def test_ct2_unsupported_language_fails_at_call(translators, family, src, tgt):
    with pytest.raises(LanguageCodeError) as info:
        translators[family].translate(["Hello."], src, tgt)  # no iteration needed
    assert info.value.code == E_UNSUPPORTED_LANGUAGE


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_unknown_language_code(translators, family):
    with pytest.raises(LanguageCodeError) as info:
        translators[family].translate(["Hello."], "en", "klingon")
    assert info.value.code == E_UNKNOWN_LANGUAGE


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_stream_matches_one_by_one_in_input_order(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    candidates = _sentences(150, seed=len(family))
    fits = translator.source_tokens(candidates, "en", tgt)
    texts = [t for t, tokens in zip(candidates, fits, strict=True) if len(tokens) <= MAX_POSITIONS]
    texts = texts[:40]
    sources = translator.source_tokens(texts, "en", tgt)
    assert len(texts) == 40 and len({len(source) for source in sources}) > 10  # lengths vary
    # Tiny batches and read-ahead: many batches, several chunks in flight, length-sorted inside.
    options = DecodingOptions(max_decoding_length=12, max_batch_size=48, read_ahead=2)
    streamed = list(translator.translate(iter(texts), "en", tgt, options=options))

    prefix = list(translator.prompt("en", tgt).target_prefix)
    kwargs = translator._decode_kwargs(options, translator.prompt("en", tgt))
    kwargs.pop("max_batch_size"), kwargs.pop("batch_type")
    expected = []
    for source in sources:
        result = translator._ct2.translate_batch(
            [source], target_prefix=[prefix] if prefix else None, **kwargs
        )
        hypothesis = result[0].hypotheses[0]
        assert hypothesis[: len(prefix)] == prefix  # the forced prefix is really there
        tokens = hypothesis[len(prefix) :]
        ids = translator._tokenizer.convert_tokens_to_ids(tokens)
        expected.append((translator._tokenizer.decode(ids, skip_special_tokens=True), len(tokens)))
    assert [(t.text, t.tokens) for t in streamed] == expected
    assert all(t.flag is None and t.segments == 1 for t in streamed)


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_output_has_no_language_prefix(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    prefix = translator.prompt("en", tgt).target_prefix
    for translation in translator.translate(_sentences(5), "en", tgt, options=SHORT):
        assert 0 < translation.tokens <= SHORT.max_decoding_length * translation.segments
        assert not any(translation.text.startswith(token) for token in prefix)


@pytest.mark.parametrize("family", ["nllb", "marian"])
def test_ct2_empty_texts_skip_the_model(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    texts = ["", "The museum is closed on Mondays.", "   ", "\n\t", "Thank you."]
    out = translator.translate_all(texts, "en", tgt, options=SHORT)
    assert [t.flag for t in out] == ["empty", None, "empty", "empty", None]
    for translation in out:
        if translation.flag == "empty":
            assert translation.text == "" and translation.segments == 0
            assert translation.tokens == translation.source_tokens == 0
        else:
            assert translation.segments == 1 and translation.source_tokens > 0


def test_ct2_all_empty_stream(translators):
    out = translators["nllb"].translate_all(["", " "], "en", "de")
    assert [t.flag for t in out] == ["empty", "empty"]
    assert translators["nllb"].translate_all([], "en", "de") == []


@pytest.mark.parametrize(("family", "tgt", "sep"), [("nllb", "de", " "), ("m2m100", "zh", "")])
def test_ct2_long_input_is_split_at_sentences(translators, family, tgt, sep):
    translator = translators[family]
    sentences = list(MT_SAMPLE_TEXT["en"][:10])
    text = " ".join(sentences)
    overhead = len(translator.prompt("en", tgt).source_prefix) + 1
    assert len(translator.source_tokens([text], "en", tgt)[0]) > MAX_POSITIONS

    [result] = translator.translate_all([text], "en", tgt, options=SHORT)

    lengths = [len(t) - overhead for t in translator.source_tokens(sentences, "en", tgt)]
    groups = [
        " ".join(sentences[i] for i in run) for run in pack(lengths, MAX_POSITIONS - overhead)
    ]
    parts = translator.translate_all(groups, "en", tgt, options=SHORT)
    assert result.flag == "split" and result.segments == len(groups) >= 2
    assert result.text == sep.join(p.text.strip() for p in parts if p.text.strip())
    assert result.tokens == sum(p.tokens for p in parts)
    assert result.source_tokens == sum(p.source_tokens for p in parts)
    assert all(p.source_tokens <= MAX_POSITIONS for p in parts)  # nothing truncated


def test_ct2_split_uses_cjk_sentence_ends(translators):
    translator = translators["nllb"]
    text = "".join(MT_SAMPLE_TEXT["zh"][:12])
    assert len(sentence_spans(text)) == 12
    [result] = translator.translate_all([text], "zh", "en", options=SHORT)
    assert result.flag == "split" and result.segments >= 2


@pytest.mark.parametrize("family", ["nllb", "madlad", "marian"])
def test_ct2_one_over_long_sentence_is_flagged_not_truncated(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    endless = " ".join(["the old city centre and the river"] * 20)  # one sentence, no full stop
    # a capital after the period: ICU's rules do not end a sentence before a lower-case word
    texts = ["Thank you.", endless, f"Short one. {endless.capitalize()}.", "The museum is closed."]
    out = translator.translate_all(texts, "en", tgt, options=SHORT)
    assert [t.flag for t in out] == [None, "too_long", "too_long", None]
    for flagged in out[1:3]:
        assert flagged.text == "" and flagged.segments == 0 and not flagged.ok
        assert f"at most {MAX_POSITIONS}" in flagged.detail
    assert "sentence 2 of 2" in out[2].detail


def test_ct2_max_source_length_override_splits_earlier(translators, tiny_mt_models):
    sentences = [MT_SAMPLE_TEXT["en"][i] for i in (9, 15, 13)]
    limit = max(map(len, translators["nllb"].source_tokens(sentences, "en", "de")))
    translator = CT2Translator(tiny_mt_models["nllb"]["ct2"], device="cpu", max_source_length=limit)
    assert translator.max_source_length == limit < translator.model_max_length
    [result] = translator.translate_all([" ".join(sentences)], "en", "de", options=SHORT)
    assert result.flag == "split" and 2 <= result.segments <= 3
    assert result.source_tokens <= limit * result.segments


def test_ct2_max_source_length_beyond_positions_is_refused(tiny_mt_models):
    with pytest.raises(ConfigError) as info:
        CT2Translator(tiny_mt_models["nllb"]["ct2"], device="cpu", max_source_length=500)
    assert info.value.code == E_BAD_CONFIG and str(MAX_POSITIONS) in info.value.fix


def test_ct2_decoding_stops_at_position_table(translators):
    # max_decoding_length beyond the 64 positions of the tiny model is capped, not a crash
    options = DecodingOptions(max_decoding_length=500)
    [result] = translators["nllb"].translate_all(["Thank you."], "en", "de", options=options)
    assert result.tokens <= MAX_POSITIONS and (result.truncated or result.tokens < MAX_POSITIONS)


def test_ct2_truncated_flag_at_max_decoding_length(translators):
    options = DecodingOptions(max_decoding_length=3, min_decoding_length=3)
    [result] = translators["marian"].translate_all(["Thank you."], "en", "de", options=options)
    assert result.tokens == 3 and result.truncated


def test_ct2_non_string_text_is_coded(translators):
    with pytest.raises(InputFormatError) as info:
        translators["nllb"].translate_all(["ok", None], "en", "de")
    assert info.value.code == E_MISSING_FIELD and info.value.record == "1"


def test_ct2_beam_search_option(translators):
    options = DecodingOptions(beam_size=3, max_decoding_length=8)
    out = translators["m2m100"].translate_all(_sentences(4), "en", "fr", options=options)
    assert len(out) == 4 and all(0 < t.tokens <= 8 * t.segments for t in out)


# -- scoring --------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_score_shape_finite_deterministic(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    sources = list(MT_SAMPLE_TEXT["en"][:4]) + [""]
    targets = list(MT_SAMPLE_TEXT["de"][:4]) + [""]
    scores = translator.score(sources, targets, "en", tgt)
    assert [len(s) for s in scores] == [len(t) for t in translator.target_tokens(targets)]
    assert len(scores[-1]) == 1  # an empty target: the end token alone
    assert all(math.isfinite(x) and x <= 0 for s in scores for x in s)
    assert translator.score(sources, targets, "en", tgt) == scores
    # each pair is scored independently of the batch it is in
    assert translator.score(sources[1:2], targets[1:2], "en", tgt)[0] == pytest.approx(
        scores[1], abs=1e-4
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_score_of_greedy_output_matches_its_decoding_score(translators, family):
    translator, tgt = translators[family], TARGETS[family]
    prefix = list(translator.prompt("en", tgt).target_prefix)
    source = MT_SAMPLE_TEXT["en"][0]
    steps = 10  # decoding steps, prefix included; forced, so the output never ends early
    [result] = translator._ct2.translate_batch(
        translator.source_tokens([source], "en", tgt),
        target_prefix=[prefix] if prefix else None,
        beam_size=1,
        min_decoding_length=steps,
        max_decoding_length=steps,
        return_scores=True,
    )
    hypothesis = result.hypotheses[0][len(prefix) :]
    [scores] = translator.score_tokens([source], [hypothesis], "en", tgt)
    assert len(scores) == len(hypothesis) + 1 == steps - len(prefix) + 1
    # CTranslate2's greedy score: the generated tokens' log-probs over the decoding steps
    # (int8: the step-by-step and the whole-sequence computations differ in the 4th digit)
    assert sum(scores[:-1]) / steps == pytest.approx(result.scores[0], rel=5e-3)


def test_ct2_score_too_long_pair_is_coded(translators):
    long_text = " ".join(MT_SAMPLE_TEXT["en"])
    with pytest.raises(BackendError) as info:
        translators["nllb"].score(["ok", long_text], ["gut", "gut"], "en", "de")
    assert info.value.code == E_INPUT_TOO_LONG and info.value.record == "1"


def test_ct2_score_length_mismatch(translators):
    with pytest.raises(ValueError):
        translators["nllb"].score(["a", "b"], ["c"], "en", "de")


@pytest.fixture(scope="module")
def fp32_models(tiny_mt_models, tmp_path_factory):
    """Every family converted again through the store, unquantized."""
    root = tmp_path_factory.mktemp("fp32_store")
    return {
        family: convert(paths["hf"], quantization="float32", root=root)
        for family, paths in tiny_mt_models.items()
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_ct2_score_matches_transformers_forward_pass(tiny_mt_models, fp32_models, family):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForSeq2SeqLM

    translator = CT2Translator(fp32_models[family], device="cpu", compute_type="float32")
    tgt = TARGETS[family]
    source, target = MT_SAMPLE_TEXT["en"][9], MT_SAMPLE_TEXT["de"][9]
    [scores] = translator.score([source], [target], "en", tgt)

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_mt_models[family]["hf"]).eval()
    tokenizer = translator._tokenizer
    prefix = list(translator.prompt("en", tgt).target_prefix)
    source_ids = tokenizer.convert_tokens_to_ids(translator.source_tokens([source], "en", tgt)[0])
    target_ids = tokenizer.convert_tokens_to_ids(prefix + translator.target_tokens([target])[0])
    decoder_ids = [model.config.decoder_start_token_id, *target_ids[:-1]]
    with torch.no_grad():
        logits = model(
            input_ids=torch.tensor([source_ids]), decoder_input_ids=torch.tensor([decoder_ids])
        ).logits[0]
    if family == "marian":  # CTranslate2 drops Marian's <pad> (decoder start) from the vocabulary
        logits[:, model.config.pad_token_id] = -math.inf
    reference = torch.log_softmax(logits, -1)[range(len(target_ids)), target_ids].tolist()
    assert len(scores) == len(reference) - len(prefix)
    assert scores == pytest.approx(reference[len(prefix) :], abs=5e-3)


def test_ct2_vocabulary_map_restricts_output(tiny_mt_models, tmp_path):
    vmap = tmp_path / "vmap.txt"
    vmap.write_text("\t▁D ie ▁K at\n", encoding="utf-8")  # empty n-gram: always allowed
    path = convert(tiny_mt_models["nllb"]["hf"], root=tmp_path / "store", vmap=vmap)
    translator = CT2Translator(path, device="cpu")
    texts = _sentences(6)
    free = translator.translate_all(texts, "en", "de", options=SHORT)
    options = DecodingOptions(max_decoding_length=12, use_vmap=True)
    mapped = translator.translate_all(texts, "en", "de", options=options)
    assert options.key() != SHORT.key()
    assert all(set(t.text.replace(" ", "")) <= set("DieKat") for t in mapped)
    assert any(set(t.text.replace(" ", "")) - set("DieKat") for t in free)


def test_ct2_use_vmap_without_map_is_coded(translators):
    with pytest.raises(ConfigError) as info:
        translators["nllb"].translate(["Hi."], "en", "de", options=DecodingOptions(use_vmap=True))
    assert info.value.code == E_BAD_CONFIG and "vmap.txt" in info.value.message


@pytest.mark.parametrize(
    ("device", "compute_type", "expected"),
    [("cpu", "auto", "int8"), ("cpu", "float32", "float32"), ("cpu", "default", "default")],
)
def test_ct2_compute_type_choice(device, compute_type, expected):
    assert pick_compute_type(device, compute_type) == expected


def test_ct2_unsupported_compute_type_lists_supported():
    with pytest.raises(BackendError) as info:
        pick_compute_type("cpu", "float8")
    assert info.value.code == E_BACKEND_FAILED and "int8" in info.value.fix


def test_ct2_auto_device_without_gpu(monkeypatch):
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert pick_device("auto") == "cpu"
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 2)
    assert pick_device("auto") == "cuda"
    with pytest.raises(ConfigError):
        pick_device("tpu")
