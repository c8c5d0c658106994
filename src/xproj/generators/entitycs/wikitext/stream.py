"""Files and folders of articles (plain, ``.gz``, ``.bz2``), streamed one article at a time."""

from __future__ import annotations

import bz2
import gzip
import html
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from xproj.generators.entitycs.records import LinkedText
from xproj.generators.entitycs.wikitext.markup import _ATTR, _DOC_START, STAGE, WikitextFormat
from xproj.generators.entitycs.wikitext.parser import article_paragraphs
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_UNKNOWN_FORMAT,
    ConfigError,
    InputFormatError,
    Reject,
)

# --------------------------------------------------------------------------------------------
# Files


def _open_binary(path: Path):
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _article_name(path: Path, root: Path | None) -> str:
    name = path.name
    for suffix in (".bz2", ".gz"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    stem = Path(name).stem
    if root is None:
        return stem
    rel = path.parent.relative_to(root)
    return stem if str(rel) == "." else f"{rel.as_posix()}/{stem}"


def _files(root: Path, pattern: str) -> list[Path]:
    """The folder's files, listed once (names only) so a file gone later is a Reject."""
    return [
        p
        for p in sorted(root.rglob(pattern))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]


def iter_wikitext(
    path: str | os.PathLike[str],
    *,
    fmt: WikitextFormat = "auto",
    pattern: str = "*",
) -> Iterator[LinkedText | Reject]:
    """Stream :class:`LinkedText` paragraphs (and :class:`Reject` s) from wikitext files.

    Args:
        path: one file or a folder, read recursively in sorted order (files matching
            ``pattern``; hidden files and folders skipped). ``.bz2``/``.gz`` files are
            decompressed on the fly.
        fmt: ``"mediawiki"`` (one article of raw markup per file, article name = file name
            without extension, with its sub-folder when ``path`` is a folder), ``"extracted"``
            (WikiExtractor output: ``<doc … title="…">`` blocks, article name = the title, or one
            article per file without them; links ``[[t|l]]`` or ``<a href="t">l</a>``), or
            ``"auto"``: extracted when the file's first non-blank line opens a ``<doc>``,
            otherwise MediaWiki.
        pattern: glob for the files of a folder.

    Returns:
        An iterator over paragraphs in file and article order; a file that cannot be read, is not
        UTF-8 or is an XML dump, and an article without text, come as ``Reject(stage="read")``
        items in their place.

    Raises:
        InputFormatError: XP110 when ``path`` does not exist.
        ConfigError: XP301 for an unknown ``fmt``.
    """
    if fmt not in ("auto", "mediawiki", "extracted"):
        raise ConfigError(
            f"fmt={fmt!r} is not a wikitext format.",
            fix='pass fmt="auto", "mediawiki" or "extracted".',
            code=E_BAD_CONFIG,
        )
    root = Path(path)
    if root.is_dir():
        files: Iterable[Path] = _files(root, pattern)
        base: Path | None = root
    elif root.is_file():
        files = [root]
        base = None
    else:
        raise InputFormatError(
            "file or folder not found.",
            fix="give a MediaWiki article file, a WikiExtractor output file, or a folder of them.",
            file=str(path),
            code=E_FILE_NOT_FOUND,
        )
    for file in files:
        yield from _iter_file(file, _article_name(file, base), fmt)


def _read_error(file: str, err: OSError) -> Reject:
    return Reject(
        STAGE,
        file,
        "",
        E_FILE_NOT_FOUND,
        f"cannot read the file ({err.strerror or err}). Fix: check that it exists and is readable.",
    )


def _iter_file(path: Path, article: str, fmt: str) -> Iterator[LinkedText | Reject]:
    file = str(path)
    try:
        handle = _open_binary(path)
    except OSError as err:
        yield _read_error(file, err)
        return
    with handle:
        try:
            head = handle.peek(4096)[:4096] if hasattr(handle, "peek") else b""
        except OSError as err:
            yield _read_error(file, err)
            return
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
        if fmt == "auto":
            fmt = "extracted" if first.startswith(b"<doc") else "mediawiki"
        if first.startswith(b"<mediawiki") or first.startswith(b"<?xml"):
            yield Reject(
                STAGE,
                file,
                "line 1",
                E_UNKNOWN_FORMAT,
                "this is a MediaWiki XML dump, not an article. Fix: extract it first "
                "(e.g. wikiextractor --links) and read the output with fmt='extracted'.",
                first.decode("utf-8", "replace"),
            )
            return
        if fmt == "mediawiki":
            yield from _iter_mediawiki_file(handle, file, article)
        else:
            yield from _iter_extracted_file(handle, file, article)


def _iter_mediawiki_file(handle, file: str, article: str) -> Iterator[LinkedText | Reject]:
    try:
        data = handle.read()
    except (OSError, EOFError) as err:
        yield _read_error(file, err if isinstance(err, OSError) else OSError(str(err)))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        yield Reject(
            STAGE,
            file,
            f"line {line}",
            E_MALFORMED_LINE,
            f"the file is not valid UTF-8 ({err.reason}). Fix: convert it to UTF-8.",
            data[max(0, err.start - 100) : err.start + 100].decode("utf-8", "replace"),
        )
        return
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    yield from article_paragraphs(text, article, file=file, line=1)


#: lines read at a time from a WikiExtractor-style file without ``<doc>`` blocks
_BARE_CHUNK = 1000


def _iter_extracted_file(handle, file: str, default: str) -> Iterator[LinkedText | Reject]:
    """WikiExtractor files, streamed line by line: one ``<doc>`` (or 1,000 bare lines) at a time.

    Lines outside ``<doc>`` blocks belong to one article named after the file, numbered on
    across chunks.
    """
    doc: str | None = None  # title of the open <doc>
    doc_line = 0  # file line of the doc's first content line
    lines: list[str] = []
    bare_line = 1  # file line of lines[0] outside a doc
    bare_done = 0  # paragraphs of the bare article yielded so far
    number = 0

    def bare() -> list[LinkedText | Reject]:
        nonlocal bare_done
        if not any(x.strip() for x in lines):
            return []
        items = list(
            article_paragraphs(
                "\n".join(lines),
                default,
                file=file,
                line=bare_line,
                fmt="extracted",
                first_number=bare_done + 1,
            )
        )
        bare_done += sum(isinstance(x, LinkedText) for x in items)
        return items

    try:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                yield Reject(
                    STAGE,
                    file,
                    f"line {number}",
                    E_MALFORMED_LINE,
                    f"the line is not valid UTF-8 ({err.reason}). Fix: convert the file to UTF-8.",
                    raw[:500].decode("utf-8", "replace"),
                )
                line = ""
            start = _DOC_START.match(line.strip()) if line.lstrip().startswith("<doc") else None
            if start is not None:
                if doc is None:
                    yield from bare()
                else:
                    yield from _extracted_doc(lines, doc, file, doc_line)
                    yield _unclosed_doc(file, doc_line, doc)
                attrs = {a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or ""
                         for a in _ATTR.finditer(start.group(1))}  # fmt: skip
                doc = html.unescape(attrs.get("title", "")).strip() or (
                    f"{default}#{attrs['id']}" if attrs.get("id") else f"{default}@{number}"
                )
                doc_line = number + 1
                lines = []
                continue
            if doc is not None and line.strip() == "</doc>":
                yield from _extracted_doc(lines, doc, file, doc_line)
                doc = None
                lines = []
                bare_line = number + 1
                continue
            if doc is None and not lines:
                bare_line = number
            lines.append(line)
            if doc is None and len(lines) >= _BARE_CHUNK:
                yield from bare()
                lines = []
    except (OSError, EOFError) as err:
        yield Reject(
            STAGE,
            file,
            f"line {number + 1}",
            E_FILE_NOT_FOUND,
            f"reading stopped: {err}. Fix: check the file (a truncated .bz2/.gz?).",
        )
        return
    if doc is not None:
        yield from _extracted_doc(lines, doc, file, doc_line)
        yield _unclosed_doc(file, doc_line, doc)
    else:
        yield from bare()


def _unclosed_doc(file: str, line: int, title: str) -> Reject:
    return Reject(
        STAGE,
        file,
        f"line {line - 1}",
        E_MALFORMED_LINE,
        f"<doc> {title!r} is not closed by </doc>; its paragraphs were read up to the next "
        "<doc> or the end of the file. Fix: check that the file is complete.",
    )


def _extracted_doc(
    lines: list[str], title: str, file: str, first_line: int
) -> Iterator[LinkedText | Reject]:
    # WikiExtractor repeats the title on the doc's first line: not a paragraph
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip < len(lines) and lines[skip].strip() == title:
        lines = [""] * (skip + 1) + lines[skip + 1 :]
    text = "\n".join(lines)
    yield from article_paragraphs(text, title, file=file, line=first_line, fmt="extracted")
