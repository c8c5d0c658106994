"""The model-free core of CODEC's candidate search: positions, insertions, batched exact search.

CODEC (constrained decoding, ICLR 2024) keeps the clean translation ``T`` of the unmarked source
and inserts a marker pair into it afterwards. This module holds the parts that need no model; the
model enters only as a *scorer*, a function from token sequences to their summed log-probability
under the marker-aware model (the CTranslate2 adapter wraps ``score_batch`` into one).

Conventions:

* **Boundaries.** ``T`` has ``n`` tokens; a marker goes at a *boundary* ``i`` in ``0 … n``,
  meaning "before token ``i``" (``n``: after the last token). An insertion ``(start, end)`` puts
  the open marker before token ``start`` and the close marker before token ``end``; it marks the
  non-empty token span ``start … end - 1`` (half-open, like :class:`~xproj.schemas.records.TokenSpan`).
* **Markers** are token sequences (:class:`Markers`), because a tokenizer may split ``[`` or
  ``]`` into several pieces. The caller tokenizes the marker pair once; a tokenizer whose split of
  a marker depends on its neighbours is not modelled here.
* **Search is exact over the candidate set**: every candidate is scored (in batches of at most
  ``batch_size`` sequences, many sentences' candidates sharing a call), no branch and bound.
* **Ties** are broken deterministically: higher score, then the shorter span, then the leftmost
  start, then the leftmost end, then (sequential search only) the leftmost position among the
  already inserted markers of the same boundary.
* **Several spans in one sentence** are handled sequentially (:func:`search_sequential`): the
  first span's best insertion is committed, the next span is searched on the already-marked
  template, and so on. A boundary that already holds markers offers every slot around them
  (before, between, after; never inside a multi-token marker), and an insertion that would cross
  a committed span is not a candidate, so committed spans stay well nested. A joint search over
  all spans at once would be exponential in the number of spans; the sequential one is linear.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from xproj.schemas.errors import E_BACKEND_FAILED, BackendError

#: Scores token sequences: one summed log-probability per sequence, in input order. When the
#: problems carry contexts (the model's source for each sentence or span), the scorer is called
#: as ``scorer(sequences, contexts)`` with one context per sequence.
Scorer = Callable[..., Sequence[float]]

#: Sequences per scorer call. The CTranslate2 adapter re-batches by tokens; this bounds memory
#: held by one call and lets candidates of many sentences share it.
DEFAULT_BATCH_SIZE = 256

#: When no token of ``T`` reaches the ``high`` threshold, sentences up to this many tokens fall
#: back to every boundary (41 boundaries: 820 insertions, a few scorer batches); longer ones get
#: no candidate and the caller records a reason.
DEFAULT_FALLBACK_MAX_TOKENS = 40


@dataclass(frozen=True)
class Markers:
    """The marker pair as token sequences (each non-empty).

    Example:
        >>> Markers(open=("▁[",), close=("▁", "]")).close
        ('▁', ']')
    """

    open: tuple[str, ...] = ("[",)
    close: tuple[str, ...] = ("]",)

    def __post_init__(self) -> None:
        if not self.open or not self.close:
            raise ValueError("marker token sequences must be non-empty")


DEFAULT_MARKERS = Markers()


@dataclass(frozen=True, order=False)
class Candidate:
    """One scored insertion.

    Attributes:
        start: boundary of the open marker in the *original* template ``T``.
        end: boundary of the close marker in ``T`` (``start < end``).
        score: the scorer's summed log-probability of ``tokens``.
        tokens: the marked token sequence that was scored.
        marked_start: position of the open marker's first token in ``tokens``.
        marked_end: one past the close marker's last token in ``tokens``.
    """

    start: int
    end: int
    score: float
    tokens: tuple[str, ...] = field(repr=False)
    marked_start: int
    marked_end: int


@dataclass(frozen=True)
class SearchProblem:
    """One sentence's single-span search: the template and its candidate insertions."""

    template_tokens: tuple[str, ...]
    candidates: tuple[tuple[int, int], ...]
    context: Hashable | None = None


@dataclass(frozen=True)
class SequentialProblem:
    """One sentence's multi-span search: per span (in search order), its candidate insertions
    as ``(start, end)`` boundaries of the original template, and optionally per span the
    context its candidates are scored under (for a model: the source with the spans searched so
    far marked)."""

    template_tokens: tuple[str, ...]
    spans: tuple[tuple[tuple[int, int], ...], ...]
    contexts: tuple[Hashable, ...] | None = None

    def __post_init__(self) -> None:
        if self.contexts is not None and len(self.contexts) != len(self.spans):
            raise ValueError(f"{len(self.contexts)} contexts for {len(self.spans)} spans")


