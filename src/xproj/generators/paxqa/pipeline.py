"""PAXQA's steps on one batch of context pairs: align, pick answers, ask, project, translate, filter.

For a batch of English–X context pairs (the X side already there or already translated):

1. **align** the contexts sentence by sentence in one aligner call
   (:func:`xproj.generators.paxqa.answers.align_contexts`);
2. **answers**: candidates on the English side (:mod:`xproj.generators.paxqa.candidates`), or the input's
   own questions and answers (SQuAD input);
3. **project** each answer onto the X context at character level; an answer that cannot be
   projected is dropped with its reason before any question is generated for it;
4. **generate** a question per answer (:class:`xproj.generators.paxqa.questions.QuestionGenerator`,
   one batched, cached call);
5. **check** the question (not empty, long enough, not giving the answer away, not a duplicate in
   its context);
6. **translate** the question with lexical constraints from the context alignment
   (:func:`xproj.translators.constrained.translate_constrained`): PAXQA's constraints are the X
   phrases aligned to the question's n-grams that also occur in the English context;
7. **score and filter** (:class:`FilterSettings`): the QG score, the translation score and a
   round-trip score — the X question translated back to English (cached) and compared with the
   English question by token F1 — each with an optional threshold.

Nothing is dropped silently: every candidate or question that does not become an example is a
``paxqa_dropped`` row with its stage, reason and detail.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from xproj.generators.paxqa.answers import REASONS as ANSWER_REASONS
from xproj.generators.paxqa.answers import (
    AlignedContext,
    align_contexts,
    policy_for,
    project_answer,
)
from xproj.generators.paxqa.inputs import ContextPair
from xproj.generators.paxqa.questions import QG_FLAGS
from xproj.schemas.errors import E_BAD_CONFIG, FORBID_EXTRA, ConfigError
from xproj.schemas.tables import Answers, PaxqaDroppedRow, PaxqaRow

#: Every reason a ``paxqa_dropped`` row can carry, by stage. Stable values; :func:`drop` refuses
#: others.
DROP_REASONS: dict[str, frozenset[str]] = {
    # the X context could not be made (SQuAD input translated by the run)
    "context": frozenset({"context_too_long", "empty_translation"}),
    # the English answer could not be projected onto the X context
    "answer": ANSWER_REASONS | {"answer_not_projected"},
    # no usable English question
    "question": QG_FLAGS
    | {"question_too_short", "question_too_long", "answer_in_question", "duplicate_question"},
    # the translated example did not pass the filters
    "filter": frozenset(
        {
            "empty_translation",
            "low_qg_score",
            "low_translation_score",
            "low_round_trip",
            "unsatisfied_constraints",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class FilterSettings:
    """Which generated examples are kept.

    Attributes:
        min_question_words: fewest words in the English question.
        max_question_words: most words in the English question.
        drop_answer_in_question: drop a question that contains its answer's text (it gives the
            answer away).
        round_trip: compute the round-trip score (one extra cached translation per question).
        min_qg_score: least QG score (mean log-probability per token); ``None``: no threshold.
        min_translation_score: least translation score (mean log-probability per token of the
            X question); ``None``: no threshold.
        min_round_trip: least round-trip token F1 in [0, 1]; ``None``: no threshold.
        require_constraints: drop an example whose question translation missed a constraint
            (by default such examples are kept, their unsatisfied constraints recorded).
    """

    __pydantic_config__ = FORBID_EXTRA

    min_question_words: int = 3
    max_question_words: int = 40
    drop_answer_in_question: bool = True
    round_trip: bool = True
    min_qg_score: float | None = None
    min_translation_score: float | None = None
    min_round_trip: float | None = None
    require_constraints: bool = False

    def __post_init__(self) -> None:
        if self.min_question_words < 1 or self.max_question_words < self.min_question_words:
            raise ConfigError(
                f"question word limits {self.min_question_words}..{self.max_question_words} are "
                "not a range.",
                fix="use 1 <= min_question_words <= max_question_words.",
                code=E_BAD_CONFIG,
            )
        if self.min_round_trip is not None and not 0.0 <= self.min_round_trip <= 1.0:
            raise ConfigError(
                f"min_round_trip {self.min_round_trip} is outside [0, 1].",
                fix="give a token F1 between 0 and 1, or leave it unset.",
                code=E_BAD_CONFIG,
            )
        if self.min_round_trip is not None and not self.round_trip:
            raise ConfigError(
                "min_round_trip is set but round_trip is off.",
                fix="turn round_trip on or unset min_round_trip.",
                code=E_BAD_CONFIG,
            )


@dataclass
class Models:
    """The models of a run.

    Attributes:
        translator: translates contexts and round trips (cached).
        inner: the CTranslate2 translation model (n-best, forced prefixes, scoring).
        qg: the question generator; ``None`` when only the input's own questions are used.
        nlp: a spaCy pipeline for answer candidates (``None``: rules only).
        aligner: the word aligner.
        by_sentence: align sentence beads (``False`` for ``given.v1`` links per context).
    """

    translator: Any
    inner: Any
    qg: Any
    nlp: Any
    aligner: Any
    by_sentence: bool = True
    cache: Any = None
    run_id: str | None = None
    constrained_stats: Any = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything but models: candidate, constraint and filter settings."""

    candidates: Any
    constraints: Any
    filters: FilterSettings = field(default_factory=FilterSettings)
    questions: str = "generate"  # generate | given | both
    translation_options: Any = None


