"""Projection by the translation model itself: markers (``markers.v1``) and CODEC (``codec.v1``).

Both routes take source sentences with character spans and give, per sentence, the target text
and one :class:`SpanResult` per source span: a character span of the target text, or a
:class:`~xproj.schemas.records.DropReason` with a detail. :func:`to_pair_projection` turns that into
word-token outcomes (overlaps resolved as ``align.v1`` does) for the lake's tables.

**Markers** (EasyProject): put ``[ … ]`` around every source span, translate the marked sentence
with a marker-aware model, read the marked spans back (:mod:`xproj.projectors.markers`), give each source
span's label to one of them. One translation call per sentence; the clean target text is the
marked translation without its markers, so translate-train needs no separate plain translation.
Each span is translated on its own only for sentences where labels cannot be given by order
(mixed labels, or counts that differ), and only then. For translate-test (``originals`` given) the
spans found in the marked translation are located in the original text: exact, then ignoring
case, then the best fuzzy window of words.

**CODEC** (constrained decoding): keep the clean translation ``T`` (the template), then, per span,

1. score ``T`` under the source with that span marked and under the unmarked source, in one
   batched call for the whole shard; per-token ``|Δ log p|`` picks the candidate boundaries
   (:func:`xproj.projectors.codec.candidate_positions`: Δ ≥ ``high``, plus Δ ≥ ``low`` within
   ``window`` tokens; the paper's 0.5 / 0.1 / 5);
2. move boundaries that fall inside a word onto that word's edges (a piece that starts a word,
   punctuation, CJK characters count as edges) unless ``boundaries="token"``, and keep the
   insertions of at most ``max_span_tokens`` pieces (default: twice the span's source pieces plus
   four);
3. score every candidate insertion of the marker pair into ``T`` under the marked source, exactly
   (no pruning inside the candidate set), spans of one sentence one after another, all sentences
   of a shard sharing token-batched ``score_batch`` calls (:func:`xproj.projectors.codec.search_sequential_many`);
   span ``k`` is scored under the source with spans ``0 … k`` marked, on the template with the
   best insertions of spans ``0 … k-1`` already in it;
4. re-rank the ``n_best`` by ``forward + reverse_weight · reverse + overlap_weight · overlap``,
   where ``forward`` is the marked template's log-probability, ``reverse`` the log-probability of
   the source span's text given the candidate's text (target → source, when the model translates
   that way) and ``overlap`` the character similarity of candidate and source span text (names,
   numbers and dates copied through).

The model is anything with the :class:`~xproj.translators.ct2.CT2Translator` scoring surface
(``target_pieces``, ``score_tokens``, ``score``, ``language_codes``); tests pass tiny converted
models, never a real one, so nothing here claims translation quality.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any, Literal

from xproj.projectors.codec import (
    Markers,
    SequentialProblem,
    candidate_positions,
    enumerate_insertions,
    search_sequential_many,
)
from xproj.projectors.markers import (
    CJK_QUOTE_VARIANTS,
    DEFAULT_VARIANTS,
    TITLE_MARK_VARIANTS,
    ParsedMarkers,
    assign_labels,
    insert_markers,
    parse_markers,
)
from xproj.projectors.pipeline import PairProjection
from xproj.projectors.project import resolve_overlaps, target_spans
from xproj.projectors.punct import is_punct
from xproj.schemas.errors import FORBID_EXTRA, check_settings
from xproj.schemas.records import (
    AnnotatedSentence,
    CharSpan,
    DropReason,
    ParallelPair,
    char_span_to_token,
)

#: Extra bracket variants a marker parser may accept, by the name a config uses.
VARIANT_SETS: Mapping[str, Mapping[str, str]] = {
    "cjk_quotes": CJK_QUOTE_VARIANTS,
    "title_marks": TITLE_MARK_VARIANTS,
}


@dataclass(frozen=True, slots=True)
class SpanResult:
    """One source span's result: a target character span, or why there is none."""

    target: CharSpan | None
    reason: DropReason | None = None
    score: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RouteResult:
    """One sentence: its target text, one :class:`SpanResult` per source span, and the marked
    target text the spans were read from (the model's output for markers, the template with the
    chosen insertions for CODEC)."""

    source: AnnotatedSentence
    target_text: str
    spans: tuple[SpanResult, ...]
    marked: str = ""
    translation: Any = None
    """markers: the :class:`~xproj.translators.base.Translation` of the marked source (its flag says
    whether the model could translate it)."""