@dataclass(frozen=True)
class SequentialResult:
    """Outcome of :func:`search_sequential` for one sentence.

    Attributes:
        n_best: per span, its n-best candidates (best first; empty: no candidate, the span was not
            marked and later spans were searched without it).
        tokens: the template with the best insertion of every span committed.
    """

    n_best: tuple[tuple[Candidate, ...], ...]
    tokens: tuple[str, ...]


def candidate_positions(
    deltas: Sequence[float],
    *,
    high: float = 0.5,
    low: float = 0.1,
    window: int = 5,
    n_tokens: int | None = None,
    fallback_max_tokens: int | None = DEFAULT_FALLBACK_MAX_TOKENS,
) -> list[int]:
    """Boundaries of ``T`` where a marker may go, from per-token |Δ log p|.

    ``deltas[i]`` is |log p(T_i | marked source) − log p(T_i | unmarked source)| for token ``i``
    (absolute values are taken anyway). It may carry one more entry, the end token's, as
    :meth:`xproj.translators.base.Translator.score` returns; pass ``n_tokens = len(T)`` then.

    A token is *selected* when its Δ ≥ ``high`` (a seed), or when Δ ≥ ``low`` and it lies within
    ``window`` tokens of a seed. A selected token ``i`` makes both of its boundaries candidates:
    ``i`` (before it) and ``i + 1`` (after it), capped at ``n_tokens``; the end token thus
    offers boundary ``n_tokens``.

    When no token is a seed, every boundary ``0 … n_tokens`` is returned if ``n_tokens`` ≤
    ``fallback_max_tokens``, otherwise none (``fallback_max_tokens=None``: never fall back); an
    empty result means the caller records that the span has no candidate.

    Args:
        deltas: per-token |Δ log p| of ``T``'s tokens (optionally plus the end token).
        high: seed threshold.
        low: threshold for tokens near a seed.
        window: how many tokens on each side of a seed ``low`` applies to.
        n_tokens: length of ``T`` (default ``len(deltas)``).
        fallback_max_tokens: longest ``T`` that falls back to all boundaries.

    Returns:
        Sorted, distinct boundaries.

    Example:
        >>> candidate_positions([0.0, 0.2, 0.9, 0.0, 0.05, 0.3], window=2)
        [1, 2, 3]
        >>> candidate_positions([0.0, 0.0], fallback_max_tokens=5)
        [0, 1, 2]
    """
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    n = len(deltas) if n_tokens is None else n_tokens
    if n < 0 or len(deltas) < n:
        raise ValueError(f"{len(deltas)} deltas for {n} template tokens")
    values = [abs(d) for d in deltas]
    seeds = [i for i, d in enumerate(values) if d >= high]
    if not seeds:
        if fallback_max_tokens is not None and n <= fallback_max_tokens:
            return list(range(n + 1))
        return []
    selected: set[int] = set(seeds)
    for i in seeds:
        for j in range(max(0, i - window), min(len(values), i + window + 1)):
            if values[j] >= low:
                selected.add(j)
    boundaries = {min(b, n) for i in selected for b in (i, i + 1)}
    return sorted(boundaries)


def enumerate_insertions(
    n_tokens: int,
    open_positions: Iterable[int],
    close_positions: Iterable[int],
    *,
    max_span_tokens: int | None = None,
) -> list[tuple[int, int]]:
    """Every insertion ``(start, end)`` with ``start`` from ``open_positions``, ``end`` from
    ``close_positions``, ``start < end`` and at most ``max_span_tokens`` tokens marked.

    Example:
        >>> enumerate_insertions(3, [0, 2], [1, 2, 3], max_span_tokens=2)
        [(0, 1), (0, 2), (2, 3)]
    """
    opens = sorted(set(open_positions))
    closes = sorted(set(close_positions))
    for p in (*opens, *closes):
        if not 0 <= p <= n_tokens:
            raise ValueError(f"boundary {p} outside 0..{n_tokens}")
    if max_span_tokens is not None and max_span_tokens < 1:
        raise ValueError(f"max_span_tokens must be >= 1, got {max_span_tokens}")
    return [
        (s, e)
        for s in opens
        for e in closes
        if s < e and (max_span_tokens is None or e - s <= max_span_tokens)
    ]