@dataclass
class Batch:
    """Rows of one batch: kept examples and dropped ones, plus counters for the run metrics."""

    examples: list[PaxqaRow] = field(default_factory=list)
    dropped: list[PaxqaDroppedRow] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)


@dataclass
class _Pending:
    """An answer on its way to becoming an example."""

    id: str
    pair: ContextPair
    context_x: str
    aligned: AlignedContext
    answers_en: list[tuple[str, int]]
    answers_x: list[tuple[str, int]]
    kind: str
    question_source: str
    question_en: str = ""
    qg_score: float | None = None


def run_batch(
    pairs: Sequence[ContextPair],
    contexts_x: Sequence[str],
    lang: str,
    models: Models,
    settings: Settings,
) -> Batch:
    """Turn context pairs into PAXQA examples and drops.

    Args:
        pairs: the batch's context pairs.
        contexts_x: the X context of each pair (``pair.context_x`` or its translation).
        lang: the X language.
        models: aligner, QG, translation models, spaCy pipeline.
        settings: candidates, constraints, filters.
    """
    out = Batch()
    aligned = align_contexts(
        list(zip([p.context_en for p in pairs], contexts_x, strict=True)),
        lang,
        models.aligner,
        by_sentence=models.by_sentence,
    )
    out.stats["contexts"] += len(pairs)
    pending = _answers(pairs, contexts_x, aligned, lang, models, settings, out)
    pending = _questions(pending, lang, models, settings, out)
    _translate(pending, lang, models, settings, out)
    return out


def drop(
    out: Batch,
    item_id: str,
    pair: ContextPair,
    lang: str,
    stage: str,
    reason: str,
    detail: str,
    *,
    answer: str | None = None,
    question_en: str | None = None,
    question_x: str | None = None,
) -> None:
    """Record one candidate or question that does not become an example (``paxqa_dropped``).

    Raises:
        ValueError: a reason not declared for the stage in :data:`DROP_REASONS` (a bug).
    """
    if reason not in DROP_REASONS.get(stage, ()):
        raise ValueError(f"undeclared paxqa drop reason {stage}.{reason}")
    out.dropped.append(
        PaxqaDroppedRow(
            id=item_id,
            source_id=pair.source_id,
            language=lang,
            stage=stage,
            reason=reason,
            detail=detail,
            answer_en=answer,
            question_en=question_en,
            question_x=question_x,
        )
    )
    out.stats[f"dropped.{stage}.{reason}"] += 1


def _drop_pending(
    out: Batch,
    p: _Pending,
    lang: str,
    stage: str,
    reason: str,
    detail: str,
    *,
    question_x: str | None = None,
) -> None:
    """:func:`drop` for a candidate that has its question: answer and questions kept."""
    drop(
        out,
        p.id,
        p.pair,
        lang,
        stage,
        reason,
        detail,
        answer=p.answers_en[0][0],
        question_en=p.question_en,
        question_x=question_x,
    )


