"""The MediaWiki parser: articles and WikiExtractor documents into linked paragraphs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Literal
from urllib.parse import unquote

from xproj.generators.entitycs.records import Link, LinkedText
from xproj.generators.entitycs.wikitext.markup import (
    _ATTR,
    _BLANK_LINE,
    _BLOCK_TAGS,
    _COMMENT,
    _EXTLINK,
    _HEADING,
    _INTERWIKI,
    _KEEP_TAGS,
    _LIST_MARKERS,
    _MAX_DEPTH,
    _OTHER_NS,
    _REF_TAGS,
    _REMOVED_NS,
    _ROW_MARKER,
    _RULE,
    _SPECIAL,
    _SPECIAL_ROW,
    _TABLE_START,
    _TABLE_TOKEN,
    _TABLE_TOKEN_INLINE,
    _TAG,
    _TRAIL,
    _URL,
    _URL_TAIL,
    _XML_ESCAPED,
    STAGE,
    _brace_end,
    _decode,
    _is_lang_prefix,
    _link_end,
    _Out,
    _pipe_trick,
    _TooDeep,
    _top_split,
)
from xproj.generators.entitycs.wikitext.templates import _reduce_template
from xproj.generators.entitycs.wikitext.titles import redirect_target
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_EMPTY_SENTENCE,
    E_MALFORMED_LINE,
    ConfigError,
    Reject,
)


class _Parser:
    """Inline wikitext parser writing into a shared :class:`_Out`."""

    def __init__(
        self,
        src: str,
        out: _Out,
        *,
        extracted: bool = False,
        depth: int = 0,
        origin: int | None = None,
    ) -> None:
        self.src = src
        self.out = out
        self.extracted = extracted
        self.depth = depth
        self.origin = origin

    def _p(self, pos: int) -> int:
        return pos if self.origin is None else self.origin

    def _emit(self, s: str, pos: int) -> None:
        self.out.emit(s, self._p(pos))

    def _sub(self, text: str, pos: int, *, links: bool) -> None:
        """Parse generated wikitext (a reduced template) as if it stood at ``pos``."""
        if self.depth >= _MAX_DEPTH:
            raise _TooDeep(self._p(pos))
        sub = _Parser(
            text, self.out, extracted=self.extracted, depth=self.depth + 1, origin=self._p(pos)
        )
        sub.inline(0, len(text), block=False, links=links)

    def _nested(self, start: int, end: int, *, links: bool) -> None:
        if self.depth >= _MAX_DEPTH:
            raise _TooDeep(self._p(start))
        self.depth += 1
        try:
            self.inline(start, end, block=False, links=links)
        finally:
            self.depth -= 1

    # ---- main loop --------------------------------------------------------------------------

    def inline(
        self, pos: int, end: int, *, block: bool, links: bool = True, row: bool = False
    ) -> int:
        """Parse ``src[pos:end]``; in block mode stop at a top-level newline (its index)."""
        src = self.src
        special = _SPECIAL_ROW if row else _SPECIAL
        out = self.out
        while pos < end:
            m = special.search(src, pos, end)
            if m is None:
                self._emit(_decode(src[pos:end], out), pos)
                return end
            at = m.start()
            if at > pos:
                self._emit(_decode(src[pos:at], out), pos)
            tok = m.group()
            c = tok[0]
            if c == "\n":
                if block:
                    return at
                self._emit(" ", at)
                pos = at + 1
            elif c == "<":
                pos = self._tag(at, end, block=block, links=links)
            elif c == "[":
                if src.startswith("[[", at):
                    pos = self._link(at, end, links=links)
                else:
                    pos = self._ext_link(at, end)
            elif tok == "{{":
                pos = self._template(at, end, links=links)
            elif tok == "{|":
                pos = self._inline_table(at, end)
            elif tok == "}}" or tok == "]]":
                out.count("unbalanced")
                pos = at + 2
            elif c == "'":
                pos = self._quotes(at, end)
            elif c == "_":
                out.count("magic_word")
                pos = m.end()
            elif c == "|" or tok == "!!":
                out.count("table_cell")
                self._emit(" ", at)
                pos = m.end()
            else:  # bare URL
                pos = self._url(at, end)
        return end

    # ---- constructs -------------------------------------------------------------------------

    def _quotes(self, at: int, end: int) -> int:
        src = self.src
        k = 2
        while at + k < end and src[at + k] == "'":
            k += 1
        if k == 4:
            self._emit("'", at)
        elif k > 5:
            self._emit("'" * (k - 5), at)
        self.out.count("bold_italic")
        return at + k

    def _url(self, at: int, end: int) -> int:
        m = _URL.match(self.src, at, end)
        if m is None:  # "http://" followed by nothing usable
            self._emit(self.src[at : at + 4], at)
            return at + 4
        url_end = m.end()
        url = m.group()
        while url and url[-1] in _URL_TAIL:
            url = url[:-1]
        if url.endswith(")") and "(" not in url:
            url = url[:-1]
        self.out.count("url")
        return at + len(url) if url else url_end

    def _ext_link(self, at: int, end: int) -> int:
        m = _EXTLINK.match(self.src, at, end)
        if m is None:
            self._emit("[", at)
            return at + 1
        label_start = m.start(2) if m.group(2) is not None else -1
        if label_start >= 0 and m.group(2).strip():
            self.out.count("external_link")
            self._nested(label_start, m.end(2), links=False)
        else:
            self.out.count("external_link_bare")
        return m.end()

    def _inline_table(self, at: int, end: int) -> int:
        """A table that does not start a line (after a template, or in a flattened page)."""
        stop = _table_close(self.src, at, end, _TABLE_TOKEN_INLINE)
        if stop is None:
            self.out.count("unbalanced")
        else:
            self.out.count("table")
        return at + 2 if stop is None else stop

    def _template(self, at: int, end: int, *, links: bool) -> int:
        src = self.src
        close = _brace_end(src, at, end)
        if close is None:
            self.out.count("unbalanced")
            return at + 2
        if src.startswith("{{{", at) and src.startswith("}}}", close - 3):
            self.out.count("template")
            return close
        text = _reduce_template(src, at + 2, close - 2)
        if text is None:
            self.out.count("template")
        else:
            self.out.count("template_text", removal=False)
            if text:
                self._sub(text, at, links=links)
        return close

    def _tag(self, at: int, end: int, *, block: bool, links: bool) -> int:
        src = self.src
        out = self.out
        if src.startswith("<!--", at):
            close = src.find("-->", at + 4, end)
            out.count("comment")
            if close < 0:
                out.count("unbalanced")
                return end
            return close + 3
        m = _TAG.match(src, at, end)
        if m is None:
            self._emit("<", at)
            return at + 1
        closing, name, selfclose = m.group(1), m.group(2).lower(), m.group(4)
        known = name in _BLOCK_TAGS or name in _REF_TAGS or name in _KEEP_TAGS
        if not known:
            self._emit("<", at)
            return at + 1
        if closing:
            out.count("html_tag")
            return m.end()
        if name in _REF_TAGS or name in _BLOCK_TAGS or name == "nowiki":
            kind = "ref" if name in _REF_TAGS else ("nowiki" if name == "nowiki" else "html_block")
            out.count(kind, removal=kind != "nowiki")
            if selfclose:
                return m.end()
            close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(src, m.end(), end)
            if close is None:
                out.count("unbalanced")
                if kind == "nowiki":
                    return m.end()
                eol = src.find("\n", m.end(), end)
                return end if eol < 0 else eol
            if kind == "nowiki":
                self._emit(_decode(src[m.end() : close.start()], out), m.end())
            return close.end()
        if name == "a" and self.extracted:
            return self._anchor(m, end, links=links)
        out.count("html_tag")
        if name == "br":
            self._emit(" ", at)
        return m.end()

    def _anchor(self, m: re.Match[str], end: int, *, links: bool) -> int:
        """WikiExtractor's ``<a href="Title%20quoted">label</a>``."""
        src = self.src
        close = re.compile(r"</a\s*>", re.IGNORECASE).search(src, m.end(), end)
        if close is None:
            self.out.count("unbalanced")
            return m.end()
        href = ""
        for a in _ATTR.finditer(m.group(3)):
            if a.group(1).lower() == "href":
                href = next(g for g in a.groups()[1:] if g is not None)
        target = unquote(html.unescape(href)).strip()
        if target.startswith("wiki/"):
            target = target[5:]
        if re.match(r"(?i)(?:https?:)?//", target):
            self.out.count("external_link")
            self._nested(m.end(), close.start(), links=False)
            return close.end()
        return self._emit_link(target, m.end(), close.start(), None, close.end(), links)

    def _link(self, at: int, end: int, *, links: bool) -> int:
        src = self.src
        out = self.out
        close = _link_end(src, at, end)
        if close is None:
            out.count("unbalanced")
            return at + 2
        inner_s, after = at + 2, close + 2
        parts = _top_split(src, inner_s, close)
        raw_target = src[parts[0][0] : parts[0][1]]
        if "<!--" in raw_target:
            raw_target = _COMMENT.sub("", raw_target)
        target = raw_target.strip()
        colon = target.startswith(":")
        title = target[1:].strip() if colon else target
        prefix, sep, _ = title.partition(":")
        ns = prefix.strip().lower().replace("_", " ") if sep else ""
        if sep and not colon:
            if ns in _REMOVED_NS:
                out.count(_REMOVED_NS[ns])
                return after
            if prefix not in _INTERWIKI and _is_lang_prefix(prefix.strip()):
                out.count("interlanguage")
                return after
        if len(parts) > 1:
            label = (parts[1][0], close)
            if len(parts) > 2:
                out.count("link_extra_pipe", removal=False)
                label = (parts[-1][0], close)
            if not src[label[0] : label[1]].strip():
                label = None
        else:
            label = None
        if not title or any(ch in title for ch in "{}[]<>\n"):
            out.count("link_invalid")
            if label is not None:
                self._nested(label[0], label[1], links=False)
            else:
                self._nested(inner_s, close, links=False)
            return after
        return self._emit_link(title, None, None, label, after, links, piped=len(parts) > 1)

    def _emit_link(
        self,
        title: str,
        label_s: int | None,
        label_e: int | None,
        label: tuple[int, int] | None,
        after: int,
        links: bool,
        *,
        piped: bool = True,
    ) -> int:
        """Write a link's surface (label or title, plus its trail) and record the link."""
        out = self.out
        src = self.src
        page, _, _section = title.partition("#")
        page = page.strip()
        prefix, sep, _ = page.partition(":")
        ns = prefix.strip().lower().replace("_", " ") if sep else ""
        plain = None
        if not page:
            plain = "link_anchor"
        elif sep and ns in _INTERWIKI:
            plain = "interwiki"
        elif sep and (ns in _OTHER_NS or ns in _REMOVED_NS):
            plain = "namespace_link"
        elif sep and _is_lang_prefix(prefix.strip()):
            plain = "interwiki"
        elif not links:
            plain = "link_nested"
        start = out.low = out.n
        if label_s is not None:
            self._nested(label_s, label_e, links=False)
        elif label is not None:
            self._nested(label[0], label[1], links=False)
        elif piped:
            out.count("pipe_trick", removal=False)
            self._emit(_decode(_pipe_trick(title), out), after)
        else:
            self._emit(_decode(title, out), after)
        trail = _TRAIL.match(src, after)
        if trail:
            self._emit(trail.group(), after)
            after = trail.end()
        if plain is not None:
            out.count(plain, removal=False)
            return after
        start = min(start, out.low)  # a space before the label was taken back
        stop = out.n
        surface = out._tail(stop - start) if stop > start else ""
        start += len(surface) - len(surface.lstrip(" "))
        stop -= len(surface) - len(surface.rstrip(" "))
        if stop <= start:
            out.count("link_empty")
            return after
        out.links.append((start, stop, html.unescape(page) if "&" in page else page))
        return after