def search(
    template_tokens: Sequence[str],
    candidates: Iterable[tuple[int, int]],
    scorer: Scorer,
    *,
    n_best: int = 5,
    batch_size: int = DEFAULT_BATCH_SIZE,
    markers: Markers = DEFAULT_MARKERS,
) -> list[Candidate]:
    """Score every candidate insertion of ``markers`` into ``template_tokens``; keep the n-best.

    Args:
        template_tokens: the clean translation ``T``, as the scorer's tokens.
        candidates: ``(start, end)`` boundaries (see :func:`enumerate_insertions`).
        scorer: summed log-probability of each marked sequence.
        n_best: how many candidates to keep.
        batch_size: most sequences per scorer call.
        markers: the marker pair.

    Returns:
        Up to ``n_best`` candidates, best first (ties: see the module docstring); empty when
        ``candidates`` is.

    Example:
        >>> best = search(["a", "b", "c"], [(0, 1), (1, 3)], lambda seqs: [-len(s) for s in seqs])
        >>> [(c.start, c.end, c.score) for c in best]
        [(0, 1, -5.0), (1, 3, -5.0)]
    """
    problem = SearchProblem(tuple(template_tokens), tuple(candidates))
    return search_many([problem], scorer, n_best=n_best, batch_size=batch_size, markers=markers)[0]


def search_many(
    problems: Sequence[SearchProblem],
    scorer: Scorer,
    *,
    n_best: int = 5,
    batch_size: int = DEFAULT_BATCH_SIZE,
    markers: Markers = DEFAULT_MARKERS,
) -> list[list[Candidate]]:
    """:func:`search` over many sentences, their candidates sharing scorer calls.

    Candidates are flattened across problems in order and sent in calls of at most
    ``batch_size`` sequences; the results equal those of one :func:`search` per problem.
    """
    lists = [
        [
            _Pending(s, e, *_insert(p.template_tokens, s, e, markers), s, e, p.context)
            for s, e in _checked(p.template_tokens, p.candidates)
        ]
        for p in problems
    ]
    return _score_and_rank(lists, scorer, n_best=n_best, batch_size=batch_size)


def search_sequential(
    template_tokens: Sequence[str],
    span_candidates: Sequence[Iterable[tuple[int, int]]],
    scorer: Scorer,
    *,
    n_best: int = 5,
    batch_size: int = DEFAULT_BATCH_SIZE,
    markers: Markers = DEFAULT_MARKERS,
) -> SequentialResult:
    """Several spans of one sentence, one after another (see the module docstring).

    Args:
        template_tokens: the clean translation ``T``.
        span_candidates: per span, in search order, its ``(start, end)`` boundaries in ``T``.
        scorer, n_best, batch_size, markers: as for :func:`search`.

    Example:
        >>> res = search_sequential(["a", "b"], [[(0, 1)], [(0, 2)]], lambda s: [0.0] * len(s))
        >>> " ".join(res.tokens)
        '[ [ a ] b ]'
    """
    problem = SequentialProblem(tuple(template_tokens), tuple(tuple(c) for c in span_candidates))
    return search_sequential_many(
        [problem], scorer, n_best=n_best, batch_size=batch_size, markers=markers
    )[0]


def search_sequential_many(
    problems: Sequence[SequentialProblem],
    scorer: Scorer,
    *,
    n_best: int = 5,
    batch_size: int = DEFAULT_BATCH_SIZE,
    markers: Markers = DEFAULT_MARKERS,
) -> list[SequentialResult]:
    """:func:`search_sequential` over many sentences: round ``k`` searches the ``k``-th span of
    every sentence that has one, all in shared scorer calls."""
    states = [_Marked(p.template_tokens, markers) for p in problems]
    for p in problems:
        _checked(p.template_tokens, (c for span in p.spans for c in span))
    results: list[list[tuple[Candidate, ...]]] = [[] for _ in problems]
    rounds = max((len(p.spans) for p in problems), default=0)
    for k in range(rounds):
        active = [i for i, p in enumerate(problems) if k < len(p.spans)]
        lists = [
            states[i].pending(
                problems[i].spans[k],
                None if problems[i].contexts is None else problems[i].contexts[k],
            )
            for i in active
        ]
        ranked = _score_and_rank(lists, scorer, n_best=n_best, batch_size=batch_size)
        for i, best in zip(active, ranked, strict=True):
            results[i].append(tuple(best))
            if best:
                states[i].commit(best[0])
    return [
        SequentialResult(tuple(r), tuple(s.tokens)) for r, s in zip(results, states, strict=True)
    ]


@dataclass(frozen=True)
class _Pending:
    start: int
    end: int
    tokens: tuple[str, ...]
    marked_start: int
    marked_end: int
    slot_start: int
    slot_end: int
    context: Hashable | None = None


