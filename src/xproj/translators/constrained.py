"""Lexically constrained translation with CTranslate2: outputs that contain given target terms.

A *constraint* is a target-language term that the translation should contain (PAXQA's question
translation takes them from the aligned context: :mod:`xproj.generators.paxqa.constraints`);
any object with ``x_text`` (the term) and ``question_start`` (where its source text starts in the
source sentence) will do. CTranslate2 has no logits processor, so the search
is built from what it has: n-best beam search, forced target prefixes and teacher-forced
scoring (:meth:`~xproj.translators.ct2.CT2Translator.hypotheses`, ``target_pieces``,
``score_tokens``). A constraint is *satisfied* when its X text occurs in the output
(:func:`satisfies`: NFKC, case and whitespace normalised; whole words for spaced scripts, plain
substring for zh/ja/th and other unspaced scripts). Per call:

0. **plain**: every question is translated once, 1-best, with the caller's options (one batched
   call). Questions without constraints, and those whose plain output already satisfies all of
   them, stop here: their cost is exactly plain translation's.
1. **n-best**: the others get ``n_best`` hypotheses by beam search (beam ``max(beam_size,
   n_best)``; one batched call).
2. **rescoring**: every candidate not yet scored (plain output and n-best, de-duplicated by
   tokens) is scored by teacher forcing in one batched ``score_tokens`` call; its score is the
   length-normalised log-probability ``sum(log p) / n ** length_normalisation`` over its
   ``n`` target pieces plus the end token (``1.0``: the mean log-prob per piece, ``0``: the
   sum). The best candidate is the one with the most constraints satisfied, then the highest
   score. If it satisfies all, the question is done.
3. **forced prefixes**, up to ``max_rounds`` rounds. Each round forces, per question, the
   first unmet constraint in question order that still has an untried prefix (``force``
   ``first``, the default: left to right, as the words of a question mostly keep their order
   in translation) or every unmet one (``all``). Its prefixes are the best candidate's tokens
   cut at ``max_positions`` word starts (every piece boundary for unspaced scripts), those
   nearest to the constraint's relative position in the English question, followed by the
   constraint's target pieces. When all of those cuts fall before the end of the constraints
   the best already satisfies (found by their pieces), one more prefix inserts the constraint
   at the nearest cut and keeps the best's tokens up to that end, so that one completion keeps
   what was won. The model completes each prefix (beam ``beam_size``, 1-best). All questions'
   prefixes of a round go to one batched call; the completions are rescored (step 2) and
   compete with the current best, so a round gains at most one more satisfied constraint per
   question and ``k`` unmet constraints need ``k`` rounds (default ``max_rounds`` 3 =
   ``max_constraints``). A prefix already tried is not tried again; a round with no new prefix
   ends the search. A constraint whose pieces contain the unknown token, or whose prefix would
   not leave room before ``max_decoding_length``, cannot be forced at that cut and is skipped.

Constraints still unsatisfied at the end are reported in ``unsatisfied``, never hidden.

Cost per question whose plain output misses some of its constraints, in sequences: decoded
``1 + n_best + Σ_rounds (≤ max_positions + 1)`` with ``force`` ``first`` (times the unmet
constraints with ``all``), scored ``≤ 1 + n_best`` plus one per completion. The n-best call
runs a beam of ``max(beam_size, n_best)``; completions run a beam of ``beam_size`` from the end
of their prefix. With the defaults (``n_best`` 8, 3 positions, 3 rounds, greedy completions):
at most 1 + 8 + 3 × 4 = 21 decoded and 21 scored. Calls: 1 plain + 1 n-best + 1 scoring, then per round one
subword tokenization, one completion and one scoring call, each batched over all questions.
Each :class:`ConstrainedTranslation` carries its own ``decoded``, ``scored`` and ``rounds``.

Example:
    >>> satisfies("Wer gewann den Super Bowl 50?", "super bowl 50", "de")
    True
    >>> satisfies("Das Bowling", "Bowl", "de"), satisfies("谁赢得了超级碗?", "超级 碗", "zh")
    (False, True)
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from xproj.schemas.errors import (
    E_BITEXT_LINE_COUNT,
    E_EMPTY_QUESTION,
    FORBID_EXTRA,
    InputFormatError,
    check_same_length,
    check_settings,
)
from xproj.text.scripts import UNSPACED_LANGS, base_lang, is_unspaced_char
from xproj.translators.base import DecodingOptions

if TYPE_CHECKING:
    from xproj.translators.ct2 import CT2Translator

Method = Literal["plain", "n_best", "prefix"]


class Constraint(Protocol):
    """What a constraint must have: its target text and where its source starts."""

    x_text: str
    question_start: int


@dataclass(frozen=True)
class ConstrainedSettings:
    """Settings of constrained translation (see the module docstring) and of how many constraints a question gets.

    Attributes:
        enabled: ``False`` translates every question plainly (constraints are still checked
            and reported).
        max_constraints: most constraints per question.
        n_best: hypotheses of the n-best step (0: skip it).
        beam_size: beam of the forced-prefix completions (the n-best step uses
            ``max(beam_size, n_best)``). Greedy by default: on the benchmark's 512-wide model a
            completion with beam 4 cost about 4 plain translations, and completions are most
            of the decoding.
        max_positions: cut positions tried per unsatisfied constraint and round.
        max_rounds: forced-prefix rounds (0: none).
        length_normalisation: exponent ``a`` of the rescoring score ``sum(log p) / n ** a``
            (1: mean log-prob per piece, 0: total log-prob).
        force: which unmet constraints a forced-prefix round forces: ``first``, the first in
            question order that still has an untried prefix (left to right, cheaper); ``all``,
            every one.

    Raises:
        ConfigError: XP301 for a value out of range.
    """

    __pydantic_config__ = FORBID_EXTRA

    enabled: bool = True
    max_constraints: int = 3
    n_best: int = 8
    beam_size: int = 1
    max_positions: int = 3
    max_rounds: int = 3
    length_normalisation: float = 1.0
    force: Literal["first", "all"] = "first"

    def __post_init__(self) -> None:
        checks = [
            (isinstance(self.enabled, bool), "enabled must be true or false"),
            (self.max_constraints >= 0, "max_constraints must be >= 0"),
            (self.n_best >= 0, "n_best must be >= 0"),
            (self.beam_size >= 1, "beam_size must be >= 1"),
            (self.max_positions >= 1, "max_positions must be >= 1"),
            (self.max_rounds >= 0, "max_rounds must be >= 0"),
            (0.0 <= self.length_normalisation <= 2.0, "length_normalisation must be in [0, 2]"),
            (self.force in ("first", "all"), "force must be first or all"),
        ]
        check_settings(
            "constrained translation", checks, fix="correct the value in the constraints settings."
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ConstrainedTranslation:
    """The constrained translation of one question.

    Attributes:
        text: the chosen translation.
        satisfied: ``x_text`` of the constraints it satisfies, in constraint order.
        unsatisfied: ``x_text`` of those it does not (``satisfied + unsatisfied`` are all of the
            question's constraints).
        score: its rescoring score (length-normalised log-prob, see
            :class:`ConstrainedSettings`); ``None`` when the plain output was kept without
            rescoring (no constraints, all met by it, or constraints disabled).
        plain_text: the unconstrained 1-best with the caller's options.
        method: where ``text`` came from: ``plain`` (the plain output), ``n_best`` (another
            n-best hypothesis) or ``prefix`` (a forced-prefix completion).
        decoded: hypotheses decoded for this question (plain, n-best, completions).
        scored: sequences rescored for this question.
        rounds: forced-prefix rounds run for this question.
        tokens: the model pieces of ``text``.
    """

    text: str
    satisfied: tuple[str, ...]
    unsatisfied: tuple[str, ...]
    score: float | None
    plain_text: str
    method: Method
    decoded: int = 1
    scored: int = 0
    rounds: int = 0
    tokens: tuple[str, ...] = ()


# -- satisfaction -------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _word_char(ch: str) -> bool:
    """A character that continues a word: a letter, digit or ``_`` of a spaced script.

    Characters of scripts written without spaces (Han, kana, Thai …) do not: a Latin word
    directly followed by one (``NFLの試合``) ends there.
    """
    if not (ch.isalnum() or ch == "_"):
        return False
    return not is_unspaced_char(ch)


def satisfies(text: str, x_text: str, lang: str) -> bool:
    """Whether ``x_text`` occurs in ``text`` (a constraint is met).

    Both are NFKC-normalised, casefolded and whitespace-collapsed. For unspaced scripts
    (:data:`UNSPACED_LANGS`) whitespace is removed and any substring counts; otherwise the match
    must not start or end inside a word (``Bowl`` does not match ``Bowling``); a character of an
    unspaced script next to the match does not make it part of a word.

    Example:
        >>> satisfies("Quién ganó  el SUPER Bowl?", "Super Bowl", "es")
        True
    """
    needle, hay = _normalise(x_text), _normalise(text)
    if not needle:
        return False
    if base_lang(lang) in UNSPACED_LANGS:
        return needle.replace(" ", "") in hay.replace(" ", "")
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = start == 0 or not (_word_char(hay[start - 1]) and _word_char(needle[0]))
        after = end == len(hay) or not (_word_char(hay[end]) and _word_char(needle[-1]))
        if before and after:
            return True
        start = hay.find(needle, start + 1)
    return False


# -- decoding -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    tokens: tuple[str, ...]
    text: str
    met: tuple[bool, ...]
    origin: Method
    score: float | None = None

    @property
    def key(self) -> tuple[int, float]:
        return (sum(self.met), self.score if self.score is not None else float("-inf"))


@dataclass(slots=True, eq=False)
class _State:
    question: str
    constraints: tuple[Constraint, ...]
    plain: _Candidate
    best: _Candidate
    seen: dict[tuple[str, ...], _Candidate] = field(default_factory=dict)
    decoded: int = 1
    scored: int = 0
    rounds: int = 0
    tried: set[tuple[str, ...]] = field(default_factory=set)

    @property
    def done(self) -> bool:
        return all(self.best.met)


def _cut_positions(
    tokens: Sequence[str], relative: float, limit: int, room: int, unspaced: bool
) -> list[int]:
    """Up to ``limit`` cut points (word starts, or every boundary when ``unspaced``) below
    ``room``, nearest first to ``relative`` × length."""
    n = len(tokens)
    cuts = [
        k
        for k in range(n + (1 if n == 0 else 0))
        if k < room and (k == 0 or unspaced or tokens[k].startswith("▁"))
    ]
    target = relative * n
    return sorted(cuts, key=lambda k: (abs(k - target), k))[:limit]


def _end_of(tokens: Sequence[str], sub: Sequence[str]) -> int:
    """End index of the first occurrence of ``sub`` in ``tokens`` (0 when absent)."""
    m = len(sub)
    for k in range(len(tokens) - m + 1):
        if m and tuple(tokens[k : k + m]) == tuple(sub):
            return k + m
    return 0


def translate_constrained(
    translator: CT2Translator,
    questions: Sequence[str],
    constraints: Sequence[Sequence[Constraint]],
    src_lang: str,
    tgt_lang: str,
    *,
    settings: ConstrainedSettings | None = None,
    options: DecodingOptions | None = None,
) -> list[ConstrainedTranslation]:
    """Translate questions so that each contains its constraints' X texts where the model can.

    See the module docstring for the steps and their cost.

    Args:
        translator: a :class:`~xproj.translators.ct2.CT2Translator` (or anything with its
            ``hypotheses``, ``target_pieces`` and ``score_tokens``; ``unk_token`` if present).
        questions: English questions.
        constraints: per question, its constraints (``ConstraintSet.constraints``).
        src_lang, tgt_lang: the language pair (``tgt_lang`` also picks substring matching for
            unspaced scripts).
        settings: search settings.
        options: decoding options of the plain translation (and, with the beam changed, of the
            n-best step and the completions).

    Returns:
        One :class:`ConstrainedTranslation` per question, in order.

    Raises:
        InputFormatError: XP106 when ``questions`` and ``constraints`` differ in length, XP119
            naming the record for an empty question.
        BackendError: XP506 (from the translator) for a question over the model's limit.
    """
    settings = settings or ConstrainedSettings()
    options = options or DecodingOptions()
    questions = list(questions)
    check_same_length(
        questions,
        constraints,
        "questions",
        "constraint lists",
        fix="give one (possibly empty) constraint list per question.",
        code=E_BITEXT_LINE_COUNT,
    )
    for index, question in enumerate(questions):
        if not isinstance(question, str) or not question.strip():
            raise InputFormatError(
                f"question {index} is empty.",
                fix="reject empty questions before translating them.",
                record=str(index),
                code=E_EMPTY_QUESTION,
            )
    if not questions:
        return []
    unspaced = base_lang(tgt_lang) in UNSPACED_LANGS
    alpha = settings.length_normalisation
    unk = getattr(translator, "unk_token", None)

    def candidate(c: Sequence[Constraint], tokens: Sequence[str], text: str, origin: Method):
        return _Candidate(
            tuple(tokens), text, tuple(satisfies(text, k.x_text, tgt_lang) for k in c), origin
        )

    plain = translator.hypotheses(questions, src_lang, tgt_lang, num_hypotheses=1, options=options)
    states = []
    for question, cons, hyps in zip(questions, constraints, plain, strict=True):
        hyp = hyps[0]
        first = candidate(cons, hyp.tokens, hyp.text, "plain")
        states.append(_State(question, tuple(cons), first, first, {first.tokens: first}))
    active = [s for s in states if settings.enabled and s.constraints and not s.done]

    def rescore(group: Sequence[_State]) -> None:
        todo = [(s, c) for s in group for c in s.seen.values() if c.score is None]
        if not todo:
            return
        logps = translator.score_tokens(
            [s.question for s, _ in todo], [list(c.tokens) for _, c in todo], src_lang, tgt_lang
        )
        for (state, cand), lp in zip(todo, logps, strict=True):
            cand.score = sum(lp) / (len(lp) ** alpha) if lp else float("-inf")
            state.scored += 1
        for state in group:
            state.best = max(state.seen.values(), key=lambda c: c.key)

    def add(state: _State, tokens: Sequence[str], text: str, origin: Method) -> None:
        state.decoded += 1
        if tuple(tokens) not in state.seen:
            state.seen[tuple(tokens)] = candidate(state.constraints, tokens, text, origin)

    if active and settings.n_best:
        nbest = translator.hypotheses(
            [s.question for s in active],
            src_lang,
            tgt_lang,
            num_hypotheses=settings.n_best,
            options=replace(options, beam_size=max(settings.beam_size, settings.n_best)),
        )
        for state, hyps in zip(active, nbest, strict=True):
            for hyp in hyps:
                add(state, hyp.tokens, hyp.text, "n_best")
        rescore(active)
        active = [s for s in active if not s.done]

    pieces: dict[str, list[str]] = {}
    completion = replace(options, beam_size=settings.beam_size)
    room = options.max_decoding_length
    for _ in range(settings.max_rounds):
        if not active:
            break
        wanted = sorted({k.x_text for s in active for k in s.constraints} - set(pieces))
        pieces.update(zip(wanted, translator.target_pieces(wanted), strict=True))
        owners: list[_State] = []
        prefixes: list[list[str]] = []
        for state in active:
            best = state.best
            keep = max(
                (
                    _end_of(best.tokens, pieces[k.x_text])
                    for k, ok in zip(state.constraints, best.met, strict=True)
                    if ok
                ),
                default=0,
            )
            unmet = [k for k, ok in zip(state.constraints, best.met, strict=True) if not ok]
            if settings.force == "first":
                unmet.sort(key=lambda k: k.question_start)
            for cons in unmet:
                forced = pieces[cons.x_text]
                if not forced or (unk is not None and unk in forced):
                    continue
                relative = cons.question_start / max(len(state.question), 1)
                cuts = _cut_positions(
                    best.tokens, relative, settings.max_positions, room - len(forced), unspaced
                )
                candidates = [[*best.tokens[:cut], *forced] for cut in cuts]
                if cuts and all(cut < keep for cut in cuts) and keep + len(forced) < room:
                    # every cut loses a constraint already met: also insert the constraint at
                    # the nearest cut and keep the best's tokens up to the last one met
                    cut = cuts[0]
                    candidates.append([*best.tokens[:cut], *forced, *best.tokens[cut:keep]])
                fresh = [p for p in candidates if tuple(p) not in state.tried]
                for prefix in fresh:
                    state.tried.add(tuple(prefix))
                    owners.append(state)
                    prefixes.append(prefix)
                if fresh and settings.force == "first":
                    break
        if not prefixes:
            break
        done = translator.hypotheses(
            [s.question for s in owners],
            src_lang,
            tgt_lang,
            prefixes=prefixes,
            num_hypotheses=1,
            options=completion,
        )
        for state, hyps in zip(owners, done, strict=True):
            for hyp in hyps:
                add(state, hyp.tokens, hyp.text, "prefix")
        round_states = list(dict.fromkeys(owners))
        for state in round_states:
            state.rounds += 1
        rescore(round_states)
        active = [s for s in active if not s.done]

    out = []
    for state in states:
        best = state.best
        out.append(
            ConstrainedTranslation(
                text=best.text,
                satisfied=tuple(
                    k.x_text for k, ok in zip(state.constraints, best.met, strict=True) if ok
                ),
                unsatisfied=tuple(
                    k.x_text for k, ok in zip(state.constraints, best.met, strict=True) if not ok
                ),
                score=best.score,
                plain_text=state.plain.text,
                method=best.origin,
                decoded=state.decoded,
                scored=state.scored,
                rounds=state.rounds,
                tokens=best.tokens,
            )
        )
    return out