@dataclass
class RouteStats:
    """Model work done by a route: calls, sequences and tokens, for artifacts and benchmarks."""

    calls: Counter = field(default_factory=Counter)
    sequences: Counter = field(default_factory=Counter)
    candidates: int = 0
    notes: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "sequences": dict(self.sequences),
            "candidates": self.candidates,
            "notes": sorted(self.notes),
        }


class SourceMarkerError(ValueError):
    """A source sentence that cannot be marked (it contains a marker, or its spans overlap)."""


def marked_source(
    sentence: AnnotatedSentence,
    which: Sequence[int],
    markers: tuple[str, str],
    *,
    check_text: bool = True,
) -> str:
    """``sentence.text`` with the marker pair around the spans ``which``."""
    spans = sentence.char_spans
    try:
        return insert_markers(
            sentence.text, [spans[k] for k in which], markers=markers, check_text=check_text
        )
    except ValueError as err:
        raise SourceMarkerError(str(err)) from None


# -- markers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerSettings:
    """Knobs of ``markers.v1`` (see :func:`xproj.projectors.markers.assign_labels`).

    Attributes:
        markers: the opening and closing marker (EasyProject: ``[`` ``]``).
        variants: extra marker variants to accept: ``cjk_quotes`` (「」), ``title_marks`` (《》).
        fuzzy_threshold: a fuzzy match needs a similarity above this.
        strict: no span is projected when the marker count differs or markers are malformed.
        translate_spans: translate spans on their own for sentences that need matching.
    """

    __pydantic_config__ = FORBID_EXTRA

    markers: tuple[str, str] = ("[", "]")
    variants: tuple[Literal["cjk_quotes", "title_marks"], ...] = ()
    fuzzy_threshold: float = 0.5
    strict: bool = True
    translate_spans: bool = True

    def __post_init__(self) -> None:
        check_settings(
            "markers.v1",
            [
                (0.0 <= self.fuzzy_threshold < 1.0, "fuzzy_threshold must be in [0, 1)"),
                (
                    len(self.markers) == 2 and all(self.markers) and len(set(self.markers)) == 2,
                    f"markers={self.markers!r} must be two different non-empty strings",
                ),
            ],
            fix="see MarkerSettings' docstring.",
        )

    def variant_map(self) -> dict[str, str]:
        base = dict(DEFAULT_VARIANTS) if self.markers == ("[", "]") else {}
        for name in self.variants:
            if name not in VARIANT_SETS:
                raise ValueError(f"unknown marker variant set {name!r}; use {sorted(VARIANT_SETS)}")
            base.update(VARIANT_SETS[name])
        return base


