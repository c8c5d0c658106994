"""Marker projection in the style of EasyProject: the pure core, no model and no I/O.

The route: put a marker pair around each source span (:func:`insert_markers`), translate the
marked sentence with a marker-aware model (elsewhere), read the marked spans back out of the
translation (:func:`parse_markers`), and give each source span's label to one marked target span
(:func:`assign_labels`). Every source span gets exactly one :class:`MarkerOutcome`.

Conventions:

- **Insertion** pads markers on their inner side only: ``"Ana lives in Rome."`` becomes
  ``"Ana lives in [ Rome ]."``. EasyProject marks space-tokenized sentences, so there the markers
  are always separate tokens (``"in [ Rome ] ."``); on such input this module writes the same.
  Padding only the inner side keeps the text outside the markers untouched, so parsing an
  untranslated marked text gives back the original text exactly.
- **Parsing** treats a marker together with the whitespace on its inner side as one unit and
  removes both; whitespace outside the markers is kept, except that runs of whitespace separated
  only by removed markers collapse to one. Bracket variants (full-width ``［］``, ``【】``,
  ``〔〕``; ``《》`` and ``「」`` on request) map onto the markers; doubled markers (``[[``,
  ``[ [``) count once; a marker glued between two letters of a space-separated script becomes a
  space (``in[Rom]`` → ``in Rom``), while between CJK or Thai characters, or as ``][`` of two
  touching spans, it is simply removed.
  Unbalanced, nested and empty markers are reported as :class:`MarkerProblem`s, never raised.
- **Assignment** follows EasyProject: by order when the counts match and order cannot mislabel
  (one span, or all spans share a label); otherwise exact match, then fuzzy match
  (:class:`difflib.SequenceMatcher` ratio above a threshold) of each marked target span against
  the source span translated on its own and against the source span's text; a single source span
  left over when a single target span is left over takes it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from xproj.schemas.records import CharSpan, DropReason

DEFAULT_MARKERS: tuple[str, str] = ("[", "]")

DEFAULT_VARIANTS: Mapping[str, str] = {
    "［": "[",
    "］": "]",
    "【": "[",
    "】": "]",
    "〔": "[",
    "〕": "]",
}
"""Bracket variants that models emit for ``[``/``]`` and that are not ordinary punctuation."""

CJK_QUOTE_VARIANTS: Mapping[str, str] = {"「": "[", "」": "]"}
"""Japanese corner quotes as markers: opt in, since they are also real quotation marks."""

TITLE_MARK_VARIANTS: Mapping[str, str] = {"《": "[", "》": "]"}
"""Chinese title marks as markers (EasyProject maps them): opt in, they are real punctuation."""


class MarkerIssue(StrEnum):
    """A defect found while parsing the markers of a translation."""

    UNOPENED_CLOSE = "unopened_close"
    """A closing marker with no opening marker before it; ignored."""
    UNCLOSED_OPEN = "unclosed_open"
    """An opening marker never closed before the text ends; ignored."""
    NESTED_OPEN = "nested_open"
    """An opening marker inside an open span; the earlier opening marker is ignored."""
    EMPTY_SPAN = "empty_span"
    """A marker pair around nothing but whitespace; no span."""


@dataclass(frozen=True, slots=True)
class MarkerProblem:
    """One parsing defect, at ``raw_offset`` in the translated (marked) text."""

    issue: MarkerIssue
    raw_offset: int


@dataclass(frozen=True, slots=True)
class ParsedMarkers:
    """A marked translation, read.

    ``clean`` is the text without markers; ``spans`` are the marked spans as half-open character
    offsets into ``clean``, in order, never empty, never overlapping, without surrounding
    whitespace. ``clean_to_raw[i]`` is the offset in ``raw`` of ``clean[i]`` (a space inserted for
    a glued marker maps to that marker). ``problems`` lists unbalanced, nested and empty markers.
    """

    raw: str
    clean: str
    spans: tuple[tuple[int, int], ...]
    clean_to_raw: tuple[int, ...]
    problems: tuple[MarkerProblem, ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        """The text of each marked span."""
        return tuple(self.clean[s:e] for s, e in self.spans)

    @property
    def well_formed(self) -> bool:
        """True when every marker was paired and no pair was empty."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class MarkerOutcome:
    """What happened to one source span: exactly one per source span, in source order.

    ``target`` is a span of the parsed ``clean`` text carrying the source label when the span was
    projected (``reason is None``); ``method`` says how: ``order``, ``exact``, ``fuzzy`` or
    ``remaining``; ``score`` is the similarity that decided a fuzzy match (1.0 for exact).
    ``target_index`` is the index of the marked span in :attr:`ParsedMarkers.spans`.
    """

    source_index: int
    label: str
    target: CharSpan | None
    reason: DropReason | None = None
    target_index: int | None = None
    method: str = ""
    score: float | None = None
    detail: str = ""

    @property
    def projected(self) -> bool:
        return self.reason is None


