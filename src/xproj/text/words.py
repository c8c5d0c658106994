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
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from xproj.schemas.languages import normalize_lang

Token = tuple[str, int, int]

#: spaCy config overrides for languages whose default tokenizer needs an extra package.
_SPACY_CONFIG: dict[str, dict[str, Any]] = {
    "vi": {"nlp": {"tokenizer": {"use_pyvi": False}}},
    "ko": {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}},
}
#: Languages tokenized by script: characters of these scripts are single tokens.
_SCRIPT_CHAR_LANGS = {"ja", "th", "lo", "km", "my", "bo"}
_CHAR_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


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


def _is_char_script(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(_CHAR_SCRIPTS)


_WORD_RUN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


def _script_char_tokens(text: str) -> list[Token]:
    out: list[Token] = []
    for m in _WORD_RUN.finditer(text):
        word, start = m.group(), m.start()
        buf_start = None
        for k, ch in enumerate(word):
            if _is_char_script(ch):
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
    import spacy

    try:
        nlp = spacy.blank(code, config=_SPACY_CONFIG.get(code, {}))
        return WordTokenizer(f"spacy.blank:{code}", nlp)
    except (ImportError, OSError, ValueError) as err:
        # spaCy has no module for this language, or it needs a package we do not install.
        if "E048" not in str(err) and not isinstance(err, ImportError):
            raise
        return WordTokenizer("spacy.blank:xx", spacy.blank("xx"))
