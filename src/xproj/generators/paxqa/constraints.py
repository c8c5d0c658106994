"""Lexically constrained question translation for PAXQA-style cross-lingual QA.

PAXQA translates each generated English question into X with lexical constraints taken from the
bitext: the English question usually repeats words of the English context ("Which team won
**Super Bowl 50**?"), and the X question should use the X context's words for them
("¿Qué equipo ganó el **Super Bowl 50**?"), so that question and context agree in X as they do in
English. Two parts:

**Extraction** (:func:`extract_constraints`). The question and the context are split into word
tokens (:func:`xproj.text.words.tokenizer_for`, the tokenizer the context was aligned with).

1. For every question token, the longest run of question tokens from it that also occurs in the
   context (casefolded, NFKC, curly apostrophes straightened); runs contained in the run of the
   previous token are not maximal and are dropped.
2. Each run is trimmed of stopwords, question words and punctuation at both ends
   (:data:`STOPWORDS`, a short list of our own); a run made only of those is skipped.
3. Runs are taken longest first (tokens, then characters, then position); a run overlapping one
   already taken in the question is not a constraint of its own.
4. Each run is looked up in the context; when it occurs several times, the occurrence nearest
   to the answer (``answer_start``) is tried first, then the next nearest. An occurrence is
   mapped onto the X context with :func:`xproj.generators.paxqa.answers.project_answer` (the word
   links, one contiguous X group, gaps filled, identical-surface anchors, edges trimmed), so
   ``context_x[x_start:x_start + len(x_text)] == x_text`` always holds.
5. At most ``max_constraints`` runs become :class:`Constraint` s. A run that no occurrence maps,
   or whose X span overlaps one already taken, is an :class:`Unmapped` entry with its reason;
   runs beyond the limit are listed in ``over_limit``. Nothing is dropped silently.

**Decoding** is general lexically constrained translation:
:func:`xproj.translators.constrained.translate_constrained` (its module docstring has the steps
and their cost) translates each question with its constraints.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from xproj.generators.paxqa.answers import (
    ANSWER_POLICY,
    AlignedContext,
    policy_for,
    project_answer,
)
from xproj.projectors.policy import ProjectionPolicy
from xproj.projectors.punct import is_punct
from xproj.translators.constrained import ConstrainedSettings

#: English function words, auxiliaries, pronouns and question words: an n-gram made only of
#: these (and punctuation) is never a constraint, and they are trimmed from n-gram edges.
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the this that these those some any each every no not nor
    and or but if then than so as because while although though
    of in on at to from by with without about into onto over under between among through
    during before after above below up down out off for against within along across around
    is are was were be been being am do does did doing done have has had having
    can could will would shall should may might must ought
    i me my mine we us our ours you your yours he him his she her hers it its they them their
    theirs myself yourself himself herself itself ourselves themselves one ones
    what which who whom whose when where why how whatever whichever whoever
    there here also only just very too more most much many such other another same own
    all both either neither few several else ever yet still again
    's ' '' `` ” “ -
    """.split()
)

#: Why an n-gram of the question did not become a constraint. Stable values.
UNMAPPED_REASONS = frozenset(
    {
        "no_alignment",  # no occurrence's tokens are linked to X tokens
        "punctuation_only",  # linked only to X punctuation
        "empty_projection",  # the X span is empty after trimming
        "empty_target",  # the X context has no tokens
        "overlap",  # its X span overlaps a constraint already taken
    }
)


def _key(token: str) -> str:
    return unicodedata.normalize("NFKC", token).replace("’", "'").replace("‘", "'").casefold()


def _skippable(token: str) -> bool:
    return _key(token) in STOPWORDS or is_punct(token)


# -- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Constraint:
    """An English n-gram of the question, found in the English context, and its X counterpart.

    Attributes:
        en_text: the n-gram as written in the English context
            (``context_en[en_start:en_start + len(en_text)] == en_text``).
        x_text: its projection in the X context
            (``context_x[x_start:x_start + len(x_text)] == x_text``): what the X question should
            contain.
        en_start: character offset of the occurrence used in the English context.
        x_start: character offset of ``x_text`` in the X context.
        question_start: character offset of the n-gram in the English question.
        question_end: end offset (exclusive) of the n-gram in the English question.
    """

    en_text: str
    x_text: str
    en_start: int
    x_start: int
    question_start: int = 0
    question_end: int = 0


@dataclass(frozen=True, slots=True)
class Unmapped:
    """A question n-gram found in the context that could not become a constraint.

    Attributes:
        en_text: the n-gram as written in the question.
        question_start: its character offset in the question.
        reason: one of :data:`UNMAPPED_REASONS` (for the nearest occurrence tried).
        detail: a human-readable explanation.
    """

    en_text: str
    question_start: int
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ConstraintSet:
    """What :func:`extract_constraints` found for one question.

    Attributes:
        constraints: the constraints, longest n-gram first (at most ``max_constraints``).
        unmapped: n-grams that occur in the context but could not be mapped onto X.
        over_limit: n-grams (question text) left out because ``max_constraints`` were taken.
    """

    constraints: tuple[Constraint, ...] = ()
    unmapped: tuple[Unmapped, ...] = ()
    over_limit: tuple[str, ...] = ()


