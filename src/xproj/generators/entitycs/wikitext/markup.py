"""MediaWiki markup: constants, namespaces and tag classes, patterns, the paragraph builder and the low-level scanners the parser and the template reducer share."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Literal

STAGE = "read"

WikitextFormat = Literal["auto", "mediawiki", "extracted"]

#: ``markup`` keys that flag a paragraph as list or table markup rather than running text.
FLAG_KEYS = ("list", "table_row")

#: Markup left in cleaned text that the EntityCS issue counts as residue.
RESIDUE_MARKERS = ("[[", "]]", "{{", "}}", "|", "<ref")

_MAX_DEPTH = 40

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
