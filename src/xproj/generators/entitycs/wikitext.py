"""Read MediaWiki markup and WikiExtractor-style text into :class:`LinkedText` paragraphs.

Pure logic (no Prefect, no network), streamed: one article (MediaWiki file or WikiExtractor
``<doc>``) in memory at a time, never the corpus. Every paragraph comes out as a
``LinkedText(id=f"{article}:{n}", source=f"{file}:{line}")`` with ``n`` counted from 1 over the
article's emitted paragraphs and ``line`` the 1-based line of the paragraph's first character.

What becomes of each construct (the count key in ``LinkedText.markup`` in brackets):

* ``[[Title]]`` → link, surface ``Title`` as written; ``[[Title|label]]`` → surface ``label``;
  ``[[Title#Section|label]]`` → target ``Title``; empty label (pipe trick ``[[Paris, Texas|]]``)
  → ``Paris`` [``pipe_trick``]. A link trail (ASCII lower-case letters right after ``]]``, the
  English Wikipedia rule ``[a-z]+``; an upper-case or accented letter ends it) joins the
  surface: ``[[cat]]s`` → ``cats``. More than one pipe (``[[A|b|c]]``) keeps the last label
  [``link_extra_pipe``]. ``Link.target`` is the title as written (section and leading colon
  removed, entities decoded, whitespace stripped, underscores kept); compare titles through
  :func:`normalize_title`.
* ``[[File:…]]``, ``[[Image:…]]``, ``[[Media:…]]`` with their captions and the links in them
  [``file``], ``[[Category:…]]`` [``category``] (also under the local names of a few large
  Wikipedias: ``Datei:``, ``Kategorie:``, ``Fichier:`` …), interlanguage links ``[[de:…]]``
  [``interlanguage``]: removed entirely.
* Links into other namespaces (``[[Wikipedia:…]]``, ``[[:Category:…]]``), interwiki links
  (``[[wikt:…]]``), same-page anchors (``[[#History|history]]``) and links inside a link's label
  keep their surface as plain text, without a link [``namespace_link``, ``interwiki``,
  ``link_anchor``, ``link_nested``]. A link that cannot be parsed (empty target, a target with
  ``{ } [ ] < >`` or a line break) becomes plain text [``link_invalid``]; one whose surface comes
  out empty is dropped [``link_empty``].
* Templates ``{{…}}`` (nested, multi-line, parser functions, ``{{{params}}}``) are removed
  [``template``], except a few that stand for running text and are reduced to it
  [``template_text``]: ``convert``/``cvt`` (``{{convert|5|km|mi}}`` → ``5 km``, ranges
  ``5 to 8 km``), ``lang``/``lang-xx``/``transl`` (the foreign text), ``nowrap``-style wrappers
  (their text), ``ill`` (a link to the English title), dashes and spaces (``ndash``, ``mdash``,
  ``snd``, ``nbsp``, ``'``), ``frac``, ``circa``/``c.``, ``US$``, ``as of``, ``formatnum``, and
  the date templates (``birth date``, ``death date``, ``… and age``, ``start date``, ``end date``
  → ``January 5, 1950``, ``5 January 1950`` with ``df=y``; ``death date and age`` adds
  ``(aged N)``; ``birth date and age`` gives no age, which would depend on today).
* ``<ref>…</ref>``, ``<ref …/>``, ``<references/>`` [``ref``]; ``<math>``, ``<gallery>``,
  ``<pre>``, ``<syntaxhighlight>``/``<source>``, ``<timeline>``, ``<score>``, ``<imagemap>``,
  ``<chem>``, ``<graph>``, ``<mapframe>``, ``<templatedata>``, ``<includeonly>``, ``<style>``,
  ``<script>`` … removed with their content [``html_block``]; other HTML tags (``<small>``,
  ``<sup>``, ``<span>``, ``<div>``, ``<blockquote>``, ``<poem>``, ``<code>`` …) stripped, their
  content kept, ``<br>`` read as a space [``html_tag``]; ``<nowiki>…</nowiki>`` keeps its content
  literally [``nowiki``]; HTML comments [``comment``]; unknown tags stay as text.
* Tables ``{| … |}`` (nested, ``:{|`` too; templates inside are skipped whole, so their ``|}``
  does not close the table) are removed and end a paragraph [``table``]; a table that does not
  start its line (after a template) is removed too. A ``|-`` or ``|}`` line outside any table is
  dropped [``table_markup``]. External links ``[http://x label]`` → ``label`` without a link
  [``external_link``]; ``[http://x]`` → nothing [``external_link_bare``]; bare URLs are removed
  [``url``]. Quote marks ``''``, ``'''``, ``'''''`` [``bold_italic``], magic words ``__TOC__``
  [``magic_word``], ``----`` rules [``rule``]. HTML entities are decoded [``entity``];
  non-breaking and other Unicode spaces become plain spaces and invisible formatting characters
  (soft hyphen, zero-width space, direction marks, BOM) are dropped. A space left before
  punctuation by a removal (``Paris <ref>…</ref>.``) and parentheses emptied by removals are
  taken out.
* **Headings** ``== … ==`` are dropped (they never become paragraphs) and end a paragraph
  [``heading``].
* **List lines** (``*``, ``#``, ``:``, ``;``) are kept, each item as its own paragraph, markers
  stripped, flagged ``markup["list"] = 1``; **table-row lines** outside a table (a line starting
  with ``|`` or ``!``, e.g. what remains of a broken table) are kept, cell separators read as
  spaces [``table_cell``], flagged ``markup["table_row"] = 1``. The pipeline drops paragraphs
  with a flag (see :data:`FLAG_KEYS` and :func:`is_markup_block`).
* Unbalanced markup never stops the reader: an unclosed ``{{`` or ``[[`` loses its brackets and
  the text after it is read as text, a stray ``}}`` or ``]]`` is dropped, an unclosed ``<ref>``
  is removed to the end of its line, an unclosed table to the next blank line, an unclosed
  comment to the end of the article [``unbalanced``].

Counts of removals made where no paragraph comes out (an infobox alone before the lead, a heading,
the categories at the end) move on to the article's next paragraph, or its last for the tail, so
the sums over an article's paragraphs count every removal. Flags are never moved.

Paragraphs: text between blank lines (a line with only spaces) in MediaWiki; lines of one
paragraph are joined with a space, as MediaWiki renders them. Headings, tables and list items
also end a paragraph. In WikiExtractor files, which write one paragraph per line, each non-blank
line is a paragraph; links are ``<a href="Url%20quoted%20title">label</a>`` (what
``wikiextractor --links`` writes) or ``[[title|label]]``; the title line WikiExtractor repeats at
the top of each ``<doc>`` is skipped, and any MediaWiki markup left is cleaned as above.

Damaged pages seen in the wild are repaired before parsing: a page copied from a dump's XML
without unescaping (``&lt;ref&gt;`` instead of ``<ref>``) is unescaped once, and a page whose
line breaks were flattened into spaces (one line holding ``==History==`` headings) gets its
headings and list items back on lines of their own (all its paragraphs report line 1).

Rejects (``stage="read"``, never raised mid-stream): a file that cannot be read [XP110] or is
not UTF-8 [XP101, with the line of the first bad byte; in WikiExtractor files only that line],
a MediaWiki XML dump given as an article [XP109], markup nested too deep to follow [XP101], a
``<doc>`` without ``</doc>`` (its paragraphs are still read) [XP101], and an article or
``<doc>`` that yields no paragraph (a redirect page, or nothing left after cleaning) [XP102], so
that nothing is dropped silently.
"""

