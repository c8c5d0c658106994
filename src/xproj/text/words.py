"""Word tokenizers, one per language: the registry every route uses for target-language text.

Alignment and projection work on words. :func:`tokenizer_for` picks each language's segmenter
here, never inside the algorithms (projection targets, translate-train, translate-test, PAXQA
answers and constraints, input text all call it):

* ``icu`` — ICU's word BreakIterator (dictionary segmentation) for Thai, Lao, Khmer, Burmese
  (and Shan) and Japanese; syllables for Tibetan and Dzongkha, for which ICU has no dictionary.
  Numbers and Latin words between those runs are cut like spaced text (:func:`mixed_script_tokens`).
  Thai: ICU gave XQuAD answer F1 86.6 against 85.2 for PyThaiNLP's ``newmm`` and aligned as many
  Tatoeba content words (0.95 both), 1.5-4 times as fast. Japanese: ICU aligned 0.89 of
  Tatoeba's English content words, Sudachi 0.89, one token per character 0.85; Khmer: ICU 0.96,
  khmer-nltk 0.95.
* ``cjk-chars`` — Chinese (and Cantonese): one token per Han character, numbers and Latin words
  whole (:class:`CharacterScriptTokenizer`). On XQuAD zh it scored as ICU's words did (83.4 and
  83.3 F1), keeps character-exact span edges, and on Tatoeba aligned more English content words
  (0.95) than ICU (0.92) or jieba (0.91).
* ``spacy`` — spaCy's rule-based ``blank(lang)`` tokenizer for every other language it has (Korean
  with its rule tokenizer, Vietnamese with pyvi off: syllables), and its multi-language ``xx``
  tokenizer for the rest. A language not in the registry but written in one of the scripts above
  (``yue_Hant``, ``shn_Mymr``) gets that script's segmenter.

The figures come from ``benchmarks/answer_projection.py`` and ``benchmarks/segmentation.py``
(results in ``benchmarks/results``).

Two rules hold whatever the segmenter (tested for every NLLB-200 code): no token splits an
extended grapheme cluster (a Thai vowel sign or a Devanagari virama stays with its consonant),
``text[start:end] == token``, and numbers (``3.5``, ``१६,०००``) stay whole, as do Latin words in
text of other scripts. Where a language attaches case suffixes to names with an apostrophe
(Turkish ``Elway'in``, Azerbaijani ``Bakı'nın``) or a colon (Finnish ``EU:n``), the suffix is a
token of its own, so a projected name ends where the name ends (:data:`NAME_SUFFIX_MARKS`).

Every tokenizer has a ``name`` (``icu:th``) and a ``version`` (``PyICU 2.17 / ICU 72.1``) that
runs record.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
from xproj.schemas.languages import language_script, normalize_lang
from xproj.text.breaks import grapheme_boundaries, icu_version, icu_words
from xproj.text.pipelines import blank
from xproj.text.scripts import DICTIONARY_SCRIPTS, HAN_KANA, base_lang

Token = tuple[str, int, int]

#: Segmenter of each language that does not use spaCy (see the module docstring for why).
SEGMENTERS: dict[str, str] = {
    "th": "icu",
    "lo": "icu",
    "km": "icu",
    "my": "icu",
    "bo": "icu",
    "dz": "icu",
    "shn": "icu",
    "ja": "icu",
    "zh": "cjk-chars",
    "yue": "cjk-chars",
}
#: Characters that join a case suffix to a name, per language: ``Elway'in`` → ``Elway`` ``'in``.
NAME_SUFFIX_MARKS: dict[str, str] = {"tr": "'’", "az": "'’", "fi": ":", "sv": ":"}

#: spaCy config overrides for languages whose default tokenizer needs an extra package.
_SPACY_CONFIG: dict[str, dict[str, Any]] = {
    "vi": {"nlp": {"tokenizer": {"use_pyvi": False}}},
    "ko": {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}},
}
#: ICU locale per language where it differs from the code (Dzongkha is written in Tibetan, Shan
#: in the Burmese script).
_ICU_LOCALE = {"dz": "bo", "shn": "my"}


@dataclass(frozen=True)
class WordTokenizer:
    """Splits text into ``(token, start, end)`` triples with character offsets.

    Attributes:
        name: what made the tokens (``icu:th``, ``spacy.blank:es``, ``xproj.cjk-chars``).
        version: the segmenter's library version.
        suffix_marks: characters that separate a name from its case suffix (may be empty).
        per_character: its tokens are single characters of the script (Chinese), so a word is
            several tokens.
        whole_latin: never split a Latin word (languages not written in Latin script; in Latin
            text the tokenizer's own splits, such as English ``can`` ``not``, stand).
    """

    name: str
    version: str
    split: Callable[[str], list[Token]]
    suffix_marks: str = ""
    whole_latin: bool = False
    per_character: bool = False

    def tokenize(self, text: str) -> list[Token]:
        tokens = keep_whole(text, self.split(text), latin=self.whole_latin)
        if not text.isascii():
            tokens = keep_graphemes(text, tokens)
        if self.suffix_marks:
            tokens = split_name_suffixes(tokens, self.suffix_marks)
        return tokens

    def describe(self) -> str:
        """``"icu:th (PyICU 2.17 / ICU 72.1)"``, as runs record it."""
        return f"{self.name} ({self.version})"


#: What no tokenizer may cut: numbers with their separators in any digits (``3.5``, ``१६,०००``);
#: in text of other scripts also Latin words, combining accents included (``Zhōngwén`` written
#: with U+0304).
_NUMBER = r"\d+(?:[.,:]\d+)*"
_WHOLE = re.compile(_NUMBER)
_WHOLE_OR_LATIN = re.compile(
    rf"{_NUMBER}|(?:[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff][\u0300-\u036f]*)+"
)


def keep_whole(text: str, tokens: list[Token], *, latin: bool = True) -> list[Token]:
    """Re-cut tokens so that no number (and, with ``latin``, no Latin word) is split.

    Tokens that share an edge inside such a run are joined; a token that reaches into one from
    outside is cut at the run's edge: spaCy's Korean ``16`` ``,`` ``000원`` becomes ``16,000``
    ``원``.

    Example:
        >>> keep_whole("16,000원", [("16", 0, 2), (",", 2, 3), ("000원", 3, 7)])
        [('16,000', 0, 6), ('원', 6, 7)]
    """
    edges = sorted({s for _, s, _ in tokens} | {e for _, _, e in tokens})
    runs = [
        m.span()
        for m in (_WHOLE_OR_LATIN if latin else _WHOLE).finditer(text)
        if bisect.bisect_right(edges, m.start()) < bisect.bisect_left(edges, m.end())
    ]
    if not runs:
        return tokens
    inside: set[int] = set()
    bounds: set[int] = set()
    for start, end in runs:
        inside.update(range(start + 1, end))
        bounds.update((start, end))
    out: list[tuple[int, int]] = []
    for _, s, e in tokens:
        cuts = sorted({s, e} | {b for b in bounds if s < b < e})
        for piece_start, piece_end in zip(cuts, cuts[1:], strict=False):
            if out and out[-1][1] == piece_start and piece_start in inside:
                piece_start = out.pop()[0]
            out.append((piece_start, piece_end))
    return [(text[s:e], s, e) for s, e in out]


#: Characters before which a cluster may go on although the next one is a letter (Unicode's
#: Prepend class, letters and format characters: Arabic number signs, Malayalam dot reph …).
_PREPEND = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e")


def _may_join(text: str, b: int) -> bool:
    """Whether offset ``b`` could lie inside a grapheme cluster: a mark or joiner follows it, a
    virama, joiner or prepended sign precedes it, or Hangul jamo, regional indicators or CR LF
    meet there. A cheap test that lets most texts skip the full cluster scan."""
    after, before = text[b], text[b - 1]
    if unicodedata.category(after)[0] == "M" or after in "\u200c\u200d":
        return True
    if unicodedata.combining(before) == 9 or before in _PREPEND or before == "\u200d":
        return True
    pair = ord(before), ord(after)
    return (
        any(0x1100 <= c <= 0x11FF or 0xD7B0 <= c <= 0xD7FF for c in pair)  # jamo
        or all(0x1F1E6 <= c <= 0x1F1FF for c in pair)  # regional indicators
        or 0x1F3FB <= pair[1] <= 0x1F3FF  # emoji modifiers
        or (before, after) == ("\r", "\n")
    )


def keep_graphemes(text: str, tokens: list[Token]) -> list[Token]:
    """Join adjacent tokens whose shared edge falls inside an extended grapheme cluster.

    Example:
        >>> keep_graphemes("กี", [("ก", 0, 1), ("ี", 1, 2)])
        [('กี', 0, 2)]
    """
    if not any(
        _may_join(text, b)
        for (_, _, b), (_, a, _) in zip(tokens, tokens[1:], strict=False)
        if a == b
    ):
        return tokens  # no shared edge where a cluster could continue: nothing to compute
    starts = set(grapheme_boundaries(text))
    out: list[Token] = []
    for tok in tokens:
        if out and out[-1][2] == tok[1] and tok[1] not in starts:
            _, s, _ = out.pop()
            tok = (text[s : tok[2]], s, tok[2])
        out.append(tok)
    return out


def split_name_suffixes(tokens: list[Token], marks: str) -> list[Token]:
    """Cut ``Name'suffix`` tokens into ``Name`` and ``'suffix`` (names and numbers only).

    The part before the mark must start with an upper-case letter or a digit, the part after be
    1-8 lower-case letters: ``Elway'in`` and ``1990'larda`` split, ``don't`` does not.

    Example:
        >>> split_name_suffixes([("Elway'in", 5, 13), ("l'homme", 14, 21)], "'’")
        [('Elway', 5, 10), ("'in", 10, 13), ("l'homme", 14, 21)]
    """
    out: list[Token] = []
    for tok, s, e in tokens:
        k = next((i for i, ch in enumerate(tok) if ch in marks), -1)
        head, tail = tok[:k], tok[k + 1 :]
        if k > 0 and (head[0].isupper() or head[0].isdigit()) and _is_suffix(tail):
            out.extend([(head, s, s + k), (tok[k:], s + k, e)])
        else:
            out.append((tok, s, e))
    return out


def _is_suffix(tail: str) -> bool:
    return 0 < len(tail) <= 8 and tail.isalpha() and tail.islower()


@functools.lru_cache(maxsize=1024)
def tokenizer_for(lang: str, segmenter: str | None = None) -> WordTokenizer:
    """The word tokenizer for a language code (any form ``normalize_lang`` accepts).

    Args:
        lang: the language; a script subtag picks the segmenter of that script where the
            language has none of its own (``yue_Hant``, ``shn_Mymr``).
        segmenter: ``icu``, ``cjk-chars``, ``spacy`` or a dedicated segmenter (``pythainlp``,
            ``khmer-nltk``, ``jieba``, ``sudachi``; not installed with xproj) to override the
            registry (benchmarks compare segmenters this way); ``None`` for the registry's choice.

    Example:
        >>> [t for t, _, _ in tokenizer_for("fr").tokenize("L'homme dort.")]
        ["L'", 'homme', 'dort', '.']
        >>> [t for t, _, _ in tokenizer_for("th").tokenize("ปี 1996 ภาษาไทย")]
        ['ปี', '1996', 'ภาษา', 'ไทย']
        >>> [t for t, _, _ in tokenizer_for("tr").tokenize("John Elway'in takımı")]
        ['John', 'Elway', "'in", 'takımı']
    """
    normalized = normalize_lang(lang)
    code = base_lang(normalized)
    script = language_script(normalized)
    kind = segmenter or SEGMENTERS.get(code) or _SCRIPT_SEGMENTERS.get(script, "spacy")
    return replace(
        _build(code, kind),
        suffix_marks=NAME_SUFFIX_MARKS.get(code, ""),
        whole_latin=script != "Latn",
    )


#: Segmenter by script, for languages the registry does not name (``yue_Hant``, ``shn_Mymr``).
_SCRIPT_SEGMENTERS = {
    "Hans": "cjk-chars",
    "Hant": "cjk-chars",
    "Jpan": "cjk-chars",
    "Thai": "icu",
    "Laoo": "icu",
    "Khmr": "icu",
    "Mymr": "icu",
    "Tibt": "icu",
}


@functools.lru_cache(maxsize=256)
def _build(code: str, kind: str) -> WordTokenizer:
    """The segmenter ``kind`` for language ``code``, without the language's options."""
    if kind == "icu":
        locale = _ICU_LOCALE.get(code, code)
        split = functools.partial(
            mixed_script_tokens, words=functools.partial(icu_words, locale=locale)
        )
        return WordTokenizer(f"icu:{code}", icu_version(), split)
    if kind == "cjk-chars":
        return WordTokenizer(
            "xproj.cjk-chars", "1", CharacterScriptTokenizer().tokenize, per_character=True
        )
    if kind in _DEDICATED:
        return _dedicated(kind)
    if kind != "spacy":
        known = ", ".join(["icu", "cjk-chars", "spacy", *_DEDICATED])
        raise ValueError(f"unknown segmenter {kind!r}: {known}")
    import spacy

    try:
        nlp = blank(code, _SPACY_CONFIG.get(code))
    except (ImportError, OSError, ValueError) as err:
        # spaCy has no module for this language, or it needs a package we do not install.
        if "E048" not in str(err) and not isinstance(err, ImportError):
            raise
        if code == "xx":
            raise
        return _build("xx", "spacy")
    return WordTokenizer(
        f"spacy.blank:{code}", f"spaCy {spacy.__version__}", functools.partial(_spacy_tokens, nlp)
    )


_CJK_TOKEN = re.compile(
    rf"[{HAN_KANA}]"  # one Han or kana character
    r"|\d+(?:[.,:]\d+)*"  # a number with its separators: 14,000 / 51.6 / 1:30
    rf"|(?:(?![{HAN_KANA}])[^\W_])+(?:[-'’.](?:(?![{HAN_KANA}])[^\W_])+)*"  # a Latin/other word: MPEG-2
    r"|\S"  # anything else, one character at a time
)
#: A run of characters of the scripts written without spaces, combining marks included: Thai,
#: Lao, Khmer, Burmese, Tibetan, Han and kana.
_UNSPACED_RUN = re.compile(rf"(?:(?!\d)[{DICTIONARY_SCRIPTS}\u200b-\u200d{HAN_KANA}])+")
#: Tokens outside those runs: numbers with their separators (``16,000`` ``3:08``), words, symbols.
_OTHER_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_](?:[\w]|[-'’.](?=\w))*|\S")


def mixed_script_tokens(text: str, words: Callable[[str], list[Token]]) -> list[Token]:
    """Tokens of text that mixes an unspaced script with numbers and Latin words.

    Runs of Thai, Lao, Khmer, Burmese or Tibetan characters go to ``words`` (ICU's dictionary
    segmenter); the rest is cut like spaced text, numbers with their separators whole, so that
    ``ประมาณ16,000`` gives ``ประมาณ`` ``16,000`` and ``3:08`` stays one token, as in English.

    Example:
        >>> [t for t, _, _ in mixed_script_tokens("ประมาณ16,000 คน", lambda t: [(t, 0, len(t))])]
        ['ประมาณ', '16,000', 'คน']
    """
    out: list[Token] = []
    pos = 0
    for run in _UNSPACED_RUN.finditer(text):
        out.extend(_other_tokens(text, pos, run.start()))
        out.extend((t, run.start() + s, run.start() + e) for t, s, e in words(run.group()))
        pos = run.end()
    out.extend(_other_tokens(text, pos, len(text)))
    return out


def _other_tokens(text: str, start: int, end: int) -> list[Token]:
    return [(m.group(), m.start(), m.end()) for m in _OTHER_TOKEN.finditer(text, start, end)]


def _spacy_tokens(nlp: Any, text: str) -> list[Token]:
    return [(t.text, t.idx, t.idx + len(t.text)) for t in nlp.make_doc(text) if not t.is_space]


def _dedicated(kind: str) -> WordTokenizer:
    """A dedicated segmenter, for comparison with ICU (``benchmarks/segmentation.py``).

    None of them is a dependency: each is imported here, and a missing one says what to install.
    """
    try:
        name, version, words = _DEDICATED[kind]()
    except ImportError as err:
        raise ConfigError(
            f"the {kind} segmenter needs a package that is not installed ({err.name})",
            fix=f"pip install {_PACKAGES[kind]}",
            code=E_BAD_CONFIG,
        ) from None
    return WordTokenizer(name, version, functools.partial(words_to_tokens, words=words))


def words_to_tokens(text: str, words: Callable[[str], Iterable[str]]) -> list[Token]:
    """Offsets for a segmenter that returns only words, matched left to right in ``text``.

    Zero-width characters of the text may be missing from the words (khmer-nltk drops them);
    a token is always the text's own slice.

    Example:
        >>> words_to_tokens("ab  c\u200bd", lambda t: ["ab", " ", "cd"])
        [('ab', 0, 2), ('c\u200bd', 4, 7)]
    """
    out: list[Token] = []
    pos = 0
    for word in words(text):
        if not word.strip():
            continue
        span = _match(text, word, pos)
        if span is None:
            raise ValueError(f"the segmenter returned {word!r}, which is not next in the text")
        pos = span[1]
        out.append((text[span[0] : pos], *span))
    return out


_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def _match(text: str, word: str, pos: int) -> tuple[int, int] | None:
    while pos < len(text) and (text[pos].isspace() or text[pos] in _INVISIBLE):
        pos += 1
    start, k = pos, 0
    while k < len(word):
        if pos < len(text) and text[pos] == word[k]:
            pos, k = pos + 1, k + 1
        elif pos < len(text) and text[pos] in _INVISIBLE and pos > start:
            pos += 1
        else:
            return None
    return start, pos


def _pythainlp() -> tuple[str, str, Callable[[str], Iterable[str]]]:
    import pythainlp
    from pythainlp.tokenize import word_tokenize

    return (
        "pythainlp.newmm",
        f"pythainlp {pythainlp.__version__}",
        functools.partial(word_tokenize, engine="newmm"),
    )


def _khmer_nltk() -> tuple[str, str, Callable[[str], Iterable[str]]]:
    from importlib.metadata import version

    from khmernltk import word_tokenize

    return "khmer-nltk", f"khmer-nltk {version('khmer-nltk')}", word_tokenize


def _jieba() -> tuple[str, str, Callable[[str], Iterable[str]]]:
    import jieba

    jieba.setLogLevel(60)
    return "jieba", f"jieba {jieba.__version__}", jieba.cut


def _sudachi() -> tuple[str, str, Callable[[str], Iterable[str]]]:
    from importlib.metadata import version

    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary().create(SplitMode.C)
    return (
        "sudachi.C",
        f"sudachipy {version('sudachipy')}",
        lambda text: [m.surface() for m in tokenizer.tokenize(text)],
    )


_DEDICATED: dict[str, Callable[[], tuple[str, str, Callable[[str], Iterable[str]]]]] = {
    "pythainlp": _pythainlp,
    "khmer-nltk": _khmer_nltk,
    "jieba": _jieba,
    "sudachi": _sudachi,
}
_PACKAGES = {
    "pythainlp": "pythainlp",
    "khmer-nltk": "khmer-nltk",
    "jieba": "jieba",
    "sudachi": "sudachipy sudachidict_core",
}


def describe_tokenizers(langs: Iterable[str]) -> dict[str, str]:
    """Language → ``name (version)`` of its tokenizer, as a run records it."""
    return {lang: tokenizer_for(lang).describe() for lang in langs}


def segmenter_table() -> list[tuple[str, str]]:
    """``(segmenter, languages)`` rows, as the README's table shows them."""
    by_kind: dict[str, list[str]] = {}
    for code, kind in SEGMENTERS.items():
        by_kind.setdefault(kind, []).append(code)
    rows = [(kind, ", ".join(sorted(codes))) for kind, codes in sorted(by_kind.items())]
    rows.append(("spacy", "every other language (spaCy's own, else its `xx` tokenizer)"))
    return rows


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


def alignment_tokenizer(lang: str) -> WordTokenizer:
    """The tokenizer PAXQA aligns a language's contexts with: the registry's, like every route.

    Links given to a ``given.v1`` aligner must index these tokens.
    """
    return tokenizer_for(lang)
