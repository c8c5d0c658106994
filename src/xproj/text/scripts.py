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


#: Code point ranges (regex class syntax) of the scripts that Thai and Lao writers separate
#: sentences in with a space (:mod:`xproj.text.sentences`).
SPACE_SENTENCE_SCRIPTS: dict[str, str] = {"th": "\u0e00-\u0e7f", "lo": "\u0e80-\u0eff"}
#: Ranges of the scripts written without spaces whose words a dictionary segmenter finds (and
#: may cut an unknown word of into pieces): Thai, Lao, Khmer and Khmer symbols, Myanmar with its
#: extensions, Tibetan.
DICTIONARY_SCRIPTS = (
    "".join(SPACE_SENTENCE_SCRIPTS.values())
    + "\u1780-\u17ff\u19e0-\u19ff\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff\u0f00-\u0fff"
)
#: Ranges of Han ideographs (with radicals, extensions and compatibility forms) and kana.
HAN_KANA = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f"
)


def is_unspaced_char(ch: str) -> bool:
    """Whether ``ch`` belongs to a script written without spaces (by its Unicode name)."""
    return unicodedata.name(ch, "").startswith(UNSPACED_SCRIPTS)


def base_lang(lang: str) -> str:
    """The language part of a code (``zh-Hant`` → ``zh``), lower-cased."""
    return lang.split("-")[0].split("_")[0].lower()