from __future__ import annotations

import bz2
import gzip
import html
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from xproj.generators.entitycs.records import Link, LinkedText
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_EMPTY_SENTENCE,
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_UNKNOWN_FORMAT,
    ConfigError,
    InputFormatError,
    Reject,
)

__all__ = [
    "FLAG_KEYS",
    "RESIDUE_MARKERS",
    "WikitextFormat",
    "article_paragraphs",
    "is_markup_block",
    "iter_wikitext",
    "normalize_title",
    "redirect_target",
    "residue_counts",
]

STAGE = "read"

WikitextFormat = Literal["auto", "mediawiki", "extracted"]

#: ``markup`` keys that flag a paragraph as list or table markup rather than running text.
FLAG_KEYS = ("list", "table_row")

#: Markup left in cleaned text that the EntityCS issue counts as residue.
RESIDUE_MARKERS = ("[[", "]]", "{{", "}}", "|", "<ref")

_MAX_DEPTH = 40


# --------------------------------------------------------------------------------------------
# Titles


def normalize_title(title: str) -> str:
    """A page title in the form MediaWiki stores it, for lookups (links ↔ Wikidata sitelinks).

    Decodes HTML entities and ``%XX`` escapes, drops a leading ``:`` and a ``#section``, turns
    underscores into spaces, collapses runs of whitespace, strips, applies Unicode NFC and
    upper-cases the first letter (when that keeps it one character, as MediaWiki's ``ucfirst``).

    Args:
        title: a link target or sitelink title (``new_York_City``, ``AT&amp;T#History``).

    Returns:
        The normalised title (``New York City``, ``AT&T``), or ``""`` when nothing is left.
    """
    if "&" in title:
        title = html.unescape(title)
    if "%" in title:
        title = unquote(title)
    title = title.replace("_", " ").strip()
    if title.startswith(":"):
        title = title[1:]
    if "#" in title:
        title = title.split("#", 1)[0]
    title = " ".join(title.split())
    if not title:
        return ""
    title = unicodedata.normalize("NFC", title)
    first = title[0].upper()
    if len(first) != 1:
        first = title[0]
    return first + title[1:]


