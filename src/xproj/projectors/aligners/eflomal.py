"""eflomal: Bayesian IBM1 → HMM → fertility word alignment by Gibbs sampling (Östling & Tiedemann 2016).

The ``eflomal`` package (2.0) ships a C binary and a thin Python wrapper (``eflomal.Aligner``) that
writes temporary files, runs the binary and leaves the links in files. This adapter drives the
binary itself, because the wrapper always lowercases, ignores the binary's exit status (a crash
leaves empty output files) and reads whitespace-joined text lines. Here the vocabulary is built in
Python (so tokens may contain anything, and normalisation is ours), the two integer-encoded text
files are written to a temporary folder, the binary aligns both directions in one run (two OpenMP
threads) and the links are read back and symmetrised.

Reproducibility: eflomal 2.0 has no seed. Each direction seeds its xorshift* generator from 8 bytes
of ``/dev/urandom``; the random initial alignment, every Gibbs sample and, with several samplers,
which sampler receives which split generator state (taken in OpenMP thread order) differ between
runs. Corpus-level quality is stable (AER within about ±0.3 points over three runs on each gold
set of ``benchmarks/alignment_quality.py``) but individual links are not: between two runs with
the defaults about 19 % of the links of the en-fr Hansards set differ (|A △ B| / |A ∪ B|; 16 %
with 6 samplers, 17 % with 3× the iterations).
Store alignments (or their projections) when a rerun must reproduce them.

Cost: sampling iterations follow eflomal's rule, 5000/√n for the last stage, so small corpora get
many (450 pairs: 236 iterations, several seconds to tens of seconds for long sentences). Capping
them cost up to 5 AER points on the 450-pair zh-en set, so the rule is kept; align shards of
thousands of pairs, or give ``extra_bitext``. On 10k Tatoeba pairs the adapter spends about three
quarters of its time in the binary; the rest is encoding, file I/O, parsing and symmetrisation.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xproj.projectors.aligners.base import Aligner, TokenPair
from xproj.projectors.aligners.symmetrize import check_method, symmetrize
from xproj.schemas.errors import (
    E_BACKEND_FAILED,
    E_BACKEND_MISSING,
    E_BAD_CONFIG,
    BackendError,
    ConfigError,
)
from xproj.schemas.records import Alignment

logger = logging.getLogger(__name__)

#: eflomal stores sentence positions in 10 bits: longer sentences cannot be aligned.
MAX_TOKENS = 1023


def _eflomal_binary() -> Path:
    """The ``eflomal`` executable installed inside the ``eflomal`` Python package."""
    spec = importlib.util.find_spec("eflomal")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            "the eflomal package is not installed.",
            fix="pip install eflomal (it builds from source: a C compiler is needed).",
            code=E_BACKEND_MISSING,
        )
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "eflomal"
    if not binary.is_file():
        raise BackendError(
            f"the eflomal package has no executable at {binary}.",
            fix="reinstall eflomal (pip install --force-reinstall --no-binary eflomal eflomal).",
            code=E_BACKEND_MISSING,
        )
    return binary


def default_iterations(
    n_sentences: int, model: int, rel_iterations: float = 1.0
) -> tuple[int, ...]:
    """Sampling iterations per model stage, as eflomal chooses them for a corpus size.

    ``5000 / sqrt(n)`` iterations for the last stage (at least 2), a quarter of that for the
    earlier ones, scaled by ``rel_iterations``.

    Example:
        >>> default_iterations(10_000, 3)
        (12, 12, 50)
    """
    iters = max(2, round(rel_iterations * 5000 / math.sqrt(max(1, n_sentences))))
    quarter = max(1, iters // 4)
    if model == 1:
        return (iters, 0, 0)
    if model == 2:
        return (max(2, quarter), iters, 0)
    return (max(2, quarter), quarter, iters)


class _Vocabulary:
    """Token → integer id, after lowercasing and prefix truncation."""

    def __init__(self, lowercase: bool, prefix_len: int) -> None:
        self.lowercase = lowercase
        self.prefix_len = prefix_len
        self.ids: dict[str, int] = {}

    def encode(self, tokens: Sequence[str]) -> str:
        """The sentence as eflomal's text line: ``length id id …``."""
        ids = self.ids
        out = [str(len(tokens))]
        for tok in tokens:
            if self.lowercase:
                tok = tok.lower()
            if self.prefix_len:
                tok = tok[: self.prefix_len]
            idx = ids.get(tok)
            if idx is None:
                idx = ids[tok] = len(ids)
            out.append(str(idx))
        return " ".join(out)


def _parse_links(line: str) -> set[tuple[int, int]]:
    """``"0-1 2-2"`` → ``{(0, 1), (2, 2)}``."""
    numbers = [int(x) for x in line.replace("-", " ").split()]
    return set(zip(numbers[::2], numbers[1::2], strict=True))


