"""Coded errors with actionable messages.

Every error a user can cause carries a stable code (``XP1xx`` input formats, ``XP2xx`` language
codes, ``XP3xx`` configuration, ``XP4xx`` catalog/storage, ``XP5xx`` models and backends,
``XP6xx`` the Hugging Face Hub), the
place it happened (file and line, or record id) and what to do about it::

    [XP103] data/en.conll:17: 3 tokens but 2 tags. Fix: give every token exactly one tag.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sized
from dataclasses import dataclass
from typing import Any


class XprojError(Exception):
    """Base class of all errors xproj raises for bad input, configuration or state."""

    code: str = "XP000"

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        file: str | None = None,
        line: int | None = None,
        record: str | None = None,
        code: str | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.fix = fix
        self.file = file
        self.line = line
        self.record = record
        super().__init__(str(self))

    @property
    def location(self) -> str:
        """``file:line``, ``file (record r)``, ``record r`` or an empty string."""
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line is not None else str(self.file))
        if self.record is not None:
            parts.append(f"record {self.record}")
        return " ".join(parts)

    def __str__(self) -> str:
        loc = self.location
        text = f"[{self.code}] {loc + ': ' if loc else ''}{self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def __reduce__(self):  # keep keyword arguments through pickling (Prefect, multiprocessing)
        return (
            _rebuild,
            (type(self), self.message, self.fix, self.file, self.line, self.record, self.code),
        )


def _rebuild(cls, message, fix, file, line, record, code):
    return cls(message, fix=fix, file=file, line=line, record=record, code=code)


class InputFormatError(XprojError):
    """A data file or record does not follow its format (XP1xx)."""

    code = "XP100"


class LanguageCodeError(XprojError):
    """A language code that cannot be mapped (XP2xx)."""

    code = "XP200"


class ConfigError(XprojError):
    """An invalid flow, strategy or policy configuration (XP3xx)."""

    code = "XP300"


class CatalogError(XprojError):
    """Lake, table, version or query problems (XP4xx)."""

    code = "XP400"


class BackendError(XprojError):
    """A model or aligner backend is missing or failed (XP5xx)."""

    code = "XP500"


class HubError(XprojError):
    """Publishing to the Hugging Face Hub cannot start or failed (XP6xx)."""

    code = "XP600"


# Stable codes. Keep numbers; add new ones at the end of each block.
E_MALFORMED_LINE = "XP101"
E_EMPTY_SENTENCE = "XP102"
E_TOKEN_TAG_MISMATCH = "XP103"
E_INVALID_TAG_SEQUENCE = "XP104"
E_SPAN_OUT_OF_TEXT = "XP105"
E_BITEXT_LINE_COUNT = "XP106"
E_LINK_OUT_OF_RANGE = "XP107"
E_MISSING_FIELD = "XP108"
E_UNKNOWN_FORMAT = "XP109"
E_FILE_NOT_FOUND = "XP110"
E_GOLD_COUNT = "XP111"
E_COUNTERPART_REJECTED = "XP112"
E_EMPTY_TRANSLATION = "XP114"
E_SOURCE_HAS_MARKER = "XP115"
E_NO_PREDICTION = "XP116"
E_BAD_PREDICTION = "XP117"
E_ANSWER_OUT_OF_CONTEXT = "XP118"
E_EMPTY_QUESTION = "XP119"
E_NOTHING_USED = "XP120"
E_UNKNOWN_LABEL = "XP121"
E_UNKNOWN_LANGUAGE = "XP201"
E_UNSUPPORTED_LANGUAGE = "XP202"
E_BAD_CONFIG = "XP301"
E_UNKNOWN_STRATEGY = "XP302"
E_DUPLICATE_STRATEGY = "XP303"
E_UNKNOWN_TABLE = "XP401"
E_UNKNOWN_VERSION = "XP402"
E_READ_ONLY_QUERY = "XP403"
E_QUERY_FAILED = "XP404"
E_SCHEMA_MISMATCH = "XP405"
E_NOTHING_TO_EXPORT = "XP406"
E_BACKEND_MISSING = "XP501"
E_BACKEND_FAILED = "XP502"
E_MODEL_NOT_FOUND = "XP503"
E_MODEL_CORRUPT = "XP504"
E_CONVERSION_FAILED = "XP505"
E_INPUT_TOO_LONG = "XP506"
E_UNKNOWN_FAMILY = "XP507"
E_RAY_RESOURCES = "XP508"
E_HUB_OFFLINE = "XP601"
E_HUB_NO_TOKEN = "XP602"
E_HUB_TOKEN_REFUSED = "XP603"
E_HUB_UNREACHABLE = "XP604"
E_HUB_FAILED = "XP605"


def check_settings(what: str, checks: list[tuple[bool, str]], fix: str) -> None:
    """Raise XP301 for the first failed ``(ok, problem)`` check of a settings object.

    Settings dataclasses call this in ``__post_init__``, so a bad value fails where the settings
    are made: in code, or when a config file is read (flow configs embed them).

    Example:
        >>> check_settings("policy", [(1 >= 0, "gap_fill must be >= 0")], fix="…")
    """
    for ok, problem in checks:
        if not ok:
            raise ConfigError(f"invalid {what} setting: {problem}.", fix=fix, code=E_BAD_CONFIG)


def check_option(
    name: str, value: Any, choices: Collection[Any], *, fix: str | None = None, kind: str = "choice"
) -> None:
    """Raise XP301 ``<name>=<value> is not a <kind>.`` unless ``value`` is one of ``choices``.

    For a keyword argument with a fixed set of values (``on_error``, ``fmt`` …); ``fix`` defaults
    to ``pass one of <choices>.``.

    Example:
        >>> check_option("fmt", "csv", ("auto", "jsonl"), fix="…")
        Traceback (most recent call last):
        ...
        xproj.schemas.errors.ConfigError: [XP301] fmt='csv' is not a choice. Fix: …
    """
    if value not in choices:
        raise ConfigError(
            f"{name}={value!r} is not a {kind}.",
            fix=fix if fix is not None else f"pass one of {', '.join(choices)}.",
            code=E_BAD_CONFIG,
        )


def check_choice(
    what: str, value: Any, choices: Collection[str], *, code: str = E_BAD_CONFIG
) -> None:
    """Raise ``unknown <what> <value>.`` (fix: ``use one of: <choices>.``) unless ``value`` is one
    of ``choices``; the ``ConfigError`` carries ``code`` (XP301 unless told).

    Example:
        >>> check_choice("format", "xml", ("json", "csv"))
        Traceback (most recent call last):
        ...
        xproj.schemas.errors.ConfigError: [XP301] unknown format 'xml'. Fix: use one of: json, csv.
    """
    if value not in choices:
        raise ConfigError(
            f"unknown {what} {value!r}.", fix=f"use one of: {', '.join(choices)}.", code=code
        )


def check_same_length(
    first: Sized, second: Sized, first_what: str, second_what: str, *, fix: str, code: str
) -> None:
    """Raise ``<n> <first_what> but <m> <second_what>.`` (an ``InputFormatError`` with ``code``,
    without a place) unless ``first`` and ``second`` have the same length.

    Example:
        >>> check_same_length(["Anna", "sings"], ["PER"], "tokens", "tags", fix="…", code="XP103")
        Traceback (most recent call last):
        ...
        xproj.schemas.errors.InputFormatError: [XP103] 2 tokens but 1 tags. Fix: …
    """
    if len(first) != len(second):
        raise InputFormatError(
            f"{len(first)} {first_what} but {len(second)} {second_what}.", fix=fix, code=code
        )


def checked_strings(
    texts: Iterable[Any], what: str, *, fix: str, code: str, first: int = 0
) -> Iterator[str]:
    """Yield ``texts`` lazily, raising ``<what> <i> is a <type>, not a string.`` (an
    ``InputFormatError`` with ``code``, ``record`` set to the index counted from ``first``) at
    the first one that is not a ``str``.

    Example:
        >>> list(checked_strings(["a", 3], "text", fix="…", code="XP108"))
        Traceback (most recent call last):
        ...
        xproj.schemas.errors.InputFormatError: [XP108] record 1: text 1 is a int, not a string. Fix: …
    """
    for index, text in enumerate(texts, start=first):
        if not isinstance(text, str):
            raise InputFormatError(
                f"{what} {index} is a {type(text).__name__}, not a string.",
                fix=fix,
                record=str(index),
                code=code,
            )
        yield text


#: Makes pydantic refuse unknown keys when a flow config embeds a settings dataclass.
FORBID_EXTRA = {"extra": "forbid"}


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that was not used, and why: written to the ``rejected`` table, never dropped.

    Attributes:
        stage: pipeline stage that rejected it (``read``, ``align``, ``project`` …).
        source: file path or dataset id the record came from.
        locator: ``line 17`` or a record id, enough to find the record again.
        code: the error code (``XP103`` …).
        reason: human-readable reason.
        raw: the offending text, truncated to a few hundred characters.
    """

    stage: str
    source: str
    locator: str
    code: str
    reason: str
    raw: str = ""

    @classmethod
    def from_error(cls, stage: str, err: XprojError, raw: str = "") -> Reject:
        locator = f"line {err.line}" if err.line is not None else (err.record or "")
        reason = err.message + (f" Fix: {err.fix}" if err.fix else "")
        return cls(stage, str(err.file or ""), locator, err.code, reason, raw[:500])