class MarkerRoute:
    """``markers.v1``: translate marked sentences and read the labels back.

    Args:
        translator: any :class:`~xproj.translators.base.Translator` (a cached one saves repeated work);
            it should be marker-aware (fine-tuned on marked text, as EasyProject's NLLB).
        settings: :class:`MarkerSettings`.
        options: decoding options for every translation call.
    """

    name = "markers.v1"
    uses_aligner = False
    needs_model = True
    makes_targets = True
    aligner_name = None
    aligner_model = None

    def __init__(self, translator, settings: MarkerSettings | None = None, *, options=None):
        self.translator = translator
        self.settings = settings or MarkerSettings()
        self.options = options
        self.stats = RouteStats()
        self._variants = self.settings.variant_map()
        model = getattr(translator, "inner", translator)
        if hasattr(model, "target_pieces"):
            marker_pieces(model, self.settings.markers)  # XP301 for a vocabulary without them

    def run(
        self,
        sources: Sequence[AnnotatedSentence],
        src_lang: str,
        tgt_lang: str,
        *,
        originals: Sequence[str] | None = None,
    ) -> list[RouteResult]:
        """Project every sentence's spans; ``originals`` (translate-test) are the texts the spans
        must land on, in place of the clean marked translation.

        Raises:
            SourceMarkerError: when a source cannot be marked; call :meth:`check` first to turn
                those into per-record rejects.
        """
        if originals is not None and len(originals) != len(sources):
            raise ValueError(f"{len(originals)} originals for {len(sources)} sources")
        m = self.settings.markers
        marked = [marked_source(s, range(len(s.spans)), m) if s.spans else s.text for s in sources]
        translations = self._translate(marked, src_lang, tgt_lang, "marked")
        parsed = [parse_markers(t.text, markers=m, variants=self._variants) for t in translations]
        needs = [
            i
            for i, s in enumerate(sources)
            if self.settings.translate_spans and self._needs_matching(s, parsed[i])
        ]
        span_texts = [sources[i].span_text(sp) for i in needs for sp in sources[i].spans]
        translated = iter(
            t.text for t in self._translate(span_texts, src_lang, tgt_lang, "spans", short=True)
        )
        per_sentence = {i: [next(translated) for _ in sources[i].spans] for i in needs}
        out = []
        for i, s in enumerate(sources):
            outcomes = assign_labels(
                [(sp.label, s.span_text(sp)) for sp in s.spans],
                parsed[i],
                span_translations=per_sentence.get(i),
                fuzzy_threshold=self.settings.fuzzy_threshold,
                strict=self.settings.strict,
            )
            results = [
                SpanResult(o.target, o.reason, o.score, _detail(o.method, o.detail))
                for o in outcomes
            ]
            text = parsed[i].clean
            if originals is not None:
                results = locate_in_original(
                    results, text, originals[i], self.settings.fuzzy_threshold
                )
                text = originals[i]
            out.append(RouteResult(s, text, tuple(results), translations[i].text, translations[i]))
        return out

    @classmethod
    def from_setup(cls, setup) -> MarkerRoute:
        """The route of a :class:`~xproj.projectors.projector.ProjectorSetup`: it translates with
        ``setup.translator`` (through the cache), or through a cache-backed wrapper of
        ``setup.model`` when the marker-aware model is not the translation model."""
        translator = setup.translator
        inner = getattr(translator, "inner", translator)
        if setup.model is not None and setup.model is not inner:
            from xproj.translators.cache import CachedTranslator

            translator = CachedTranslator(setup.model, translator.cache, run_id=translator.run_id)
        return cls(translator, setup.markers or MarkerSettings(), options=setup.options)

    def project(self, tasks, src_lang, tgt_lang, *, tokenizer, start=0):
        """One result per task (see :class:`~xproj.projectors.projector.Projector`). Tasks
        without a target get the clean marked translation as their target; tasks with one
        (translate-test: the original text) get the spans located in it."""
        from xproj.projectors.projector import ProjectionResult, no_token, not_translated

        results, markable = _markable(tasks, self.settings.markers)
        made = all(tasks[k].target is None for k in markable)
        originals = None if made else [_text(tasks[k].target) for k in markable]
        routes = self.run(
            [tasks[k].source for k in markable], src_lang, tgt_lang, originals=originals
        )
        for k, r in zip(markable, routes, strict=True):
            task = tasks[k]
            translation = replace(r.translation, text=r.target_text) if made else None
            if made and not r.translation.ok:
                problem = not_translated(r.translation, tgt_lang)
                results[k] = ProjectionResult(
                    task, problem=problem, translation=translation, marked=r.marked
                )
                continue
            given = task.target if isinstance(task.target, AnnotatedSentence) else None
            p = to_pair_projection(
                r, task.pair_id, task.target_id, tgt_lang, tokenizer, target=given
            )
            results[k] = ProjectionResult(
                task, p, None if p else no_token(tgt_lang), translation, r.marked
            )
        return results

    def models(self) -> list:
        return [getattr(self.translator, "inner", self.translator)]

    def work(self) -> dict[str, Any]:
        return {"route": {"method": self.name, **self.stats.as_dict()}}

    def _needs_matching(self, sentence: AnnotatedSentence, parsed: ParsedMarkers) -> bool:
        """Whether labels go by matching (not by order, and not refused in strict mode)."""
        if not sentence.spans or _by_order(sentence, parsed):
            return False
        if self.settings.strict:
            return parsed.well_formed and len(parsed.spans) == len(sentence.spans)
        return bool(parsed.spans)

    def _translate(
        self, texts: list[str], src_lang: str, tgt_lang: str, what: str, *, short: bool = False
    ) -> list:
        if not texts:
            return []
        self.stats.calls[f"translate_{what}"] += 1
        self.stats.sequences[f"translate_{what}"] += len(texts)
        options = self.options
        if short and options is not None and options.min_decoding_length:
            # a span on its own is short: a sentence-level minimum length would pad it
            options = replace(options, min_decoding_length=0)
        return list(self.translator.translate(texts, src_lang, tgt_lang, options=options))


def _by_order(sentence: AnnotatedSentence, parsed: ParsedMarkers) -> bool:
    return len(parsed.spans) == len(sentence.spans) and len({s.label for s in sentence.spans}) <= 1


def _detail(method: str, detail: str) -> str:
    return f"{method}: {detail}" if method else detail