def _answers(pairs, contexts_x, aligned, lang, models, settings, out) -> list[_Pending]:
    from xproj.generators.paxqa.candidates import find_candidates

    policy = policy_for(lang)
    pending: list[_Pending] = []
    generate = settings.questions in ("generate", "both")
    given = settings.questions in ("given", "both")
    candidate_lists = (
        list(find_candidates([p.context_en for p in pairs], models.nlp, settings.candidates))
        if generate
        else [[] for _ in pairs]
    )
    for pair, ctx_x, al, candidates in zip(
        pairs, contexts_x, aligned, candidate_lists, strict=True
    ):
        if given:
            for q in pair.questions:
                projected, reasons = [], []
                for ans in q.answers:
                    got = project_answer(
                        pair.context_en,
                        ans.start,
                        ans.text,
                        ctx_x,
                        al.en_tokens,
                        al.x_tokens,
                        al.links,
                        policy=policy,
                    )
                    if got.projected:
                        projected.append((got.text, got.start))
                    else:
                        reasons.append(f"{ans.text!r}: {got.reason} ({got.detail})")
                out.stats["answers"] += 1
                if not projected:
                    reason = "answer_not_projected"
                    drop(
                        out,
                        str(q.id),
                        pair,
                        lang,
                        "answer",
                        reason,
                        "; ".join(reasons),
                        answer=q.answers[0].text if q.answers else None,
                        question_en=q.question,
                    )
                    continue
                item = _Pending(
                    str(q.id),
                    pair,
                    ctx_x,
                    al,
                    [(a.text, a.start) for a in q.answers],
                    _dedupe(projected),
                    "given",
                    "given",
                    question_en=" ".join(q.question.split()),
                )
                pending.append(item)
        for cand in candidates:
            out.stats["candidates"] += 1
            out.stats[f"candidates.{cand.kind}"] += 1
            item_id = f"{pair.source_id}:{cand.start}-{cand.start + len(cand.text)}"
            got = project_answer(
                pair.context_en,
                cand.start,
                cand.text,
                ctx_x,
                al.en_tokens,
                al.x_tokens,
                al.links,
                policy=policy,
            )
            if not got.projected:
                drop(
                    out,
                    item_id,
                    pair,
                    lang,
                    "answer",
                    str(got.reason),
                    got.detail,
                    answer=cand.text,
                )
                continue
            pending.append(
                _Pending(
                    item_id,
                    pair,
                    ctx_x,
                    al,
                    [(cand.text, cand.start)],
                    [(got.text, got.start)],
                    cand.kind,
                    "generated",
                )
            )
    return pending


