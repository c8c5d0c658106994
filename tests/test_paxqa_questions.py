"""Question generation input format, the generator on a tiny random T5, and pipeline helpers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xproj.generators.paxqa.pipeline import FilterSettings, _contains, token_f1
from xproj.generators.paxqa.questions import QGFormat, QGRequest, QuestionGenerator
from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
from xproj.translators.base import DecodingOptions


@pytest.mark.parametrize(
    ("fmt", "context", "start", "answer", "expected"),
    [
        (QGFormat(), "It is in Paris.", 9, "Paris", "generate question: It is in <hl> Paris <hl>."),
        (QGFormat(), "Paris is big.", 0, "Paris", "generate question: <hl> Paris <hl> is big."),
        (QGFormat(highlight="[HL]"), "a b c", 2, "b", "generate question: a [HL] b [HL] c"),
        (
            QGFormat("answer: {answer}  context: {context}"),
            "It is in Paris.",
            9,
            "Paris",
            "answer: Paris  context: It is in Paris.",
        ),
        (QGFormat("{highlighted}"), "x 1990 y", 2, "1990", "x <hl> 1990 <hl> y"),
    ],
)
def test_qg_format_renders(fmt, context, start, answer, expected):
    assert fmt.render(context, start, answer) == expected


@pytest.mark.parametrize(
    ("template", "highlight"),
    [
        ("generate question: {context}", "<hl>"),  # the answer is not shown
        ("question: {highlighted} {lang}", "<hl>"),  # unknown field
        ("generate question: {highlighted}", " "),  # empty highlight token
    ],
)
def test_qg_format_refuses_bad_templates(template, highlight):
    with pytest.raises(ConfigError) as info:
        QGFormat(template, highlight)
    assert info.value.code == E_BAD_CONFIG and info.value.fix


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"min_question_words": 0},
        {"min_question_words": 5, "max_question_words": 4},
        {"min_round_trip": 1.5},
        {"min_round_trip": 0.3, "round_trip": False},
    ],
)
def test_filter_settings_refuse_bad_values(kwargs):
    with pytest.raises(ConfigError):
        FilterSettings(**kwargs)


@pytest.mark.parametrize(
    ("question", "answer", "inside"),
    [
        ("Where does Maria live in Paris?", "Paris", True),
        ("Where does Maria live?", "Paris", False),
        ("When did the war of 1812 end?", "1812", True),
        ("Who founded Parisian cafes?", "Paris", False),  # a whole-word match only
        ("What is the capital (Paris)?", "paris", True),
    ],
)
def test_answer_in_question(question, answer, inside):
    assert _contains(question, answer) is inside


@pytest.mark.parametrize(
    ("a", "b", "f1"),
    [
        ("Where is the tower?", "where is the tower", 1.0),
        ("Where is it?", "What was that", 0.0),
        ("", "", 1.0),
        ("a b", "", 0.0),
    ],
)
def test_token_f1(a, b, f1):
    assert token_f1(a, b) == pytest.approx(f1)


def _generator(tiny_qg_model, cache=None, **options):
    from xproj.translators.cache import CachedTranslator, MemoryCache
    from xproj.translators.ct2 import CT2Translator

    inner = CT2Translator(tiny_qg_model, device="cpu")
    cached = CachedTranslator(inner, cache if cache is not None else MemoryCache())
    opts = DecodingOptions(beam_size=2, max_decoding_length=16, min_decoding_length=3, **options)
    return QuestionGenerator(cached, inner, QGFormat(), opts), inner


def test_generator_scores_flags_and_caches(tiny_qg_model):
    from xproj.testing.tiny_mt import MT_SAMPLE_TEXT

    qg, inner = _generator(tiny_qg_model)
    assert inner.family == "text2text"
    short = [QGRequest(s, 0, s.split()[0]) for s in MT_SAMPLE_TEXT["en"][:6]]
    too_long = QGRequest(" ".join(MT_SAMPLE_TEXT["en"]), 4, "cat")
    got = qg.generate([*short, too_long])
    assert len(got) == 7
    assert got[-1].flag == "context_too_long" and "at most 64" in got[-1].detail
    assert got[-1].text == "" and got[-1].score is None
    ok = [q for q in got[:-1] if q.ok]
    assert ok, [q.flag for q in got]
    assert all(q.text.strip() and q.score is not None and q.score <= 0.0 for q in ok)
    # the score is the mean log-probability per token (end token included) under the model
    text = qg.inputs(short[:1])[0]
    if got[0].ok:
        lp = inner.score([text], [got[0].text], "en", "en")[0]
        assert got[0].score == pytest.approx(sum(lp) / len(lp))
    # a second call takes every question from the cache
    before = qg.model.stats.translated
    again = qg.generate(short)
    assert qg.model.stats.translated == before
    assert [q.text for q in again] == [q.text for q in got[:-1]]


def test_translate_questions_cache_round_trip(tiny_mt_models):
    """Constrained translations are stored once and come back identical from the cache."""
    from xproj.generators.paxqa.constraints import Constraint
    from xproj.generators.paxqa.pipeline import Models, Settings, translate_questions
    from xproj.translators.cache import CacheStats, MemoryCache
    from xproj.translators.constrained import ConstrainedSettings
    from xproj.translators.ct2 import CT2Translator

    inner = CT2Translator(tiny_mt_models["nllb"]["ct2"], device="cpu")
    cache = MemoryCache()
    stats = CacheStats()
    models = Models(None, inner, None, None, None, cache=cache, constrained_stats=stats)
    settings = Settings(
        candidates=None,
        constraints=ConstrainedSettings(),
        translation_options=DecodingOptions(max_decoding_length=16),
    )
    questions = ["Where does my sister work?", "What did we buy?", "Where does my sister work?"]
    constraints = [
        [Constraint("sister", "Schwester", 3, 4)],
        [],
        [Constraint("sister", "Schwester", 3, 4)],
    ]
    first = translate_questions(models, questions, constraints, "de", settings)
    assert stats.translated == 2 and stats.hits == 0 and len(cache) == 2
    second = translate_questions(models, questions, constraints, "de", settings)
    assert stats.translated == 2 and stats.hits == 3
    # everything but the model pieces (not stored) comes back
    assert second == [replace(r, tokens=()) for r in first]
    for r, cs in zip(first, constraints, strict=True):
        assert sorted(r.satisfied + r.unsatisfied) == sorted(c.x_text for c in cs)


class _FixedQG:
    """A question generator that answers each request with the next prepared question."""

    def __init__(self, questions):
        self.questions = list(questions)

    def generate(self, requests):
        assert len(requests) == len(self.questions)
        return self.questions


def test_pipeline_question_stage_gives_every_candidate_one_outcome():
    """Each generated candidate is kept or dropped with a reason, also when the generator
    returns an unflagged empty question (it is dropped as empty, not lost)."""
    from collections import Counter

    from xproj.generators.paxqa.inputs import ContextPair
    from xproj.generators.paxqa.pipeline import Batch, Models, Settings, _Pending, _questions
    from xproj.generators.paxqa.questions import GeneratedQuestion

    pair = ContextPair("c1", "", "Maria lives in Paris with her sister.", "x")
    pending = [
        _Pending(f"c1:{k}", pair, "x", None, [("Paris", 15)], [("x", 0)], "entity", "generated")
        for k in range(4)
    ]
    qg = _FixedQG(
        [
            GeneratedQuestion("Where does Maria live today?", score=-1.0),
            GeneratedQuestion("", flag="empty_question", detail="the model wrote nothing"),
            GeneratedQuestion("", score=-1.0),  # unflagged, but empty
            GeneratedQuestion("Where does Maria live today?", score=-1.0),
        ]
    )
    out = Batch()
    models = Models(None, None, qg, None, None)
    kept = _questions(pending, "de", models, Settings(candidates=None, constraints=None), out)
    assert [p.id for p in kept] == ["c1:0"]
    assert [(d.id, d.stage, d.reason) for d in out.dropped] == [
        ("c1:1", "question", "empty_question"),
        ("c1:2", "question", "empty_question"),
        ("c1:3", "question", "duplicate_question"),
    ]
    assert len(kept) + len(out.dropped) == len(pending)
    assert out.stats == Counter(
        {
            "questions_generated": 3,
            "dropped.question.empty_question": 2,
            "dropped.question.duplicate_question": 1,
        }
    )
