"""Word tokenizers for target-language text, chosen per language at the edge.

Alignment and projection work on words. Each language gets one tokenizer, picked here and not
inside the algorithms:

* spaCy's rule-based ``blank(lang)`` tokenizer where spaCy has the language and it needs no extra
  package (Vietnamese with pyvi off: syllables; Korean with spaCy's rule tokenizer: space-separated
  words split from punctuation);
* ``script-chars`` for Japanese and Thai, whose spaCy tokenizers need SudachiPy / PyThaiNLP:
  every Han, kana or Thai character is a token, runs of other scripts are words. Chinese uses spaCy's
  ``zh`` blank pipeline, which also segments into characters by default. Character tokens keep
  projection exact at character level; word aligners see more, shorter tokens;
* spaCy's multi-language ``xx`` tokenizer for every other language (e.g. ``sw``, ``ha``).

Every tokenizer records its name (``spacy.blank:es``) so output rows say which one made them.

:func:`alignment_tokenizer` is the variant PAXQA aligns contexts with: for Chinese and Japanese
a :class:`CharacterScriptTokenizer` that keeps numbers and Latin words whole.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from xproj.schemas.languages import normalize_lang
from xproj.text.pipelines import blank
from xproj.text.scripts import HAN_LANGS, UNSPACED_LANGS, base_lang, is_unspaced_char

Token = tuple[str, int, int]

#: spaCy config overrides for languages whose default tokenizer needs an extra package.
_SPACY_CONFIG: dict[str, dict[str, Any]] = {
    "vi": {"nlp": {"tokenizer": {"use_pyvi": False}}},
    "ko": {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}},
}
#: Languages tokenized by script: characters of these scripts are single tokens (Chinese uses
#: spaCy's ``zh`` pipeline, which splits into characters by itself).
_SCRIPT_CHAR_LANGS = UNSPACED_LANGS - {"zh"}


@dataclass
class WordTokenizer:
    """Splits text into ``(token, start, end)`` triples with character offsets."""

    name: str
    _nlp: Any = None

    def tokenize(self, text: str) -> list[Token]:
        if self._nlp is not None:
            return [
                (t.text, t.idx, t.idx + len(t.text))
                for t in self._nlp.make_doc(text)
                if not t.is_space
            ]
        return _script_char_tokens(text)


_WORD_RUN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


def _script_char_tokens(text: str) -> list[Token]:
    out: list[Token] = []
    for m in _WORD_RUN.finditer(text):
        word, start = m.group(), m.start()
        buf_start = None
        for k, ch in enumerate(word):
            if is_unspaced_char(ch):
                if buf_start is not None:
                    out.append((word[buf_start:k], start + buf_start, start + k))
                    buf_start = None
                out.append((ch, start + k, start + k + 1))
            elif buf_start is None:
                buf_start = k
        if buf_start is not None:
            out.append((word[buf_start:], start + buf_start, start + len(word)))
    return out


@functools.lru_cache(maxsize=64)
def tokenizer_for(lang: str) -> WordTokenizer:
    """The word tokenizer for a language code (any form ``normalize_lang`` accepts).

    Example:
        >>> [t for t, _, _ in tokenizer_for("fr").tokenize("L'homme dort.")]
        ["L'", 'homme', 'dort', '.']
    """
    code = normalize_lang(lang).split("-")[0]
    if code in _SCRIPT_CHAR_LANGS:
        return WordTokenizer(f"script-chars:{code}")
    try:
        return WordTokenizer(f"spacy.blank:{code}", blank(code, _SPACY_CONFIG.get(code)))
    except (ImportError, OSError, ValueError) as err:
        # spaCy has no module for this language, or it needs a package we do not install.
        if "E048" not in str(err) and not isinstance(err, ImportError):
            raise
        return WordTokenizer("spacy.blank:xx", blank("xx"))


_CJK = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f"
)
CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_TOKEN = re.compile(
    rf"[{_CJK}]"  # one Han or kana character
    r"|\d+(?:[.,:]\d+)*"  # a number with its separators: 14,000 / 51.6 / 1:30
    rf"|(?:(?![{_CJK}])[^\W_])+(?:[-'’.](?:(?![{_CJK}])[^\W_])+)*"  # a Latin/other word: MPEG-2
    r"|\S"  # anything else, one character at a time
)


@dataclass(frozen=True, slots=True)
class CharacterScriptTokenizer:
    """Tokens for Chinese/Japanese text: one token per Han or kana character, words elsewhere.

    spaCy's blank ``zh`` pipeline splits *everything* into characters, numbers and Latin names
    included (``1996`` → ``1 9 9 6``), so an English ``1996`` or ``MPEG-2`` can neither be
    anchored by identity nor aligned as one word. Here digits with their separators and runs of
    non-CJK letters stay whole, like the English tokenizer keeps them.

    Example:
        >>> [t for t, _, _ in CharacterScriptTokenizer().tokenize("1996年的MPEG-2占51.6%")]
        ['1996', '年', '的', 'MPEG-2', '占', '51.6', '%']
    """

    name: str = "xproj.cjk-chars"

    def tokenize(self, text: str) -> list[Token]:
        return [(m.group(), m.start(), m.end()) for m in _CJK_TOKEN.finditer(text)]


def alignment_tokenizer(lang: str) -> Any:
    """The tokenizer PAXQA aligns a language's contexts with.

    :class:`CharacterScriptTokenizer` for zh/ja, else :func:`tokenizer_for`. Links given to a
    ``given.v1`` aligner must index these tokens.
    """
    if base_lang(lang) in HAN_LANGS:
        return CharacterScriptTokenizer()
    return tokenizer_for(lang)