_REDIRECT = re.compile(r"\s*#REDIRECT\s*:?\s*\[\[([^\]\|\n]+)", re.IGNORECASE)


def redirect_target(text: str) -> str | None:
    """The target title of a redirect page (``#REDIRECT [[Toronto]]`` → ``Toronto``), else None.

    The title is returned as written, section removed; normalise it with :func:`normalize_title`.
    """
    m = _REDIRECT.match(text)
    if not m:
        return None
    return m.group(1).split("#", 1)[0].strip() or None


def is_markup_block(item: LinkedText) -> bool:
    """True when the paragraph is a list item or a table row (flagged by the reader)."""
    return any(item.markup.get(key) for key in FLAG_KEYS)


def residue_counts(texts: Iterable[str]) -> dict[str, int]:
    """How often each markup residue (:data:`RESIDUE_MARKERS`) occurs over ``texts``.

    Returns:
        ``{"[[": n, "]]": n, "{{": n, "}}": n, "|": n, "<ref": n, "texts": n,
        "texts_with_residue": n}``; ``<ref`` is matched case-insensitively.
    """
    counts = dict.fromkeys(RESIDUE_MARKERS, 0)
    total = 0
    dirty = 0
    for text in texts:
        total += 1
        hit = False
        for marker in RESIDUE_MARKERS:
            if marker == "<ref":
                n = text.lower().count(marker) if "<" in text else 0
            else:
                n = text.count(marker)
            if n:
                counts[marker] += n
                hit = True
        dirty += hit
    counts["texts"] = total
    counts["texts_with_residue"] = dirty
    return counts


# --------------------------------------------------------------------------------------------
# Namespaces and tag classes