# --------------------------------------------------------------------------------------------
# Articles


def _line_of(starts: list[int], pos: int) -> int:
    import bisect

    return bisect.bisect_right(starts, pos)


def _table_close(src: str, pos: int, end: int, tokens: re.Pattern[str]) -> int | None:
    """Just past the ``|}`` closing the table whose ``{|`` is at or after ``pos``, else None.

    Templates and comments are skipped whole, so a ``|}`` inside them does not close the table.
    """
    depth = 1
    i = src.find("{|", pos, end) + 2
    while True:
        m = tokens.search(src, i, end)
        if m is None:
            return None
        tok = m.group()
        if tok == "{{":
            close = _brace_end(src, m.start(), end)
            i = close if close is not None else m.end()
            continue
        if tok == "<!--":
            close = src.find("-->", m.end(), end)
            i = end if close < 0 else close + 3
            continue
        if m.group(1) == "{|":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.end()
        i = m.end()


def _table_end(src: str, pos: int) -> tuple[int, bool]:
    """End of the table starting the line at ``pos`` (the newline after ``|}``), balanced?

    An unclosed table ends at the next blank line.
    """
    n = len(src)
    stop = _table_close(src, pos, n, _TABLE_TOKEN)
    if stop is not None:
        eol = src.find("\n", stop)
        return (n if eol < 0 else eol), True
    blank = _BLANK_LINE.search(src, pos)
    return (n if blank is None else blank.start()), False


