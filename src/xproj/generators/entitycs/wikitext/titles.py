"""Page titles and redirects, and the checks of cleaned paragraphs (markup blocks, residue)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

from xproj.generators.entitycs.records import LinkedText
from xproj.generators.entitycs.wikitext.markup import FLAG_KEYS, RESIDUE_MARKERS

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