def _dedupe(answers: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return list(dict.fromkeys(answers))


def _questions(pending, lang, models, settings, out) -> list[_Pending]:
    from xproj.generators.paxqa.questions import QGRequest

    todo = [p for p in pending if p.question_source == "generated"]
    failed: set[int] = set()  # id() of the candidates dropped for their QG flag below
    if todo:
        if models.qg is None:
            raise ConfigError(
                "answer candidates need a question generation model.",
                fix="give qg_model (a converted text2text model) or use the input's own "
                "questions (questions: given).",
                code=E_BAD_CONFIG,
            )
        generated = models.qg.generate(
            [QGRequest(p.pair.context_en, p.answers_en[0][1], p.answers_en[0][0]) for p in todo]
        )
        for p, q in zip(todo, generated, strict=True):
            p.question_en, p.qg_score = q.text, q.score
            if not q.ok:
                p.question_en = ""
                failed.add(id(p))
                drop(
                    out,
                    p.id,
                    p.pair,
                    lang,
                    "question",
                    str(q.flag),
                    q.detail,
                    answer=p.answers_en[0][0],
                    question_en=q.text or None,
                )
        out.stats["questions_generated"] += sum(1 for q in generated if q.ok)
    limits = settings.filters
    kept: list[_Pending] = []
    seen: set[tuple[str, str]] = set()
    for p in pending:
        if id(p) in failed:
            continue  # dropped above
        words = p.question_en.split()
        reason, detail = None, ""
        if not words:
            reason, detail = "empty_question", "the question is empty"
        elif len(words) < limits.min_question_words:
            reason = "question_too_short"
            detail = f"{len(words)} words < {limits.min_question_words}"
        elif len(words) > limits.max_question_words:
            reason = "question_too_long"
            detail = f"{len(words)} words > {limits.max_question_words}"
        elif (
            limits.drop_answer_in_question
            and p.question_source == "generated"
            and _contains(p.question_en, p.answers_en[0][0])
        ):
            reason, detail = "answer_in_question", f"the question contains {p.answers_en[0][0]!r}"
        else:
            key = (p.pair.source_id, _norm(p.question_en))
            if key in seen:
                reason, detail = "duplicate_question", "the same question was asked in this context"
            seen.add(key)
        if reason is not None:
            _drop_pending(out, p, lang, "question", reason, detail)
            continue
        kept.append(p)
    return kept


def _translate(pending, lang, models, settings, out) -> None:
    from xproj.generators.paxqa.constraints import extract_constraints

    if not pending:
        return
    sets = [
        extract_constraints(
            p.question_en,
            p.pair.context_en,
            p.aligned,
            p.context_x,
            settings=settings.constraints,
            answer_start=p.answers_en[0][1],
            lang_x=lang,
        )
        for p in pending
    ]
    results = translate_questions(
        models, [p.question_en for p in pending], [s.constraints for s in sets], lang, settings
    )
    # one score per question, the same way for every method: mean log-probability per token
    # (end token included) of the X question given the English one
    scores: list[float | None] = [None] * len(pending)
    todo = [k for k, r in enumerate(results) if r.text.strip()]
    if todo:
        logps = models.inner.score(
            [pending[k].question_en for k in todo], [results[k].text for k in todo], "en", lang
        )
        for k, lp in zip(todo, logps, strict=True):
            scores[k] = sum(lp) / len(lp) if lp else None
    filters = settings.filters
    round_trips: list[float | None] = [None] * len(pending)
    if filters.round_trip:
        back = models.translator.translate_all(
            [r.text for r in results], lang, "en", options=settings.translation_options
        )
        round_trips = [
            token_f1(b.text, p.question_en) if r.text else None
            for p, r, b in zip(pending, results, back, strict=True)
        ]
    for p, cs, r, rt, ts in zip(pending, sets, results, round_trips, scores, strict=True):
        out.stats["constraints"] += len(cs.constraints)
        out.stats["constraints_unmapped"] += len(cs.unmapped)
        out.stats["constraints_satisfied"] += len(r.satisfied)
        out.stats[f"constraint_method.{r.method}"] += 1
        question_x = " ".join(r.text.split())
        reason, detail = None, ""
        if not question_x:
            reason, detail = "empty_translation", "the translation of the question is empty"
        elif (
            filters.min_qg_score is not None
            and p.qg_score is not None
            and (p.qg_score < filters.min_qg_score)
        ):
            reason, detail = "low_qg_score", f"{p.qg_score:.3f} < {filters.min_qg_score}"
        elif ts is None:
            reason, detail = "empty_translation", "the translation could not be scored"
        elif filters.min_translation_score is not None and ts < filters.min_translation_score:
            reason = "low_translation_score"
            detail = f"{ts:.3f} < {filters.min_translation_score}"
        elif filters.min_round_trip is not None and (rt is None or rt < filters.min_round_trip):
            reason = "low_round_trip"
            detail = f"{rt if rt is not None else 'none'} < {filters.min_round_trip}"
        elif filters.require_constraints and r.unsatisfied:
            reason = "unsatisfied_constraints"
            detail = f"missing {', '.join(map(repr, r.unsatisfied))}"
        if reason is not None:
            _drop_pending(out, p, lang, "filter", reason, detail, question_x=question_x or None)
            continue
        out.examples.append(
            PaxqaRow(
                id=p.id,
                source_id=p.pair.source_id,
                title=p.pair.title,
                language=lang,
                context_en=p.pair.context_en,
                context_x=p.context_x,
                question_en=p.question_en,
                question_x=question_x,
                answers_en=_answer_list(p.answers_en),
                answers_x=_answer_list(p.answers_x),
                question_source=p.question_source,
                answer_kind=p.kind,
                qg_score=p.qg_score,
                translation_score=float(ts),
                round_trip=rt,
                constraints=[c.x_text for c in cs.constraints],
                constraints_satisfied=list(r.satisfied),
                constraints_unsatisfied=list(r.unsatisfied),
                constraint_method=r.method,
            )
        )
        out.stats["examples"] += 1


def constrained_scope(models: Models, lang: str, settings: Settings):
    """The cache scope of constrained question translations: the model, the pair, and every
    setting that changes the result (constrained search settings and decoding options)."""
    import json

    from xproj.translators.base import DecodingOptions
    from xproj.translators.cache import CacheScope

    options = settings.translation_options or DecodingOptions()
    search = json.dumps(settings.constraints.as_dict(), sort_keys=True)
    return CacheScope(
        models.inner.model_id,
        models.inner.quantization,
        "en",
        lang,
        f"constrained.v1:{search}|{options.key()}",
    )


def translate_questions(models: Models, questions, constraints, lang: str, settings: Settings):
    """:func:`~xproj.translators.constrained.translate_constrained`, through the translation cache.

    A question with the same constraints, model and settings is translated once: the cache entry's
    text is the translation and its ``detail`` holds the rest of the result as JSON. Without a
    cache (``models.cache`` is ``None``) every question is translated.
    """
    import json

    from xproj.translators.base import Translation
    from xproj.translators.cache import CacheEntry
    from xproj.translators.constrained import ConstrainedTranslation, translate_constrained

    def run(qs, cs):
        return translate_constrained(
            models.inner,
            qs,
            cs,
            "en",
            lang,
            settings=settings.constraints,
            options=settings.translation_options,
        )

    if models.cache is None:
        return run(list(questions), list(constraints))
    scope = constrained_scope(models, lang, settings)
    texts = [
        json.dumps([q, [c.x_text for c in cs]], ensure_ascii=False)
        for q, cs in zip(questions, constraints, strict=True)
    ]
    keys = [scope.key(t) for t in texts]
    found = models.cache.get_many(list(dict.fromkeys(keys)), scope=scope)
    stats = models.constrained_stats
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key not in found:
            first.setdefault(key, i)
    missing = list(first.values())
    results: dict[str, ConstrainedTranslation] = {}
    for key, t in found.items():
        extra = json.loads(t.detail)
        extra["satisfied"] = tuple(extra["satisfied"])
        extra["unsatisfied"] = tuple(extra["unsatisfied"])
        results[key] = ConstrainedTranslation(text=t.text, **extra)
    if missing:
        fresh = run([questions[i] for i in missing], [constraints[i] for i in missing])
        entries = []
        for i, r in zip(missing, fresh, strict=True):
            results[keys[i]] = r
            extra = {
                "satisfied": list(r.satisfied),
                "unsatisfied": list(r.unsatisfied),
                "score": r.score,
                "plain_text": r.plain_text,
                "method": r.method,
                "decoded": r.decoded,
                "scored": r.scored,
                "rounds": r.rounds,
            }
            entries.append(
                CacheEntry(
                    scope,
                    texts[i],
                    Translation(
                        r.text, tokens=len(r.tokens), detail=json.dumps(extra, ensure_ascii=False)
                    ),
                    models.run_id,
                )
            )
        models.cache.put_many(entries)
    if stats is not None:
        hits = sum(k in found for k in keys)
        stats.hits += hits
        stats.misses += len(keys) - hits
        stats.translated += len(missing)
        stats.stored += len(missing)
    return [results[key] for key in keys]


def _answer_list(answers: list[tuple[str, int]]) -> Answers:
    return Answers(tuple(t for t, _ in answers), tuple(s for _, s in answers))


_PUNCT = set(string.punctuation) | {"¿", "¡", "«", "»", "“", "”", "„", "‘", "’"}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        " " if ch in _PUNCT or unicodedata.category(ch).startswith("P") else ch for ch in text
    )
    return " ".join(text.split())


def _contains(question: str, answer: str) -> bool:
    """Whether the answer's words appear, in order and whole, in the question."""
    a = _norm(answer)
    return bool(a) and re.search(rf"(?:^|\s){re.escape(a)}(?:\s|$)", _norm(question)) is not None


def token_f1(prediction: str, reference: str) -> float:
    """Token F1 of two texts after case, punctuation and whitespace normalisation.

    Example:
        >>> round(token_f1("Where is the tower?", "where is the Eiffel tower"), 3)
        0.889
    """
    p, r = _norm(prediction).split(), _norm(reference).split()
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)
