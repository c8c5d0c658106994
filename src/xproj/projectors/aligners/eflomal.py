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

Long pairs: eflomal stores sentence positions in 10 bits, so a side may have at most
:data:`MAX_TOKENS` tokens. A longer pair (a paragraph, a document) is cut into pieces that fit
(:func:`split_pair`): each side at its sentence ends, the two sides into the same number of
consecutive pieces matched by relative position. The pieces are aligned in the same run as the
other pairs and their links are shifted back into one alignment of the whole pair (no link
crosses a cut). Where a side has no sentence end near enough, it is cut between two tokens at the
matching relative position instead. The splits are logged (INFO, with counts). A pair that cannot
be cut (its shorter side has fewer tokens than the pieces the longer one needs) gets no links, a
warning, and an XP506 reject from :meth:`EflomalAligner.take_rejects`.

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
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xproj.projectors.aligners.base import PositionedAligner, TokenPair
from xproj.projectors.aligners.symmetrize import check_method, symmetrize
from xproj.schemas.errors import (
    E_BACKEND_FAILED,
    E_BACKEND_MISSING,
    E_BAD_CONFIG,
    E_INPUT_TOO_LONG,
    BackendError,
    ConfigError,
    Reject,
)
from xproj.schemas.records import Alignment

logger = logging.getLogger(__name__)

#: eflomal stores sentence positions in 10 bits: longer sentences are aligned in pieces.
MAX_TOKENS = 1023

#: Punctuation that ends a sentence, where an over-long pair may be cut: a token made only of
#: these (and closing quotes or brackets) ends one. Tokenizers split punctuation off words, so
#: ``Dr.`` or ``3.14`` stay whole and do not count.
_SENTENCE_FINAL = frozenset(".!?…;।॥。！？｡។။።؟۔།")
_CLOSERS = frozenset("\"'”’»)]}」』）】》〉›")

#: Piece counts tried above the fewest that fit, to find cuts that all fall on sentence ends.
_EXTRA_PIECES = 3

Piece = tuple[range, range]


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