# -- extraction ---------------------------------------------------------------------------------


def _maximal_ngrams(q: Sequence[str], c: Sequence[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of the maximal runs of ``q`` that occur in ``c``."""
    where: dict[str, list[int]] = {}
    for p, key in enumerate(c):
        where.setdefault(key, []).append(p)
    longest = [0] * len(q)
    for i, key in enumerate(q):
        for p in where.get(key, ()):
            n = 0
            while i + n < len(q) and p + n < len(c) and q[i + n] == c[p + n]:
                n += 1
            longest[i] = max(longest[i], n)
    runs = []
    for i, n in enumerate(longest):
        if n and not (i and longest[i - 1] >= n + 1):
            runs.append((i, i + n))
    return runs


def _occurrences(keys: Sequence[str], c: Sequence[str]) -> list[int]:
    n = len(keys)
    return [p for p in range(len(c) - n + 1) if list(c[p : p + n]) == list(keys)]


def extract_constraints(
    question_en: str,
    context_en: str,
    aligned: AlignedContext,
    context_x: str,
    *,
    settings: ConstrainedSettings | None = None,
    answer_start: int | None = None,
    lang_x: str | None = None,
    policy: ProjectionPolicy | None = None,
) -> ConstraintSet:
    """The constraints of one English question (see the module docstring for the steps).

    Args:
        question_en: the English question.
        context_en: the English context.
        aligned: the context pair's tokens and word links (:func:`~xproj.generators.paxqa.answers.
            align_contexts`); ``aligned.en_tokens`` must tokenize ``context_en``.
        context_x: the X context.
        settings: ``max_constraints`` is used.
        answer_start: the answer's character offset in ``context_en``; occurrences nearest to
            it are preferred (the first occurrence when ``None``).
        lang_x: the X language, for the projection policy (:func:`policy_for`).
        policy: an explicit projection policy (overrides ``lang_x``'s).

    Returns:
        A :class:`ConstraintSet`: constraints longest first, unmapped n-grams with reasons,
        n-grams over the limit.
    """
    from xproj.text.words import tokenizer_for

    settings = settings or ConstrainedSettings()
    # anchor_only was measured on answers; question constraints keep the aligner's links too
    policy = policy or replace(policy_for(lang_x) if lang_x else ANSWER_POLICY, anchor_only=False)
    q_tokens = tokenizer_for("en").tokenize(question_en)
    q_keys = [_key(t) for t, _, _ in q_tokens]
    c_keys = [_key(t) for t, _, _ in aligned.en_tokens]
    runs = []
    for start, end in _maximal_ngrams(q_keys, c_keys):
        while start < end and _skippable(q_tokens[start][0]):
            start += 1
        while end > start and _skippable(q_tokens[end - 1][0]):
            end -= 1
        if end > start:
            runs.append((start, end))
    runs = sorted(
        set(runs),
        key=lambda r: (
            -(r[1] - r[0]),
            -(q_tokens[r[1] - 1][2] - q_tokens[r[0]][1]),
            r[0],
        ),
    )
    taken: list[tuple[int, int]] = []
    constraints: list[Constraint] = []
    unmapped: list[Unmapped] = []
    over: list[str] = []
    x_spans: list[tuple[int, int]] = []
    for start, end in runs:
        if any(start < e and s < end for s, e in taken):
            continue
        q_start, q_end = q_tokens[start][1], q_tokens[end - 1][2]
        q_text = question_en[q_start:q_end]
        if len(constraints) >= settings.max_constraints:
            over.append(q_text)
            continue
        taken.append((start, end))
        occurrences = _occurrences(q_keys[start:end], c_keys)
        if answer_start is not None:
            occurrences.sort(key=lambda p: (abs(aligned.en_tokens[p][1] - answer_start), p))
        first_failure: tuple[str, str] | None = None
        found: Constraint | None = None
        for p in occurrences:
            en_s, en_e = aligned.en_tokens[p][1], aligned.en_tokens[p + end - start - 1][2]
            out = project_answer(
                context_en,
                en_s,
                context_en[en_s:en_e],
                context_x,
                aligned.en_tokens,
                aligned.x_tokens,
                aligned.links,
                policy=policy,
            )
            if not out.projected:
                reason = out.reason if out.reason in UNMAPPED_REASONS else "no_alignment"
                first_failure = first_failure or (str(reason), out.detail)
                continue
            assert out.text is not None and out.start is not None
            span = (out.start, out.start + len(out.text))
            if any(span[0] < e and s < span[1] for s, e in x_spans):
                first_failure = first_failure or (
                    "overlap",
                    f"X span {out.text!r} overlaps a constraint already taken",
                )
                continue
            found = Constraint(context_en[en_s:en_e], out.text, en_s, out.start, q_start, q_end)
            x_spans.append(span)
            break
        if found is not None:
            constraints.append(found)
        else:
            reason, detail = first_failure or ("no_alignment", "no occurrence in the context")
            unmapped.append(Unmapped(q_text, q_start, reason, detail))
    return ConstraintSet(tuple(constraints), tuple(unmapped), tuple(over))