def insert_markers(
    text: str,
    spans: Sequence[CharSpan],
    *,
    markers: tuple[str, str] = DEFAULT_MARKERS,
    check_text: bool = True,
) -> str:
    """Put the marker pair around each span of ``text``, padded by one space on the inner side.

    Args:
        text: The source sentence.
        spans: Character spans of ``text``, in any order; they may touch but not overlap, and must
            not start or end on whitespace.
        markers: The opening and closing marker.
        check_text: Refuse text that already contains a marker. Only a caller that never parses
            the result (CODEC scores marked sources, it does not read them back) turns this off.

    Returns:
        The marked text. :func:`parse_markers` gives back ``text`` and ``spans`` from it when
        ``text`` holds no bracket variant and no span starts or ends inside a word (for those,
        parse with ``split_glued=False``).

    Raises:
        ValueError: For overlapping spans, spans outside the text or with whitespace at an edge,
            and text that already contains a marker (its spans could not be read back).

    Example:
        >>> insert_markers("Ana lives in Rome.", [CharSpan(13, 17, "LOC"), CharSpan(0, 3, "PER")])
        '[ Ana ] lives in [ Rome ].'
    """
    opening, closing = _check_markers(markers)
    for marker in (opening, closing) if check_text else ():
        if marker in text:
            raise ValueError(f"text already contains the marker {marker!r}: {text!r}")
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        if cur.start < prev.end:
            raise ValueError(
                f"overlapping spans {prev.label} [{prev.start}, {prev.end}) "
                f"and {cur.label} [{cur.start}, {cur.end}) in {text!r}"
            )
    pieces: list[str] = []
    pos = 0
    for span in ordered:
        if span.end > len(text):
            raise ValueError(f"span {span.label} [{span.start}, {span.end}) outside {text!r}")
        inner = text[span.start : span.end]
        if inner != inner.strip():
            raise ValueError(f"span {span.label} {inner!r} starts or ends with whitespace")
        pieces += [text[pos : span.start], opening, " ", inner, " ", closing]
        pos = span.end
    pieces.append(text[pos:])
    return "".join(pieces)


