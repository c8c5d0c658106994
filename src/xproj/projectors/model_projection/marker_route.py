"""``markers.v1`` (EasyProject): translate the marked source, read the markers back, give each source span's label to one of them; for translate-test, locate the spans in the original text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any, Literal

from xproj.projectors.markers import (
    CJK_QUOTE_VARIANTS,
    DEFAULT_VARIANTS,
    TITLE_MARK_VARIANTS,
    ParsedMarkers,
    assign_labels,
    parse_markers,
)
from xproj.projectors.model_projection import common as route
from xproj.projectors.punct import is_punct
from xproj.schemas.errors import FORBID_EXTRA, check_settings
from xproj.schemas.records import AnnotatedSentence, CharSpan, DropReason

#: Extra bracket variants a marker parser may accept, by the name a config uses.
VARIANT_SETS: Mapping[str, Mapping[str, str]] = {
    "cjk_quotes": CJK_QUOTE_VARIANTS,
    "title_marks": TITLE_MARK_VARIANTS,
}

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
        self.stats = route.RouteStats()
        self._variants = self.settings.variant_map()
        model = getattr(translator, "inner", translator)
        if hasattr(model, "target_pieces"):
            route.marker_pieces(model, self.settings.markers)  # XP301 for a vocabulary without them

    def run(
        self,
        sources: Sequence[AnnotatedSentence],
        src_lang: str,
        tgt_lang: str,
        *,
        originals: Sequence[str] | None = None,
    ) -> list[route.RouteResult]:
        """Project every sentence's spans; ``originals`` (translate-test) are the texts the spans
        must land on, in place of the clean marked translation.

        Raises:
            SourceMarkerError: when a source cannot be marked; call :meth:`check` first to turn
                those into per-record rejects.
        """
        if originals is not None and len(originals) != len(sources):
            raise ValueError(f"{len(originals)} originals for {len(sources)} sources")
        m = self.settings.markers
        marked = [
            route.marked_source(s, range(len(s.spans)), m) if s.spans else s.text for s in sources
        ]
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
                route.SpanResult(o.target, o.reason, o.score, _detail(o.method, o.detail))
                for o in outcomes
            ]
            text = parsed[i].clean
            if originals is not None:
                results = locate_in_original(
                    results, text, originals[i], self.settings.fuzzy_threshold
                )
                text = originals[i]
            out.append(
                route.RouteResult(s, text, tuple(results), translations[i].text, translations[i])
            )
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
        from xproj.projectors.projector import ProjectionResult, not_translated

        results, markable = route._markable(tasks, self.settings.markers)
        made = all(tasks[k].target is None for k in markable)
        if not made and any(tasks[k].target is None for k in markable):
            raise ValueError(
                f"{self.name} makes every target of a batch or locates spans in every given "
                "one; this batch mixes tasks with and without a target"
            )
        originals = None if made else [route._text(tasks[k].target) for k in markable]
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
            results[k] = route.project_result(task, r, tgt_lang, tokenizer, translation)
        return results

    def models(self) -> list:
        return [getattr(self.translator, "inner", self.translator)]

    def work(self) -> dict[str, Any]:
        return {"route": {"method": self.name, **self.stats.as_dict()}}

    def take_rejects(self) -> list:
        return []  # a model route leaves nothing out silently: its drops are outcomes

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
    results: Sequence[route.SpanResult], clean: str, original: str, threshold: float
) -> list[route.SpanResult]:
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
        found = _find_free(original, text, taken) or _find_folded(original, text, taken)
        how = "exact"
        if found is None:
            found, ratio = _fuzzy_window(original, text, words, taken, threshold)
            how = f"fuzzy {ratio:.2f}"
        if found is None:
            out.append(
                route.SpanResult(
                    None,
                    DropReason.NOT_IN_ORIGINAL,
                    r.score,
                    f"{text!r} from the marked translation is not in the original text",
                )
            )
            continue
        taken.append(found)
        out.append(
            route.SpanResult(
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


def _find_folded(original: str, needle: str, taken) -> tuple[int, int] | None:
    """:func:`_find_free` ignoring case, the span given in ``original``'s own offsets.

    Case folding can change a text's length (``ß`` → ``ss``, ``İ`` → ``i̇``), so the folded
    text keeps, per folded character, the index of the original character it came from; a
    match must start and end on whole original characters.
    """
    folded_needle = needle.casefold()
    if not folded_needle:
        return None
    owners: list[int] = []
    pieces: list[str] = []
    for i, ch in enumerate(original):
        folded = ch.casefold()
        pieces.append(folded)
        owners.extend([i] * len(folded))
    haystack = "".join(pieces)
    pos = haystack.find(folded_needle)
    while pos >= 0:
        end = pos + len(folded_needle)
        starts_whole = pos == 0 or owners[pos - 1] != owners[pos]
        ends_whole = end == len(haystack) or owners[end] != owners[end - 1]
        if starts_whole and ends_whole:
            span = (owners[pos], owners[end - 1] + 1)
            if _free(span, taken):
                return span
        pos = haystack.find(folded_needle, pos + 1)
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
