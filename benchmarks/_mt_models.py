"""Benchmark-sized random NLLB-style models and synthetic labeled sources, cached between runs.

The models come from :func:`xproj.testing.tiny_mt.build_nllb` with a larger :class:`ModelShape` and the
vocabulary padded to NLLB-200's real size (256,206 entries: a tiny BPE trained on
``xproj.testing.tiny_mt.MT_SAMPLE_TEXT`` plus filler word pieces plus the language codes), so the
embedding matrix and the output projection (tied, 256,206 × d_model) cost what the real model's
cost. Weights are random: speed only, never quality.

Building and converting the 600M shape takes a minute or two and about 2.5 GB of disk (the
fp32 Hugging Face folder, which transformers needs, plus the int8 CTranslate2 folder), so both are
kept under ``$XPROJ_BENCH_CACHE`` (default ``~/.cache/xproj/bench``) in a folder named after the
shape; a folder is used only once its ``.complete`` marker exists.

Example:
    >>> hf_dir, ct2_dir = cached_nllb("small")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
from pathlib import Path

from xproj.testing.tiny_mt import (
    MT_SAMPLE_TEXT,
    TINY,
    ModelShape,
    all_sample_text,
    build_nllb,
    convert,
)

#: NLLB-200's vocabulary size (``facebook/nllb-200-distilled-600M`` ``config.vocab_size``).
NLLB_VOCAB = 256_206

#: Model sizes by name: ``600m`` is NLLB-200-distilled-600M's shape, ``small`` a quick one.
SHAPES: dict[str, ModelShape] = {
    "600m": ModelShape(d_model=1024, layers=12, heads=16, ffn=4096),
    "small": ModelShape(d_model=512, layers=6, heads=8, ffn=2048),
    "tiny": TINY,
}

#: Vocabulary size per shape name (``None``: the tiny trained vocabulary only).
VOCABS: dict[str, int | None] = {"600m": NLLB_VOCAB, "small": NLLB_VOCAB, "tiny": None}

#: Positions of the benchmark models (NLLB-200: 1024).
MAX_POSITIONS = 1024

#: Words tagged in the synthetic sources, with their type.
_ENTITIES = {
    "Berlin": "LOC",
    "Madrid": "LOC",
    "Paris": "LOC",
    "Moscow": "LOC",
    "Beijing": "LOC",
    "Lyon": "LOC",
    "Maria": "PER",
    "John": "PER",
    "Anna": "PER",
}
_NAMES = ("Maria Schmidt", "John Miller", "Anna Petrova", "Paul Martin", "Elena Costa")


def cache_dir() -> Path:
    """``$XPROJ_BENCH_CACHE`` or ``~/.cache/xproj/bench``."""
    return Path(os.environ.get("XPROJ_BENCH_CACHE", Path.home() / ".cache" / "xproj" / "bench"))


def text_fingerprint() -> str:
    """First 8 hex digits of the SHA-1 of the tokenizer training text (``MT_SAMPLE_TEXT``).

    The tiny BPE is trained on that text, so a changed sentence changes the vocabulary (for
    example whether ``[`` has a piece of its own) and must not reuse a cached model.
    """
    return hashlib.sha1("\n".join(all_sample_text()).encode("utf-8")).hexdigest()[:8]


def shape_key(size: str, seed: int = 0) -> str:
    """Folder name of a shape: every parameter that changes the weights or the vocabulary,
    the tokenizer training text included (as :func:`text_fingerprint`)."""
    s = SHAPES[size]
    return (
        f"nllb-d{s.d_model}-l{s.layers}-h{s.heads}-f{s.ffn}-v{VOCABS[size] or 'tiny'}"
        f"-p{MAX_POSITIONS}-s{seed}-t{text_fingerprint()}"
    )


def cached_nllb(size: str, seed: int = 0, *, keep_hf: bool = True) -> tuple[Path, Path]:
    """The Hugging Face (fp32) and CTranslate2 (int8) folders of a random NLLB-style model.

    Args:
        size: a key of :data:`SHAPES`.
        seed: torch seed of the random weights.
        keep_hf: keep the fp32 Hugging Face folder (transformers needs it).

    Returns:
        ``(hf_dir, ct2_dir)``; built and converted on first use, reused afterwards.
    """
    root = cache_dir() / shape_key(size, seed)
    hf_dir, ct2_dir, done = root / "hf", root / "ct2-int8", root / ".complete"
    if done.is_file() and ct2_dir.is_dir() and (hf_dir.is_dir() or not keep_hf):
        return hf_dir, ct2_dir
    if root.exists():
        shutil.rmtree(root)
    print(f"building {shape_key(size, seed)} under {root} (once; cached afterwards)", flush=True)
    build_nllb(
        hf_dir, shape=SHAPES[size], total_vocab=VOCABS[size], max_positions=MAX_POSITIONS, seed=seed
    )
    convert(hf_dir, ct2_dir, quantization="int8")
    if not keep_hf:
        shutil.rmtree(hf_dir)
    done.write_text("ok\n")
    return hf_dir, ct2_dir


def synthetic_sentences(n: int, seed: int = 0) -> list[list[tuple[str, str]]]:
    """``n`` distinct English sentences as ``(token, IOB2 tag)`` lists, each with entities.

    Each is ``<Name> wrote in report <i> : <sample sentence>``, the sample sentence drawn from
    ``MT_SAMPLE_TEXT["en"]``; the running number keeps every sentence distinct, so no cache or
    deduplication can skip one. Sample sentences written with ``[ … ]`` markers (they are there
    to teach the tiny vocabularies the marker pieces) are left out: a source that already holds
    a marker cannot be marked for projection.
    """
    rng = random.Random(seed)
    samples = [_split(text) for text in MT_SAMPLE_TEXT["en"] if not _has_marker(text)]
    out = []
    for i in range(n):
        first, last = rng.choice(_NAMES).split()
        tagged = [
            (first, "B-PER"),
            (last, "I-PER"),
            ("wrote", "O"),
            ("in", "O"),
            ("report", "O"),
            (str(i + 1), "O"),
            (":", "O"),
        ]
        for token in rng.choice(samples):
            kind = _ENTITIES.get(token)
            tagged.append((token, f"B-{kind}" if kind else "O"))
        out.append(tagged)
    return out


def write_conll(path: Path, n: int, seed: int = 0) -> Path:
    """Write :func:`synthetic_sentences` as a two-column CoNLL file (streamed, any ``n``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for sentence in synthetic_sentences(n, seed):
            fh.write("".join(f"{token}\t{tag}\n" for token, tag in sentence))
            fh.write("\n")
    return path


def _has_marker(text: str) -> bool:
    return "[" in text or "]" in text


def _split(text: str) -> list[str]:
    """Whitespace tokens with final punctuation split off (``"home."`` → ``home``, ``.``)."""
    tokens: list[str] = []
    for word in text.split():
        core = word.rstrip(".,?!")
        tokens.extend(t for t in (core, word[len(core) :]) if t)
    return tokens
