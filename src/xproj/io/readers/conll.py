"""CoNLL-style token-per-line files: ``token<TAB>tag`` or ``token tag``, blank line between sentences.

Columns: a line with a tab is split on tabs, any other line on runs of whitespace. The token is
the first column and the tag the second (``tag_column``, default 1); further columns (polarity,
POS, chunk) are ignored. ``-DOCSTART-`` lines are document markers, not records, and end the
current sentence. Blank lines separate sentences; several in a row are one separator. CRLF
endings and a missing final blank line are fine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from xproj.io.readers._common import (
    OnError,
    check_on_error,
    check_scheme,
    iter_lines,
    locate,
    sentence_id,
    tagged_sentence,
)
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_MALFORMED_LINE,
    E_TOKEN_TAG_MISMATCH,
    E_UNKNOWN_FORMAT,
    ConfigError,
    InputFormatError,
    Reject,
    XprojError,
)
from xproj.schemas.languages import normalize_lang
from xproj.schemas.records import AnnotatedSentence
from xproj.schemas.tags import (
    OutputScheme,
    TagScheme,
    TagSequenceError,
    detect_file_scheme,
    tags_from_spans,
)

DOCSTART = "-DOCSTART-"


def _split_line(line: str) -> list[str]:
    return [f.strip() for f in line.split("\t")] if "\t" in line else line.split()


def _line_error(fields: list[str], line: str, tag_column: int) -> InputFormatError | None:
    if len(fields) < 2:
        return InputFormatError(
            f"line {line!r} has one column; expected a token and a tag.",
            fix="write 'token<TAB>tag' (or 'token tag'); separate sentences with a blank line.",
            code=E_MALFORMED_LINE,
        )
    if not fields[0]:
        return InputFormatError(
            f"line {line!r} has an empty token.",
            fix="put the token in the first column.",
            code=E_MALFORMED_LINE,
        )
    if not -len(fields) <= tag_column < len(fields) or not fields[tag_column]:
        return InputFormatError(
            f"token {fields[0]!r} has no tag in column {tag_column} (line {line!r}).",
            fix="give every token a tag in the tag column, or pass the right tag_column.",
            code=E_TOKEN_TAG_MISMATCH,
        )
    return None


def iter_conll(
    path: str | os.PathLike[str],
    lang: str,
    *,
    scheme: TagScheme = "auto",
    on_error: OnError = "raise",
    id_prefix: str | None = None,
    tag_column: int = 1,
) -> Iterator[AnnotatedSentence | Reject]:
    """Yield one ``AnnotatedSentence`` (or ``Reject``) per sentence of a CoNLL file, in order.

    Args:
        path: UTF-8 file, one ``token<TAB>tag`` or ``token tag`` line per token.
        lang: language of the text, any code :func:`~xproj.schemas.languages.normalize_lang` accepts.
        scheme: tag scheme (``iob1``, ``iob2``, ``bioes``, see :mod:`xproj.schemas.tags`), or ``auto``:
            detected once for the whole file (:func:`~xproj.schemas.tags.detect_file_scheme`).
        on_error: ``raise`` stops at the first bad line; ``reject`` yields one ``Reject`` for a
            bad sentence (its first problem) and goes on, keeping one item per sentence.
        id_prefix: sentence ids are ``<id_prefix>:<n>``; default the file stem.
        tag_column: index of the tag column (Python indexing, so ``-1`` is the last column).

    Raises:
        InputFormatError: with file and line: XP101 a line with one column or no token, XP103 a
            token without a tag, XP104 an invalid tag or tag sequence (with ``on_error="raise"``);
            XP110 a missing file.
        LanguageCodeError: XP201 for an unknown ``lang``.

    Example:
        >>> # "en.conll" holds "Anna<TAB>B-PER", "lives<TAB>O", "", "Rome<TAB>B-LOC"
        >>> [s.spans for s in iter_conll("en.conll", "en")]  # doctest: +SKIP
        [(TokenSpan(start=0, end=1, label='PER'),), (TokenSpan(start=0, end=1, label='LOC'),)]
    """
    lang = normalize_lang(lang)
    check_on_error(on_error)
    check_scheme(scheme)
    if tag_column == 0:
        raise ConfigError(
            "tag_column=0 is the token column.",
            fix="pass the index of the tag column (1 for 'token<TAB>tag').",
            code=E_BAD_CONFIG,
        )
    file = str(path)
    _check_fits(path, tag_column)
    if scheme == "auto":
        scheme = detect_file_scheme(_tag_sequences(path, tag_column))  # type: ignore[assignment]
    count = 0
    rows: list[tuple[int, str, str]] = []  # (line number, token, tag)
    raw: list[str] = []
    error: XprojError | None = None

    def finish() -> AnnotatedSentence | Reject | None:
        nonlocal count, error
        if not rows and error is None:
            return None
        count += 1
        sid = sentence_id(path, count, id_prefix)
        placed, error = error, None
        if placed is None:
            try:
                sentence = tagged_sentence(
                    sid, lang, [t for _, t, _ in rows], [g for _, _, g in rows], scheme
                )
            except InputFormatError as err:
                index = err.index if isinstance(err, TagSequenceError) else None
                line = rows[index][0] if index is not None else rows[0][0]
                placed = locate(err, file=file, line=line, record=sid)
                if on_error == "raise":
                    raise placed from None
            else:
                rows.clear()
                raw.clear()
                return sentence
        reject = Reject.from_error("read", placed, raw="\n".join(raw))
        rows.clear()
        raw.clear()
        return reject

    for number, line in iter_lines(path):
        fields = _split_line(line)
        if not line.strip() or fields[0] == DOCSTART:
            done = finish()
            if done is not None:
                yield done
            continue
        raw.append(line)
        if error is not None:
            continue  # the sentence is already rejected; read on to its end
        problem = _line_error(fields, line, tag_column)
        if problem is not None:
            sid = sentence_id(path, count + 1, id_prefix)
            placed = locate(problem, file=file, line=number, record=sid)
            if on_error == "raise":
                raise placed
            error = placed
            continue
        rows.append((number, fields[0], fields[tag_column]))
    done = finish()
    if done is not None:
        yield done


_SNIFF_LINES = 200


def _check_fits(path: str | os.PathLike[str], tag_column: int) -> None:
    """One clear error when the file's first lines are not CoNLL at all (JSON, plain text).

    Raises:
        InputFormatError: XP109 naming the file, what it looks like and the format to use.
    """
    seen = 0
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        fields = _split_line(line)
        if seen == 0 and line.lstrip().startswith(("{", "[")):
            raise InputFormatError(
                "the file looks like JSON, not CoNLL (token<TAB>tag lines).",
                fix="read it as JSON Lines: --source-format jsonl (format: jsonl), with text "
                "and character spans per line.",
                file=str(path),
                line=number,
                code=E_UNKNOWN_FORMAT,
            )
        if fields[0] == DOCSTART or _line_error(fields, line, tag_column) is None:
            return
        seen += 1
        if seen >= _SNIFF_LINES:
            break
    if seen:
        raise InputFormatError(
            f"none of the first {seen} non-empty lines is a 'token<TAB>tag' line: the file is "
            "not CoNLL.",
            fix="give a CoNLL file, or name its format (--source-format / format: jsonl, "
            "parquet, hf, or text for a plain-text target side).",
            file=str(path),
            code=E_UNKNOWN_FORMAT,
        )


def _tag_sequences(path: str | os.PathLike[str], tag_column: int) -> Iterator[list[str]]:
    """The tag sequence of every sentence, for :func:`~xproj.schemas.tags.detect_file_scheme` (a
    quick first pass; lines that are not ``token tag`` are skipped, the real pass reports them).
    """
    tags: list[str] = []
    for _, line in iter_lines(path):
        fields = _split_line(line)
        if not line.strip() or fields[0] == DOCSTART:
            if tags:
                yield tags
                tags = []
            continue
        if _line_error(fields, line, tag_column) is None:
            tags.append(fields[tag_column])
    if tags:
        yield tags


def read_conll(
    path: str | os.PathLike[str], lang: str, *, scheme: TagScheme = "auto", tag_column: int = 1
) -> list[AnnotatedSentence]:
    """All sentences of a CoNLL file; raises at the first bad line (see :func:`iter_conll`)."""
    return [
        s
        for s in iter_conll(path, lang, scheme=scheme, tag_column=tag_column)
        if isinstance(s, AnnotatedSentence)
    ]


def write_conll(
    path: str | os.PathLike[str],
    sentences: Iterable[AnnotatedSentence],
    *,
    scheme: OutputScheme = "iob2",
) -> None:
    """Write ``token<TAB>tag`` lines with a blank line after each sentence.

    Raises:
        InputFormatError: XP101 for a token containing a tab or newline, XP105 for overlapping
            spans (tags encode flat spans only).

    Example:
        >>> from xproj.schemas.records import TokenSpan
        >>> s = AnnotatedSentence("s1", "en", ("Anna", "lives"), (TokenSpan(0, 1, "PER"),))
        >>> write_conll("out.conll", [s])  # doctest: +SKIP
    """
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for sentence in sentences:
            try:
                tags = tags_from_spans(len(sentence.tokens), sentence.spans, scheme)
            except InputFormatError as err:
                raise locate(err, file=str(path), record=sentence.id) from None
            for token, tag in zip(sentence.tokens, tags, strict=True):
                if any(c in token for c in "\t\n\r"):
                    raise InputFormatError(
                        f"token {token!r} contains a tab or line break.",
                        fix="tokens written to CoNLL files must not contain tabs or newlines.",
                        file=str(path),
                        record=sentence.id,
                        code=E_MALFORMED_LINE,
                    )
                out.write(f"{token}\t{tag}\n")
            out.write("\n")
