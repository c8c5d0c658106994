"""Tag sequences (IOB1, IOB2, BIOES/BILOU) to token spans and back.

Schemes:
    ``iob2``: every entity starts with ``B-X``; ``I-X`` must continue an entity of type X.
    ``iob1``: ``I-X`` starts an entity unless it continues one of type X; ``B-X`` is only needed
        to split two adjacent entities of the same type. Parsed leniently: a ``B-X`` anywhere
        starts an entity, so valid IOB2 reads the same under ``iob1``.
    ``bioes``: ``B-X I-X… E-X`` for longer entities, ``S-X`` for single tokens; BILOU's ``L-``
        and ``U-`` are read as ``E-`` and ``S-``.
    ``auto``: ``bioes`` when the sentence has any ``S-``/``E-``/``L-``/``U-`` tag, else ``iob1``.
        Readers decide once per file instead (:func:`detect_file_scheme`), so that an ``I-``
        after ``O`` in an IOB2 file is an error of that record, not a new entity.

Tags are ``O`` or ``P-LABEL`` with a one-letter prefix ``P`` (either case) and a non-empty label;
the label may itself contain ``-`` (``B-ORG-CORP`` is type ``ORG-CORP``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from xproj.schemas.errors import E_INVALID_TAG_SEQUENCE, E_SPAN_OUT_OF_TEXT, InputFormatError
from xproj.schemas.records import TokenSpan

TagScheme = Literal["auto", "iob1", "iob2", "bioes"]
OutputScheme = Literal["iob1", "iob2", "bioes"]

SCHEMES: tuple[str, ...] = ("auto", "iob1", "iob2", "bioes")
_PREFIXES = {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S"}
_BIOES_ONLY = frozenset("ESLU")


class TagSequenceError(InputFormatError, ValueError):
    """An invalid tag or tag sequence (XP104); ``index`` and ``tag`` say where.

    Readers re-raise it with the file and line of the token at ``index``.
    """

    code = E_INVALID_TAG_SEQUENCE

    def __init__(
        self, message: str, *, index: int | None = None, tag: str | None = None, **where: Any
    ) -> None:
        """``where``: ``fix``, ``file``, ``line``, ``record``, ``code`` as for every coded error."""
        self.index = index
        self.tag = tag
        super().__init__(message, **where)

    def located(
        self, *, file: str | None = None, line: int | None = None, record: str | None = None
    ) -> TagSequenceError:
        """The same error with a place attached."""
        return TagSequenceError(
            self.message,
            index=self.index,
            tag=self.tag,
            fix=self.fix,
            file=file,
            line=line,
            record=record,
            code=self.code,
        )

    def __reduce__(self):
        return (
            _rebuild_tag_error,
            (
                self.message,
                self.index,
                self.tag,
                self.fix,
                self.file,
                self.line,
                self.record,
                self.code,
            ),
        )


def _rebuild_tag_error(message, index, tag, fix, file, line, record, code):
    return TagSequenceError(
        message, index=index, tag=tag, fix=fix, file=file, line=line, record=record, code=code
    )


def split_tag(tag: str) -> tuple[str, str]:
    """``("O", "")`` or ``(prefix, label)`` with the prefix upper-cased and ``L``/``U`` → ``E``/``S``.

    Raises:
        TagSequenceError: XP104 for an empty label (``B-``), an unknown prefix (``X-PER``) or a
            tag with no prefix other than ``O``.

    Example:
        >>> split_tag("b-PER"), split_tag("U-LOC"), split_tag("O")
        (('B', 'PER'), ('S', 'LOC'), ('O', ''))
    """
    if tag in ("O", "o"):
        return "O", ""
    prefix, sep, label = tag.partition("-")
    mapped = _PREFIXES.get(prefix.upper()) if len(prefix) == 1 else None
    if not sep or mapped is None or not label.strip():
        raise TagSequenceError(
            f"malformed tag {tag!r}.",
            tag=tag,
            fix="use 'O' or a prefix B-, I-, E-, S- (or BILOU's L-, U-) followed by a label, "
            "e.g. 'B-PER'.",
        )
    return mapped, label


def _bad(index: int, tag: str, problem: str, scheme: str, fix: str) -> TagSequenceError:
    return TagSequenceError(
        f"tag {tag!r} at token {index} {problem} (scheme {scheme}).", index=index, tag=tag, fix=fix
    )


def detect_scheme(tags: Sequence[str]) -> str:
    """``bioes`` when any tag has an ``S``/``E``/``L``/``U`` prefix, else ``iob1``."""
    for tag in tags:
        prefix = tag.partition("-")[0].upper()
        if len(prefix) == 1 and prefix in _BIOES_ONLY and tag not in ("O", "o"):
            return "bioes"
    return "iob1"


def detect_file_scheme(sequences: Iterable[Sequence[str]]) -> str:
    """The scheme of a whole file (or dataset) from its tag sequences.

    ``bioes`` when any tag has an ``S``/``E``/``L``/``U`` prefix. Otherwise entities are started
    by ``B-`` in IOB2 and by ``I-`` in IOB1 (where ``B-`` only splits two adjacent entities of
    one type): the file is ``iob2`` when more entities start with ``B-`` than with ``I-``, else
    ``iob1``. A file without entities is ``iob2``.

    Example:
        >>> detect_file_scheme([["B-PER", "I-PER", "O"], ["O", "B-LOC"], ["O", "I-ORG"]])
        'iob2'
        >>> detect_file_scheme([["I-PER", "I-PER", "B-PER"], ["O", "I-LOC"]])
        'iob1'
    """
    b_starts = i_starts = 0
    for tags in sequences:
        previous = "O"
        for tag in tags:
            prefix, _, label = tag.partition("-")
            prefix = prefix.upper()
            if len(prefix) == 1 and prefix in _BIOES_ONLY and tag not in ("O", "o"):
                return "bioes"
            _, _, before = previous.partition("-")
            if prefix == "B" and (previous in ("O", "o") or before != label):
                b_starts += 1
            elif prefix == "I" and (previous in ("O", "o") or before != label):
                i_starts += 1
            previous = tag
    return "iob1" if i_starts > b_starts else "iob2"


def spans_from_tags(tags: Sequence[str], scheme: TagScheme = "auto") -> list[TokenSpan]:
    """Token spans encoded by a tag sequence.

    Args:
        tags: one tag per token.
        scheme: ``iob2``, ``iob1``, ``bioes`` or ``auto`` (see the module docstring).

    Returns:
        Spans in token order, half-open.

    Raises:
        TagSequenceError: XP104 (also a ``ValueError``) naming the token index and the tag, for a
            malformed tag, a prefix the scheme does not have, or a sequence the scheme forbids.

    Example:
        >>> spans_from_tags(["B-PER", "I-PER", "O", "B-LOC"], "iob2")
        [TokenSpan(start=0, end=2, label='PER'), TokenSpan(start=3, end=4, label='LOC')]
        >>> spans_from_tags(["I-PER", "B-PER", "O"], "iob1")
        [TokenSpan(start=0, end=1, label='PER'), TokenSpan(start=1, end=2, label='PER')]
    """
    if scheme not in SCHEMES:
        raise TagSequenceError(
            f"unknown tag scheme {scheme!r}.", fix=f"use one of {', '.join(SCHEMES)}."
        )
    parsed = []
    for index, tag in enumerate(tags):
        try:
            parsed.append(split_tag(tag))
        except TagSequenceError as err:
            raise TagSequenceError(
                f"malformed tag {tag!r} at token {index}.", index=index, tag=tag, fix=err.fix
            ) from None
    if scheme == "auto":
        scheme = detect_scheme(tags)
    if scheme == "bioes":
        return _parse_bioes(tags, parsed)
    return _parse_iob(tags, parsed, strict=scheme == "iob2")


def _parse_iob(
    tags: Sequence[str], parsed: Sequence[tuple[str, str]], *, strict: bool
) -> list[TokenSpan]:
    scheme = "iob2" if strict else "iob1"
    spans: list[TokenSpan] = []
    start, label = -1, ""  # the open entity, if start >= 0
    for index, (prefix, lab) in enumerate(parsed):
        if prefix in ("E", "S"):
            raise _bad(
                index,
                tags[index],
                "has a BIOES prefix",
                scheme,
                "use scheme='bioes' (or 'auto') for BIOES/BILOU data.",
            )
        continues = start >= 0 and lab == label
        if prefix == "I" and not continues:
            if strict:
                before = repr(tags[index - 1]) if index else "the sentence start"
                raise _bad(
                    index,
                    tags[index],
                    f"does not continue an entity of type {lab} (it follows {before})",
                    scheme,
                    "start every entity with B- in IOB2, or read the file with scheme='iob1'.",
                )
        if prefix == "I" and continues:
            continue
        if start >= 0:
            spans.append(TokenSpan(start, index, label))
        start, label = (index, lab) if prefix in ("B", "I") else (-1, "")
    if start >= 0:
        spans.append(TokenSpan(start, len(parsed), label))
    return spans


def _parse_bioes(tags: Sequence[str], parsed: Sequence[tuple[str, str]]) -> list[TokenSpan]:
    spans: list[TokenSpan] = []
    start, label = -1, ""
    fix = "write entities as B-X I-X… E-X, or S-X for a single token."
    for index, (prefix, lab) in enumerate(parsed):
        if start >= 0 and not (prefix in ("I", "E") and lab == label):
            raise _bad(
                index,
                tags[index],
                f"interrupts the {label} entity opened by "
                f"{tags[start]!r} at token {start} before its E- tag",
                "bioes",
                fix,
            )
        if start < 0 and prefix in ("I", "E"):
            raise _bad(index, tags[index], "is not inside an entity opened by B-", "bioes", fix)
        if prefix == "B":
            start, label = index, lab
        elif prefix == "E":
            spans.append(TokenSpan(start, index + 1, label))
            start, label = -1, ""
        elif prefix == "S":
            spans.append(TokenSpan(index, index + 1, lab))
    if start >= 0:
        raise _bad(
            start,
            tags[start],
            "opens an entity that the sentence ends before closing with E-",
            "bioes",
            fix,
        )
    return spans


def tags_from_spans(
    n_tokens: int, spans: Sequence[TokenSpan], scheme: OutputScheme = "iob2"
) -> list[str]:
    """One tag per token for non-overlapping spans.

    Args:
        n_tokens: sentence length.
        spans: token spans; any order, no overlaps.
        scheme: ``iob2`` (default), ``iob1`` (``B-`` only between adjacent same-type spans) or
            ``bioes``.

    Raises:
        InputFormatError: XP105 for a span past ``n_tokens`` or two overlapping spans; XP104 for
            an unknown scheme or an empty label.

    Example:
        >>> tags_from_spans(4, [TokenSpan(0, 2, "PER"), TokenSpan(3, 4, "LOC")], "bioes")
        ['B-PER', 'E-PER', 'O', 'S-LOC']
    """
    if scheme not in ("iob1", "iob2", "bioes"):
        raise TagSequenceError(
            f"cannot write tag scheme {scheme!r}.", fix="use 'iob2', 'iob1' or 'bioes'."
        )
    tags = ["O"] * n_tokens
    ordered = sorted(spans)
    for k, span in enumerate(ordered):
        if not span.label.strip():
            raise TagSequenceError(
                f"span [{span.start}, {span.end}) has an empty label.",
                fix="give every span a label.",
            )
        if span.end > n_tokens:
            raise InputFormatError(
                f"span {span.label} [{span.start}, {span.end}) is past the {n_tokens} tokens.",
                fix="check the span indices (0-based, end exclusive).",
                code=E_SPAN_OUT_OF_TEXT,
            )
        if k and ordered[k - 1].end > span.start:
            prev = ordered[k - 1]
            raise InputFormatError(
                f"spans {prev.label} [{prev.start}, {prev.end}) and {span.label} "
                f"[{span.start}, {span.end}) overlap; tags can encode flat spans only.",
                fix="resolve overlapping spans before writing tags.",
                code=E_SPAN_OUT_OF_TEXT,
            )
        adjacent_same = (
            k > 0 and ordered[k - 1].end == span.start and ordered[k - 1].label == span.label
        )
        for i in range(span.start, span.end):
            tags[i] = f"I-{span.label}"
        if scheme == "iob2" or (scheme == "iob1" and adjacent_same):
            tags[span.start] = f"B-{span.label}"
        elif scheme == "bioes":
            if len(span) == 1:
                tags[span.start] = f"S-{span.label}"
            else:
                tags[span.start] = f"B-{span.label}"
                tags[span.end - 1] = f"E-{span.label}"
    return tags
