"""ICU break iteration (words, sentences) with Python string offsets; grapheme clusters.

ICU's BreakIterator finds word boundaries in Thai, Lao, Khmer, Burmese, Chinese and Japanese with
its dictionaries, syllable boundaries in Tibetan, and sentence boundaries per locale (danda,
Khmer ``។``, Burmese ``။``, Tibetan shad, ``。``, ``؟`` …). ICU counts in UTF-16 code units;
every function here returns offsets into the Python string (code points), so that
``text[start:end]`` is always the piece ICU meant.

PyICU is imported on first use; without it a :class:`~xproj.schemas.errors.ConfigError` says
how to install it.

Example:
    >>> [w for w, _, _ in icu_words("ภาษาไทยง่ายนิดเดียว", "th")]
    ['ภาษา', 'ไทย', 'ง่าย', 'นิด', 'เดียว']
    >>> text = "यह पहला है। यह दूसरा है।"
    >>> [text[s:e] for s, e in icu_sentences(text, "hi")]
    ['यह पहला है। ', 'यह दूसरा है।']
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

Token = tuple[str, int, int]

# BreakIterator objects are stateful (setText) and not thread-safe: one per thread and locale.
_local = threading.local()


def _icu() -> Any:
    try:
        import icu
    except ImportError:
        raise ConfigError(
            "word and sentence segmentation needs PyICU, which is not installed",
            fix="pip install PyICU (it builds against the system's libicu: apt install "
            "libicu-dev pkg-config), or reinstall xproj with its dependencies.",
            code=E_BAD_CONFIG,
        ) from None
    return icu


@functools.cache
def icu_version() -> str:
    """``"PyICU 2.17 / ICU 72.1"``: what a run records as its segmenter version."""
    icu = _icu()
    return f"PyICU {icu.VERSION} / ICU {icu.ICU_VERSION}"


def _iterator(kind: str, locale: str) -> Any:
    cache = getattr(_local, "iterators", None)
    if cache is None:
        cache = _local.iterators = {}
    key = (kind, locale)
    if key not in cache:
        icu = _icu()
        make = {
            "word": icu.BreakIterator.createWordInstance,
            "sentence": icu.BreakIterator.createSentenceInstance,
        }[kind]
        cache[key] = make(icu.Locale(locale))
    return cache[key]


def _boundaries(text: str, kind: str, locale: str) -> list[int]:
    """Boundary offsets (code points), 0 and ``len(text)`` included."""
    if not text:
        return [0]
    it = _iterator(kind, locale)
    it.setText(text)
    cuts = [0, *it]
    if len(text.encode("utf-16-le")) == 2 * len(text):
        return cuts  # no character outside the BMP: UTF-16 offsets are code point offsets
    # map UTF-16 offsets to code point offsets
    to_cp: dict[int, int] = {}
    unit = 0
    for k, ch in enumerate(text):
        to_cp[unit] = k
        unit += 2 if ord(ch) > 0xFFFF else 1
    to_cp[unit] = len(text)
    return [to_cp[c] for c in cuts]


def icu_words(text: str, locale: str) -> list[Token]:
    """Word tokens of ``text`` by ICU's word rules for ``locale``.

    Whitespace and zero-width spaces (Khmer and Burmese text often separates words with U+200B)
    are not tokens.
    """
    cuts = _boundaries(text, "word", locale)
    return [
        (text[s:e], s, e) for s, e in zip(cuts, cuts[1:], strict=False) if not _blank(text[s:e])
    ]


#: Zero-width characters that separate words without a visible space.
_ZERO_WIDTH = frozenset("\u200b\u2060\ufeff")


def _blank(piece: str) -> bool:
    return all(ch.isspace() or ch in _ZERO_WIDTH for ch in piece)


def icu_sentences(text: str, locale: str) -> list[tuple[int, int]]:
    """Sentence ranges by ICU's sentence rules for ``locale`` (trailing space included)."""
    cuts = _boundaries(text, "sentence", locale)
    return list(zip(cuts, cuts[1:], strict=False))


def grapheme_boundaries(text: str) -> list[int]:
    """Offsets where an extended grapheme cluster starts, plus ``len(text)``.

    By the ``regex`` module's ``\\X``, whose Unicode tables are newer than ICU 72's: it keeps
    Indic and Khmer conjuncts (``ស្ក``) in one cluster, as Unicode 15.1 does.
    """
    import regex

    return [m.start() for m in regex.finditer(r"\X", text)] + [len(text)]
