"""SimAlignAligner: parity with simalign.SentenceAligner, matching functions, edge cases, config."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xproj.projectors.aligners import get_aligner
from xproj.projectors.aligners.simalign import (
    SimAlignAligner,
    apply_distortion,
    argmax_links,
    itermax_links,
    match_links,
)
from xproj.schemas.errors import E_BACKEND_MISSING, E_BAD_CONFIG, BackendError, ConfigError
from xproj.schemas.records import Alignment
from xproj.testing.tiny_models import SAMPLE_TEXT, build_tiny_bert

LAYER = 2  # of the tiny model's 3: exercises skipping the unused top block
#: our method name → SentenceAligner's result key
SIMALIGN_KEYS = {"argmax": "inter", "itermax": "itermax", "match": "mwmf"}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and spin-waiting threads crawl on a busy machine."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def _parity_pairs() -> list[tuple[list[str], list[str]]]:
    """Translations, long/short mixes (padding), shuffles, repeats and one-word sides."""
    sents = [s.split() for s in SAMPLE_TEXT]
    pairs = [(sents[k], sents[k + 1]) for k in range(0, len(sents), 2)]
    rng = random.Random(7)
    words = [w for s in sents for w in s]
    for _ in range(16):
        pairs.append((rng.sample(words, rng.randint(1, 30)), rng.sample(words, rng.randint(1, 30))))
    long = sents[0] + sents[2] + sents[4]
    pairs += [
        (long, ["Anna"]),
        (["Merci", "!"], long),
        (sents[2], sents[2][::-1]),
        (["Rome", "Rome", "Rome"], ["Rome", "à", "Rome"]),
        (["xyzzy", "approved"], ["approuvé", "qwv"]),  # unknown words map to [UNK]
        (["a"], ["b"]),
        (sents[5] + sents[7], sents[4] + sents[6]),
    ]
    return pairs


PAIRS = _parity_pairs()


#: networkx's matching (SimAlign's Match) takes seconds on long subword matrices: compare Match
#: end to end on the shorter pairs only (the matrix tests below cover it on its own)
MATCH_MAX_WORDS = 14


@pytest.fixture(scope="module")
def reference(tiny_bert):
    """SentenceAligner's links per token type and method (``None`` where not computed)."""
    simalign = pytest.importorskip("simalign")
    out = {}
    for token_type in ("bpe", "word"):
        ref = simalign.SentenceAligner(
            model=str(tiny_bert), token_type=token_type, matching_methods="ai", layer=LAYER
        )
        found = [ref.get_word_aligns(src, tgt) for src, tgt in PAIRS]
        ref.matching_methods = ["mwmf"]
        out[(token_type, "argmax")] = [r["inter"] for r in found]
        out[(token_type, "itermax")] = [r["itermax"] for r in found]
        out[(token_type, "match")] = [
            ref.get_word_aligns(src, tgt)["mwmf"]
            if max(len(src), len(tgt)) <= MATCH_MAX_WORDS
            else None
            for src, tgt in PAIRS
        ]
    return out


@pytest.mark.parametrize("method", ["argmax", "itermax", "match"])
@pytest.mark.parametrize("token_type", ["bpe", "word"])
@pytest.mark.parametrize(
    "batching",
    [
        {"batch_size": 96, "batch_type": "tokens"},
        {"batch_size": 3, "batch_type": "sentences", "read_ahead": 7},
    ],
)
def test_simalign_batched_matches_sentence_aligner(
    tiny_bert, reference, method, token_type, batching
):
    aligner = SimAlignAligner(
        str(tiny_bert), layer=LAYER, method=method, token_type=token_type, device="cpu", **batching
    )
    ours = [sorted(a.links) for a in aligner.align(PAIRS)]
    theirs = reference[(token_type, method)]
    compared = [k for k, links in enumerate(theirs) if links is not None]
    mismatched = [k for k in compared if ours[k] != sorted(theirs[k])]
    assert mismatched == []
    assert len(compared) >= 12
    assert sum(len(ours[k]) for k in compared) > len(compared)


MATRIX_SHAPES = [(1, 1), (1, 5), (5, 1), (2, 2), (2, 6), (3, 3), (7, 4), (4, 9), (12, 15)]


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("distortion", [0.0, 0.5])
def test_simalign_argmax_itermax_equal_simalign_functions(shape, ties, distortion):
    from simalign import SentenceAligner

    rng = np.random.default_rng(hash((shape, ties)) % 2**32)
    for _ in range(20):
        # integer-valued matrices are full of exact ties: the tie-breaking must agree too
        raw = rng.integers(0, 3, shape).astype(np.float32) if ties else rng.random(shape)
        sim = apply_distortion(raw, distortion)
        assert np.array_equal(sim, SentenceAligner.apply_distortion(raw, distortion))
        fwd, rev = SentenceAligner.get_alignment_matrix(sim)
        assert np.array_equal(argmax_links(sim), (fwd * rev) > 0)
        assert np.array_equal(itermax_links(sim), SentenceAligner.iter_max(sim) > 0)


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_simalign_match_equals_max_weight_matching(shape):
    from simalign import SentenceAligner

    rng = np.random.default_rng(sum(shape))
    for _ in range(10):
        sim = rng.random(shape)
        assert np.array_equal(match_links(sim), SentenceAligner.get_max_weight_match(sim) > 0)


