"""The tiny random MT models of ``tests/tiny_mt.py`` load and run through CTranslate2.

The models have random weights, so their translations are garbage by construction: these tests
check structure (files, token types, lengths, language tags and target prefixes, agreement with
transformers) and never translation quality.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from xproj.testing.tiny_mt import (
    FAMILIES,
    LANG_TOKENS,
    MAX_POSITIONS,
    MT_SAMPLE_TEXT,
    ModelShape,
    build_nllb,
    convert,
    prompt,
)

# (family, source language, target language, first output token or None when no prefix)
PAIRS = [
    ("marian", "en", "de", None),
    ("nllb", "en", "de", "deu_Latn"),
    ("nllb", "zh", "ru", "rus_Cyrl"),
    ("m2m100", "en", "de", "__de__"),
    ("m2m100", "ru", "zh", "__zh__"),
    ("madlad", "en", "de", None),
    ("madlad", "fr", "zh", None),
    ("mbart50", "en", "de", "de_DE"),
    ("mbart50", "es", "fr", "fr_XX"),
]

SENTENCE_INDEXES = (0, 11)

# MarianTokenizer asks for sacremoses (punctuation normalisation), which xproj does not install.
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _load(ct2_dir: Path, compute_type: str = "int8"):
    import ctranslate2
    from transformers import AutoTokenizer

    translator = ctranslate2.Translator(str(ct2_dir), device="cpu", compute_type=compute_type)
    return translator, AutoTokenizer.from_pretrained(ct2_dir)


def _batch(family, tokenizer, source_lang, target_lang):
    sources, prefixes = [], []
    for index in SENTENCE_INDEXES:
        text = MT_SAMPLE_TEXT[source_lang][index]
        source, prefix = prompt(family, tokenizer, text, source_lang, target_lang)
        sources.append(source)
        prefixes.append(prefix)
    return sources, (prefixes if prefixes[0] is not None else None)


@pytest.mark.parametrize(("family", "source_lang", "target_lang", "first"), PAIRS)
def test_tiny_mt_translate_batch_follows_prompt_convention(
    tiny_mt_models, offline, family, source_lang, target_lang, first
):
    translator, tokenizer = _load(tiny_mt_models[family]["ct2"])
    sources, prefixes = _batch(family, tokenizer, source_lang, target_lang)

    results = translator.translate_batch(
        sources, target_prefix=prefixes, beam_size=2, max_decoding_length=8
    )

    assert len(results) == len(sources)
    vocab = tokenizer.get_vocab()
    for source, result in zip(sources, results, strict=True):
        assert source[-1] == tokenizer.eos_token
        hypothesis = result.hypotheses[0]
        assert 1 <= len(hypothesis) <= 8
        assert all(isinstance(token, str) and token in vocab for token in hypothesis)
        if first is not None:
            assert source[0] == LANG_TOKENS[family][source_lang]
            assert hypothesis[0] == first
        if family == "madlad":
            assert source[0] == LANG_TOKENS["madlad"][target_lang]


@pytest.mark.parametrize(("family", "source_lang", "target_lang", "first"), PAIRS)
def test_tiny_mt_score_batch_gives_one_log_prob_per_target_token(
    tiny_mt_models, offline, family, source_lang, target_lang, first
):
    translator, tokenizer = _load(tiny_mt_models[family]["ct2"])
    sources, prefixes = _batch(family, tokenizer, source_lang, target_lang)
    targets = [
        (prefix or []) + tokenizer.tokenize(MT_SAMPLE_TEXT[target_lang][index])
        for prefix, index in zip(prefixes or [None] * len(sources), SENTENCE_INDEXES, strict=True)
    ]

    results = translator.score_batch(sources, targets)

    for target, result in zip(targets, results, strict=True):
        # CTranslate2 scores the end-of-sentence token too.
        assert result.tokens == [*target, tokenizer.eos_token]
        assert len(result.log_probs) == len(target) + 1
        assert all(
            isinstance(lp, float) and lp <= 0 and math.isfinite(lp) for lp in result.log_probs
        )


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_mt_float32_scores_match_transformers(tiny_mt_models, offline, tmp_path, family):
    import torch
    from transformers import AutoModelForSeq2SeqLM

    hf_dir = tiny_mt_models[family]["hf"]
    translator, tokenizer = _load(convert(hf_dir, tmp_path / "fp32", "float32"), "float32")
    source, prefix = prompt(family, tokenizer, MT_SAMPLE_TEXT["en"][3], "en", "de")
    target = (prefix or []) + tokenizer.tokenize(MT_SAMPLE_TEXT["de"][3])
    ct2_log_probs = translator.score_batch([source], [target])[0].log_probs

    model = AutoModelForSeq2SeqLM.from_pretrained(hf_dir).eval()
    labels = [*tokenizer.convert_tokens_to_ids(target), tokenizer.eos_token_id]
    decoder_input = [model.config.decoder_start_token_id, *labels[:-1]]
    with torch.no_grad():
        logits = model(
            input_ids=torch.tensor([tokenizer.convert_tokens_to_ids(source)]),
            decoder_input_ids=torch.tensor([decoder_input]),
        ).logits[0]
    if family == "marian":
        # The converter drops Marian's <pad> (the decoder start), so it cannot be predicted.
        logits[:, model.config.pad_token_id] = float("-inf")
    hf_log_probs = torch.log_softmax(logits, dim=-1)[torch.arange(len(labels)), labels]

    assert ct2_log_probs == pytest.approx(hf_log_probs.tolist(), abs=1e-4)


@pytest.mark.parametrize(
    ("family", "files"),
    [
        ("marian", {"source.spm", "target.spm", "vocab.json", "tokenizer_config.json"}),
        ("nllb", {"tokenizer.json", "tokenizer_config.json"}),
        ("m2m100", {"sentencepiece.bpe.model", "vocab.json", "tokenizer_config.json"}),
        ("madlad", {"tokenizer.json", "tokenizer_config.json"}),
        ("mbart50", {"tokenizer.json", "tokenizer_config.json"}),
    ],
)
def test_tiny_mt_converted_folder_holds_model_and_tokenizer_files(tiny_mt_models, family, files):
    names = {path.name for path in tiny_mt_models[family]["ct2"].iterdir()}

    assert {"model.bin", "config.json", "shared_vocabulary.json"} <= names
    assert files <= names
    assert "model.safetensors" not in names


@pytest.mark.parametrize("family", ["nllb", "m2m100", "madlad", "mbart50"])
def test_tiny_mt_language_tags_are_single_vocabulary_tokens(tiny_mt_models, offline, family):
    ct2_dir = tiny_mt_models[family]["ct2"]
    _, tokenizer = _load(ct2_dir)
    ct2_vocab = json.loads((ct2_dir / "shared_vocabulary.json").read_text(encoding="utf-8"))

    for tag in LANG_TOKENS[family].values():
        assert tokenizer.tokenize(tag) == [tag]
        assert ct2_vocab[tokenizer.convert_tokens_to_ids(tag)] == tag


@pytest.mark.parametrize(
    ("family", "raises"),
    [("marian", True), ("nllb", True), ("m2m100", True), ("madlad", False), ("mbart50", True)],
)
def test_tiny_mt_over_long_input_fails_on_absolute_positions(
    tiny_mt_models, offline, family, raises
):
    translator, tokenizer = _load(tiny_mt_models[family]["ct2"])
    source, prefix = prompt(family, tokenizer, " ".join(MT_SAMPLE_TEXT["en"]), "en", "de")
    assert len(source) > MAX_POSITIONS == tokenizer.model_max_length

    def run():
        return translator.translate_batch(
            [source], target_prefix=[prefix] if prefix else None, max_decoding_length=4
        )

    if raises:
        with pytest.raises(RuntimeError, match="position"):
            run()
    else:
        assert run()[0].hypotheses[0]


@pytest.mark.parametrize(("seed", "same"), [(0, True), (1, False)])
def test_tiny_mt_builds_are_reproducible(tiny_mt_models, tmp_path, seed, same):
    rebuilt = build_nllb(tmp_path / "nllb", seed=seed)

    reference = tiny_mt_models["nllb"]["hf"]
    assert (rebuilt / "tokenizer.json").read_bytes() == (reference / "tokenizer.json").read_bytes()
    weights_equal = (rebuilt / "model.safetensors").read_bytes() == (
        reference / "model.safetensors"
    ).read_bytes()
    assert weights_equal is same


@pytest.mark.parametrize(
    ("shape", "total_vocab"), [(ModelShape(64, 2, 4, 128), 1000), (ModelShape(), None)]
)
def test_tiny_mt_nllb_shape_and_padded_vocabulary(tmp_path, shape, total_vocab):
    from transformers import AutoConfig, AutoTokenizer

    hf_dir = build_nllb(tmp_path / "hf", shape=shape, total_vocab=total_vocab)
    config = AutoConfig.from_pretrained(hf_dir)
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    assert (config.d_model, config.encoder_layers, config.decoder_ffn_dim) == (
        shape.d_model,
        shape.layers,
        shape.ffn,
    )
    assert config.vocab_size == len(tokenizer)
    if total_vocab is not None:
        assert len(tokenizer) == total_vocab
        filler = tokenizer.convert_ids_to_tokens(600)
        assert tokenizer.convert_tokens_to_string([filler]).strip().isalpha()