def _parse_mediawiki(src: str, out: _Out) -> None:
    n = len(src)
    pos = 0
    parser = _Parser(src, out)
    while pos < n:
        eol = src.find("\n", pos)
        if eol < 0:
            eol = n
        line = src[pos:eol]
        if not line.strip():
            out.flush()
            pos = eol + 1
            continue
        if line[0] == "=" and len(line.strip()) > 2 and _HEADING.match(line.rstrip()):
            out.flush()
            out.count("heading")
            pos = eol + 1
            continue
        if _TABLE_START.match(line):
            out.flush()
            stop, balanced = _table_end(src, pos)
            out.count("table")
            if not balanced:
                out.count("unbalanced")
            pos = stop + 1
            continue
        start = pos
        rule = _RULE.match(line)
        if rule:
            out.flush()
            out.count("rule")
            start = pos + rule.end()
            if not src[start:eol].strip():
                pos = eol + 1
                continue
        first = line[0]
        if first in "*#:;":
            out.flush()
            start = pos + _LIST_MARKERS.match(line).end()
            stop = parser.inline(start, n, block=True)
            out.flush("list")
        elif first == "|" and line[1:2] in ("-", "}"):
            # a row separator or table end outside any table: nothing to read
            out.flush()
            out.count("table_markup")
            if line[1] == "}":
                out.count("unbalanced")
            pos = eol + 1
            continue
        elif first in "|!":
            out.flush()
            start = pos + _ROW_MARKER.match(line).end()
            stop = parser.inline(start, n, block=True, row=True)
            out.flush("table_row")
        else:
            if out.n:
                out.emit(" ", start)
            stop = parser.inline(start, n, block=True)
        pos = stop + 1
    out.flush()


