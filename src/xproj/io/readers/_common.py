"""Line access, option checks, sentence ids, errors and their placement shared by the readers."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from xproj.schemas.errors import (
    E_EMPTY_SENTENCE,
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_TOKEN_TAG_MISMATCH,
    E_UNKNOWN_FORMAT,
    InputFormatError,
    Reject,
    XprojError,
    check_option,
    check_same_length,
)
from xproj.schemas.records import AnnotatedSentence
from xproj.schemas.tags import SCHEMES, TagSequenceError, spans_from_tags

OnError = Literal["raise", "reject"]


def file_not_found(path: str | os.PathLike[str]) -> InputFormatError:
    """The XP110 error of a missing input file."""
    return InputFormatError(
        "file not found.",
        fix="check the path (relative paths are resolved from the working directory).",
        file=str(path),
        code=E_FILE_NOT_FOUND,
    )


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(1-based line number, line)`` of a UTF-8 text file, without the line terminator.

    ``\\r\\n`` and ``\\n`` endings are both accepted (some shared TSV files use CRLF) and a leading
    byte-order mark is dropped. A final line without a newline is still a line; the empty string
    after the last newline is not. Each line is decoded on its own, so a byte that is not UTF-8
    is reported (XP101) on the line that holds it; :func:`iter_checked_lines` goes on instead.
    """
    for number, line, error in iter_checked_lines(path):
        if error is not None:
            raise error
        yield number, line


def iter_checked_lines(
    path: str | os.PathLike[str],
) -> Iterator[tuple[int, str, InputFormatError | None]]:
    """:func:`iter_lines` for readers that reject a bad line and read on: ``(number, line,
    error)``, where a line that is not UTF-8 comes with its located XP101 error and its text with
    U+FFFD in place of the bad bytes (for the reject's raw text)."""
    p = Path(path)
    try:
        handle = p.open("rb")
    except FileNotFoundError:
        raise file_not_found(path) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            error = None
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                problem = f"the line is not valid UTF-8 (byte {err.start + 1}: {err.reason})."
                fix = "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)."
                error = InputFormatError(problem, fix=fix, code=E_MALFORMED_LINE)
                error = locate(error, file=str(path), line=number)
                line = raw.decode("utf-8", errors="replace")
            line = line[:-1] if line.endswith("\n") else line
            yield number, line[:-1] if line.endswith("\r") else line, error


def open_parquet(path: str | os.PathLike[str], fix: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile``; XP110 for a missing file, XP109 (with ``fix``) for a
    file that is not Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise file_not_found(path) from None
    except pa.ArrowInvalid as err:
        raise InputFormatError(
            f"not a Parquet file ({err}).", fix=fix, file=str(path), code=E_UNKNOWN_FORMAT
        ) from None


def count_lines(path: str | os.PathLike[str]) -> int:
    """Number of lines as :func:`iter_lines` would yield them, read in a streaming pass."""
    return sum(1 for _ in iter_lines(path))


def check_on_error(on_error: str) -> None:
    """Refuse anything but ``"raise"`` and ``"reject"``."""
    check_option(
        "on_error",
        on_error,
        ("raise", "reject"),
        fix='pass on_error="raise" (stop at the first bad record) or "reject" (yield a Reject).',
    )


def raise_or_reject(err: XprojError, on_error: str, raw: str) -> Reject:
    """``err`` raised (``on_error="raise"``), else its ``read``-stage ``Reject`` holding ``raw``."""
    if on_error == "raise":
        raise err from None
    return Reject.from_error("read", err, raw=raw)


def sentence_id(path: str | os.PathLike[str], number: int, id_prefix: str | None) -> str:
    """``<prefix or file stem>:<1-based sentence number>``."""
    prefix = id_prefix if id_prefix is not None else Path(path).stem
    return f"{prefix}:{number}"


def locate(
    err: XprojError, *, file: str | None = None, line: int | None = None, record: str | None = None
) -> XprojError:
    """The same error (class, code, message, fix) with a place attached."""
    if isinstance(err, TagSequenceError):
        return err.located(file=file, line=line, record=record)
    return type(err)(err.message, fix=err.fix, file=file, line=line, record=record, code=err.code)


def check_scheme(scheme: str) -> None:
    """Refuse an unknown tag scheme before any record is read."""
    check_option("scheme", scheme, SCHEMES, kind="tag scheme")


def json_line_error(err: json.JSONDecodeError) -> InputFormatError:
    """The XP101 error (without a place) of a JSON Lines line that is not JSON."""
    return InputFormatError(
        f"the line is not valid JSON ({err.msg} at column {err.colno}).",
        fix="write one JSON object per line (JSON Lines).",
        code=E_MALFORMED_LINE,
    )


def wrong_type(name: str, value: Any, expected: str, fix: str, where: str = "") -> InputFormatError:
    """The XP101 error (without a place) ``<where>'<name>' is <type>, not <expected>.``"""
    return InputFormatError(
        f"{where}'{name}' is {type(value).__name__}, not {expected}.",
        fix=fix,
        code=E_MALFORMED_LINE,
    )


def tagged_sentence(
    sid: str, lang: str, tokens: Sequence[str], tags: Sequence[str], scheme: str
) -> AnnotatedSentence:
    """Build a sentence from one tag per token.

    Raises (without a place; callers add it with :func:`locate`): XP102 no tokens, XP101 an empty
    token (``index`` set on the error), XP103 token/tag count mismatch, XP104
    (``TagSequenceError`` with ``index``) an invalid tag or sequence.
    """
    if not tokens:
        raise InputFormatError(
            "the sentence has no tokens.",
            fix="remove the empty record or fill in its tokens.",
            code=E_EMPTY_SENTENCE,
        )
    check_same_length(
        tokens,
        tags,
        "tokens",
        "tags",
        fix="give every token exactly one tag.",
        code=E_TOKEN_TAG_MISMATCH,
    )
    for index, token in enumerate(tokens):
        if not isinstance(token, str) or not token.strip():
            raise TagSequenceError(
                f"token {index} is {token!r}; tokens must be non-empty strings.",
                index=index,
                fix="remove empty tokens (and their tags) from the record.",
                code=E_MALFORMED_LINE,
            )
    spans = spans_from_tags(list(tags), scheme)  # type: ignore[arg-type]
    return AnnotatedSentence(sid, lang, tuple(tokens), tuple(spans))