def parse_markers(
    translated: str,
    *,
    markers: tuple[str, str] = DEFAULT_MARKERS,
    variants: Mapping[str, str] | None = None,
    split_glued: bool = True,
) -> ParsedMarkers:
    """Read the marked spans of a model's translation and the text without markers.

    Args:
        translated: The translation of a marked sentence.
        markers: The opening and closing marker.
        variants: Strings the model may write for a marker, each mapped to one of ``markers``.
            Default: :data:`DEFAULT_VARIANTS` when ``markers`` are ``[``/``]``, else none.
            Add :data:`CJK_QUOTE_VARIANTS` or :data:`TITLE_MARK_VARIANTS` to taste.
        split_glued: Turn a lone marker glued between two letters of a space-separated script
            into a space (``in[Rom]`` → ``in Rom``). Turn off when spans may end inside a word
            (``[ Rom ]ans``): then the text round-trips exactly.

    Returns:
        The clean text, the marked spans as offsets into it, and the defects found.

    Example:
        >>> p = parse_markers("Ana wohnt in【Rom 】.")
        >>> p.clean, p.texts
        ('Ana wohnt in Rom.', ('Rom',))
    """
    opening, closing = _check_markers(markers)
    if variants is None:
        variants = DEFAULT_VARIANTS if markers == DEFAULT_MARKERS else {}
    kinds = {opening: _OPEN, closing: _CLOSE}
    for variant, marker in variants.items():
        if marker not in kinds or not variant:
            raise ValueError(f"variant {variant!r} maps to {marker!r}, not to one of {markers}")
        kinds.setdefault(variant, kinds[marker])
    items = _lex(translated, kinds)
    items = _drop_doubled(items)
    items = _drop_inner_padding(items)
    if split_glued:
        items = _split_glued(items)
    items = _collapse_spaces(items)
    return _pair(translated, items)


def assign_labels(
    source_spans: Sequence[tuple[str, str]],
    parsed: ParsedMarkers,
    *,
    span_translations: Sequence[str] | None = None,
    fuzzy_threshold: float = 0.5,
    strict: bool = True,
) -> list[MarkerOutcome]:
    """Give each source span's label to one marked span of the translation.

    Args:
        source_spans: ``(label, source text)`` of each source span, in source order.
        parsed: The parsed marked translation.
        span_translations: Each source span translated on its own, aligned with ``source_spans``.
            Without them, target spans are matched against the source texts only (names copied
            verbatim still match).
        fuzzy_threshold: A fuzzy match needs a ``SequenceMatcher`` ratio strictly above this.
        strict: As EasyProject: when the number of marked spans differs from the number of
            source spans, or the markers are malformed, no span is projected. When False, what
            can be matched is, and the rest is ``UNMATCHED``.

    Returns:
        Exactly one outcome per source span, in source order. Each marked span is used at most
        once.

    Example:
        >>> p = parse_markers("[ Rom ] ist die Hauptstadt von [ Italien ].")
        >>> out = assign_labels([("LOC", "Italy"), ("LOC", "Rome")], p)
        >>> [(o.label, p.clean[o.target.start:o.target.end], o.method) for o in out]
        [('LOC', 'Rom', 'order'), ('LOC', 'Italien', 'order')]
    """
    n_src, n_tgt = len(source_spans), len(parsed.spans)
    if span_translations is not None and len(span_translations) != n_src:
        raise ValueError(f"{len(span_translations)} span translations for {n_src} source spans")
    if not 0.0 <= fuzzy_threshold < 1.0:
        raise ValueError(f"fuzzy_threshold must be in [0, 1), got {fuzzy_threshold}")
    labels = [label for label, _ in source_spans]
    counts = f"{n_src} source spans, {n_tgt} marked target spans"
    if strict and not parsed.well_formed:
        shown = ", ".join(f"{p.issue}@{p.raw_offset}" for p in parsed.problems)
        return [
            MarkerOutcome(i, lab, None, DropReason.MALFORMED_MARKERS, detail=shown)
            for i, lab in enumerate(labels)
        ]
    if strict and n_src != n_tgt:
        return [
            MarkerOutcome(i, lab, None, DropReason.MARKER_COUNT_MISMATCH, detail=counts)
            for i, lab in enumerate(labels)
        ]
    if n_src == n_tgt and len(set(labels)) <= 1:
        return [
            MarkerOutcome(i, lab, _target(parsed, i, lab), None, i, "order", None, counts)
            for i, lab in enumerate(labels)
        ]
    chosen = _match(source_spans, parsed, span_translations, fuzzy_threshold)
    unused_src = [i for i in range(n_src) if i not in chosen]
    unused_tgt = sorted(set(range(n_tgt)) - {j for j, _, _ in chosen.values()})
    if n_src == n_tgt and len(unused_src) == 1:
        chosen[unused_src[0]] = (unused_tgt[0], "remaining", None)
    outcomes = []
    for i, lab in enumerate(labels):
        if i in chosen:
            j, method, score = chosen[i]
            outcomes.append(
                MarkerOutcome(i, lab, _target(parsed, j, lab), None, j, method, score, counts)
            )
        else:
            outcomes.append(
                MarkerOutcome(
                    i,
                    lab,
                    None,
                    DropReason.UNMATCHED,
                    detail=f"{source_spans[i][1]!r} matched none of {len(unused_tgt)} "
                    f"unused marked spans; {counts}",
                )
            )
    return outcomes


