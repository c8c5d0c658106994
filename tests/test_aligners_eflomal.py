"""The eflomal adapter: settings, registry, corpus handling, errors and a real run on toy data."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
from pathlib import Path

import pytest

import xproj.projectors.aligners.eflomal as eflomal_mod
from tests.helpers import toy_sentence_pair
from xproj.projectors.aligners import ALIGNERS, get_aligner
from xproj.projectors.aligners.eflomal import MAX_TOKENS, EflomalAligner, default_iterations
from xproj.schemas.errors import BackendError, ConfigError

FAST = {"iterations": (3, 3, 6), "n_samplers": 2}


def _toy_corpus(n: int, seed: int = 0):
    """``n`` toy pairs (:func:`tests.helpers.toy_sentence_pair`) and their gold links."""
    rng = random.Random(seed)
    pairs, gold = [], []
    for _ in range(n):
        src, tgt, links = toy_sentence_pair(rng)
        pairs.append((src, tgt))
        gold.append(links)
    return pairs, gold


# --- settings, registry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"symmetrization": "grow"}, "XP302"),
        ({"model": 4}, "XP301"),
        ({"n_samplers": 0}, "XP301"),
        ({"rel_iterations": 0}, "XP301"),
        ({"null_prior": 1.0}, "XP301"),
        ({"src_prefix_len": -1}, "XP301"),
        ({"threads": 0}, "XP301"),
        ({"iterations": (1, 2)}, "XP301"),
        ({"iterations": (1, -2, 3)}, "XP301"),
        ({"seed": 1}, "XP301"),
    ],
)
def test_aligners_eflomal_invalid_settings(settings, code):
    with pytest.raises(ConfigError) as err:
        EflomalAligner(**settings)
    assert err.value.code == code


def test_aligners_eflomal_seed_error_says_why():
    with pytest.raises(ConfigError, match="/dev/urandom"):
        EflomalAligner(seed=0)


def test_aligners_eflomal_describe_lists_settings():
    aligner = EflomalAligner(
        symmetrization="union", n_samplers=5, null_prior=0.3, lowercase=False,
        src_prefix_len=0, tgt_prefix_len=6, extra_bitext=[(["a"], ["b"])], iterations=(1, 2, 3),
    )  # fmt: skip
    assert aligner.describe() == {
        "name": "eflomal.v1",
        "symmetrization": "union",
        "model": 3,
        "n_samplers": 5,
        "iterations": [1, 2, 3],
        "rel_iterations": 1.0,
        "null_prior": 0.3,
        "lowercase": False,
        "src_prefix_len": 0,
        "tgt_prefix_len": 6,
        "extra_bitext_pairs": 1,
        "priors_pairs": 0,
        "threads": None,
        "seed": None,
        "deterministic": False,
    }


def test_aligners_eflomal_defaults_are_the_measured_ones():
    # chosen in benchmarks/alignment_quality.py: change them together with that benchmark
    d = EflomalAligner().describe()
    assert (d["symmetrization"], d["src_prefix_len"], d["tgt_prefix_len"]) == ("grow-diag", 4, 4)
    assert (d["model"], d["n_samplers"], d["lowercase"], d["null_prior"]) == (3, 3, True, 0.2)


@pytest.mark.parametrize(
    ("n", "model", "rel", "expected"),
    [
        (10_000, 3, 1.0, (12, 12, 50)),
        (10_000, 2, 1.0, (12, 50, 0)),
        (10_000, 1, 1.0, (50, 0, 0)),
        (10_000, 3, 2.0, (25, 25, 100)),
        (100_000_000, 3, 1.0, (2, 1, 2)),
        (0, 3, 1.0, (1250, 1250, 5000)),
    ],
)
def test_aligners_eflomal_default_iterations(n, model, rel, expected):
    assert default_iterations(n, model, rel) == expected


def test_aligners_eflomal_registry():
    assert "eflomal.v1" in ALIGNERS.names()
    aligner = get_aligner("eflomal.v1", symmetrization="intersection")
    assert isinstance(aligner, EflomalAligner)
    assert (aligner.name, aligner.symmetrization) == ("eflomal.v1", "intersection")


def test_aligners_eflomal_registry_unknown_name():
    with pytest.raises(ConfigError) as err:
        get_aligner("eflomal.v2")
    assert err.value.code == "XP302"
    assert "eflomal.v1" in str(err.value)


def test_aligners_eflomal_import_is_lazy():
    code = "import sys, xproj.projectors.aligners; print('eflomal' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert out.stdout.split() == ["False", "False"]


# --- corpus handling without running eflomal ---------------------------------------------------


@pytest.fixture
def fake_run(monkeypatch):
    """Replace the binary run: record the corpus, link every source word to target word 0."""
    calls = []

    def run(self, corpus, n_wanted):
        calls.append((list(corpus), n_wanted))
        links = [{(i, 0) for i in range(len(s))} for s, _ in corpus[:n_wanted]]
        return links, [set(x) for x in links]

    monkeypatch.setattr(EflomalAligner, "_run", run)
    return calls


def test_aligners_eflomal_empty_sides_get_empty_alignments(fake_run):
    pairs = [(["a", "b"], ["x"]), ([], ["y"]), (["c"], []), ([], [])]
    out = EflomalAligner().align(pairs)
    assert [sorted(a.links) for a in out] == [[(0, 0), (1, 0)], [], [], []]
    assert fake_run[0] == ([(["a", "b"], ["x"])], 1)


def test_aligners_eflomal_all_empty_does_not_run(fake_run):
    assert [a.links for a in EflomalAligner().align([([], ["x"]), ([], [])])] == [set(), set()]
    assert EflomalAligner().align([]) == []
    assert fake_run == []


def test_aligners_eflomal_extra_bitext_is_trained_not_returned(fake_run):
    extra = [(["e1"], ["f1"]), ([], ["skipped"]), (["e2", "e3"], ["f2"])]
    out = EflomalAligner(extra_bitext=extra).align([(["a"], ["x"]), (["b"], ["y"])])
    assert len(out) == 2
    corpus, n_wanted = fake_run[0]
    assert n_wanted == 2
    assert corpus == [(["a"], ["x"]), (["b"], ["y"]), (["e1"], ["f1"]), (["e2", "e3"], ["f2"])]


def test_aligners_eflomal_too_long_pair_warns(fake_run, caplog):
    long_side = ["w"] * (MAX_TOKENS + 1)
    with caplog.at_level(logging.WARNING, logger="xproj.projectors.aligners.eflomal"):
        out = EflomalAligner().align([(long_side, ["x"]), (["a"], ["x"])])
    assert out[0].links == frozenset() and out[1].links == {(0, 0)}
    assert "1 pair(s)" in caplog.text


# --- backend failures -------------------------------------------------------------------------------


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-eflomal"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("echo 'text_read(): failed' >&2; exit 3", "status 3: text_read"),
        ("exit 0", "0 alignment lines for 1 sentence pairs"),
    ],
)
def test_aligners_eflomal_backend_failure(monkeypatch, tmp_path, body, message):
    monkeypatch.setattr(eflomal_mod, "_eflomal_binary", lambda: _script(tmp_path, body))
    with pytest.raises(BackendError, match=message) as err:
        EflomalAligner(**FAST).align([(["a"], ["b"])])
    assert err.value.code == "XP502"


def test_aligners_eflomal_missing_package(monkeypatch):
    monkeypatch.setattr(eflomal_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendError) as err:
        EflomalAligner(**FAST).align([(["a"], ["b"])])
    assert err.value.code == "XP501"


def test_aligners_eflomal_writes_vocabulary_ids(monkeypatch, tmp_path):
    """The binary receives lowercased, prefix-cut ids; tokens with spaces are fine."""
    seen = tmp_path / "seen"
    body = (
        'while [ $# -gt 0 ]; do case "$1" in -s) S="$2";; -t) T="$2";; -f) F="$2";; '
        '-r) R="$2";; esac; shift; done; '
        f'cat "$S" "$T" > {seen}; printf "0-0\\n0-0\\n" > "$F"; printf "0-0\\n0-0\\n" > "$R"'
    )
    monkeypatch.setattr(eflomal_mod, "_eflomal_binary", lambda: _script(tmp_path, body))
    pairs = [(["Maison", "maisons", "a b"], ["X"]), (["MAIS"], ["x", "y z"])]
    out = EflomalAligner(src_prefix_len=4, tgt_prefix_len=0, **FAST).align(pairs)
    assert [a.links for a in out] == [{(0, 0)}, {(0, 0)}]
    # source: "mais" (maison, maisons, mais) = 0, "a b" = 1; target: "x" = 0, "y z" = 1
    assert seen.read_text().splitlines() == ["2 2", "3 0 0 1", "1 0", "2 2", "1 0", "2 0 1"]


# --- real eflomal -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_eflomal():
    pytest.importorskip("eflomal")


@pytest.mark.parametrize("method", ["intersection", "grow-diag", "grow-diag-final-and"])
def test_aligners_eflomal_recovers_toy_translation(real_eflomal, method):
    pairs, gold = _toy_corpus(300)
    out = EflomalAligner(symmetrization=method, **FAST).align(pairs)
    predicted = sum(len(a.links) for a in out)
    correct = sum(len(a.links & g) for a, g in zip(out, gold, strict=True))
    assert correct / predicted > 0.95
    assert correct / sum(len(g) for g in gold) > 0.9


def test_aligners_eflomal_directions_in_source_target_order(real_eflomal):
    pairs, gold = _toy_corpus(300, seed=1)
    fwd, rev = EflomalAligner(**FAST).align_directions(pairs)
    for links in (fwd, rev):
        correct = sum(len(f & g) for f, g in zip(links, gold, strict=True))
        assert correct / sum(len(f) for f in links) > 0.95


def test_aligners_eflomal_only_corpus_at_hand_returned(real_eflomal):
    pairs, gold = _toy_corpus(200, seed=2)
    out = EflomalAligner(extra_bitext=pairs[20:], **FAST).align(pairs[:20] + [([], ["x"])])
    assert len(out) == 21 and out[20].links == frozenset()
    for alignment, (src, tgt) in zip(out, pairs[:20], strict=False):
        assert all(i < len(src) and j < len(tgt) for i, j in alignment.links)
    correct = sum(len(a.links & g) for a, g in zip(out, gold[:20], strict=False))
    assert correct / sum(len(a.links) for a in out) > 0.9


@pytest.mark.slow
@pytest.mark.shared_data
def test_aligners_eflomal_hansards_aer(real_eflomal, shared_data):
    from xproj.io.readers import read_pharaoh, read_tokenized_bitext
    from xproj.projectors.metrics import alignment_scores

    folder = shared_data / "word-alignment-gold"
    pairs = read_tokenized_bitext(folder / "enfr.src-tgt")
    gold = read_pharaoh(folder / "enfr.gold", one_based=True)
    scores = alignment_scores(EflomalAligner().align(pairs), gold)
    # 447 pairs and nothing else to learn from: about 0.13 (0.10 with the Tatoeba bitext)
    assert scores.aer < 0.16
