"""Flow ``translate_train``: a labeled dataset → translated, label-projected data in many languages.

The source is read as a stream and cut into shards; every shard is a unit of work per target
language: translate (through the lake's translation cache, so nothing is translated twice) →
tokenize the translation with the language's word tokenizer → project the spans (word alignment,
or the ``markers`` / ``codec`` model routes) → rows of ``translations``, ``projected``,
``outcomes``, ``alignments`` and ``rejected``. The executor stages, resumes, commits and
summarizes; the translation cache is flushed after every shard, so a crash loses at most the
translations of the shard in progress.
"""

from __future__ import annotations

from prefect import flow

from xproj.executor.summary import RunSummary
from xproj.flows.config import TranslateTrainConfig
from xproj.flows.runtime import run_plan
from xproj.flows.translating import (  # the plan, and what the other flows share with it
    FLOW_NAME,
    TRANSLATIONS,
    Translated,
    TranslateTrain,
    TranslatingPlan,
    method,
)

__all__ = [
    "FLOW_NAME",
    "TRANSLATIONS",
    "TranslateTrain",
    "Translated",
    "TranslatingPlan",
    "method",
    "translate_train",
]


@flow(name=FLOW_NAME, log_prints=True)
def translate_train(config: TranslateTrainConfig) -> RunSummary:
    """Translate a labeled dataset into every target language and project its span labels."""
    return run_plan(TranslateTrain(config), config)
