"""``codec.v1`` (CODEC): insert the marker pair into a clean translation where the model scores it best."""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from xproj.projectors.codec import (
    SequentialProblem,
    candidate_positions,
    enumerate_insertions,
    search_sequential_many,
)
from xproj.projectors.model_projection import common as route
from xproj.projectors.punct import is_punct
from xproj.schemas.errors import FORBID_EXTRA, check_settings
from xproj.schemas.records import AnnotatedSentence, CharSpan, DropReason

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
        self.stats = route.RouteStats()
        self.markers = route.marker_pieces(scorer_model, self.settings.markers)

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
        results, markable = route._markable(tasks, self.settings.markers)
        if any(tasks[k].target is None for k in markable):
            raise ValueError(f"{self.name} projects onto a given target; a task has none")
        routes = self.run(
            [tasks[k].source for k in markable],
            [route._text(tasks[k].target) for k in markable],
            src_lang,
            tgt_lang,
        )
        for k, r in zip(markable, routes, strict=True):
            results[k] = route.project_result(tasks[k], r, tgt_lang, tokenizer)
        return results

    def models(self) -> list:
        return [self.model]

    def work(self) -> dict[str, Any]:
        return {"route": {"method": self.name, **self.stats.as_dict()}}

    def take_rejects(self) -> list:
        return []  # a model route leaves nothing out silently: its drops are outcomes

    def run(
        self,
        sources: Sequence[AnnotatedSentence],
        templates: Sequence[str],
        src_lang: str,
        tgt_lang: str,
    ) -> list[route.RouteResult]:
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
                score_src.append(route.marked_source(s, [k], m, check_text=False))
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
                route.marked_source(s, range(k + 1), m, check_text=False)
                for k in range(len(s.spans))
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
                out.append(route.RouteResult(s, templates[i], (), templates[i]))
                continue
            results = []
            for k, span in enumerate(s.spans):
                choice = ranked.get((i, k))
                if choice is None:
                    results.append(
                        route.SpanResult(
                            None,
                            DropReason.NO_CANDIDATE,
                            None,
                            why_none.get((i, k), "no candidate covers a character of the template"),
                        )
                    )
                    continue
                (a, b), total, detail = choice
                results.append(route.SpanResult(CharSpan(a, b, span.label), None, total, detail))
            marked = _decode_marked(templates[i], offsets[i], by_sentence[i].n_best, m)
            out.append(route.RouteResult(s, templates[i], tuple(results), marked))
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
