"""Answer projection for cross-lingual QA (PAXQA-style): an English answer span onto a translation.

An English answer is a character span of the English context. It is projected in four steps:

1. **English chars → English tokens**: the word tokens the span touches (partial tokens count);
2. **English tokens → X tokens**: :func:`xproj.projectors.project.project_spans` over the word links
   (one contiguous group: ``largest`` or ``extent`` per the policy, gaps filled, identical-surface
   anchors such as numbers and names);
3. **X tokens → X chars**: from the first token's start to the last token's end, widened to whole
   words where a token was part of one (:func:`whole_words`; Arabic proclitics are split off for
   alignment by :func:`split_clitics`, and a conjunction proclitic outside the span stays out);
4. **text**: ``context_x[start:end]``, stripped of surrounding whitespace and of unbalanced
   punctuation at the edges (e.g. a trailing comma); an opened bracket or quote whose closer
   follows within a few characters is closed (:func:`trim_span`).

Contexts are tokenized by the registry (:func:`xproj.text.words.tokenizer_for`): Chinese one token
per Han character, but numbers and Latin words whole, so ``1996`` and ``MPEG-2`` are anchored and
aligned like in the English text; Thai, Lao, Khmer, Burmese and Japanese in ICU's dictionary
words. Token surfaces are compared after NFKC (``１９９６`` = ``1996``).

The result always satisfies ``context_x[start:start + len(text)] == text``; anything that cannot be
projected is a :class:`ProjectedAnswer` with ``text=None`` and a ``reason`` (see :data:`REASONS`).

Paragraphs are aligned sentence by sentence: :func:`xproj.text.sentences.sentence_spans` splits
each context, :func:`pair_sentences` pairs the two lists by length (1-1, 1-2, 2-1, 1-0, 0-1
beads) or, for Thai and Lao, :func:`pairing_by_links` pairs them by a first paragraph-level
alignment, and :func:`paragraph_links` joins the per-sentence links back into paragraph token
indices.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from xproj.projectors.policy import ProjectionPolicy
from xproj.projectors.project import project_spans
from xproj.projectors.punct import is_punct
from xproj.schemas.records import CharSpan, TokenSpan, char_span_to_token
from xproj.text.scripts import DICTIONARY_SCRIPTS, base_lang, is_unspaced_char
from xproj.text.sentences import sentence_spans
from xproj.text.words import tokenizer_for

Token = tuple[str, int, int]
Link = tuple[int, int]

#: Policy used for answers: one contiguous group, gaps of up to three tokens filled, anchors on
#: and overriding the aligner's links. (On XQuAD gap 3 beat gap 1 by 0.2-1.4 token F1 in every
#: language; 4 and 6 were no better. ``anchor_only`` gave +0.9 F1 on es and +2.8 on th.)
ANSWER_POLICY = ProjectionPolicy(
    punctuation="drop",
    gap_fill=3,
    grouping="largest",
    overlap="keep",
    anchor_identical=True,
    anchor_only=True,
)

#: Why an answer was not projected. Stable values.
REASONS = frozenset(
    {
        "empty_answer",  # the English answer text is empty or only whitespace
        "answer_mismatch",  # context_en[start:start+len(text)] != text
        "no_source_tokens",  # the English span touches no token
        "no_alignment",  # none of the answer's tokens is linked to an X token
        "punctuation_only",  # linked only to X punctuation
        "empty_target",  # the X context has no tokens
        "empty_projection",  # the X span is empty after trimming
    }
)


@dataclass(frozen=True, slots=True)
class ProjectedAnswer:
    """One projected answer: ``text``/``start`` in the X context, or ``reason`` why not.

    Attributes:
        text: the X answer text (``None`` when rejected).
        start: its character offset in the X context (``None`` when rejected).
        reason: one of :data:`REASONS` when rejected, else ``None``.
        detail: a human-readable explanation of the reason.
        src_tokens: the English token span used (``None`` when none).
        tgt_tokens: the X token span chosen (``None`` when rejected).
    """

    text: str | None
    start: int | None
    reason: str | None = None
    detail: str = ""
    src_tokens: TokenSpan | None = None
    tgt_tokens: TokenSpan | None = None

    @property
    def projected(self) -> bool:
        return self.reason is None


def _reject(reason: str, detail: str, src: TokenSpan | None = None) -> ProjectedAnswer:
    return ProjectedAnswer(None, None, reason, detail, src_tokens=src)


_OPEN, _CLOSE = "([{«“‘「『《（", ")]}»”’」』》）"
_CLOSER_REACH = 12


#: Arabic-script proclitics split off for alignment (:func:`split_clitics`): the conjunctions
#: first, then the prepositions. A conjunction left out of a projected span stays out.
_CONJ_CLITICS = ("و", "ف")
_PREP_CLITICS = ("ب", "ل", "ك")


def _is_arabic_letter(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" and ch.isalpha()


def _in_word(text: str, k: int) -> bool:
    """Whether position ``k`` separates two letters/digits of one word (not CJK characters)."""
    if not 0 < k < len(text):
        return False
    a, b = text[k - 1], text[k]
    return _wordish(a) and _wordish(b) and not (is_unspaced_char(a) or is_unspaced_char(b))


def _wordish(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch)[0] == "M"


#: Scripts written without spaces whose words a dictionary segmenter may cut into pieces (Thai,
#: Lao, Khmer, Burmese, Tibetan; not Han and kana, which are one token per character anyway).
_FRAGMENTED = re.compile(f"[{DICTIONARY_SCRIPTS}]")
#: At most this many unaligned pieces are taken on each side (:func:`glued_fragments`).
_MAX_FRAGMENTS = 2


def glued_fragments(x_tokens: Sequence[Token], linked: set[int], span: TokenSpan) -> TokenSpan:
    """Take in unaligned pieces glued to the span's edge in a script written without spaces.

    A dictionary segmenter cuts a word it does not know (a transliterated name: ``โมมุส`` →
    ``โม`` ``มุส``) into pieces, and the aligner often links only one of them. A neighbouring
    token that touches the span with no space between, is written in such a script and has no
    link at all is taken in (at most two per side). On XQuAD th this added about one point of F1.

    Example:
        >>> toks = [("โม", 0, 2), ("มุส", 2, 5), ("คือ", 6, 9)]
        >>> glued_fragments(toks, {1, 2}, TokenSpan(1, 2, "ANS"))
        TokenSpan(start=0, end=2, label='ANS')
    """
    start, end = span.start, span.end
    for _ in range(_MAX_FRAGMENTS):
        if start > 0 and _glued(x_tokens[start - 1], x_tokens[start], linked, start - 1):
            start -= 1
        if end < len(x_tokens) and _glued(x_tokens[end - 1], x_tokens[end], linked, end):
            end += 1
    if (start, end) == (span.start, span.end):
        return span
    return TokenSpan(start, end, span.label)


def _glued(left: Token, right: Token, linked: set[int], candidate: int) -> bool:
    """Whether token ``candidate`` (``left``'s or ``right``'s index) is an unlinked piece that
    touches the other with no space, both in a fragmenting script."""
    return (
        right[1] == left[2]
        and candidate not in linked
        and bool(_FRAGMENTED.match(left[0][-1:]) and _FRAGMENTED.match(right[0][:1]))
    )


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole words where it cuts one (spaced scripts only).

    Alignment tokens can be parts of words (Arabic proclitics split by :func:`split_clitics`); an
    answer is made of whole words, except that a single conjunction proclitic (Arabic ``و``/``ف``,
    "and"/"so") left outside the span stays outside. Han and kana characters are never joined.

    Example:
        >>> t = "قال وبول سامويلسون"
        >>> s, e = whole_words(t, 5, 8)
        >>> t[s:e]
        'بول'
        >>> s, e = whole_words("bookcase", 4, 6)
        >>> "bookcase"[s:e]
        'bookcase'
    """
    if start >= end:
        return start, end
    word_start = start
    while _in_word(text, word_start):
        word_start -= 1
    if (
        word_start < start
        and text[word_start] in _CONJ_CLITICS
        and _is_arabic_letter(text[word_start + 1])
    ):
        word_start += 1
    start = word_start
    while _in_word(text, end):
        end += 1
    return start, end