def unassigned_targets(outcomes: Sequence[MarkerOutcome], parsed: ParsedMarkers) -> list[int]:
    """Indices of marked target spans that no source span took (unlabelled marked text)."""
    taken = {o.target_index for o in outcomes if o.projected}
    return [j for j in range(len(parsed.spans)) if j not in taken]


_OPEN = "open"
_CLOSE = "close"
_NO_SPACE_SCRIPTS = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF))
"""Thai, Lao, Myanmar, Khmer: written without spaces between words, as are wide (CJK) scripts."""


@dataclass(slots=True)
class _Item:
    """A character of the text (``kind`` None) or a marker, with its offset in the raw text."""

    kind: str | None
    raw: int
    char: str = ""


def _check_markers(markers: tuple[str, str]) -> tuple[str, str]:
    opening, closing = markers
    if not opening or not closing or opening == closing:
        raise ValueError(f"markers must be two distinct non-empty strings, got {markers!r}")
    if opening.strip() != opening or closing.strip() != closing:
        raise ValueError(f"markers must not start or end with whitespace, got {markers!r}")
    return opening, closing


def _lex(raw: str, kinds: Mapping[str, str]) -> list[_Item]:
    by_length = sorted(kinds, key=len, reverse=True)
    items: list[_Item] = []
    pos = 0
    while pos < len(raw):
        hit = next((m for m in by_length if raw.startswith(m, pos)), None)
        if hit is None:
            items.append(_Item(None, pos, raw[pos]))
            pos += 1
        else:
            items.append(_Item(kinds[hit], pos))
            pos += len(hit)
    return items


def _is_space(item: _Item) -> bool:
    return item.kind is None and item.char.isspace()


def _drop_doubled(items: list[_Item]) -> list[_Item]:
    """``[[``, ``[ [``, ``]]``, ``] ]`` count once (whitespace between them goes too)."""
    out: list[_Item] = []
    for item in items:
        if item.kind is not None:
            k = len(out)
            while k and _is_space(out[k - 1]):
                k -= 1
            if k and out[k - 1].kind == item.kind:
                del out[k:]
                continue
        out.append(item)
    return out


def _drop_inner_padding(items: list[_Item]) -> list[_Item]:
    keep = [True] * len(items)
    for k, item in enumerate(items):
        step = 1 if item.kind == _OPEN else -1 if item.kind == _CLOSE else 0
        m = k + step
        while step and 0 <= m < len(items) and _is_space(items[m]):
            keep[m] = False
            m += step
    return [item for item, kept in zip(items, keep, strict=True) if kept]


def _spaced_word_char(ch: str) -> bool:
    if not ch.isalnum() or unicodedata.east_asian_width(ch) in ("W", "F"):
        return False
    return not any(lo <= ord(ch) <= hi for lo, hi in _NO_SPACE_SCRIPTS)


