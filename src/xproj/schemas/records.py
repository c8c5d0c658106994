"""Typed records that every layer passes around.

Conventions: token indices are 0-based and spans are half-open (``end`` is one past the last
token or character). Records are frozen; build new ones rather than mutating.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from xproj.schemas.errors import E_EMPTY_SENTENCE, E_SPAN_OUT_OF_TEXT, InputFormatError


@dataclass(frozen=True, slots=True, order=True)
class _Span:
    """A labeled half-open ``[start, end)`` range of ``unit`` (tokens or characters)."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            unit = type(self).__name__.removesuffix("Span").lower()
            raise ValueError(f"invalid {unit} span [{self.start}, {self.end}) for {self.label!r}")

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: _Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True, order=True)
class TokenSpan(_Span):
    """Tokens ``start`` … ``end - 1`` carrying ``label``."""


@dataclass(frozen=True, slots=True, order=True)
class CharSpan(_Span):
    """Characters ``start`` … ``end - 1`` of a text carrying ``label``."""


def token_offsets(text: str, tokens: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Character offsets of each token in ``text``, found left to right.

    Tokens must appear in order; anything between them (whitespace, dropped characters) is skipped.

    Example:
        >>> token_offsets("New York, USA", ["New", "York", ",", "USA"])
        ((0, 3), (4, 8), (8, 9), (10, 13))
    """
    offsets = []
    pos = 0
    for tok in tokens:
        if not tok:
            raise ValueError("empty token")
        start = text.find(tok, pos)
        if start < 0:
            raise ValueError(f"token {tok!r} not found in text after offset {pos}")
        end = start + len(tok)
        offsets.append((start, end))
        pos = end
    return tuple(offsets)


def token_span_to_char(span: TokenSpan, offsets: Sequence[tuple[int, int]]) -> CharSpan:
    """The character extent of a token span."""
    if span.end > len(offsets):
        raise ValueError(f"span {span} outside {len(offsets)} tokens")
    return CharSpan(offsets[span.start][0], offsets[span.end - 1][1], span.label)


def char_span_to_token(
    span: CharSpan, offsets: Sequence[tuple[int, int]]
) -> tuple[TokenSpan | None, bool]:
    """The tokens a character span touches, and whether it covers them exactly.

    Returns ``(None, False)`` when the span touches no token (e.g. only whitespace). ``exact`` is
    False when the span starts or ends inside a token; the token span then covers the whole tokens.
    """
    hit = [i for i, (s, e) in enumerate(offsets) if s < span.end and span.start < e]
    if not hit:
        return None, False
    first, last = hit[0], hit[-1]
    exact = offsets[first][0] == span.start and offsets[last][1] == span.end
    return TokenSpan(first, last + 1, span.label), exact


@dataclass(frozen=True, slots=True)
class AnnotatedSentence:
    """One sentence: its tokens, its text, and labeled token spans.

    ``text`` defaults to the tokens joined by single spaces; ``offsets`` (token → characters) are
    derived from it, so token and character spans always round-trip.

    Example:
        >>> s = AnnotatedSentence("s1", "en", ("Anna", "lives", "in", "Rome"),
        ...                       (TokenSpan(0, 1, "PER"), TokenSpan(3, 4, "LOC")))
        >>> [s.text[c.start:c.end] for c in s.char_spans]
        ['Anna', 'Rome']
    """

    id: str
    lang: str
    tokens: tuple[str, ...]
    spans: tuple[TokenSpan, ...] = ()
    text: str = ""
    offsets: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        tokens = tuple(self.tokens)
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "spans", tuple(sorted(self.spans)))
        if not tokens:
            raise InputFormatError(
                "sentence has no tokens.",
                fix="remove empty sentences from the input or check the sentence separator.",
                record=self.id,
                code=E_EMPTY_SENTENCE,
            )
        if not self.text:
            object.__setattr__(self, "text", " ".join(tokens))
        if not self.offsets:
            try:
                offs = token_offsets(self.text, tokens)
            except ValueError as err:
                raise InputFormatError(
                    f"tokens do not match the text ({err}).",
                    fix="give tokens that appear in the text in order, or leave the text out.",
                    record=self.id,
                    code=E_SPAN_OUT_OF_TEXT,
                ) from None
            object.__setattr__(self, "offsets", offs)
        for span in self.spans:
            if span.end > len(tokens):
                raise InputFormatError(
                    f"span {span.label} [{span.start}, {span.end}) is outside the sentence's "
                    f"{len(tokens)} tokens.",
                    fix="check the span indices (0-based, end exclusive).",
                    record=self.id,
                    code=E_SPAN_OUT_OF_TEXT,
                )

    @classmethod
    def from_triples(
        cls, id: str, lang: str, text: str, tokens: Sequence[tuple[str, int, int]]
    ) -> AnnotatedSentence:
        """A sentence without spans from a tokenizer's ``(token, start, end)`` triples: its
        offsets are the tokenizer's, not searched for again.

        Example:
            >>> AnnotatedSentence.from_triples("t1", "de", "Anna  singt", [("Anna", 0, 4),
            ...                                ("singt", 6, 11)]).offsets
            ((0, 4), (6, 11))
        """
        return cls(
            id,
            lang,
            tuple(t for t, _, _ in tokens),
            (),
            text,
            tuple((s, e) for _, s, e in tokens),
        )

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def char_spans(self) -> tuple[CharSpan, ...]:
        return tuple(token_span_to_char(s, self.offsets) for s in self.spans)

    def char_spans_of(self, span: TokenSpan) -> CharSpan:
        """The character span of one token span of this sentence."""
        return token_span_to_char(span, self.offsets)

    def span_text(self, span: TokenSpan) -> str:
        c = token_span_to_char(span, self.offsets)
        return self.text[c.start : c.end]

    def with_spans(self, spans: Sequence[TokenSpan]) -> AnnotatedSentence:
        """The same sentence with other spans (offsets reused)."""
        return AnnotatedSentence(
            self.id, self.lang, self.tokens, tuple(spans), self.text, self.offsets
        )


@dataclass(frozen=True, slots=True)
class ParallelPair:
    """A source sentence and its translation. ``tgt.spans`` holds gold target spans, if any.

    ``position`` is the pair's place in its input (0-based, rejected pairs counted), for what
    is read by position, such as a ``given.v1`` alignment file; None when it has none.
    """

    id: str
    src: AnnotatedSentence
    tgt: AnnotatedSentence
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Alignment:
    """Word alignment of one sentence pair: 0-based ``(source index, target index)`` links.

    ``links`` are the sure links (or all predicted links); ``possible`` holds links marked possible
    in gold data (``ipj`` in Pharaoh files), kept apart from the sure ones.
    """

    links: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "links", frozenset(self.links))
        object.__setattr__(self, "possible", frozenset(self.possible))

    def reversed(self) -> Alignment:
        return Alignment(
            frozenset((j, i) for i, j in self.links), frozenset((j, i) for i, j in self.possible)
        )


class DropReason(StrEnum):
    """Why a source span has no target span of its own. Stable values: stored in tables.

    :attr:`explanation` says what each one means, in one sentence (cards and reports show it).
    """

    NO_ALIGNMENT = "no_alignment"
    PUNCTUATION_ONLY = "punctuation_only"
    LOST_OVERLAP = "lost_overlap"
    MERGED = "merged"
    EMPTY_TARGET = "empty_target"
    MARKER_COUNT_MISMATCH = "marker_count_mismatch"
    MALFORMED_MARKERS = "malformed_markers"
    UNMATCHED = "unmatched"
    NOT_IN_ORIGINAL = "not_in_original"
    NO_CANDIDATE = "no_candidate"

    @property
    def explanation(self) -> str:
        """What the reason means, in one sentence.

        Example:
            >>> DropReason("merged").explanation.split(";")[0]
            'Its target overlapped a projection of the same type'
        """
        return DROP_EXPLANATIONS[self]


DROP_EXPLANATIONS: dict[DropReason, str] = {
    DropReason.NO_ALIGNMENT: "None of the span's tokens is aligned to any target token.",
    DropReason.PUNCTUATION_ONLY: "The span's tokens are aligned only to target punctuation.",
    DropReason.LOST_OVERLAP: "Its target overlapped the projection of a span of another type "
    "that won (longer, or first).",
    DropReason.MERGED: "Its target overlapped a projection of the same type; the two were merged "
    "into the other one.",
    DropReason.EMPTY_TARGET: "The target sentence has no tokens.",
    DropReason.MARKER_COUNT_MISMATCH: "Marker projection: the translation has a different number "
    "of marked spans than the source (strict mode).",
    DropReason.MALFORMED_MARKERS: "Marker projection: the translation's markers are unbalanced, "
    "nested or empty (strict mode).",
    DropReason.UNMATCHED: "Marker projection: no marked target span matched the span exactly or "
    "above the fuzzy threshold.",
    DropReason.NOT_IN_ORIGINAL: "Marker projection for translate-test: the marked span's text was "
    "not found (exactly or above the fuzzy threshold) in the original text.",
    DropReason.NO_CANDIDATE: "Constrained decoding: no candidate marker position survived the "
    "thresholds and limits.",
}


def explain_reason(reason: str) -> str | None:
    """The one-sentence explanation of a stored drop reason, or None for a value that is not a
    :class:`DropReason` (a generator's own reason)."""
    try:
        return DROP_EXPLANATIONS[DropReason(reason)]
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ProjectionOutcome:
    """What happened to one source span: exactly one per source span.

    ``target`` is set when the span was projected (``reason is None``) and, for ``MERGED``, points at
    the merged target span it became part of (``merged_into`` is that winner's source index).
    ``char_target`` is the same target in characters of the target text: derived from the tokens
    for word alignment, and the route's own character span for the model routes (whose token
    span is the whole words it touches).
    """

    source_index: int
    source: TokenSpan
    target: TokenSpan | None
    reason: DropReason | None = None
    merged_into: int | None = None
    detail: str = ""
    score: float | None = None
    char_target: CharSpan | None = None

    @property
    def projected(self) -> bool:
        return self.reason is None