def split_clitics(
    tokens: Sequence[Token], vocabulary: Counter[str] | dict[str, int]
) -> list[Token]:
    """Split Arabic-script proclitics (``و ف`` then ``ب ل ك``) off tokens, for alignment.

    A prefix letter is split off only when the rest (at least two letters) is itself a word of
    ``vocabulary`` (the token counts of the whole corpus being aligned) or starts with the article
    ``ال``; so ``والكتاب`` → ``و`` + ``الكتاب`` but ``وقت`` ("time") stays whole. The pieces keep
    their character offsets; :func:`whole_words` puts them back together in answers.

    Example:
        >>> toks = [("وبالكتاب", 0, 8)]
        >>> [t for t, _, _ in split_clitics(toks, {"كتاب": 1})]
        ['و', 'ب', 'الكتاب']
    """

    def known(stem: str, groups: tuple[tuple[str, ...], ...]) -> bool:
        if len(stem) < 2:
            return False
        if stem.startswith("ال") or vocabulary.get(stem, 0) > 0:
            return True
        return any(stem[0] in g and known(stem[1:], groups[k + 1 :]) for k, g in enumerate(groups))

    out: list[Token] = []
    for tok, s, e in tokens:
        if len(tok) < 3 or not all(map(_is_arabic_letter, tok)):
            out.append((tok, s, e))
            continue
        groups = (_CONJ_CLITICS, _PREP_CLITICS)
        while len(tok) >= 3 and groups:
            k = next((k for k, g in enumerate(groups) if tok[0] in g), None)
            if k is None or not known(tok[1:], groups[k + 1 :]):
                break
            out.append((tok[0], s, s + 1))
            tok, s, groups = tok[1:], s + 1, groups[k + 1 :]
        out.append((tok, s, e))
    return out


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` of ``text`` past whitespace and unbalanced edge punctuation.

    A bracket or quote stays when its partner is inside the span (``(NFL)`` keeps both); a span
    that opens a bracket and stops just before its closer is extended over the closer.

    Example:
        >>> t = "in Rome, Italy."
        >>> s, e = trim_span(t, 3, 15)
        >>> t[s:e]
        'Rome, Italy'
    """
    # an opener left without its closer inside: take the text up to the closer when it comes
    # within _CLOSER_REACH characters (titles such as 《蒙特利尔议定书》 are one unit)
    for op, cl in zip(_OPEN, _CLOSE, strict=True):
        inside = text[start:end]
        if inside.count(op) > inside.count(cl) and end < len(text):
            stop = text.find(cl, end, end + _CLOSER_REACH)
            if stop >= 0 and op not in text[end:stop] and not _SENT_END.search(text[end:stop]):
                end = stop + 1
    while start < end:
        ch = text[start]
        if ch.isspace():
            start += 1
        elif is_punct(ch) and not (ch in _OPEN and _CLOSE[_OPEN.index(ch)] in text[start:end]):
            start += 1
        else:
            break
    while end > start:
        ch = text[end - 1]
        if ch.isspace():
            end -= 1
        elif is_punct(ch) and not (ch in _CLOSE and _OPEN[_CLOSE.index(ch)] in text[start:end]):
            end -= 1
        else:
            break
    return start, end


def _surface(token: str) -> str:
    """The form tokens are compared and counted in: NFKC (full-width ``１９９６`` → ``1996``)."""
    return token if token.isascii() else unicodedata.normalize("NFKC", token)


def project_answer(
    context_en: str,
    answer_start: int,
    answer_text: str,
    context_x: str,
    en_tokens: Sequence[Token],
    x_tokens: Sequence[Token],
    links: Iterable[Link],
    *,
    policy: ProjectionPolicy = ANSWER_POLICY,
) -> ProjectedAnswer:
    """Project one English answer onto the X context through paragraph-level word links.

    Args:
        context_en: the English context.
        answer_start: character offset of the answer in ``context_en``.
        answer_text: the English answer text.
        context_x: the X-language context.
        en_tokens: ``(token, start, end)`` of ``context_en``.
        x_tokens: ``(token, start, end)`` of ``context_x``.
        links: ``(english token index, X token index)`` pairs over those token lists.
        policy: grouping, gap filling and anchoring (``overlap`` is irrelevant: one span).

    Returns:
        A :class:`ProjectedAnswer`; when projected, ``context_x[start:start+len(text)] == text``.

    Raises:
        InputFormatError: a link outside either token list ([XP107]).
    """
    if not answer_text.strip():
        return _reject("empty_answer", "the English answer is empty")
    end = answer_start + len(answer_text)
    if answer_start < 0 or context_en[answer_start:end] != answer_text:
        return _reject(
            "answer_mismatch",
            f"context_en[{answer_start}:{end}] is {context_en[answer_start:end]!r}, "
            f"not the answer {answer_text!r}",
        )
    offsets_en = [(s, e) for _, s, e in en_tokens]
    src, _exact = char_span_to_token(CharSpan(answer_start, end, "ANS"), offsets_en)
    if src is None:
        return _reject("no_source_tokens", f"answer {answer_text!r} touches no English token")
    if not x_tokens:
        return _reject("empty_target", "the X context has no tokens", src)
    links = list(links)
    outcome = project_spans(
        [_surface(t) for t, _, _ in en_tokens],
        [_surface(t) for t, _, _ in x_tokens],
        links,
        [src],
        policy=policy,
    )[0]
    if not outcome.projected or outcome.target is None:
        reason = str(outcome.reason) if outcome.reason is not None else "no_alignment"
        if reason not in REASONS:
            reason = "no_alignment"
        return _reject(reason, outcome.detail or f"tokens {src.start}-{src.end} not aligned", src)
    tgt = glued_fragments(x_tokens, {j for _, j in links}, outcome.target)
    start, stop = whole_words(context_x, x_tokens[tgt.start][1], x_tokens[tgt.end - 1][2])
    start, stop = trim_span(context_x, start, stop)
    if stop <= start:
        return _reject("empty_projection", "the X span is only punctuation or space", src)
    return ProjectedAnswer(context_x[start:stop], start, src_tokens=src, tgt_tokens=tgt)


# --- sentences ---------------------------------------------------------------------------------

#: A sentence end inside a text (a bracket is never closed across one).
_SENT_END = re.compile(r"[.!?;。！？；]+[\"'”’»)）」』]*(?=\s|$)|[。！？；]+[”’」』）]*")


_BEADS = ((1, 1, 0.0), (1, 2, 1.5), (2, 1, 1.5), (1, 0, 4.0), (0, 1, 4.0))


def pair_sentences(
    len_en: Sequence[int], len_x: Sequence[int], ratio: float | None = None
) -> list[tuple[list[int], list[int]]]:
    """Pair two sentence lists by length with dynamic programming (Gale–Church in spirit).

    Args:
        len_en: the English sentence lengths (characters).
        len_x: the X sentence lengths.
        ratio: expected X/English length ratio (default: the ratio of the totals).

    Returns:
        Beads ``(english indices, X indices)`` in order, covering every sentence once. Beads are
        1-1, 1-2, 2-1 or, at a cost, 1-0 / 0-1.

    Example:
        >>> pair_sentences([10, 20, 30], [11, 52])
        [([0], [0]), ([1, 2], [1])]
    """
    n, m = len(len_en), len(len_x)
    if ratio is None:
        ratio = (sum(len_x) / sum(len_en)) if sum(len_en) and sum(len_x) else 1.0
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if cost[i][j] == inf:
                continue
            for di, dj, penalty in _BEADS:
                a, b = i + di, j + dj
                if a > n or b > m:
                    continue
                le = sum(len_en[i:a]) * ratio
                lx = sum(len_x[j:b])
                c = cost[i][j] + penalty + abs(le - lx) / (le + lx + 1.0) * 10.0
                if c < cost[a][b]:
                    cost[a][b] = c
                    back[a][b] = (i, j)
    beads: list[tuple[list[int], list[int]]] = []
    i, j = n, m
    while (i, j) != (0, 0):
        prev = back[i][j]
        assert prev is not None
        beads.append((list(range(prev[0], i)), list(range(prev[1], j))))
        i, j = prev
    beads.reverse()
    return beads


@dataclass(frozen=True, slots=True)
class SentencePairing:
    """The sentence-level pieces of one paragraph pair, ready for one aligner call.

    ``pairs[k]`` holds the English and X token indices (into the paragraph token lists) of bead
    ``k``; align ``([en_tokens[i] for i in pairs[k][0]], [x_tokens[j] for j in pairs[k][1]])``.
    """

    pairs: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]


def sentence_pairing(
    context_en: str,
    context_x: str,
    en_tokens: Sequence[Token],
    x_tokens: Sequence[Token],
    lang_x: str | None = None,
) -> SentencePairing:
    """Split both contexts into sentences, pair them by length and map each bead to token indices.

    Tokens that start between sentences (never, with the splitter above, except stray ones) are
    left out of every bead and so stay unaligned.
    """
    sent_en, sent_x = sentence_spans(context_en, "en"), sentence_spans(context_x, lang_x)
    beads = _merge_orphans(pair_sentences([e - s for s, e in sent_en], [e - s for s, e in sent_x]))
    return _bead_tokens(beads, _sentence_of(sent_en, en_tokens), _sentence_of(sent_x, x_tokens))


#: Languages that mark sentences with spaces (Thai, Lao): their pieces are paired with English
#: sentences through a first, paragraph-level alignment (:func:`pairing_by_links`) rather than by
#: length, since a space also separates clauses and the piece lengths say little; the links of
#: both passes are kept. On XQuAD th (dev, before anchor_only and glued pieces) the bead pass gave
#: character F1 81.8 against 74 for the paragraph pass alone and 57 for length pairing of the
#: space-delimited pieces; keeping both passes' links then added about 2.5 (85.6 → 88.1).
LINK_PAIRED_LANGS = frozenset({"th", "lo"})


def pairing_by_links(
    context_en: str,
    context_x: str,
    en_tokens: Sequence[Token],
    x_tokens: Sequence[Token],
    links: Iterable[Link],
    lang_x: str | None = None,
) -> SentencePairing:
    """Pair X sentences with English sentences by a first alignment's links.

    Each X sentence (in order) goes to one English sentence, never going back: the monotone
    assignment that keeps the most links inside its beads, the first X sentence with the first
    English sentence and the last with the last. English sentences that get no X sentence join a
    neighbour's bead (:func:`_merge_orphans`).

    Example:
        >>> en, x = "A b. C d.", "ก ข ค ง"  # four Thai sentences
        >>> te = [("A", 0, 1), ("b", 2, 3), (".", 3, 4), ("C", 5, 6), ("d", 7, 8), (".", 8, 9)]
        >>> tx = [("ก", 0, 1), ("ข", 2, 3), ("ค", 4, 5), ("ง", 6, 7)]
        >>> pairing_by_links(en, x, te, tx, {(0, 0), (1, 1), (3, 2), (4, 3)}, "th").pairs
        (((0, 1, 2), (0, 1)), ((3, 4, 5), (2, 3)))
    """
    sent_en, sent_x = sentence_spans(context_en, "en"), sentence_spans(context_x, lang_x)
    if not sent_en or not sent_x:
        return SentencePairing(((tuple(range(len(en_tokens))), tuple(range(len(x_tokens)))),))
    of_en, of_x = _sentence_of(sent_en, en_tokens), _sentence_of(sent_x, x_tokens)
    n, m = len(sent_en), len(sent_x)
    votes = [[0] * n for _ in range(m)]
    for i, j in links:
        if of_en[i] is not None and of_x[j] is not None:
            votes[of_x[j]][of_en[i]] += 1
    # best[j][i]: most links kept with X sentence j in English sentence i (monotone)
    lowest = float("-inf")
    best = [[lowest] * n for _ in range(m)]
    back = [[0] * n for _ in range(m)]
    best[0][0] = votes[0][0]
    for j in range(1, m):
        top, arg = lowest, 0
        for i in range(n):
            if best[j - 1][i] > top:
                top, arg = best[j - 1][i], i
            best[j][i], back[j][i] = top + votes[j][i], arg
    assign = [0] * m
    i = n - 1 if m > 1 else 0
    for j in range(m - 1, -1, -1):
        assign[j] = i
        i = back[j][i]
    beads = _merge_orphans([([i], [j for j in range(m) if assign[j] == i]) for i in range(n)])
    return _bead_tokens(beads, of_en, of_x)


def _bead_tokens(
    beads: Sequence[tuple[list[int], list[int]]],
    of_en: Sequence[int | None],
    of_x: Sequence[int | None],
) -> SentencePairing:
    """Sentence beads as token indices: each token goes with the bead of its sentence."""
    bead_en = {s: b for b, (en_idx, _) in enumerate(beads) for s in en_idx}
    bead_x = {s: b for b, (_, x_idx) in enumerate(beads) for s in x_idx}
    en_toks: list[list[int]] = [[] for _ in beads]
    x_toks: list[list[int]] = [[] for _ in beads]
    for k, s in enumerate(of_en):
        if s in bead_en:
            en_toks[bead_en[s]].append(k)
    for k, s in enumerate(of_x):
        if s in bead_x:
            x_toks[bead_x[s]].append(k)
    return SentencePairing(tuple(zip(map(tuple, en_toks), map(tuple, x_toks), strict=True)))


def _sentence_of(spans: Sequence[tuple[int, int]], tokens: Sequence[Token]) -> list[int | None]:
    """The sentence each token starts in (``None`` between sentences)."""
    out: list[int | None] = []
    k = 0
    for _, start, _ in tokens:
        while k + 1 < len(spans) and start >= spans[k][1]:
            k += 1
        out.append(k if spans[k][0] <= start < spans[k][1] else None)
    return out


def _merge_orphans(
    beads: list[tuple[list[int], list[int]]],
) -> list[tuple[list[int], list[int]]]:
    """Join each 1-0 / 0-1 bead to its neighbour, so that no sentence is left unaligned."""
    out: list[tuple[list[int], list[int]]] = []
    pending: tuple[list[int], list[int]] = ([], [])
    for en_idx, x_idx in beads:
        if not en_idx or not x_idx:
            if out:
                out[-1] = (out[-1][0] + en_idx, out[-1][1] + x_idx)
            else:
                pending = (pending[0] + en_idx, pending[1] + x_idx)
            continue
        out.append((pending[0] + en_idx, pending[1] + x_idx))
        pending = ([], [])
    if pending[0] or pending[1]:
        out.append(pending)
    return out


def paragraph_links(
    pairing: SentencePairing, sentence_links: Sequence[Iterable[Link]]
) -> set[Link]:
    """Join per-bead links (bead-local indices) into paragraph token indices."""
    out: set[Link] = set()
    for (en_idx, x_idx), links in zip(pairing.pairs, sentence_links, strict=True):
        for i, j in links:
            out.add((en_idx[i], x_idx[j]))
    return out


# --- contexts ----------------------------------------------------------------------------------

#: Characters-as-tokens languages (Han and kana are one token per character): a word is several
#: tokens of which the aligner often links only some, so gaps of up to 5 characters are filled;
#: the largest group wins (on XQuAD zh it beat ``extent``, which reaches stray links far away).
CHARACTER_POLICY = replace(ANSWER_POLICY, gap_fill=5)
#: Languages whose proclitics :func:`align_contexts` splits off for alignment.
_CLITIC_LANGS = frozenset({"ar"})


def policy_for(lang: str) -> ProjectionPolicy:
    """The answer policy for an X language: :data:`CHARACTER_POLICY` where its tokens are
    characters (Chinese), else the default."""
    return CHARACTER_POLICY if tokenizer_for(lang).per_character else ANSWER_POLICY


@dataclass(frozen=True, slots=True)
class AlignedContext:
    """One context pair, tokenized and word-aligned at paragraph level.

    Attributes:
        en_tokens: ``(token, start, end)`` of the English context.
        x_tokens: ``(token, start, end)`` of the X context.
        links: ``(english token index, X token index)`` over those lists.
        beads: how many aligner items the pair was aligned as (sentence beads).
    """

    en_tokens: tuple[Token, ...]
    x_tokens: tuple[Token, ...]
    links: frozenset[Link]
    beads: int = 1


class _Aligner(Protocol):
    def align(self, pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> Sequence[Any]: ...


def align_contexts(
    contexts: Sequence[tuple[str, str]],
    lang_x: str,
    aligner: _Aligner,
    *,
    by_sentence: bool = True,
    tokenizer: Any = None,
) -> list[AlignedContext]:
    """Tokenize and align many (English, X) context pairs in one aligner call.

    With ``by_sentence`` each context pair is split into sentence beads
    (:func:`sentence_pairing`) and all beads of all contexts go to the aligner together; links are
    joined back into paragraph token indices. Thai and Lao (:data:`LINK_PAIRED_LANGS`) take two
    calls: whole paragraphs first, whose links pair the sentences (:func:`pairing_by_links`), then
    the beads; the links of both are kept. Without ``by_sentence`` each context pair is one
    aligner item (what a ``given.v1`` aligner with one Pharaoh line per context expects).

    Args:
        contexts: ``(context_en, context_x)`` pairs.
        lang_x: the X language (picks the word tokenizer).
        aligner: anything with ``align(list of (src tokens, tgt tokens)) -> alignments`` whose
            items have ``.links`` (the :mod:`xproj.projectors.aligners` interface).
        by_sentence: align sentence beads instead of whole paragraphs.
        tokenizer: the X tokenizer, if not the registry's (benchmarks compare segmenters).
    """
    tok_en, tok_x = tokenizer_for("en"), tokenizer or tokenizer_for(lang_x)
    tokens = [(tuple(tok_en.tokenize(en)), tuple(tok_x.tokenize(x))) for en, x in contexts]
    if base_lang(lang_x) in _CLITIC_LANGS:
        vocabulary = Counter(t for _, tx in tokens for t, _, _ in tx)
        tokens = [(ten, tuple(split_clitics(tx, vocabulary))) for ten, tx in tokens]
    whole = [
        SentencePairing(((tuple(range(len(ten))), tuple(range(len(tx)))),)) for ten, tx in tokens
    ]
    if not by_sentence:
        pairings = whole
    elif base_lang(lang_x) in LINK_PAIRED_LANGS:
        first = _align_pairings(tokens, whole, aligner)
        pairings = [
            pairing_by_links(en, x, ten, tx, links, lang_x)
            for (en, x), (ten, tx), links in zip(contexts, tokens, first, strict=True)
        ]
        second = _align_pairings(tokens, pairings, aligner)
        # the paragraph-level links add what a misassigned piece cost the bead alignment
        return [
            AlignedContext(ten, tx, frozenset(a | b), len(p.pairs))
            for (ten, tx), a, b, p in zip(tokens, second, first, pairings, strict=True)
        ]
    else:
        pairings = [
            sentence_pairing(en, x, ten, tx, lang_x)
            for (en, x), (ten, tx) in zip(contexts, tokens, strict=True)
        ]
    links = _align_pairings(tokens, pairings, aligner)
    return [
        AlignedContext(ten, tx, frozenset(ls), len(p.pairs))
        for (ten, tx), ls, p in zip(tokens, links, pairings, strict=True)
    ]


def _align_pairings(
    tokens: Sequence[tuple[Sequence[Token], Sequence[Token]]],
    pairings: Sequence[SentencePairing],
    aligner: _Aligner,
) -> list[set[Link]]:
    """All beads of all contexts in one aligner call; links in paragraph token indices."""
    items = [
        ([_surface(ten[i][0]) for i in e], [_surface(tx[j][0]) for j in xs])
        for (ten, tx), pairing in zip(tokens, pairings, strict=True)
        for e, xs in pairing.pairs
    ]
    alignments = list(aligner.align(items)) if items else []
    out: list[set[Link]] = []
    position = 0
    for pairing in pairings:
        count = len(pairing.pairs)
        out.append(paragraph_links(pairing, [alignments[position + k].links for k in range(count)]))
        position += count
    return out