# File and Category namespaces: English names and aliases, then those of a few large Wikipedias
# (articles copied from them keep their local names).
_REMOVED_NS = dict.fromkeys(
    ("file", "image", "media", "datei", "bild", "fichier", "archivo", "imagen", "ficheiro",
     "arquivo", "imagem", "immagine", "bestand", "afbeelding", "plik", "grafika", "fil", "lêer",
     "файл", "изображение", "ファイル", "画像", "文件", "檔案", "图像", "圖像"),
    "file",
)  # fmt: skip
_REMOVED_NS.update(
    dict.fromkeys(
        ("category", "kategorie", "catégorie", "categoría", "categoria", "categorie",
         "kategoria", "kategori", "категория", "カテゴリ", "分类", "分類"),
        "category",
    )
)  # fmt: skip
_OTHER_NS = {
    "talk", "user", "user talk", "wikipedia", "wp", "project", "wikipedia talk", "wt",
    "file talk", "image talk", "mediawiki", "mediawiki talk", "template", "template talk", "t",
    "help", "help talk", "h", "category talk", "portal", "portal talk", "p", "draft",
    "draft talk", "module", "module talk", "special", "book", "book talk", "timedtext",
    "timedtext talk", "education program", "gadget", "gadget definition", "topic", "mos", "cat",
}  # fmt: skip
_INTERWIKI = {
    "w", "wikt", "wiktionary", "s", "wikisource", "b", "wikibooks", "q", "wikiquote", "n",
    "wikinews", "v", "wikiversity", "voy", "wikivoyage", "species", "wikispecies", "commons",
    "c", "meta", "m", "metawikimedia", "mw", "mediawikiwiki", "d", "wikidata", "foundation",
    "wmf", "wikimedia", "phab", "phabricator", "outreach", "incubator", "doi", "google",
    "imdbname", "imdbtitle", "oldwikisource", "wikitech", "rfc", "iarchive",
}  # fmt: skip
_LANG_PREFIX = re.compile(r"[a-z]{2,3}(?:-[a-z]{1,8}){0,2}\Z")
_LANG_EXTRA = {"simple", "classical", "be-x-old", "zh-min-nan", "zh-classical", "zh-yue"}

_BLOCK_TAGS = {
    "math", "chem", "ce", "gallery", "timeline", "score", "imagemap", "graph", "mapframe",
    "maplink", "templatedata", "syntaxhighlight", "source", "pre", "hiero", "inputbox",
    "categorytree", "includeonly", "charinsert", "templatestyles", "indicator", "style",
    "script", "section", "math chem", "rss", "dynamicpagelist",
}  # fmt: skip
_REF_TAGS = {"ref", "references"}
_KEEP_TAGS = {
    "span", "div", "small", "big", "sup", "sub", "center", "blockquote", "tt", "code", "b", "i",
    "u", "s", "strike", "del", "ins", "font", "abbr", "cite", "em", "strong", "var", "kbd",
    "samp", "q", "dfn", "bdi", "bdo", "poem", "p", "noinclude", "onlyinclude", "table", "tr",
    "td", "th", "caption", "tbody", "thead", "tfoot", "ul", "ol", "li", "dl", "dt", "dd", "h1",
    "h2", "h3", "h4", "h5", "h6", "mark", "ruby", "rb", "rp", "rt", "rtc", "time", "data",
    "wbr", "hr", "br", "nowiki", "a",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Regular expressions

_SPECIAL = re.compile(r"<|\{\{|\{\||\}\}|\[|\]\]|''|\n|__[A-Z]{2,}__|(?i:https?://|ftp://)")
_SPECIAL_ROW = re.compile(
    r"<|\{\{|\{\||\}\}|\[|\]\]|''|\n|__[A-Z]{2,}__|(?i:https?://|ftp://)|\|+|!!"
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s[^<>]*?)?)(/?)\s*>")
_BRACE_RUN = re.compile(r"\{{2,}|\}{2,}|<!--")
_LINK_TOKEN = re.compile(r"\[\[|\]\]")
_TOP_TOKEN = re.compile(r"\{\{|\}\}|\[\[|\]\]|\|")
_TRAIL = re.compile(r"[a-z]+")
_EXTLINK = re.compile(
    r"\[((?:(?i:https?|ftps?|irc|ircs|gopher|svn|git|telnet|news|sftp|ssh):)?//[^\s\[\]<>\"]+"
    r"|(?i:mailto|news):[^\s\[\]<>\"]+)(?:[ \t]+([^\]\n]*))?\]"
)
_URL = re.compile(r"(?i:https?|ftp)://[^\s<>\[\]{}|\"]+")
_URL_TAIL = ".,;:!?'\""
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_HEADING = re.compile(r"(=+)[^\n]*?(=+)[ \t]*(?:<!--.*?-->[ \t]*)*\Z")
_TABLE_START = re.compile(r"[ \t]*:*[ \t]*\{\|")
_TABLE_TOKEN = re.compile(r"\{\{|<!--|\n[ \t]*:*[ \t]*(\{\||\|\})")
_TABLE_TOKEN_INLINE = re.compile(r"\{\{|<!--|(\{\||\|\})")
_BLANK_LINE = re.compile(r"\n[ \t]*(?=\n)")
_LIST_MARKERS = re.compile(r"[*#:;]+[ \t]*")
_ROW_MARKER = re.compile(r"[|!][ \t]*")
_RULE = re.compile(r"-{4,}")
_MULTISPACE = re.compile(r" {2,}")
_XML_ESCAPED = re.compile(r"&lt;(?:/?ref\b|!--|/?(?:small|sup|sub|br|span|div|math)\b)", re.I)
_DOC_START = re.compile(r"<doc\b([^>]*)>\s*\Z")
_ATTR = re.compile(r"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")