class EflomalAligner(PositionedAligner):
    """Word alignment with eflomal in both directions, then symmetrisation.

    eflomal learns its statistics from the corpus it aligns, so align a whole shard at once, and
    give it more parallel text through ``extra_bitext`` when the shard is small: those pairs are
    trained on but not returned. A pair with a side over :data:`MAX_TOKENS` tokens is aligned in
    pieces cut at sentence ends (:func:`split_pair`); one that cannot be cut is left without
    links and reported by :meth:`take_rejects` (XP506).

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
        priors: statistics learned once over a large corpus (:meth:`learn_priors`, or the path
            of a file :class:`~xproj.projectors.aligners.priors.EflomalPriors` saved), added as
            pseudo-counts to what every call learns from its own pairs: a small shard then
            aligns as if it saw that corpus. Counted with this aligner's lowercase and prefix
            settings (checked).
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
        priors: Any = None,
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
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
        self.priors = self._checked_priors(priors)

    def _checked_priors(self, priors: Any):
        from xproj.projectors.aligners.priors import EflomalPriors

        if priors is None:
            return None
        if not isinstance(priors, EflomalPriors):
            priors = EflomalPriors.load(priors)
        priors.check_settings(self.lowercase, self.src_prefix_len, self.tgt_prefix_len)
        return priors

    def learn_priors(self, pairs: Sequence[TokenPair]):
        """Align ``pairs`` and the extra bitext once and count their statistics as priors
        (:class:`~xproj.projectors.aligners.priors.EflomalPriors`) for later calls, in this
        process or elsewhere (save them)."""
        from xproj.projectors.aligners.priors import EflomalPriors

        corpus = [(s, t) for s, t in list(pairs) + self.extra_bitext if s and t]
        saved, self.extra_bitext = self.extra_bitext, []
        try:
            fwd, rev = self.align_directions(corpus)
        finally:
            self.extra_bitext = saved
        return EflomalPriors.count(
            corpus,
            fwd,
            rev,
            lowercase=self.lowercase,
            src_prefix_len=self.src_prefix_len,
            tgt_prefix_len=self.tgt_prefix_len,
        )

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
            "priors_pairs": self.priors.pairs if self.priors is not None else 0,
            "threads": self.threads,
            "seed": None,
            "deterministic": False,
        }

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """Align ``pairs`` (trained together with ``extra_bitext``); one alignment per pair.

        Pairs with an empty side get an empty alignment. A pair with a side longer than
        :data:`MAX_TOKENS` tokens is aligned in pieces cut at sentence ends (:func:`split_pair`,
        logged at INFO); one that cannot be cut gets an empty alignment, a warning and an XP506
        reject (:meth:`take_rejects`).

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

        Useful to try several symmetrisations on one sampling run. Over-long pairs are aligned
        in pieces, as :meth:`align` describes.
        """
        fwd: list[set[tuple[int, int]]] = [set() for _ in pairs]
        rev: list[set[tuple[int, int]]] = [set() for _ in pairs]
        corpus: list[TokenPair] = []
        # per corpus line: the pair it belongs to and where its piece starts in that pair
        owners: list[tuple[int, int, int]] = []
        n_split = n_pieces = n_inside = 0
        refused: list[int] = []
        for k, (src, tgt) in enumerate(pairs):
            if not src or not tgt:
                continue
            if len(src) <= MAX_TOKENS and len(tgt) <= MAX_TOKENS:
                corpus.append((src, tgt))
                owners.append((k, 0, 0))
                continue
            split = split_pair(src, tgt)
            if split is None:
                refused.append(self._reject(k, src, tgt))
                continue
            pieces, inside = split
            n_split, n_pieces, n_inside = n_split + 1, n_pieces + len(pieces), n_inside + inside
            for s_range, t_range in pieces:
                corpus.append(
                    (src[s_range.start : s_range.stop], tgt[t_range.start : t_range.stop])
                )
                owners.append((k, s_range.start, t_range.start))
        if n_split:
            logger.info(
                "eflomal: %d pair(s) with a side over %d tokens aligned in %d pieces cut at "
                "sentence ends (%d cut(s) between two tokens of a sentence, where a side had no "
                "sentence end near enough).",
                n_split,
                MAX_TOKENS,
                n_pieces,
                n_inside,
            )
        if refused:
            logger.warning(
                "eflomal: %d pair(s) with a side over %d tokens cannot be cut into pieces that "
                "fit (input positions %s); they get an empty alignment and an %s reject each.",
                len(refused),
                MAX_TOKENS,
                ", ".join(map(str, refused[:10])) + (", …" if len(refused) > 10 else ""),
                E_INPUT_TOO_LONG,
            )
        if not corpus:
            return fwd, rev
        n_wanted = len(corpus)
        corpus += self._training_pairs()
        links_fwd, links_rev = self._run(corpus, n_wanted)
        for (k, i0, j0), f, r in zip(owners, links_fwd, links_rev, strict=True):
            fwd[k].update((i + i0, j + j0) for i, j in f)
            rev[k].update((i + i0, j + j0) for i, j in r)
        return fwd, rev

    def _training_pairs(self) -> list[TokenPair]:
        """The extra bitext as eflomal lines: an over-long pair in pieces like an aligned one;
        a pair with an empty side, or one that cannot be cut, is left out and counted."""
        out: list[TokenPair] = []
        left_out = 0
        for src, tgt in self.extra_bitext:
            split = split_pair(src, tgt) if src and tgt else None
            if split is None:
                left_out += 1
                continue
            out.extend((src[a.start : a.stop], tgt[b.start : b.stop]) for a, b in split[0])
        if left_out:
            logger.info(
                "eflomal: %d extra bitext pair(s) left out of training (an empty side, or too "
                "long a side to cut into pieces of %d tokens).",
                left_out,
                MAX_TOKENS,
            )
        return out

    def _reject(self, k: int, src: Sequence[str], tgt: Sequence[str]) -> int:
        """Record pair ``k`` of this call as too long to align; its input position."""
        where = self.position(k)
        short, n_short = ("source", len(src)) if len(src) < len(tgt) else ("target", len(tgt))
        needed = math.ceil(max(len(src), len(tgt)) / MAX_TOKENS)
        self.rejects.append(
            Reject(
                "align",
                "",
                f"pair {where}",
                E_INPUT_TOO_LONG,
                f"{len(src)} source and {len(tgt)} target tokens: eflomal aligns at most "
                f"{MAX_TOKENS} a side, and the pair cannot be cut into the {needed} pieces that "
                f"would fit (its {short} side has only {n_short} token(s)); it has no links. "
                "Fix: check that the two sides translate each other, or split the record.",
                " ".join(src)[:240] + " ||| " + " ".join(tgt)[:240],
            )
        )
        return where

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
            if self.priors is not None:
                priors_file = folder / "priors.txt"
                self.priors.write_binary_file(priors_file, src_vocab.ids, tgt_vocab.ids)
                args += ["-p", str(priors_file)]
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


def sentence_ends(tokens: Sequence[str]) -> list[int]:
    """The positions ``1 … len(tokens) - 1`` where a sentence ends, in order: after a token of
    sentence-final punctuation (:data:`_SENTENCE_FINAL`) and any closing quote or bracket tokens
    that follow it.

    Example:
        >>> sentence_ends(["Hi", "!", "Yes", ".", "”", "No", "?"])
        [2, 5]
    """
    ends: list[int] = []
    n = len(tokens)
    at = 0
    while at < n:
        tok = tokens[at]
        at += 1
        if any(c in _SENTENCE_FINAL for c in tok) and all(
            c in _SENTENCE_FINAL or c in _CLOSERS for c in tok
        ):
            while at < n and tokens[at] and all(c in _CLOSERS for c in tokens[at]):
                at += 1
            if at < n:
                ends.append(at)
    return ends


def split_pair(
    src: Sequence[str], tgt: Sequence[str], limit: int = MAX_TOKENS
) -> tuple[list[Piece], int] | None:
    """Cut a pair into consecutive pieces of at most ``limit`` tokens a side, at sentence ends.

    Both sides are cut into the same number of pieces, piece ``i`` of the source matching piece
    ``i`` of the target. The cuts of one side (the leading side) are the sentence ends nearest to
    even shares of its length; each cut of the other side is its sentence end nearest to the
    matching leading cut: after as many sentences when both sides have as many, else at the same
    relative position. A cut must keep every piece within ``limit`` and non-empty; where no
    sentence end allows that, the side is cut between two tokens at that position. The fewest
    pieces that fit and up to :data:`_EXTRA_PIECES` more are tried, with either side leading; the
    split with the fewest cuts inside a sentence wins, then the one with fewer pieces, then the
    one whose cuts match best in relative position.

    Returns:
        The pieces as ``(source range, target range)`` and how many cuts fell inside a sentence;
        a single piece when the pair already fits; None when it cannot be cut (its shorter side
        has fewer tokens than the pieces needed).

    Example:
        >>> src = ["a", "b", ".", "c", "d", ".", "e", "."]
        >>> tgt = ["A", "B", ".", "C", "D", "E", "."]
        >>> split_pair(src, tgt, limit=5)
        ([(range(0, 3), range(0, 3)), (range(3, 8), range(3, 7))], 0)
    """
    n, m = len(src), len(tgt)
    fewest = max(1, math.ceil(n / limit), math.ceil(m / limit))
    if min(n, m) < fewest:
        return None
    if fewest == 1:
        return [(range(n), range(m))], 0
    ends = (sentence_ends(src), sentence_ends(tgt))
    lengths = (n, m)
    best: tuple[tuple[int, int, float], list[int], list[int]] | None = None
    for k in range(fewest, min(fewest + _EXTRA_PIECES, min(n, m)) + 1):
        for lead in (0, 1):
            follow = 1 - lead
            n_lead, n_follow = lengths[lead], lengths[follow]
            lead_cuts, inside_lead = _cuts(
                n_lead, k, limit, ends[lead], [i * n_lead / k for i in range(1, k)]
            )
            follow_cuts, inside_follow = _cuts(
                n_follow, k, limit, ends[follow], _matching(lead_cuts[1:-1], ends, lead, lengths)
            )
            mismatch = sum(
                abs(a / n_lead - b / n_follow)
                for a, b in zip(lead_cuts[1:-1], follow_cuts[1:-1], strict=True)
            )
            score = (inside_lead + inside_follow, k, mismatch)
            if best is None or score < best[0]:
                cuts = (lead_cuts, follow_cuts) if lead == 0 else (follow_cuts, lead_cuts)
                best = (score, *cuts)
    assert best is not None
    (inside, _, _), src_cuts, tgt_cuts = best
    pieces = [
        (range(src_cuts[i], src_cuts[i + 1]), range(tgt_cuts[i], tgt_cuts[i + 1]))
        for i in range(len(src_cuts) - 1)
    ]
    return pieces, inside


def _matching(
    cuts: Sequence[int], ends: tuple[list[int], list[int]], lead: int, lengths: tuple[int, int]
) -> list[float]:
    """Where the other side should be cut to match the leading side's ``cuts``: after the same
    number of sentences when both sides have as many (a cut on a sentence end), else at the
    same relative position."""
    follow = 1 - lead
    rank = {e: r for r, e in enumerate(ends[lead])} if len(ends[0]) == len(ends[1]) else {}
    return [
        ends[follow][rank[c]] if c in rank else c * lengths[follow] / lengths[lead] for c in cuts
    ]


def _cuts(
    n: int, k: int, limit: int, ends: Sequence[int], wanted: Sequence[float]
) -> tuple[list[int], int]:
    """Cut ``n`` tokens into ``k`` pieces of 1 … ``limit`` tokens (``n <= k * limit``,
    ``n >= k``): ``[0, c1, …, n]``, each cut the sentence end (of the sorted ``ends``) nearest to
    its ``wanted`` position that keeps the rest feasible, else the nearest feasible token
    position; and how many cuts are of the second kind."""
    cuts = [0]
    inside = 0
    for i, x in enumerate(wanted, start=1):
        lo = max(cuts[-1] + 1, n - (k - i) * limit)
        hi = min(cuts[-1] + limit, n - (k - i))
        first, stop = bisect_left(ends, lo), bisect_right(ends, hi)
        if first < stop:
            j = bisect_left(ends, x, first, stop)
            near = [ends[q] for q in (j - 1, j) if first <= q < stop]
            cut = min(near, key=lambda e: abs(e - x))
        else:
            cut = min(hi, max(lo, round(x)))
            inside += 1
        cuts.append(cut)
    cuts.append(n)
    return cuts, inside


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
