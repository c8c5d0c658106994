"""Small helpers shared by several test modules: input files written from text, sample lakes."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

from tests.test_tables import sample_rows
from xproj.catalog import Lake, RunRecord


def write_texts(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write each ``name: text`` of ``files`` into ``folder``; the paths, in the same order."""
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text)
        paths.append(path)
    return paths


def lake_with_outcome_runs(lake_root: Path, flow: str, sizes: Iterable[int]) -> Lake:
    """A lake with one run of ``flow`` per size (params ``{"n": size}``), each committing that
    many sample ``outcomes`` rows: ``outcomes@k`` and ``runs@k`` hold the first ``k + 1`` runs."""
    lake = Lake(lake_root)
    for n in sizes:
        run = RunRecord.start(flow, {"n": n})
        lake.commit(run, {"outcomes": sample_rows("outcomes", run.run_id, n)})
    return lake


def toy_sentence_pair(rng: random.Random) -> tuple[list[str], list[str], set[tuple[int, int]]]:
    """A toy sentence pair for aligner tests, with its gold links: source word ``wK`` translates
    target word ``WK``; the target starts with an untranslated filler word and has the words
    shuffled, so source and target positions differ and a swapped orientation would show."""
    k = rng.randint(3, 7)
    words = rng.sample(range(40), k)
    order = list(range(k))
    rng.shuffle(order)
    src = [f"w{w}" for w in words]
    tgt = [f"filler{rng.randint(0, 3)}"] + [f"W{words[p]}" for p in order]
    return src, tgt, {(p, pos + 1) for pos, p in enumerate(order)}