def _split_glued(items: list[_Item]) -> list[_Item]:
    """A lone marker between two letters of a space-separated script becomes a space.

    A run of several markers (``][`` of touching spans) is left glued: that is how
    :func:`insert_markers` writes spans that touch inside a word.
    """
    out: list[_Item] = []
    k = 0
    while k < len(items):
        if items[k].kind is None:
            out.append(items[k])
            k += 1
            continue
        end = k
        while end < len(items) and items[end].kind is not None:
            end += 1
        run = items[k:end]
        before = out[-1].char if out and out[-1].kind is None else ""
        after = items[end].char if end < len(items) else ""
        glued = (
            len(run) == 1
            and bool(before and after)
            and _spaced_word_char(before)
            and _spaced_word_char(after)
        )
        space = _Item(None, run[0].raw, " ")
        if glued and run[0].kind == _OPEN:
            out.append(space)
            out += run
        elif glued:
            out += run
            out.append(space)
        else:
            out += run
        k = end
    return out


def _collapse_spaces(items: list[_Item]) -> list[_Item]:
    """Whitespace runs separated only by markers become one run (the first)."""
    out: list[_Item] = []
    space_seen = marker_after_space = False
    for item in items:
        if item.kind is not None:
            marker_after_space = space_seen
        elif not item.char.isspace():
            space_seen = marker_after_space = False
        elif marker_after_space:
            continue
        else:
            space_seen = True
        out.append(item)
    return out


def _pair(raw: str, items: list[_Item]) -> ParsedMarkers:
    chars: list[str] = []
    to_raw: list[int] = []
    spans: list[tuple[int, int]] = []
    problems: list[MarkerProblem] = []
    open_at: int | None = None
    open_raw = 0
    for item in items:
        if item.kind is None:
            chars.append(item.char)
            to_raw.append(item.raw)
        elif item.kind == _OPEN:
            if open_at is not None:
                problems.append(MarkerProblem(MarkerIssue.NESTED_OPEN, open_raw))
            open_at, open_raw = len(chars), item.raw
        elif open_at is None:
            problems.append(MarkerProblem(MarkerIssue.UNOPENED_CLOSE, item.raw))
        else:
            start, end = open_at, len(chars)
            while start < end and chars[start].isspace():
                start += 1
            while end > start and chars[end - 1].isspace():
                end -= 1
            if start == end:
                problems.append(MarkerProblem(MarkerIssue.EMPTY_SPAN, open_raw))
            else:
                spans.append((start, end))
            open_at = None
    if open_at is not None:
        problems.append(MarkerProblem(MarkerIssue.UNCLOSED_OPEN, open_raw))
    return ParsedMarkers(raw, "".join(chars), tuple(spans), tuple(to_raw), tuple(problems))


def _target(parsed: ParsedMarkers, j: int, label: str) -> CharSpan:
    start, end = parsed.spans[j]
    return CharSpan(start, end, label)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _match(
    source_spans: Sequence[tuple[str, str]],
    parsed: ParsedMarkers,
    span_translations: Sequence[str] | None,
    threshold: float,
) -> dict[int, tuple[int, str, float | None]]:
    """Source index -> (target index, method, score): exact first, then best fuzzy pairs."""
    keys = [
        [_norm(span_translations[i])] if span_translations is not None else []
        for i in range(len(source_spans))
    ]
    for i, (_, text) in enumerate(source_spans):
        keys[i].append(_norm(text))
    targets = [_norm(t) for t in parsed.texts]
    chosen: dict[int, tuple[int, str, float | None]] = {}
    used: set[int] = set()
    for rank in range(2):
        for j, tgt in enumerate(targets):
            if j in used:
                continue
            for i, key in enumerate(keys):
                if i not in chosen and rank < len(key) and key[rank] == tgt:
                    chosen[i] = (j, "exact", 1.0)
                    used.add(j)
                    break
    scored = []
    for j, tgt in enumerate(targets):
        if j in used:
            continue
        for i, key in enumerate(keys):
            if i in chosen:
                continue
            score = max(SequenceMatcher(None, k, tgt).ratio() for k in key)
            if score > threshold:
                scored.append((-score, j, i))
    for neg, j, i in sorted(scored):
        if j not in used and i not in chosen:
            chosen[i] = (j, "fuzzy", -neg)
            used.add(j)
    return chosen
