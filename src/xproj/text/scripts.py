"""Facts about writing systems that the tokenizers, projection policies and matchers share.

One place says which languages are written without spaces between words and which characters
belong to those scripts, so that no module keeps its own copy of the list.

Example:
    >>> "th" in UNSPACED_LANGS, is_unspaced_char("ก"), is_unspaced_char("a")
    (True, True, False)
    >>> base_lang("zh-Hant"), base_lang("ja_JP")
    ('zh', 'ja')
"""

from __future__ import annotations

import unicodedata

#: Languages written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese,
#: Tibetan and Dzongkha): word boundaries must be found, constraints match as substrings.
UNSPACED_LANGS: frozenset[str] = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "dz"})
#: Unicode character-name prefixes of the scripts written without spaces.
UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


def is_unspaced_char(ch: str) -> bool:
    """Whether ``ch`` belongs to a script written without spaces (by its Unicode name)."""
    return unicodedata.name(ch, "").startswith(UNSPACED_SCRIPTS)


def base_lang(lang: str) -> str:
    """The language part of a code (``zh-Hant`` → ``zh``), lower-cased."""
    return lang.split("-")[0].split("_")[0].lower()