_FLAT_HEADING = re.compile(r"(?<=\s)(={2,6})[^=\n]{1,200}?\1(?=\s|\Z)")
_FLAT_LIST = re.compile(r"\s+(?=[*#]+\s*[\[\w'{])")


def _unflatten(text: str) -> str:
    """Give back the line structure of a page whose line breaks were turned into spaces.

    Such a page is one line with headings inside it (``… since 1891. ==History== The …``);
    MediaWiki itself would render it as one paragraph. Headings get blank lines around them and
    list items (``*``/``#`` after a space) a line of their own, so they are dropped or flagged
    as in any page. Every paragraph of such a page is on line 1 of its file.
    """
    text = _FLAT_HEADING.sub(lambda m: "\n\n" + m.group() + "\n\n", text)
    return _FLAT_LIST.sub("\n", text)


def _finish(
    out: _Out,
    src: str,
    article: str,
    file: str,
    first_line: int,
    *,
    flat: bool = False,
    first_number: int = 1,
) -> Iterator[LinkedText | Reject]:
    paras = out.paras
    leftover = out.counts
    if not paras:
        removed = ", ".join(f"{k} {v}" for k, v in sorted(leftover.items()))
        yield Reject(
            STAGE,
            file,
            f"line {first_line}",
            E_EMPTY_SENTENCE,
            f"article {article!r} has no paragraph text after cleaning"
            + (f" (removed: {removed})" if removed else "")
            + ".",
            src[:500],
        )
        return
    if leftover:
        last = paras[-1].counts
        for k, v in leftover.items():
            last[k] = last.get(k, 0) + v
    starts = [0] if flat else [0] + [m.end() for m in re.finditer("\n", src)]
    for number, para in enumerate(paras, first_number):
        line = first_line - 1 + _line_of(starts, max(para.pos, 0))
        yield LinkedText(
            f"{article}:{number}",
            para.text,
            tuple(Link(s, e, t) for s, e, t in para.links),
            source=f"{file}:{line}",
            markup=para.counts,
        )


