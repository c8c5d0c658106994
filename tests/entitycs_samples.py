"""A tiny FewRel-style file and label tables, written for the EntityCS tests."""

from __future__ import annotations

import json
from pathlib import Path

#: Three sentences: two kept (all of de/fr have both entities; sw only for the first), one too
#: short.
RECORDS = {
    "P1": [
        {
            "tokens": "Anna Smith was born in Paris , the capital of France .".split(),
            "h": ["Paris", "Q90", [[5]]],
            "t": ["France", "Q142", [[10]]],
        },
        {"tokens": "Short one .".split(), "h": ["Short", "Q1", [[0]]], "t": ["one", "Q2", [[1]]]},
        {
            "tokens": "The river Rhine flows through Basel and Cologne .".split(),
            "h": ["Rhine", "Q584", [[2]]],
            "t": ["Cologne", "Q365", [[7]]],
        },
    ]
}

LABELS = {
    "fr": "Q90\tParis\nQ142\tFrance\nQ584\tRhin\nQ365\tCologne\n",
    "de": "Q90\tParis\nQ142\tFrankreich\nQ584\tRhein\nQ365\tKöln\n",
    "sw": "Q90\tParis\nQ142\tUfaransa\n",
}


def write_small_fewrel(root: Path) -> tuple[Path, Path]:
    """Write the sample under ``root``; returns (FewRel file, label folder)."""
    src = root / "fewrel.json"
    src.write_text(json.dumps(RECORDS))
    labels = root / "labels"
    labels.mkdir()
    for lang, text in LABELS.items():
        (labels / f"{lang}.txt").write_text(text, encoding="utf-8")
    return src, labels


def small_entitycs_config(root: Path):
    """An entitycs config over the sample written under ``root`` (de, fr, sw; seed 7), committing
    into ``root/lake``."""
    from xproj.flows.entitycs import EntityCSConfig

    src, labels = write_small_fewrel(root)
    return EntityCSConfig(
        source={"path": str(src), "format": "fewrel"},
        names={"path": str(labels)},
        languages=["de", "fr", "sw"],
        seed=7,
        lake=str(root / "lake"),
    )
