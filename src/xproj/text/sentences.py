"""Sentence splitting per script: ICU's sentence rules, plus the boundaries ICU does not mark.

:func:`sentence_spans` is the one sentence splitter of xproj (answer projection pairs sentences
with it, translation cuts over-long inputs with it). It runs ICU's sentence BreakIterator for the
language's locale (with the locale's abbreviation list where ICU has one, so ``Mr. Brown`` stays
one sentence), which knows ``. ! ?``, the Devanagari danda ``।`` ``॥``, Burmese ``။``, Ethiopic
``።``, Arabic ``؟``, Urdu ``۔`` and CJK ``。！？``, and cuts at line breaks. Added to it:

* no cut after an initial or a common title (``J. Doe``, ``Dr. Smith``);
* Khmer ``។`` ``៕`` and Tibetan shad ``།`` ``༎`` followed by a space (ICU 72 does not treat them
  as sentence terminals);
* Thai and Lao, which mark sentences with a space rather than punctuation: a space between two
  Thai (or Lao) characters ends a sentence. Spaces around numbers and Latin words do not.

Example:
    >>> text = "ภาษาไทยง่าย ปี 1996 ดีมาก ภาษาลาว"
    >>> [text[s:e] for s, e in sentence_spans(text, "th")]
    ['ภาษาไทยง่าย', 'ปี 1996 ดีมาก', 'ภาษาลาว']
    >>> text = "Dr. J. Brown left. यह है। 我来了。她走了"
    >>> [text[s:e] for s, e in sentence_spans(text, "en")]
    ['Dr. J. Brown left.', 'यह है।', '我来了。', '她走了']
"""

from __future__ import annotations

import re

from xproj.text.breaks import icu_sentences
from xproj.text.scripts import SPACE_SENTENCE_SCRIPTS, base_lang

#: Terminals ICU does not mark: Khmer khan and bariyoosan, Tibetan shad and nyis shad.
_EXTRA_TERMINAL = re.compile(r"[\u17d4\u17d5\u0f0d\u0f0e]+(?=\s)")
#: A space between two Thai or two Lao characters.
_SPACE_BETWEEN = [
    re.compile(rf"(?<=[{chars}])\s+(?=[{chars}])") for chars in SPACE_SENTENCE_SCRIPTS.values()
]
#: Locales with an ICU abbreviation list (sentence-break suppressions).
_SUPPRESSIONS = frozenset({"en", "de", "es", "fr", "it", "pt", "ru"})
#: A period that ends an initial or a common title rather than a sentence (``J. Doe``, ``Dr.``),
#: which ICU's lists miss: no cut after it.
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Sra|Prof|vs|etc|No|Nr|bzw|ca|z\.B))\.\s*$"
)


def sentence_spans(text: str, lang: str | None = None) -> list[tuple[int, int]]:
    """Character ranges ``(start, end)`` of the sentences of ``text``, whitespace trimmed.

    Every non-space character lies in exactly one range; ranges are in order.

    Args:
        text: any string.
        lang: the text's language (picks ICU's locale and the Thai/Lao rule); ``None`` for
            ICU's root rules.
    """
    code = base_lang(lang) if lang else "root"
    locale = f"{code}@ss=standard" if code in _SUPPRESSIONS else code
    cuts = {
        end
        for start, end in icu_sentences(text, locale)
        if not _ABBREVIATION.search(text[max(start, end - 12) : end])
    }
    cuts.update(m.end() for m in _EXTRA_TERMINAL.finditer(text))
    # the script rule runs whatever the language says, so mixed or mislabelled text splits too
    for pattern in _SPACE_BETWEEN:
        cuts.update(m.start() for m in pattern.finditer(text))
    out: list[tuple[int, int]] = []
    start = 0
    for end in sorted(cuts | {len(text)}):
        s, e = start, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
        start = end
    return out