def article_paragraphs(
    text: str,
    article: str,
    *,
    file: str = "",
    line: int = 1,
    fmt: Literal["mediawiki", "extracted"] = "mediawiki",
    first_number: int = 1,
) -> Iterator[LinkedText | Reject]:
    """Paragraphs of one article given as a string.

    Args:
        text: the article's MediaWiki markup (or WikiExtractor text with ``fmt="extracted"``,
            where every non-blank line is one paragraph).
        article: the article name used in ids (``f"{article}:{n}"``, ``n`` from 1).
        file: the file named in ``source`` (``f"{file}:{line}"``) and in rejects.
        line: the file line that ``text`` starts on.
        fmt: ``"mediawiki"`` or ``"extracted"``.
        first_number: the number of the first paragraph (for an article read in chunks).

    Returns:
        One :class:`LinkedText` per paragraph, or a single :class:`Reject` when the article is a
        redirect, holds nothing after cleaning, or nests markup too deep to follow.
    """
    if fmt not in ("mediawiki", "extracted"):
        raise ConfigError(
            f"fmt={fmt!r} is not an article format.",
            fix='pass fmt="mediawiki" or "extracted".',
            code=E_BAD_CONFIG,
        )
    out = _Out()
    if fmt == "mediawiki":
        target = redirect_target(text)
        if target is not None:
            yield Reject(
                STAGE,
                file,
                f"line {line}",
                E_EMPTY_SENTENCE,
                f"article {article!r} is a redirect to {target!r}: no text.",
                text[:500],
            )
            return
        if "&lt;" in text and "<ref" not in text and _XML_ESCAPED.search(text):
            # copied from a dump's XML without unescaping: the whole page is escaped once
            text = html.unescape(text)
        flat = "\n" not in text.strip() and bool(_FLAT_HEADING.search(text))
        if flat:
            text = _unflatten(text)
    else:
        flat = False
    try:
        if fmt == "mediawiki":
            _parse_mediawiki(text, out)
        else:
            _parse_extracted(text, out)
    except _TooDeep as deep:
        at = line + text.count("\n", 0, deep.pos)
        yield Reject(
            STAGE,
            file,
            f"line {at}",
            E_MALFORMED_LINE,
            f"markup nested more than {_MAX_DEPTH} levels deep in article {article!r}.",
            text[deep.pos : deep.pos + 500],
        )
        return
    yield from _finish(out, text, article, file, line, flat=flat, first_number=first_number)


def _parse_extracted(src: str, out: _Out) -> None:
    parser = _Parser(src, out, extracted=True)
    pos = 0
    n = len(src)
    while pos < n:
        eol = src.find("\n", pos)
        if eol < 0:
            eol = n
        line = src[pos:eol]
        if line.strip():
            if "&lt;a href=" in line:
                # html-escaped anchors: unescape this line once, then parse it
                sub = _Parser(html.unescape(line), out, extracted=True, origin=pos)
                sub.inline(0, len(sub.src), block=False)
                out.flush()
            else:
                stripped = line.lstrip()
                if stripped[0] in "*#:;":
                    indent = len(line) - len(stripped)
                    start = pos + indent + _LIST_MARKERS.match(stripped).end()
                    parser.inline(start, eol, block=False)
                    out.flush("list")
                else:
                    parser.inline(pos, eol, block=False)
                    out.flush()
        pos = eol + 1
    out.flush()