@pytest.mark.parametrize(
    ("sim", "expected_argmax", "expected_itermax"),
    [
        # row 1 and column 1 are left free by ArgMax; IterMax then links them to the best
        # damped candidates, which may share an already aligned end
        (
            [[0.9, 0.8, 0.1], [0.85, 0.3, 0.2], [0.1, 0.2, 0.7]],
            {(0, 0), (2, 2)},
            {(0, 0), (2, 2), (1, 0), (0, 1)},
        ),
        (
            [[0.9, 0.5, 0.1], [0.8, 0.6, 0.1], [0.1, 0.2, 0.7]],
            {(0, 0), (2, 2)},
            {(0, 0), (2, 2), (1, 0)},
        ),
        # both ends free: the undamped similarity wins
        (
            [[0.9, 0.1, 0.1, 0.1], [0.1, 0.1, 0.6, 0.58], [0.1, 0.2, 0.95, 0.4]],
            {(0, 0), (2, 2)},
            {(0, 0), (2, 2), (1, 3)},
        ),
        # 2 x 2: IterMax adds nothing
        ([[0.9, 0.8], [0.85, 0.1]], {(0, 0)}, {(0, 0)}),
        ([[0.5]], {(0, 0)}, {(0, 0)}),
    ],
)
def test_simalign_matching_hand_built(sim, expected_argmax, expected_itermax):
    sim = np.array(sim)
    assert set(zip(*np.nonzero(argmax_links(sim)), strict=True)) == expected_argmax
    assert set(zip(*np.nonzero(itermax_links(sim)), strict=True)) == expected_itermax


@pytest.mark.parametrize("method", ["argmax", "itermax", "match"])
@pytest.mark.parametrize("token_type", ["bpe", "word"])
def test_simalign_sentence_with_itself_aligns_diagonally(tiny_bert, method, token_type):
    aligner = SimAlignAligner(
        str(tiny_bert), layer=LAYER, method=method, token_type=token_type, device="auto"
    )
    words = SAMPLE_TEXT[4].split()
    [alignment] = aligner.align([(words, words)])
    assert alignment.links == {(i, i) for i in range(len(words))}


def test_simalign_long_sentence_embedded_in_windows(tiny_bert):
    # ~2.5 subwords per word: far beyond the tiny model's 128 positions, never truncated (no
    # repeated passages: identical windows would give exact ties between distant words)
    words = " ".join(SAMPLE_TEXT).split()
    aligner = SimAlignAligner(str(tiny_bert), layer=LAYER, batch_size=256)
    [alignment] = aligner.align([(words, words)])
    subwords = sum(len(aligner._tokenizer.tokenize(w)) for w in words)
    assert subwords > 3 * aligner._max_content
    assert alignment.links == {(i, i) for i in range(len(words))}


def test_simalign_empty_sides_give_empty_alignments_in_order(tiny_bert):
    aligner = SimAlignAligner(str(tiny_bert), layer=LAYER)
    pairs = [
        (["Anna", "habite"], []),
        (["Anna"], ["Anna"]),
        ([], []),
        (["\u200b"], ["Rome"]),  # a word without any subword cannot be aligned
        (["\u200b", "Rome"], ["Rome"]),
    ]
    assert aligner.align(pairs) == [
        Alignment(set()),
        Alignment({(0, 0)}),
        Alignment(set()),
        Alignment(set()),
        Alignment({(1, 0)}),
    ]
    assert aligner.align([]) == []


def test_simalign_skipping_unused_layers_keeps_links(tiny_bert):
    pairs = PAIRS[:10]
    full = SimAlignAligner(str(tiny_bert), layer=LAYER, skip_unused_layers=False).align(pairs)
    cut = SimAlignAligner(str(tiny_bert), layer=LAYER).align(pairs)
    assert cut == full


@pytest.mark.parametrize(
    "settings",
    [
        {"layer": 4},  # the tiny model has 3 layers
        {"layer": -1},
        {"method": "mwmf"},
        {"token_type": "char"},
        {"batch_type": "pairs"},
        {"batch_size": 0},
        {"read_ahead": 0},
        {"distortion": -0.5},
    ],
)
def test_simalign_bad_settings_raise_config_error(tiny_bert, settings):
    with pytest.raises(ConfigError) as err:
        SimAlignAligner(str(tiny_bert), **settings)
    assert err.value.code == E_BAD_CONFIG


@pytest.mark.parametrize("model", ["no-such-org/no-such-model", "/nonexistent/model/folder"])
def test_simalign_missing_model_offline_raises_backend_error(monkeypatch, model):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackendError) as err:
        SimAlignAligner(model)
    assert err.value.code == E_BACKEND_MISSING
    assert "HF_HUB_OFFLINE" in err.value.message


def test_simalign_registered_and_describes_settings(tiny_bert):
    aligner = get_aligner("simalign.v1", model=str(tiny_bert), layer=1, method="itermax")
    assert isinstance(aligner, SimAlignAligner)
    info = aligner.describe()
    assert {k: info[k] for k in ("name", "layer", "method", "token_type", "distortion")} == {
        "name": "simalign.v1",
        "layer": 1,
        "method": "itermax",
        "token_type": "bpe",
        "distortion": 0.0,
    }


def test_simalign_import_does_not_import_torch():
    code = (
        "import sys, xproj.projectors.aligners, xproj.projectors.aligners.simalign; "
        "print('torch' in sys.modules or 'transformers' in sys.modules)"
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo)
    assert out.stdout.strip() == "False", out.stderr
