"""Flow configs: shared fields, validation at the edge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from xproj.flows.config import ProjectParallelConfig, TranslateTrainConfig

SRC = {"path": "a.conll", "lang": "en"}


@pytest.mark.parametrize(
    "make",
    [
        lambda src: ProjectParallelConfig(source=src, target={"path": "b.txt", "lang": "es"}),
        lambda src: TranslateTrainConfig(source=src, target_langs=["de"], model="m"),
    ],
)
def test_flows_config_source_needs_labels(make):
    with pytest.raises(ValidationError, match="needs labels"):
        make({**SRC, "format": "text"})
    assert make(SRC).source.lang == "en"


def test_flows_config_translate_train_refuses_given_alignments():
    with pytest.raises(ValidationError, match="given.v1 reads links from a file"):
        TranslateTrainConfig(source=SRC, target_langs=["de"], model="m", aligner="given.v1")


def test_flows_config_translate_train_refuses_repeated_languages():
    with pytest.raises(ValidationError, match="repeat"):
        TranslateTrainConfig(source=SRC, target_langs=["de", "deu"], model="m")