# Unicode spaces → " "; invisible formatting characters → removed (ZWJ/ZWNJ are kept: they
# change how some scripts are written). Line breaks inside a paragraph read as spaces.
_WS_TABLE = {c: " " for c in (0x09, 0x0A, 0x0D, 0x0B, 0x0C, 0xA0, 0x1680, 0x202F, 0x205F, 0x3000)}
_WS_TABLE.update({c: " " for c in range(0x2000, 0x200B)})
_WS_TABLE.update({c: None for c in (0x00AD, 0x200B, 0x200E, 0x200F, 0x2060, 0xFEFF)})
_WS_TABLE.update({c: None for c in range(0x202A, 0x202F)})

_PUNCT_AFTER_REMOVAL = ",.;:!?)"


# --------------------------------------------------------------------------------------------
# Output builder


class _TooDeep(Exception):
    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


@dataclass
class _Para:
    text: str
    links: list[tuple[int, int, str]]
    counts: dict[str, int]
    pos: int
    flag: str | None


@dataclass
class _Out:
    """Text of the paragraph being built, its links and the counts since the last paragraph."""

    parts: list[str] = field(default_factory=list)
    n: int = 0
    last: str = ""
    links: list[tuple[int, int, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    pos: int = -1
    removed: bool = False
    low: int = 0  # lowest length the text was cut back to (see _drop_last)
    paras: list[_Para] = field(default_factory=list)

    def count(self, kind: str, n: int = 1, *, removal: bool = True) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n
        if removal:
            self.removed = True

    def emit(self, s: str, pos: int) -> None:
        """Append text (already entity-decoded), collapsing spaces."""
        s = s.translate(_WS_TABLE)
        if "  " in s:
            s = _MULTISPACE.sub(" ", s)
        if not s:
            return
        if s[0] == " ":
            if self.n == 0 or self.last == " ":
                s = s[1:]
                if not s:
                    return
        elif self.removed and s[0] in _PUNCT_AFTER_REMOVAL:
            if s[0] == ")" and self._drop_empty_parens():
                s = s[1:]
                if not s:
                    return
                if s[0] == " " and (self.n == 0 or self.last == " "):
                    s = s[1:]
                    if not s:
                        return
            elif self.last == " ":
                self._drop_last(1)
        if self.pos < 0:
            self.pos = pos
        self.parts.append(s)
        self.n += len(s)
        self.last = s[-1]
        if self.last != " ":
            self.removed = False

    def _tail(self, k: int) -> str:
        out = ""
        i = len(self.parts) - 1
        while len(out) < k and i >= 0:
            out = self.parts[i] + out
            i -= 1
        return out[-k:]

    def _drop_last(self, k: int) -> None:
        text = "".join(self.parts)[:-k]
        self.parts = [text] if text else []
        self.n = len(text)
        self.low = min(self.low, self.n)
        self.last = text[-1] if text else ""
        if not text:
            self.pos = -1

    def _drop_empty_parens(self) -> bool:
        """Remove a ``(`` (and the space before it) left empty by removals; True when done."""
        tail = self._tail(3)
        for pattern in (" ( ", " (", "( ", "("):
            if tail.endswith(pattern):
                k = len(pattern)
                if any(end > self.n - k for _, end, _ in self.links):
                    return False
                self._drop_last(k)
                if pattern.startswith(" ") and self.n:
                    # keep one space between the word before and what follows
                    self.parts.append(" ")
                    self.n += 1
                    self.last = " "
                return True
        return False

    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def flush(self, flag: str | None = None) -> None:
        """End the paragraph; an empty one keeps its counts for the next."""
        text = self.text().rstrip()
        if text:
            links = [(s, e, t) for s, e, t in self.links if e <= len(text)]
            dropped = len(self.links) - len(links)
            counts = self.counts
            if dropped:
                counts["link_empty"] = counts.get("link_empty", 0) + dropped
            if flag:
                counts[flag] = 1
            self.paras.append(_Para(text, links, counts, self.pos, flag))
            self.counts = {}
        self.parts = []
        self.n = 0
        self.last = ""
        self.links = []
        self.pos = -1
        self.removed = False


# --------------------------------------------------------------------------------------------
# Parser


def _decode(s: str, out: _Out) -> str:
    if "&" not in s:
        return s
    n = len(_ENTITY.findall(s))
    if n:
        out.count("entity", n, removal=False)
    return html.unescape(s)


def _brace_end(src: str, pos: int, end: int) -> int | None:
    """End (exclusive) of the ``{{…}}``/``{{{…}}}`` starting at ``pos``, MediaWiki-style.

    Runs of braces are matched as MediaWiki's preprocessor does (``{{{`` against ``}}}`` first,
    then ``{{`` against ``}}``); braces inside HTML comments do not count.
    """
    stack: list[int] = []
    i = pos
    while True:
        m = _BRACE_RUN.search(src, i, end)
        if m is None:
            return None
        i = m.end()
        if src[m.start()] == "<":  # a comment: skip it whole
            close = src.find("-->", i, end)
            if close < 0:
                return None
            i = close + 3
            continue
        k = m.end() - m.start()
        if src[m.start()] == "{":
            stack.append(k)
            continue
        if not stack:
            continue
        while k >= 2 and stack:
            top = stack[-1]
            use = 3 if (top >= 3 and k >= 3) else 2
            top -= use
            k -= use
            if top >= 2:
                stack[-1] = top
            else:
                stack.pop()
        if not stack:
            return m.end() - k


def _link_end(src: str, pos: int, end: int) -> int | None:
    """Start of the ``]]`` closing the ``[[`` at ``pos`` (nested links counted), else None.

    A link does not run over a blank line: an unclosed ``[[`` must not swallow paragraphs.
    """
    depth = 0
    for m in _LINK_TOKEN.finditer(src, pos, end):
        if src[m.start()] == "[":
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            if _BLANK_LINE.search(src, pos, m.start()):
                return None
            # ``[[a|[b]]]``: the label's own ``]`` closes first
            if src.startswith("]", m.end()) and src.count("[", pos + 2, m.start()) > src.count(
                "]", pos + 2, m.start()
            ):
                return m.start() + 1
            return m.start()
    return None


def _top_split(src: str, start: int, end: int) -> list[tuple[int, int]]:
    """Ranges of ``src[start:end]`` split at ``|`` outside nested ``{{ }}`` and ``[[ ]]``."""
    parts = []
    depth = 0
    cur = start
    for m in _TOP_TOKEN.finditer(src, start, end):
        tok = m.group()
        if tok in ("{{", "[["):
            depth += 1
        elif tok in ("}}", "]]"):
            depth = max(0, depth - 1)
        elif depth == 0:
            parts.append((cur, m.start()))
            cur = m.end()
    parts.append((cur, end))
    return parts


def _is_lang_prefix(prefix: str) -> bool:
    return bool(_LANG_PREFIX.match(prefix)) or prefix in _LANG_EXTRA


def _pipe_trick(title: str) -> str:
    """``Paris, Texas`` → ``Paris``; ``Foo (bar)`` → ``Foo``; ``Help:Foo`` → ``Foo``."""
    prefix, sep, rest = title.partition(":")
    if sep and prefix.strip().lower() in (_OTHER_NS | _INTERWIKI) | set(_REMOVED_NS):
        title = rest
    m = re.match(r"(.*?)\s*\([^()]*\)\s*\Z", title)
    if m and m.group(1):
        return m.group(1)
    if ", " in title:
        return title.split(", ", 1)[0]
    return title


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
# Templates reduced to text

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_RANGE_WORDS = {"to", "-", "–", "and", "or", "by", "x", "×", "+", "to(-)", "+/-", "±", "and(-)"}
_UNITS = {"km2": "km²", "m2": "m²", "sqmi": "sq mi", "sqft": "sq ft", "kph": "km/h", "C": "°C"}
_UNITS.update({"F": "°F", "acre": "acres", "ha": "ha", "cm2": "cm²", "km/h": "km/h"})
_CONSTANT_TEMPLATES = {
    "'": "'", "ndash": "–", "mdash": "—", "snd": " – ", "spaced ndash": " – ", "spnd": " – ",
    "nbsp": " ", "spaces": " ", "thinsp": " ", "en dash": "–", "em dash": "—", "okina": "ʻ",
    "=": "=", "·": " · ", "dot": " · ", "middot": " · ", "sndash": " – ", "nbhyph": "-",
}  # fmt: skip
_WRAPPERS = {
    "nowrap", "nobr", "nobreak", "small", "smaller", "big", "larger", "midsize", "em",
    "strong", "var", "abbr", "sup", "sub", "not a typo", "proper name", "avoid wrap",
    "nowrap begin", "resize", "serif", "sans-serif", "bold", "italic", "linktext", "wikt-lang",
}  # fmt: skip
_DATE_TEMPLATES = {
    "birth date", "death date", "birth date and age", "start date", "end date",
    "start date and age", "end date and age", "birth year", "death year", "dob", "bda",
}  # fmt: skip
_NAME_SPACE = re.compile(r"[\s_]+")


def _params(src: str, start: int, end: int) -> tuple[str, list[str], dict[str, str]]:
    parts = _top_split(src, start, end)
    name = src[parts[0][0] : parts[0][1]]
    positional: list[str] = []
    named: dict[str, str] = {}
    for s, e in parts[1:]:
        value = src[s:e]
        key, eq, rest = value.partition("=")
        if eq and "{{" not in key and "[[" not in key and key.strip():
            named[key.strip().lower()] = rest.strip()
        else:
            positional.append(value.strip())
    return name, positional, named


def _date_text(y: str, m: str = "", d: str = "", *, dmy: bool) -> str | None:
    try:
        year = int(y)
        month = int(m) if m else 0
        day = int(d) if d else 0
    except ValueError:
        return None
    if not 1 <= month <= 12:
        return str(year) if not m else None
    name = _MONTHS[month - 1]
    if not day:
        return f"{name} {year}"
    if not 1 <= day <= 31:
        return None
    return f"{day} {name} {year}" if dmy else f"{name} {day}, {year}"


def _reduce_template(src: str, start: int, end: int) -> str | None:
    """Wikitext that stands for the template ``{{src[start:end]}}``, or None to remove it."""
    head_end = end
    for ch in "|:":
        i = src.find(ch, start, end)
        if 0 <= i < head_end:
            head_end = i
    head = _NAME_SPACE.sub(" ", src[start:head_end]).strip().lower()
    for prefix in ("subst:", "safesubst:", "msubst:", "template:"):
        if head.startswith(prefix):
            head = head[len(prefix) :]
    if head.startswith("#"):
        return None
    if head in _CONSTANT_TEMPLATES:
        return _CONSTANT_TEMPLATES[head]
    if head == "formatnum":
        value = src[head_end + 1 : end].split("|", 1)[0].strip()
        try:
            return f"{int(value):,}"
        except ValueError:
            return value
    is_lang = head.startswith("lang-") or head in ("lang", "transl", "transliteration")
    known = head in ("convert", "cvt", "ill", "frac", "fraction", "circa", "c.", "us$", "as of")
    if not (
        known
        or is_lang
        or head in _WRAPPERS
        or head in _DATE_TEMPLATES
        or head == "death date and age"
    ):
        return None
    _, pos, named = _params(src, start, end)
    if head.startswith("lang-"):
        return pos[0] if pos else None
    if head == "lang":
        return pos[1] if len(pos) > 1 else None
    if head in ("transl", "transliteration"):
        return pos[-1] if len(pos) > 1 else None
    if head in _WRAPPERS:
        return pos[0] if pos else None
    if head in ("convert", "cvt"):
        return _convert_text(pos)
    if head == "ill":
        if not pos or not pos[0]:
            return None
        label = named.get("lt") or pos[0]
        return f"[[{pos[0]}|{label}]]"
    if head in ("frac", "fraction"):
        if len(pos) == 1:
            return f"1/{pos[0]}"
        if len(pos) == 2:
            return f"{pos[0]}/{pos[1]}"
        if len(pos) >= 3:
            return f"{pos[0]} {pos[1]}/{pos[2]}"
        return None
    if head in ("circa", "c."):
        dates = [p for p in pos if p]
        return " – ".join(f"c. {d}" for d in dates[:2]) if dates else "c."
    if head == "us$":
        return f"US${pos[0]}" if pos else "US$"
    if head == "as of":
        if not pos:
            return None
        when = _date_text(pos[0], pos[1] if len(pos) > 1 else "", "", dmy=False) or pos[0]
        lead = "as of" if named.get("lc", "").lower() in ("y", "yes", "true", "1") else "As of"
        return f"{lead} {when}"
    dmy = named.get("df", "").lower() in ("y", "yes", "true", "1")
    nums = [p for p in pos if p]
    if head in ("birth year", "death year"):
        return nums[0] if nums else None
    if not nums:
        return None
    date = _date_text(*nums[:3], dmy=dmy)
    if date is None:
        return None
    if head == "death date and age" and len(nums) >= 6:
        try:
            y, m, d, by, bm, bd = (int(x) for x in nums[:6])
            age = y - by - ((m, d) < (bm, bd))
        except ValueError:
            return date
        return f"{date} (aged {age})"
    return date


def _convert_text(pos: list[str]) -> str | None:
    if not pos or not pos[0]:
        return None
    words = [pos[0]]
    i = 1
    while i + 1 < len(pos) and pos[i] in _RANGE_WORDS:
        words += [pos[i], pos[i + 1]]
        i += 2
    if i < len(pos) and pos[i]:
        words.append(_UNITS.get(pos[i], pos[i]))
    return " ".join(words)


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