class EflomalAligner(Aligner):
    """Word alignment with eflomal in both directions, then symmetrisation.

    eflomal learns its statistics from the corpus it aligns, so align a whole shard at once, and
    give it more parallel text through ``extra_bitext`` when the shard is small: those pairs are
    trained on but not returned.

    Args:
        symmetrization: how to combine the two directions (see
            :mod:`xproj.projectors.aligners.symmetrize`). On the en-fr, ro-en and zh-en gold sets
            (``benchmarks/alignment_quality.py``) ``grow-diag``, ``grow-diag-final-and`` and
            ``intersection`` tie on mean AER; ``grow-diag`` is never far from each set's best
            (intersection is best on en-fr but worst on ro-en, grow-diag-final-and the reverse).
        model: 1 = IBM1, 2 = + HMM, 3 = + fertility (eflomal's default and best).
        n_samplers: independent Gibbs samplers whose marginals are averaged.
        iterations: sampling iterations per stage ``(ibm1, hmm, fertility)``; ``None`` uses
            eflomal's corpus-size rule (:func:`default_iterations`) scaled by ``rel_iterations``.
        rel_iterations: scale of the automatic iteration counts.
        null_prior: prior probability of a NULL (unaligned) link.
        lowercase: lowercase tokens before counting (the links always refer to the input tokens).
        src_prefix_len: when > 0, source tokens are cut to this many characters for the
            statistics (crude stemming; the links still refer to the full tokens). The default 4
            lowered AER by 3–5 points on all three gold sets; 0 turns it off (consider that for
            very large corpora, or languages whose words differ mainly in prefixes).
        tgt_prefix_len: the same for target tokens.
        extra_bitext: tokenized pairs appended to the training corpus.
        threads: OpenMP threads for the binary (``None``: its default, one per core).
        seed: must stay ``None``: eflomal 2.0 cannot be seeded (see the module notes).

    Raises:
        ConfigError: XP301 for invalid settings (including a seed), XP302 for an unknown
            symmetrization method.

    Example:
        >>> aligner = EflomalAligner(symmetrization="intersection")  # doctest: +SKIP
        >>> aligner.align([(["a", "house"], ["une", "maison"])])  # doctest: +SKIP
        [Alignment(links=frozenset({(0, 0), (1, 1)}), possible=frozenset())]
    """

    name = "eflomal.v1"

    def __init__(
        self,
        *,
        symmetrization: str = "grow-diag",
        model: int = 3,
        n_samplers: int = 3,
        iterations: tuple[int, int, int] | None = None,
        rel_iterations: float = 1.0,
        null_prior: float = 0.2,
        lowercase: bool = True,
        src_prefix_len: int = 4,
        tgt_prefix_len: int = 4,
        extra_bitext: Sequence[TokenPair] | None = None,
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        check_method(symmetrization)
        if seed is not None:
            raise ConfigError(
                f"eflomal cannot be seeded (seed={seed} given): it seeds itself from /dev/urandom.",
                fix="leave seed unset; use more samplers (n_samplers) to reduce run-to-run "
                "variation, or store the alignments to reuse them.",
                code=E_BAD_CONFIG,
            )
        checks = [
            (model in (1, 2, 3), f"model={model} must be 1, 2 or 3"),
            (n_samplers >= 1, f"n_samplers={n_samplers} must be at least 1"),
            (rel_iterations > 0, f"rel_iterations={rel_iterations} must be positive"),
            (0.0 < null_prior < 1.0, f"null_prior={null_prior} must be in (0, 1)"),
            (src_prefix_len >= 0 and tgt_prefix_len >= 0, "prefix lengths must be >= 0"),
            (threads is None or threads >= 1, f"threads={threads} must be at least 1"),
            (
                iterations is None or (len(iterations) == 3 and all(n >= 0 for n in iterations)),
                f"iterations={iterations} must be three non-negative counts",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(
                    f"invalid eflomal setting: {message}.",
                    fix="see EflomalAligner's docstring for the valid ranges.",
                    code=E_BAD_CONFIG,
                )
        self.symmetrization = symmetrization
        self.model = model
        self.n_samplers = n_samplers
        self.iterations = tuple(iterations) if iterations is not None else None
        self.rel_iterations = rel_iterations
        self.null_prior = null_prior
        self.lowercase = lowercase
        self.src_prefix_len = src_prefix_len
        self.tgt_prefix_len = tgt_prefix_len
        self.extra_bitext = list(extra_bitext) if extra_bitext is not None else []
        self.threads = threads

    def describe(self) -> dict[str, Any]:
        """Every setting that shapes the output, plus the size of the extra bitext."""
        return {
            "name": self.name,
            "symmetrization": self.symmetrization,
            "model": self.model,
            "n_samplers": self.n_samplers,
            "iterations": list(self.iterations) if self.iterations else None,
            "rel_iterations": self.rel_iterations,
            "null_prior": self.null_prior,
            "lowercase": self.lowercase,
            "src_prefix_len": self.src_prefix_len,
            "tgt_prefix_len": self.tgt_prefix_len,
            "extra_bitext_pairs": len(self.extra_bitext),
            "threads": self.threads,
            "seed": None,
            "deterministic": False,
        }

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """Align ``pairs`` (trained together with ``extra_bitext``); one alignment per pair.

        Pairs with an empty side, and pairs with a side longer than :data:`MAX_TOKENS` tokens
        (logged as a warning), get an empty alignment.

        Raises:
            BackendError: XP501 when eflomal is not installed, XP502 when the binary fails.
        """
        fwd, rev = self.align_directions(pairs)
        return [
            Alignment(frozenset(symmetrize(f, r, self.symmetrization)))
            for f, r in zip(fwd, rev, strict=True)
        ]

    def align_directions(
        self, pairs: Sequence[TokenPair]
    ) -> tuple[list[set[tuple[int, int]]], list[set[tuple[int, int]]]]:
        """The forward and reverse links of every pair, both in ``(source, target)`` order.

        Useful to try several symmetrisations on one sampling run.
        """
        keep = [k for k, (s, t) in enumerate(pairs) if _alignable(s, t)]
        too_long = sum(1 for s, t in pairs if len(s) > MAX_TOKENS or len(t) > MAX_TOKENS)
        if too_long:
            logger.warning(
                "eflomal: %d pair(s) with a side over %d tokens get an empty alignment.",
                too_long,
                MAX_TOKENS,
            )
        fwd: list[set[tuple[int, int]]] = [set() for _ in pairs]
        rev: list[set[tuple[int, int]]] = [set() for _ in pairs]
        if not keep:
            return fwd, rev
        corpus = [pairs[k] for k in keep]
        corpus += [(s, t) for s, t in self.extra_bitext if _alignable(s, t)]
        links_fwd, links_rev = self._run(corpus, len(keep))
        for k, f, r in zip(keep, links_fwd, links_rev, strict=True):
            fwd[k], rev[k] = f, r
        return fwd, rev

    def _run(
        self, corpus: Sequence[TokenPair], n_wanted: int
    ) -> tuple[list[set[tuple[int, int]]], list[set[tuple[int, int]]]]:
        binary = _eflomal_binary()
        iterations = self.iterations or default_iterations(
            len(corpus), self.model, self.rel_iterations
        )
        src_vocab = _Vocabulary(self.lowercase, self.src_prefix_len)
        tgt_vocab = _Vocabulary(self.lowercase, self.tgt_prefix_len)
        src_lines = [src_vocab.encode(s) for s, _ in corpus]
        tgt_lines = [tgt_vocab.encode(t) for _, t in corpus]
        with tempfile.TemporaryDirectory(prefix="xproj-eflomal-") as tmp:
            folder = Path(tmp)
            for fname, lines, vocab in (
                ("src.txt", src_lines, src_vocab),
                ("tgt.txt", tgt_lines, tgt_vocab),
            ):
                with (folder / fname).open("w", encoding="ascii") as out:
                    out.write(f"{len(lines)} {len(vocab.ids)}\n")
                    out.write("\n".join(lines))
                    out.write("\n")
            args = [
                str(binary),
                "-m", str(self.model),
                "-s", str(folder / "src.txt"),
                "-t", str(folder / "tgt.txt"),
                "-f", str(folder / "fwd.txt"),
                "-r", str(folder / "rev.txt"),
                "-n", str(self.n_samplers),
                "-N", str(self.null_prior),
                "-1", str(iterations[0]),
                "-2", str(iterations[1]),
                "-3", str(iterations[2]),
                "-q",
            ]  # fmt: skip
            env = dict(os.environ)
            if self.threads is not None:
                env["OMP_NUM_THREADS"] = str(self.threads)
            done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                raise BackendError(
                    f"eflomal exited with status {done.returncode}: "
                    f"{done.stderr.strip()[-500:] or 'no message'}.",
                    fix="check free disk space in the temporary folder and memory; rerun with "
                    "fewer pairs per call to narrow the failing input down.",
                    code=E_BACKEND_FAILED,
                )
            return (
                _read_links(folder / "fwd.txt", n_wanted, len(corpus)),
                _read_links(folder / "rev.txt", n_wanted, len(corpus)),
            )


def _alignable(src: Sequence[str], tgt: Sequence[str]) -> bool:
    return 0 < len(src) <= MAX_TOKENS and 0 < len(tgt) <= MAX_TOKENS


def _read_links(path: Path, n_wanted: int, n_total: int) -> list[set[tuple[int, int]]]:
    """The first ``n_wanted`` lines of an eflomal links file (it must have ``n_total``)."""
    lines = path.read_text(encoding="ascii").splitlines() if path.exists() else []
    if len(lines) != n_total:
        raise BackendError(
            f"eflomal wrote {len(lines)} alignment lines for {n_total} sentence pairs.",
            fix="this is an eflomal failure; rerun, and report it with the input if it repeats.",
            code=E_BACKEND_FAILED,
        )
    return [_parse_links(line) for line in lines[:n_wanted]]
