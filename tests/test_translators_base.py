"""Decoding options (validation, cache keys) and the Translation record."""

from __future__ import annotations

import pytest

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
from xproj.translators.base import DecodingOptions, Translation


def test_base_default_options_are_greedy():
    options = DecodingOptions()
    assert options.beam_size == 1 and not options.sampling
    assert options.batch_type == "tokens" and options.max_batch_size > 0


# Options that only change speed must not change the key.
@pytest.mark.parametrize(
    "speed_only",
    [{"max_batch_size": 64}, {"batch_type": "examples"}, {"read_ahead": 2}],
)
def test_base_key_ignores_speed_options(speed_only):
    assert DecodingOptions(**speed_only).key() == DecodingOptions().key()


@pytest.mark.parametrize(
    "change",
    [
        {"beam_size": 4},
        {"max_decoding_length": 128},
        {"min_decoding_length": 2},
        {"length_penalty": 0.8},
        {"repetition_penalty": 1.2},
        {"no_repeat_ngram_size": 3},
        {"disable_unk": True},
        {"use_vmap": True},
        {"sampling_topk": 10},
    ],
)
def test_base_key_changes_with_output_options(change):
    assert DecodingOptions(**change).key() != DecodingOptions().key()


def test_base_key_is_stable_text():
    assert DecodingOptions().key() == (
        "v1:beam_size=1;max_decoding_length=256;min_decoding_length=0;length_penalty=1.0;"
        "repetition_penalty=1.0;no_repeat_ngram_size=0;disable_unk=0;use_vmap=0;sampling=off"
    )


def test_base_key_sampling_parameters_only_when_sampling():
    greedy = DecodingOptions(sampling_temperature=0.5)
    assert greedy.key() == DecodingOptions().key()
    sampled = DecodingOptions(sampling_topk=5, sampling_temperature=0.5)
    assert "sampling_temperature=0.5" in sampled.key()


@pytest.mark.parametrize(
    "bad",
    [
        {"beam_size": 0},
        {"max_decoding_length": 0},
        {"min_decoding_length": 300},
        {"sampling_topp": 0.0},
        {"max_batch_size": 0},
        {"batch_type": "sentences"},
        {"read_ahead": 0},
    ],
)
def test_base_invalid_options_are_coded(bad):
    with pytest.raises(ConfigError) as info:
        DecodingOptions(**bad)
    assert info.value.code == E_BAD_CONFIG


def test_base_options_dict_round_trip_and_unknown_keys():
    options = DecodingOptions(beam_size=3, max_batch_size=128)
    assert DecodingOptions.from_dict(options.to_dict()) == options
    with pytest.raises(ConfigError) as info:
        DecodingOptions.from_dict({"beam": 3})
    assert "beam" in info.value.message


@pytest.mark.parametrize(
    ("translation", "ok"),
    [
        (Translation("Hallo"), True),
        (Translation("", segments=0, flag="empty"), True),
        (Translation("a b", segments=2, flag="split"), True),
        (Translation("", segments=0, flag="too_long", detail="sentence 1 …"), False),
    ],
)
def test_base_translation_ok(translation, ok):
    assert translation.ok is ok