def locate_in_original(
    results: Sequence[SpanResult], clean: str, original: str, threshold: float
) -> list[SpanResult]:
    """Move spans found in the clean marked translation onto ``original`` (translate-test).

    Each span's text is looked for in ``original``: exactly, then ignoring case, then as the most
    similar window of whole words (similarity above ``threshold``); spans already placed are not
    reused. Not found: ``NOT_IN_ORIGINAL``.
    """
    taken: list[tuple[int, int]] = []
    words = _word_runs(original)
    out = []
    for r in results:
        if r.target is None:
            out.append(r)
            continue
        text = clean[r.target.start : r.target.end]
        found = _find_free(original, text, taken) or _find_free(
            original.casefold(), text.casefold(), taken
        )
        how = "exact"
        if found is None:
            found, ratio = _fuzzy_window(original, text, words, taken, threshold)
            how = f"fuzzy {ratio:.2f}"
        if found is None:
            out.append(
                SpanResult(
                    None,
                    DropReason.NOT_IN_ORIGINAL,
                    r.score,
                    f"{text!r} from the marked translation is not in the original text",
                )
            )
            continue
        taken.append(found)
        out.append(
            SpanResult(
                CharSpan(found[0], found[1], r.target.label),
                None,
                r.score,
                f"{r.detail}; located {how}",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _Run:
    start: int
    end: int


def _word_runs(text: str) -> list[_Run]:
    runs, start = [], None
    for i, ch in enumerate(text):
        if ch.isspace():
            if start is not None:
                runs.append(_Run(start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        runs.append(_Run(start, len(text)))
    return runs


def _free(span: tuple[int, int], taken: Sequence[tuple[int, int]]) -> bool:
    return all(span[1] <= a or span[0] >= b for a, b in taken)


def _find_free(haystack: str, needle: str, taken) -> tuple[int, int] | None:
    if not needle:
        return None
    pos = haystack.find(needle)
    while pos >= 0:
        span = (pos, pos + len(needle))
        if _free(span, taken):
            return span
        pos = haystack.find(needle, pos + 1)
    return None


def _fuzzy_window(original, text, words, taken, threshold):
    n = max(1, len(text.split()))
    best, best_ratio = None, threshold
    target = _strip_punct(text).casefold()
    for size in sorted({max(1, n - 1), n, n + 1}):
        for i in range(0, len(words) - size + 1):
            span = (words[i].start, words[i + size - 1].end)
            if not _free(span, taken):
                continue
            candidate = _strip_punct(original[span[0] : span[1]])
            ratio = SequenceMatcher(None, candidate.casefold(), target).ratio()
            if ratio > best_ratio:
                lo = span[0] + original[span[0] : span[1]].find(candidate) if candidate else span[0]
                best, best_ratio = (lo, lo + len(candidate)) if candidate else span, ratio
    return best, best_ratio


def _strip_punct(text: str) -> str:
    lo, hi = 0, len(text)
    while lo < hi and is_punct(text[lo]):
        lo += 1
    while hi > lo and is_punct(text[hi - 1]):
        hi -= 1
    return text[lo:hi]


# -- CODEC ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodecSettings:
    """Knobs of ``codec.v1`` (see the module docstring).

    Attributes:
        markers: the marker pair as text; the model's tokenizer splits each into pieces.
        high, low, window: Δ thresholds and window for candidate boundaries (paper: 0.5, 0.1, 5).
        fallback_max_tokens: templates up to this many pieces fall back to every boundary when no
            piece reaches ``high``.
        boundaries: ``word`` keeps boundaries between words only; ``token``: every piece boundary.
        max_span_tokens: most template pieces inside the markers; ``None``: twice the span's
            source pieces plus four.
        n_best: candidates kept per span for re-ranking.
        reverse_weight, overlap_weight: re-ranking weights (0 turns a term off).
        batch_size: most sequences per scoring call (the backend batches them by tokens).
        max_batch_tokens: target tokens per ``score_batch`` batch. Every scored position holds a
            row of log-probabilities over the whole vocabulary (256k entries for NLLB: 1 GB of
            float32 for 1024 tokens), so larger batches cost memory and, on CPU, time.
    """

    __pydantic_config__ = FORBID_EXTRA

    markers: tuple[str, str] = ("[", "]")
    high: float = 0.5
    low: float = 0.1
    window: int = 5
    fallback_max_tokens: int | None = 40
    boundaries: Literal["word", "token"] = "word"
    max_span_tokens: int | None = None
    n_best: int = 5
    reverse_weight: float = 1.0
    overlap_weight: float = 1.0
    batch_size: int = 256
    max_batch_tokens: int = 1024

    def __post_init__(self) -> None:
        check_settings(
            "codec.v1",
            [
                (self.high >= 0 and self.low >= 0, "high and low must be >= 0"),
                (self.window >= 0, "window must be >= 0"),
                (
                    self.fallback_max_tokens is None or self.fallback_max_tokens >= 0,
                    "fallback_max_tokens must be >= 0 (or unset)",
                ),
                (
                    self.max_span_tokens is None or self.max_span_tokens >= 1,
                    "max_span_tokens must be >= 1 (or unset)",
                ),
                (self.n_best >= 1, "n_best must be >= 1"),
                (self.reverse_weight >= 0 and self.overlap_weight >= 0, "weights must be >= 0"),
                (self.batch_size >= 1 and self.max_batch_tokens >= 1, "batch sizes must be >= 1"),
            ],
            fix="see CodecSettings' docstring.",
        )


class CodecRoute:
    """``codec.v1``: insert the marker pair into a clean template by scoring with the model.

    Args:
        scorer_model: a :class:`~xproj.translators.ct2.CT2Translator` (or anything with its scoring
            surface), marker-aware like EasyProject's fine-tuned NLLB.
        settings: :class:`CodecSettings`.
    """

    name = "codec.v1"
    uses_aligner = False
    needs_model = True
    makes_targets = False
    aligner_name = None
    aligner_model = None

    def __init__(self, scorer_model, settings: CodecSettings | None = None):
        self.model = scorer_model
        self.settings = settings or CodecSettings()
        self.stats = RouteStats()
        self.markers = marker_pieces(scorer_model, self.settings.markers)

    @classmethod
    def from_setup(cls, setup) -> CodecRoute:
        """The route of a :class:`~xproj.projectors.projector.ProjectorSetup`: it scores with
        ``setup.model`` (the translator's own model when none is given)."""
        model = setup.model
        if model is None:
            model = getattr(setup.translator, "inner", setup.translator)
        return cls(model, setup.codec or CodecSettings())

    def project(self, tasks, src_lang, tgt_lang, *, tokenizer, start=0):
        """One result per task (see :class:`~xproj.projectors.projector.Projector`): the markers
        go into each task's target text (a translation, or translate-test's original)."""
        from xproj.projectors.projector import ProjectionResult, no_token

        results, markable = _markable(tasks, self.settings.markers)
        if any(tasks[k].target is None for k in markable):
            raise ValueError(f"{self.name} projects onto a given target; a task has none")
        routes = self.run(
            [tasks[k].source for k in markable],
            [_text(tasks[k].target) for k in markable],
            src_lang,
            tgt_lang,
        )
        for k, r in zip(markable, routes, strict=True):
            task = tasks[k]
            given = task.target if isinstance(task.target, AnnotatedSentence) else None
            p = to_pair_projection(
                r, task.pair_id, task.target_id, tgt_lang, tokenizer, target=given
            )
            results[k] = ProjectionResult(
                task, p, None if p else no_token(tgt_lang), None, r.marked
            )
        return results

    def models(self) -> list:
        return [self.model]

    def work(self) -> dict[str, Any]:
        return {"route": {"method": self.name, **self.stats.as_dict()}}

    def run(
        self,
        sources: Sequence[AnnotatedSentence],
        templates: Sequence[str],
        src_lang: str,
        tgt_lang: str,
    ) -> list[RouteResult]:
        """Place every source span on its sentence's template.

        Raises:
            SourceMarkerError: when a source cannot be marked (check first to reject records).
        """
        if len(templates) != len(sources):
            raise ValueError(f"{len(templates)} templates for {len(sources)} sources")
        cfg = self.settings
        m = cfg.markers
        work = [i for i, s in enumerate(sources) if s.spans]
        pieces = dict(
            zip(work, self.model.target_pieces([templates[i] for i in work]), strict=True)
        )
        offsets = {i: piece_offsets(templates[i], pieces[i]) for i in work}
        # 1. Δ: the template under the unmarked source and under each single-span marked source
        score_src, score_tgt, index = [], [], []
        for i in work:
            s = sources[i]
            score_src.append(s.text)
            score_tgt.append(pieces[i])
            index.append((i, None))
            for k in range(len(s.spans)):
                score_src.append(marked_source(s, [k], m, check_text=False))
                score_tgt.append(pieces[i])
                index.append((i, k))
        logps = self._score_tokens(score_src, score_tgt, src_lang, tgt_lang, "delta")
        plain: dict[int, list[float]] = {}
        marked_lp: dict[tuple[int, int], list[float]] = {}
        for (i, k), lp in zip(index, logps, strict=True):
            if k is None:
                plain[i] = lp
            else:
                marked_lp[(i, k)] = lp
        # 2. candidates per span
        problems, why_none = [], {}
        src_pieces = self.model.target_pieces(
            [sources[i].span_text(sp) for i in work for sp in sources[i].spans]
        )
        src_len = iter(len(p) for p in src_pieces)
        for i in work:
            s, n = sources[i], len(pieces[i])
            allowed = word_boundaries(pieces[i]) if cfg.boundaries == "word" else set(range(n + 1))
            spans = []
            for k in range(len(s.spans)):
                limit = cfg.max_span_tokens or 2 * next(src_len) + 4
                deltas = [a - b for a, b in zip(marked_lp[(i, k)], plain[i], strict=True)]
                pos = candidate_positions(
                    deltas,
                    high=cfg.high,
                    low=cfg.low,
                    window=cfg.window,
                    n_tokens=n,
                    fallback_max_tokens=cfg.fallback_max_tokens,
                )
                kept = snap_to(pos, allowed)
                cands = enumerate_insertions(n, kept, kept, max_span_tokens=limit)
                if offsets[i] is None:
                    cands = []
                    why_none[(i, k)] = "the template's pieces could not be mapped to its characters"
                elif not cands:
                    peak = max((abs(d) for d in deltas[:n]), default=0.0)
                    why_none[(i, k)] = (
                        f"{len(pos)} boundaries from Δ (max Δ {peak:.3f}, {n} pieces), "
                        f"{len(kept)} after snapping to words, none with at most {limit} pieces inside"
                    )
                spans.append(tuple(cands))
                self.stats.candidates += len(cands)
            contexts = tuple(
                marked_source(s, range(k + 1), m, check_text=False) for k in range(len(s.spans))
            )
            problems.append(SequentialProblem(tuple(pieces[i]), tuple(spans), contexts))
        # 3. exact search over the candidates, all sentences sharing scoring calls
        found = search_sequential_many(
            problems,
            lambda seqs, ctx: self._sums(ctx, seqs, src_lang, tgt_lang),
            n_best=cfg.n_best,
            batch_size=cfg.batch_size,
            markers=self.markers,
        )
        # 4. re-rank
        ranked = self._rerank(sources, templates, work, offsets, found, src_lang, tgt_lang)
        out = []
        by_sentence = dict(zip(work, found, strict=True))
        for i, s in enumerate(sources):
            if i not in by_sentence:
                out.append(RouteResult(s, templates[i], (), templates[i]))
                continue
            results = []
            for k, span in enumerate(s.spans):
                choice = ranked.get((i, k))
                if choice is None:
                    results.append(
                        SpanResult(
                            None,
                            DropReason.NO_CANDIDATE,
                            None,
                            why_none.get((i, k), "no candidate covers a character of the template"),
                        )
                    )
                    continue
                (a, b), total, detail = choice
                results.append(SpanResult(CharSpan(a, b, span.label), None, total, detail))
            marked = _decode_marked(templates[i], offsets[i], by_sentence[i].n_best, m)
            out.append(RouteResult(s, templates[i], tuple(results), marked))
        return out

    def _score_tokens(self, sources, targets, src_lang, tgt_lang, what) -> list[list[float]]:
        if not sources:
            return []
        self.stats.calls[f"score_{what}"] += 1
        self.stats.sequences[f"score_{what}"] += len(sources)
        return self.model.score_tokens(
            sources, targets, src_lang, tgt_lang, max_batch_size=self.settings.max_batch_tokens
        )

    def _sums(self, contexts, seqs, src_lang, tgt_lang) -> list[float]:
        got = self._score_tokens(
            list(contexts), [list(q) for q in seqs], src_lang, tgt_lang, "search"
        )
        return [sum(lp) for lp in got]

    def _rerank(self, sources, templates, work, offsets, found, src_lang, tgt_lang):
        cfg = self.settings
        items = []  # (i, k, rank, char span, forward)
        for i, res in zip(work, found, strict=True):
            for k, best in enumerate(res.n_best):
                for r, c in enumerate(best):
                    chars = _chars(offsets[i], c.start, c.end)
                    if chars is not None:
                        items.append((i, k, r, chars, c.score))
        reverse: list[float | None] = [None] * len(items)
        if items and cfg.reverse_weight:
            reverse = self._reverse(items, sources, templates, src_lang, tgt_lang)
        best: dict[tuple[int, int], tuple[tuple[int, int], float, str]] = {}
        for (i, k, r, (a, b), fwd), rev in zip(items, reverse, strict=True):
            cand = templates[i][a:b]
            src_text = sources[i].span_text(sources[i].spans[k])
            overlap = _similarity(cand, src_text)
            total = fwd + (cfg.reverse_weight * rev if rev is not None else 0.0)
            total += cfg.overlap_weight * overlap
            rev_text = "n/a" if rev is None else f"{rev:.3f}"
            detail = (
                f"rank {r + 1} of n-best by forward; forward {fwd:.3f}, reverse {rev_text}, "
                f"overlap {overlap:.3f}"
            )
            if (i, k) not in best or total > best[(i, k)][1]:
                best[(i, k)] = ((a, b), total, detail)
        return best

    def _reverse(self, items, sources, templates, src_lang, tgt_lang) -> list[float | None]:
        from xproj.schemas.errors import LanguageCodeError

        try:
            self.model.language_codes(tgt_lang, src_lang)
        except LanguageCodeError:
            self.stats.notes.add(
                f"no reverse score: the model does not translate {tgt_lang}→{src_lang}"
            )
            return [None] * len(items)
        cand = [templates[i][a:b] for i, _, _, (a, b), _ in items]
        back = [sources[i].span_text(sources[i].spans[k]) for i, k, _, _, _ in items]
        self.stats.calls["score_reverse"] += 1
        self.stats.sequences["score_reverse"] += len(cand)
        got = self.model.score(
            cand, back, tgt_lang, src_lang, max_batch_size=self.settings.max_batch_tokens
        )
        return [sum(lp) for lp in got]


def marker_pieces(model, markers: tuple[str, str]) -> Markers:
    """The marker pair as the model's target pieces.

    Raises:
        ConfigError: XP301 when the vocabulary cannot spell a marker (it becomes the unknown
            piece): the model never saw markers, so neither route can work with it.
    """
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

    pieces = model.target_pieces(list(markers))
    unk = getattr(model, "unk_token", None)
    for text, got in zip(markers, pieces, strict=True):
        if not got or (unk is not None and unk in got):
            raise ConfigError(
                f"the vocabulary of {getattr(model, 'model_id', 'the model')} has no piece for "
                f"the marker {text!r} (it tokenizes to {got}).",
                fix="use a marker-aware model such as EasyProject's fine-tuned NLLB (see "
                "docs/projection.md), or markers the vocabulary holds.",
                code=E_BAD_CONFIG,
            )
    return Markers(tuple(pieces[0]), tuple(pieces[1]))


def piece_offsets(text: str, pieces: Sequence[str]) -> list[tuple[int, int]] | None:
    """Character offsets of a SentencePiece-style tokenization of ``text``.

    A piece's leading ``▁`` stands for the space before it; a bare ``▁`` is zero-width. Returns
    ``None`` when a piece cannot be found in order with only whitespace skipped (byte fallback,
    unknown pieces, normalisation that changed characters).

    Example:
        >>> piece_offsets("Ana in Rom.", ["▁Ana", "▁in", "▁R", "om", "."])
        [(0, 3), (4, 6), (7, 8), (8, 10), (10, 11)]
    """
    out, pos = [], 0
    for p in pieces:
        core = p.replace("▁", " ").strip()
        if not core:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            out.append((pos, pos))
            continue
        at = text.find(core, pos)
        if at < 0 or text[pos:at].strip():
            return None
        out.append((at, at + len(core)))
        pos = at + len(core)
    return out


def word_boundaries(pieces: Sequence[str]) -> set[int]:
    """Boundaries ``0 … n`` of a piece sequence that fall between words.

    A boundary ``b`` qualifies when it is an edge, when piece ``b`` starts a word (``▁``), when
    either neighbour is punctuation, or when either neighbour is a CJK/kana/hangul piece.

    Example:
        >>> sorted(word_boundaries(["▁Ro", "me", ",", "▁Italy"]))
        [0, 2, 3, 4]
    """
    n = len(pieces)
    out = {0, n}
    for b in range(1, n):
        prev, cur = pieces[b - 1].replace("▁", ""), pieces[b]
        if (
            cur.startswith("▁")
            or is_punct(prev)
            or is_punct(cur.replace("▁", ""))
            or _wide(prev[-1:])
            or _wide(cur[:1])
        ):
            out.add(b)
    return out


def snap_to(boundaries: Sequence[int], allowed: set[int]) -> list[int]:
    """Move boundaries that fall inside a word onto the word's edges (both of them).

    A piece chosen by Δ inside a word (``▁Ber`` ``lin``) makes its word's boundaries candidates,
    so a marker never splits a word and a word split into pieces is never lost.

    Example:
        >>> snap_to([1, 4], {0, 3, 5})
        [0, 3, 5]
    """
    edges = sorted(allowed)
    out: set[int] = set()
    for b in boundaries:
        if b in allowed:
            out.add(b)
            continue
        k = bisect_left(edges, b)
        if k > 0:
            out.add(edges[k - 1])
        if k < len(edges):
            out.add(edges[k])
    return sorted(out)


def _wide(ch: str) -> bool:
    return bool(ch) and unicodedata.east_asian_width(ch) in ("W", "F")


def _chars(offsets, start: int, end: int) -> tuple[int, int] | None:
    if offsets is None:
        return None
    inside = [o for o in offsets[start:end] if o[1] > o[0]]
    if not inside:
        return None
    return inside[0][0], inside[-1][1]


def _similarity(a: str, b: str) -> float:
    a, b = a.casefold(), b.casefold()
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


def _decode_marked(template, offsets, n_best, markers) -> str:
    """The template with every span's forward-best insertion, as text (for inspection)."""
    if offsets is None:
        return template
    edits = []
    for best in n_best:
        if best:
            chars = _chars(offsets, best[0].start, best[0].end)
            if chars:
                edits += [(chars[0], 0, f"{markers[0]} "), (chars[1], 1, f" {markers[1]}")]
    text = template
    for pos, _, ins in sorted(edits, reverse=True):
        text = text[:pos] + ins + text[pos:]
    return text


# -- to word tokens ------------------------------------------------------------------------------


def to_pair_projection(
    result: RouteResult,
    pair_id: str,
    target_id: str,
    tgt_lang: str,
    tokenizer,
    *,
    target: AnnotatedSentence | None = None,
) -> PairProjection | None:
    """Word-token outcomes for one sentence: char spans → token spans, overlaps resolved.

    ``target`` is the already tokenized target sentence when there is one (translate-test keeps
    the input's own tokens, so scores against its gold line up); its text must be the route's
    target text. Otherwise the target text is split with ``tokenizer``. Returns ``None`` when the
    target text holds no token (the caller records a reject).
    """
    if target is not None:
        if target.text != result.target_text:
            raise ValueError(f"target {target.id} text differs from the route's target text")
        tgt = replace(target, spans=())
    else:
        tokens = tokenizer.tokenize(result.target_text)
        if not tokens:
            return None
        tgt = AnnotatedSentence(
            target_id,
            tgt_lang,
            tuple(t for t, _, _ in tokens),
            (),
            result.target_text,
            tuple((s, e) for _, s, e in tokens),
        )
    src = result.source
    placed: list = []
    for r in result.spans:
        if r.target is None:
            placed.append((r.reason or DropReason.UNMATCHED, r.detail))
            continue
        span, exact = char_span_to_token(r.target, tgt.offsets)
        if span is None:
            placed.append((DropReason.EMPTY_TARGET, f"{r.detail}; no word token in {r.target}"))
            continue
        note = r.detail if exact else f"{r.detail}; widened to whole words"
        placed.append((span.start, span.end, note))
    outcomes = resolve_overlaps(src.spans, placed, len(tgt))
    outcomes = [replace(o, score=r.score) for o, r in zip(outcomes, result.spans, strict=True)]
    return PairProjection(
        ParallelPair(pair_id, src, tgt), None, tuple(outcomes), tuple(target_spans(outcomes))
    )


def _text(target) -> str:
    return target.text if isinstance(target, AnnotatedSentence) else target


def _markable(tasks, markers: tuple[str, str]):
    """A result slot per task (filled with the problem of each source that cannot be marked)
    and the positions of the tasks that can go through a marker route."""
    from xproj.projectors.projector import ProjectionResult, unmarkable

    results: list = [None] * len(tasks)
    markable = []
    for k, task in enumerate(tasks):
        why = check_markable(task.source, markers)
        if why is None:
            markable.append(k)
        else:
            results[k] = ProjectionResult(task, problem=unmarkable(why))
    return results, markable


def check_markable(sentence: AnnotatedSentence, markers: tuple[str, str]) -> str | None:
    """Why ``sentence`` cannot be marked, or ``None`` when it can."""
    if not sentence.spans:
        return None
    try:
        marked_source(sentence, range(len(sentence.spans)), markers)
    except SourceMarkerError as err:
        return str(err)
    return None


__all__ = [
    "CodecRoute",
    "CodecSettings",
    "MarkerRoute",
    "MarkerSettings",
    "RouteResult",
    "RouteStats",
    "SpanResult",
    "check_markable",
    "locate_in_original",
    "piece_offsets",
    "to_pair_projection",
    "word_boundaries",
]