def _checked(
    template: Sequence[str], candidates: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    out = []
    for s, e in candidates:
        if not 0 <= s < e <= len(template):
            raise ValueError(
                f"insertion ({s}, {e}) is not a non-empty span of a {len(template)}-token template"
            )
        out.append((s, e))
    return out


def _insert(
    tokens: Sequence[str], qs: int, qe: int, markers: Markers
) -> tuple[tuple[str, ...], int, int]:
    marked = (*tokens[:qs], *markers.open, *tokens[qs:qe], *markers.close, *tokens[qe:])
    return marked, qs, qe + len(markers.open) + len(markers.close)


def _score_and_rank(
    lists: Sequence[Sequence[_Pending]], scorer: Scorer, *, n_best: int, batch_size: int
) -> list[list[Candidate]]:
    if n_best < 1 or batch_size < 1:
        raise ValueError(f"n_best and batch_size must be >= 1, got {n_best} and {batch_size}")
    flat = [c for pending in lists for c in pending]
    with_context = any(c.context is not None for c in flat)
    scores: list[float] = []
    for lo in range(0, len(flat), batch_size):
        chunk = flat[lo : lo + batch_size]
        batch = [c.tokens for c in chunk]
        if with_context:
            got = list(scorer(batch, [c.context for c in chunk]))
        else:
            got = list(scorer(batch))
        if len(got) != len(batch):
            raise BackendError(
                f"the scorer returned {len(got)} scores for {len(batch)} sequences",
                fix="return exactly one summed log-probability per sequence, in order",
                code=E_BACKEND_FAILED,
            )
        scores.extend(float(x) for x in got)
    out = []
    pos = 0
    for pending in lists:
        scored = list(zip(scores[pos : pos + len(pending)], pending, strict=True))
        pos += len(pending)
        scored.sort(
            key=lambda x: (
                -x[0],
                x[1].end - x[1].start,
                x[1].start,
                x[1].end,
                x[1].slot_start,
                x[1].slot_end,
            )
        )
        out.append(
            [
                Candidate(p.start, p.end, sc, p.tokens, p.marked_start, p.marked_end)
                for sc, p in scored[:n_best]
            ]
        )
    return out


class _Marked:
    """A template with committed spans; maps original boundaries to slots in the marked tokens."""

    def __init__(self, template: Sequence[str], markers: Markers) -> None:
        self.tokens: list[str] = list(template)
        self.markers = markers
        self.spans: list[tuple[int, int]] = []  # (marked_start, marked_end) of committed spans

    def _slots(self) -> list[list[int]]:
        lo, lc = len(self.markers.open), len(self.markers.close)
        is_marker = [False] * len(self.tokens)
        inside = [False] * (len(self.tokens) + 1)
        for a, b in self.spans:
            for run in (range(a, a + lo), range(b - lc, b)):
                for q in run:
                    is_marker[q] = True
                for q in range(run.start + 1, run.stop):
                    inside[q] = True
        slots: list[list[int]] = [[]]
        for q in range(len(self.tokens) + 1):
            if not inside[q]:
                slots[-1].append(q)
            if q < len(self.tokens) and not is_marker[q]:
                slots.append([])
        return slots

    def _nests(self, qs: int, qe: int) -> bool:
        lo, lc = len(self.markers.open), len(self.markers.close)
        for a, b in self.spans:
            disjoint = qe <= a or qs >= b
            contains = qs <= a and qe >= b
            inside = qs >= a + lo and qe <= b - lc
            if not (disjoint or contains or inside):
                return False
        return True

    def pending(
        self, candidates: Iterable[tuple[int, int]], context: Hashable | None = None
    ) -> list[_Pending]:
        slots = self._slots()
        out = []
        for s, e in candidates:
            for i, qs in enumerate(slots[s]):
                for j, qe in enumerate(slots[e]):
                    if self._nests(qs, qe):
                        tokens, ms, me = _insert(self.tokens, qs, qe, self.markers)
                        out.append(_Pending(s, e, tokens, ms, me, i, j, context))
        return out

    def commit(self, best: Candidate) -> None:
        lo, lc = len(self.markers.open), len(self.markers.close)
        qs, qe = best.marked_start, best.marked_end - lo - lc

        def shift(p: int, exclusive_end: bool) -> int:
            moved = p
            if p > qs or (p == qs and not exclusive_end):
                moved += lo
            if p > qe or (p == qe and not exclusive_end):
                moved += lc
            return moved

        self.spans = [(shift(a, False), shift(b, True)) for a, b in self.spans]
        self.spans.append((best.marked_start, best.marked_end))
        self.tokens = list(best.tokens)
