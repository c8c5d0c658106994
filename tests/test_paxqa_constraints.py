"""Lexically constrained question translation (xproj.generators.paxqa.constraints) and n-best decoding
(CT2Translator.hypotheses).

Extraction runs on hand-written contexts with hand-made word links; the selection logic on a
fake translator whose outputs and scores are known; the decoding on the tiny random models
(mechanics only: a random model's translations are garbage).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from xproj.generators.paxqa.answers import AlignedContext
from xproj.generators.paxqa.constraints import (
    STOPWORDS,
    UNMAPPED_REASONS,
    Constraint,
    extract_constraints,
)
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_BITEXT_LINE_COUNT,
    E_EMPTY_QUESTION,
    E_INPUT_TOO_LONG,
    BackendError,
    ConfigError,
    InputFormatError,
)
from xproj.testing.tiny_mt import MT_SAMPLE_TEXT
from xproj.text.words import tokenizer_for
from xproj.translators.base import DecodingOptions
from xproj.translators.constrained import ConstrainedSettings, satisfies, translate_constrained

# -- satisfaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "x_text", "lang", "expected"),
    [
        ("¿Quién ganó el Super Bowl 50?", "Super Bowl 50", "es", True),
        ("¿Quién ganó el super   BOWL 50?", "Super Bowl 50", "es", True),  # case, spaces
        ("Wer gewann den Super\nBowl?", "Super Bowl", "de", True),  # newline is whitespace
        ("Das Bowling ist neu", "Bowl", "de", False),  # inside a word
        ("Der Superbowl", "Bowl", "de", False),  # inside a word, at its end
        ("Die Bowl2 kam", "Bowl", "de", False),  # a digit continues the word
        ("Ganó Panthers能心", "Panthers", "es", True),  # Han next to Latin: a word boundary
        ("Ganó Panthersad能", "Panthers", "es", False),
        ("Bowling Bowl", "Bowl", "de", True),  # the second occurrence counts
        ("l'Italie", "Italie", "fr", True),
        ("Wer schlug Denver?", "Denver", "de", True),  # before punctuation
        ("Ist (NFL) bekannt?", "(NFL)", "de", True),  # edges that are not word characters
        ("Wann spielten die Broncos?", "Broncos", "de", True),
        ("Wann spielten die Bronco?", "Broncos", "de", False),
        ("谁赢得了超级碗50?", "超级碗", "zh", True),  # substring, no spaces
        ("谁赢得了超级 碗?", "超级碗", "zh", True),  # spaces ignored in unspaced scripts
        ("谁赢得了超级碗?", "超级 碗", "zh-Hans", True),
        ("谁赢得了比赛?", "超级碗", "zh", False),
        ("東京はどこですか", "東京", "ja", True),
        ("ＮＦＬの試合", "NFL", "ja", True),  # NFKC: full-width letters
        ("Кто выиграл Супербоул?", "супербоул", "ru", True),  # Cyrillic casefold
        ("Straße", "STRASSE", "de", True),  # casefold ß
        ("anything", "", "de", False),  # an empty constraint is never met
    ],
)
def test_satisfies(text, x_text, lang, expected):
    assert satisfies(text, x_text, lang) is expected


# -- extraction --------------------------------------------------------------------------------

EN = (
    "The Denver Broncos won Super Bowl 50 in Santa Clara. "
    "The game was played at Levi's Stadium, where the Broncos beat the Carolina Panthers."
)
ES = (
    "Los Denver Broncos ganaron la Super Bowl 50 en Santa Clara. "
    "El partido se jugó en el estadio Levi's, donde los Broncos vencieron a las Panteras de "
    "Carolina."
)


def _tok(text: str, lang: str):
    return tuple(tokenizer_for(lang).tokenize(text))


def _idx(tokens, word: str, nth: int = 0) -> int:
    return [k for k, t in enumerate(tokens) if t[0] == word][nth]


def _aligned(en: str, x: str, pairs, lang: str = "es") -> AlignedContext:
    """Tokens of both contexts and links from ``(english word, nth, X word, nth)`` tuples."""
    ten, tx = _tok(en, "en"), _tok(x, lang)
    links = frozenset((_idx(ten, a, i), _idx(tx, b, j)) for a, i, b, j in pairs)
    return AlignedContext(ten, tx, links)


FULL = [
    ("Denver", 0, "Denver", 0),
    ("Broncos", 0, "Broncos", 0),
    ("won", 0, "ganaron", 0),
    ("Super", 0, "Super", 0),
    ("Bowl", 0, "Bowl", 0),
    ("50", 0, "50", 0),
    ("Santa", 0, "Santa", 0),
    ("Clara", 0, "Clara", 0),
    ("game", 0, "partido", 0),
    ("played", 0, "jugó", 0),
    ("Stadium", 0, "estadio", 0),
    ("Levi", 0, "Levi's", 0),
    ("the", 1, "las", 0),
    ("Broncos", 1, "Broncos", 1),
    ("beat", 0, "vencieron", 0),
    ("Carolina", 0, "Carolina", 0),
    ("Panthers", 0, "Panteras", 0),
]


def _check_invariants(cs, en: str, x: str) -> None:
    for c in cs.constraints:
        assert en[c.en_start : c.en_start + len(c.en_text)] == c.en_text
        assert x[c.x_start : c.x_start + len(c.x_text)] == c.x_text
    for u in cs.unmapped:
        assert u.reason in UNMAPPED_REASONS


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # maximal n-grams, edge stopwords trimmed ("the Denver Broncos" → "Denver Broncos"),
        # longest first; "win" is not "won", so "Super Bowl 50" starts a run of its own
        (
            "When did the Denver Broncos win Super Bowl 50?",
            [("Super Bowl 50", "Super Bowl 50"), ("Denver Broncos", "Denver Broncos")],
        ),
        # one maximal run across a stopword inside it; the X span runs over the whole group
        (
            "Who did the Broncos beat the Carolina Panthers with?",
            [
                (
                    "Broncos beat the Carolina Panthers",
                    "Broncos vencieron a las Panteras de Carolina",
                ),
            ],
        ),
        # casefolded match, the context's surface is kept
        ("where is levi's stadium?", [("Levi's Stadium", "estadio Levi's")]),
        ("Is Santa Clara big?", [("Santa Clara", "Santa Clara")]),
    ],
)
def test_extract_constraints(question, expected):
    aligned = _aligned(EN, ES, FULL)
    cs = extract_constraints(question, EN, aligned, ES, lang_x="es")
    assert [(c.en_text, c.x_text) for c in cs.constraints] == expected
    assert cs.unmapped == () and cs.over_limit == ()
    _check_invariants(cs, EN, ES)
    for c in cs.constraints:
        # the question span holds the same words as the context span (casefolded)
        assert question[c.question_start : c.question_end].casefold() == c.en_text.casefold()


def test_stopword_and_punctuation_ngrams_are_skipped():
    aligned = _aligned(EN, ES, FULL)
    # every shared word is a stopword or question word: "The", "was", "at", "where", "the", "."
    question = "Where was the one at?"
    assert all(w.casefold() in STOPWORDS or not w.isalnum() for w, _, _ in _tok(question, "en"))
    cs = extract_constraints(question, EN, aligned, ES, lang_x="es")
    assert cs.constraints == () and cs.unmapped == () and cs.over_limit == ()


def test_unmapped_ngram_is_recorded_not_dropped():
    # "game" has no link and no identical X token
    pairs = [p for p in FULL if p[0] != "game"]
    aligned = _aligned(EN, ES, pairs)
    cs = extract_constraints("Which game did Santa Clara host?", EN, aligned, ES, lang_x="es")
    assert [c.x_text for c in cs.constraints] == ["Santa Clara"]
    assert [(u.en_text, u.reason) for u in cs.unmapped] == [("game", "no_alignment")]
    assert cs.unmapped[0].question_start == len("Which ")
    _check_invariants(cs, EN, ES)


def test_max_constraints_and_over_limit():
    aligned = _aligned(EN, ES, FULL)
    question = "When did the Denver Broncos win Super Bowl 50 in Santa Clara?"
    cs = extract_constraints(
        question, EN, aligned, ES, lang_x="es", settings=ConstrainedSettings(max_constraints=1)
    )
    # "Super Bowl 50 in Santa Clara" is the longest run
    assert [c.x_text for c in cs.constraints] == ["Super Bowl 50 en Santa Clara"]
    assert cs.over_limit == ("Denver Broncos",)
    none = extract_constraints(
        question, EN, aligned, ES, lang_x="es", settings=ConstrainedSettings(max_constraints=0)
    )
    assert none.constraints == () and set(none.over_limit) == {
        "Denver Broncos",
        "Super Bowl 50 in Santa Clara",
    }


def test_overlapping_x_span_is_recorded():
    # "Panthers" and "Carolina" both linked to "Panteras" only: the question has two separate
    # runs ("Carolina" … "Panthers" are not adjacent in it)
    pairs = [p for p in FULL if p[0] not in ("Carolina", "Panthers")]
    pairs += [("Carolina", 0, "Panteras", 0), ("Panthers", 0, "Panteras", 0)]
    aligned = _aligned(EN, ES, pairs)
    cs = extract_constraints("Did Carolina lose to Panthers?", EN, aligned, ES, lang_x="es")
    # "Carolina" also anchors on the identical X word: "Panteras de Carolina"
    assert [c.x_text for c in cs.constraints] == ["Panteras de Carolina"]
    assert [u.reason for u in cs.unmapped] == ["overlap"]


EN2 = "Paris hosted the games in 1900. Lyon is smaller than Paris, said the mayor."
FR2 = "Paris a accueilli les jeux en 1900. Lyon est plus petite que Paris, a dit le maire."
PAIRS2 = [("Paris", 0, "Paris", 0), ("Paris", 1, "Paris", 1), ("1900", 0, "1900", 0)]


@pytest.mark.parametrize(
    ("answer", "nth"),
    [("1900", 0), ("the mayor", 1), (None, 0)],
)
def test_occurrence_nearest_to_the_answer(answer, nth):
    aligned = _aligned(EN2, FR2, PAIRS2, "fr")
    start = EN2.index(answer) if answer else None
    cs = extract_constraints("When did Paris vote?", EN2, aligned, FR2, answer_start=start)
    (c,) = cs.constraints
    assert c.en_start == [i for i in range(len(EN2)) if EN2.startswith("Paris", i)][nth]
    assert c.x_start == [i for i in range(len(FR2)) if FR2.startswith("Paris", i)][nth]


def test_unmappable_nearest_occurrence_falls_back_to_the_next():
    # only the first "Paris" is linked; the answer is next to the second one
    aligned = _aligned(EN2, FR2, [("Paris", 0, "Paris", 0)], "fr")
    policy_off = __import__(
        "xproj.projectors.policy", fromlist=["ProjectionPolicy"]
    ).ProjectionPolicy(
        punctuation="drop", gap_fill=0, grouping="largest", overlap="keep", anchor_identical=False
    )
    cs = extract_constraints(
        "When did Paris vote?",
        EN2,
        aligned,
        FR2,
        answer_start=EN2.index("the mayor"),
        policy=policy_off,
    )
    (c,) = cs.constraints
    assert c.en_start == 0 and c.x_start == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_best": -1},
        {"beam_size": 0},
        {"max_positions": 0},
        {"max_rounds": -1},
        {"max_constraints": -1},
        {"length_normalisation": 3.0},
        {"enabled": "yes"},
        {"force": "some"},
    ],
)
def test_settings_are_validated(kwargs):
    with pytest.raises(ConfigError) as err:
        ConstrainedSettings(**kwargs)
    assert err.value.code == E_BAD_CONFIG


# -- selection logic on a fake translator -------------------------------------------------------


@dataclass(frozen=True)
class FakeHypothesis:
    text: str
    tokens: tuple[str, ...]
    score: float


def _pieces(text: str) -> list[str]:
    return [f"▁{w}" for w in text.split()]


def _text(tokens) -> str:
    return "".join(tokens).replace("▁", " ").strip()


class FakeTranslator:
    """Known outputs: ``nbest[q]`` (best first) without a prefix; with one, the prefix followed
    by ``completion[q]``. Each piece's log-prob is ``logp.get(piece, -1)``, the end token -1."""

    unk_token = "<unk>"

    def __init__(self, nbest, completion=None, logp=None, unknown=()):
        self.nbest, self.completion, self.logp = nbest, completion or {}, logp or {}
        self.unknown = set(unknown)
        self.calls: list[tuple] = []

    def hypotheses(
        self, texts, src_lang, tgt_lang, *, prefixes=None, num_hypotheses=1, options=None
    ):
        self.calls.append(
            ("hypotheses", list(texts), [list(p) for p in prefixes] if prefixes else None,
             num_hypotheses, options)
        )  # fmt: skip
        out = []
        for i, t in enumerate(texts):
            if prefixes and prefixes[i]:
                tokens = [*prefixes[i], *_pieces(self.completion[t])]
                out.append([FakeHypothesis(_text(tokens), tuple(tokens), 0.0)])
            else:
                out.append(
                    [
                        FakeHypothesis(x, tuple(_pieces(x)), -float(k))
                        for k, x in enumerate(self.nbest[t][:num_hypotheses])
                    ]
                )
        return out

    def target_pieces(self, texts):
        return [
            [self.unk_token if w in self.unknown else f"▁{w}" for w in t.split()] for t in texts
        ]

    def score_tokens(self, sources, targets, src_lang, tgt_lang):
        self.calls.append(("score", list(sources), [list(t) for t in targets]))
        return [[self.logp.get(p, -1.0) for p in t] + [-1.0] for t in targets]


def _c(x_text: str, question_start: int = 0) -> Constraint:
    return Constraint(x_text, x_text, 0, 0, question_start, question_start + len(x_text))


def _fake():
    return FakeTranslator(
        nbest={
            # the third hypothesis wins on rescoring ("Y" is likely), the second also satisfies
            "q1": ["a b c", "a X c", "X Y c"],
            "q2": ["hat X schon", "hat Y"],
            "q3": ["nichts hier"],
            # nothing satisfies "Berlin"; "er" is more likely than "sie"
            "q4": ["wo arbeitet sie ?", "wo arbeitet er ?"],
            # the constraint's pieces are unknown to the model
            "q5": ["m n", "m o"],
        },
        completion={"q4": "z ?"},
        logp={"▁Y": -0.1, "▁er": -0.5, "▁z": -3.0},
        unknown={"Ω"},
    )


def test_selection_on_known_outputs():
    fake = _fake()
    settings = ConstrainedSettings(n_best=3, beam_size=2, max_positions=3, max_rounds=2)
    options = DecodingOptions(max_decoding_length=20)
    cons = [[_c("X")], [_c("X")], [], [_c("Berlin")], [_c("Ω")]]
    out = translate_constrained(
        fake, ["q1", "q2", "q3", "q4", "q5"], cons, "en", "de", settings=settings, options=options
    )
    got = [(r.text, r.method, r.satisfied, r.unsatisfied, r.decoded, r.scored) for r in out]
    assert got == [
        # plain + 3 n-best (one duplicates plain): 3 distinct candidates scored
        ("X Y c", "n_best", ("X",), (), 4, 3),
        # the plain output satisfies: plain cost
        ("hat X schon", "plain", ("X",), (), 1, 0),
        ("nichts hier", "plain", (), (), 1, 0),
        # cut at the word starts nearest to the start (relative position 0): 0, 1, 2;
        # mean log-probs -1.5, -1.4, -1.333: the latest cut wins
        ("wo arbeitet Berlin z ?", "prefix", ("Berlin",), (), 1 + 2 + 3, 2 + 3),
        # cannot be forced: the best-scored candidate, constraint reported unsatisfied
        ("m n", "plain", (), ("Ω",), 1 + 2, 2),
    ]
    assert out[0].plain_text == "a b c" and out[0].score == pytest.approx((-1 - 0.1 - 1 - 1) / 4)
    assert out[1].score is None and out[3].rounds == 1 and out[4].rounds == 0
    assert out[3].score == pytest.approx(-8 / 6)
    hyp_calls = [c for c in fake.calls if c[0] == "hypotheses"]
    # plain (all), n-best (the three not met by plain), one round of prefixes (all in one call)
    assert [(c[1], c[3]) for c in hyp_calls] == [
        (["q1", "q2", "q3", "q4", "q5"], 1),
        (["q1", "q4", "q5"], 3),
        (["q4", "q4", "q4"], 1),
    ]
    assert hyp_calls[0][4] == options and hyp_calls[1][4].beam_size == 3
    assert hyp_calls[2][4].beam_size == 2
    assert hyp_calls[2][2] == [
        ["▁Berlin"],
        ["▁wo", "▁Berlin"],
        ["▁wo", "▁arbeitet", "▁Berlin"],
    ]
    assert sum(1 for c in fake.calls if c[0] == "score") == 2  # one per step


def test_cut_positions_follow_the_question_and_leave_room():
    fake = FakeTranslator(nbest={"q": ["a b c d e f"]}, completion={"q": "end"})
    question = "q"
    # constraint at the end of the question: cuts nearest the end of the best candidate
    cons = [[Constraint("X", "X", 0, 0, 1, 2)]]
    settings = ConstrainedSettings(n_best=0, max_positions=2, max_rounds=1)
    translate_constrained(
        fake, [question], cons, "en", "de", settings=settings,
        options=DecodingOptions(max_decoding_length=20),
    )  # fmt: skip
    prefixes = [c[2] for c in fake.calls if c[0] == "hypotheses" and c[2]][0]
    assert [len(p) - 1 for p in prefixes] == [5, 4]  # cut before "f", then before "e"
    # with little room, only cuts that leave room for one more token after the constraint
    fake.calls.clear()
    translate_constrained(
        fake, [question], cons, "en", "de", settings=settings,
        options=DecodingOptions(max_decoding_length=4),
    )  # fmt: skip
    prefixes = [c[2] for c in fake.calls if c[0] == "hypotheses" and c[2]][0]
    assert [len(p) - 1 for p in prefixes] == [2, 1]


def test_disabled_and_rounds_zero_keep_plain():
    for settings in (
        ConstrainedSettings(enabled=False),
        ConstrainedSettings(n_best=0, max_rounds=0),
    ):
        fake = _fake()
        out = translate_constrained(
            fake, ["q1", "q4"], [[_c("X")], [_c("Berlin")]], "en", "de", settings=settings
        )
        assert [r.text for r in out] == ["a b c", "wo arbeitet sie ?"]
        assert [r.unsatisfied for r in out] == [("X",), ("Berlin",)]
        assert all(r.method == "plain" and r.decoded == 1 for r in out)
        assert sum(1 for c in fake.calls if c[0] == "hypotheses") == 1


def test_bad_inputs_are_coded():
    fake = _fake()
    with pytest.raises(InputFormatError) as err:
        translate_constrained(fake, ["q1", "q2"], [[]], "en", "de")
    assert err.value.code == E_BITEXT_LINE_COUNT
    with pytest.raises(InputFormatError) as err:
        translate_constrained(fake, ["q1", "  "], [[], []], "en", "de")
    assert err.value.code == E_EMPTY_QUESTION and err.value.record == "1"
    assert translate_constrained(fake, [], [], "en", "de") == []


# -- tiny models ---------------------------------------------------------------------------------

# a random model with tied embeddings otherwise repeats the forced language token forever
SHORT = DecodingOptions(max_decoding_length=16, no_repeat_ngram_size=1)
TARGETS = {"nllb": "de", "madlad": "es"}


@pytest.fixture(scope="module")
def tiny(tiny_mt_models):
    from xproj.translators.ct2 import CT2Translator

    return {f: CT2Translator(tiny_mt_models[f]["ct2"], device="cpu") for f in TARGETS}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(TARGETS))
def test_hypotheses_n_best_distinct_sorted(tiny, family):
    model, tgt = tiny[family], TARGETS[family]
    texts = list(MT_SAMPLE_TEXT["en"][:6])
    out = model.hypotheses(texts, "en", tgt, num_hypotheses=4, options=SHORT)
    assert len(out) == len(texts)
    language = list(model.prompt("en", tgt).target_prefix)
    for hyps in out:
        assert len(hyps) == 4
        assert len({h.tokens for h in hyps}) == 4
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        for h in hyps:
            assert not language or h.tokens[: len(language)] != tuple(language)
            assert len(h.tokens) <= SHORT.max_decoding_length


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(TARGETS))
def test_hypotheses_forced_prefix_starts_every_hypothesis(tiny, family):
    model, tgt = tiny[family], TARGETS[family]
    words = {"de": ["Berlin", "Krankenhaus", "Madrid"], "es": ["Berlín", "hospital", "Madrid"]}[tgt]
    prefixes = model.target_pieces(words)
    texts = list(MT_SAMPLE_TEXT["en"][1:4])
    out = model.hypotheses(texts, "en", tgt, prefixes=prefixes, num_hypotheses=3, options=SHORT)
    for word, prefix, hyps in zip(words, prefixes, out, strict=True):
        assert len(hyps) == 3
        for h in hyps:
            assert h.tokens[: len(prefix)] == tuple(prefix)
            assert h.text.startswith(word)
    # mixed: a prefix for one text, none for the other
    mixed = model.hypotheses(texts[:2], "en", tgt, prefixes=[prefixes[0], None], options=SHORT)
    assert mixed[0][0].tokens[: len(prefixes[0])] == tuple(prefixes[0])
    plain = model.hypotheses(texts[1:2], "en", tgt, options=SHORT)
    assert mixed[1][0].tokens == plain[0][0].tokens


@pytest.mark.slow
def test_hypotheses_errors_and_empty(tiny):
    model = tiny["nllb"]
    long_text = " ".join(MT_SAMPLE_TEXT["en"])
    with pytest.raises(BackendError) as err:
        model.hypotheses(["Hi.", long_text], "en", "de", options=SHORT)
    assert err.value.code == E_INPUT_TOO_LONG and err.value.record == "1"
    with pytest.raises(BackendError) as err:
        model.hypotheses(["Hi."], "en", "de", prefixes=[["▁Berlin"] * 16], options=SHORT)
    assert err.value.code == E_INPUT_TOO_LONG and err.value.record == "0"
    with pytest.raises(ValueError):
        model.hypotheses(["Hi."], "en", "de", prefixes=[], options=SHORT)
    with pytest.raises(ValueError):
        model.hypotheses(["Hi."], "en", "de", num_hypotheses=0)
    out = model.hypotheses(["", "Hi."], "en", "de", num_hypotheses=2, options=SHORT)
    assert out[0] == [] and len(out[1]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(TARGETS))
def test_no_constraints_is_plain_translate(tiny, family):
    model, tgt = tiny[family], TARGETS[family]
    texts = list(MT_SAMPLE_TEXT["en"][:10])
    for options in (SHORT, DecodingOptions(max_decoding_length=12, beam_size=3)):
        expected = [t.text for t in model.translate(texts, "en", tgt, options=options)]
        out = translate_constrained(model, texts, [[] for _ in texts], "en", tgt, options=options)
        assert [r.text for r in out] == expected
        assert [r.plain_text for r in out] == expected
        assert all(r.method == "plain" and r.decoded == 1 and r.scored == 0 for r in out)


class _CountingModel:
    """Forwards to a CT2Translator and counts its ``hypotheses`` calls."""

    def __init__(self, inner):
        self.inner, self.hypotheses_calls = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def hypotheses(self, *args, **kwargs):
        self.hypotheses_calls += 1
        return self.inner.hypotheses(*args, **kwargs)


@pytest.mark.slow
def test_forced_prefixes_raise_satisfaction_on_tiny_nllb(tiny):
    model = _CountingModel(tiny["nllb"])
    questions = [s for s in MT_SAMPLE_TEXT["en"] if "[" not in s]
    german = [s for s in MT_SAMPLE_TEXT["de"] if "[" not in s]
    constraints = []
    for en, de in zip(questions, german, strict=True):
        # the two longest German words of the sentence, as if aligned to the English
        words = sorted({w.strip(".,?!") for w in de.split()}, key=lambda w: (-len(w), w))[:2]
        constraints.append([Constraint(w, w, 0, 0, en.find(w) if w in en else 0) for w in words])
    pieces = model.target_pieces([c.x_text for cs in constraints for c in cs])
    assert all(model.unk_token not in p for p in pieces)  # every constraint is spellable

    settings = ConstrainedSettings(n_best=4, beam_size=2, max_positions=3, max_rounds=2)
    out = translate_constrained(
        model, questions, constraints, "en", "de", settings=settings, options=SHORT
    )
    assert model.hypotheses_calls <= 2 + settings.max_rounds
    total = sum(len(cs) for cs in constraints)
    plain_met = sum(
        satisfies(r.plain_text, c.x_text, "de")
        for r, cs in zip(out, constraints, strict=True)
        for c in cs
    )
    met = sum(len(r.satisfied) for r in out)
    for r, cs in zip(out, constraints, strict=True):
        assert sorted(r.satisfied + r.unsatisfied) == sorted(c.x_text for c in cs)
        assert all(satisfies(r.text, x, "de") for x in r.satisfied)
        assert not any(satisfies(r.text, x, "de") for x in r.unsatisfied)
        assert r.method in ("plain", "n_best", "prefix")
        assert r.decoded >= 1 and (r.method == "plain" or r.scored >= 1)
    assert met >= plain_met
    assert met > 0 and met / total > 0.5, (met, plain_met, total)
    assert any(r.method == "prefix" for r in out)


def test_insertion_keeps_the_constraints_already_met():
    fake = FakeTranslator(nbest={"q": ["a b c d", "a K b c d"]}, completion={"q": "z"})
    settings = ConstrainedSettings(n_best=2, max_positions=1, max_rounds=3)
    (out,) = translate_constrained(fake, ["q"], [[_c("K"), _c("L")]], "en", "de", settings=settings)
    prefixes = [c[2] for c in fake.calls if c[0] == "hypotheses" and c[2]]
    # the cut nearest the start loses "K"; inserting "L" there and keeping "a K" does not
    assert prefixes[0] == [["▁L"], ["▁L", "▁a", "▁K"]]
    assert (out.text, out.method, out.satisfied, out.rounds) == ("L a K z", "prefix", ("K", "L"), 1)


@pytest.mark.parametrize(
    ("force", "expected"),
    [
        # "first": only the constraint earliest in the question ("M", at 0) in round 1
        ("first", [["▁M"], ["▁a", "▁M"]]),
        # "all": both unmet constraints in the same round
        # ("N" lies past the end of the question: its nearest cut is the last)
        ("all", [["▁a", "▁N"], ["▁N"], ["▁M"], ["▁a", "▁M"]]),
    ],
)
def test_force_first_or_all(force, expected):
    fake = FakeTranslator(nbest={"q": ["a b"]}, completion={"q": "z"})
    settings = ConstrainedSettings(n_best=0, max_positions=2, max_rounds=1, force=force)
    cons = [[_c("N", 5), _c("M", 0)]]
    translate_constrained(fake, ["q"], cons, "en", "de", settings=settings)
    prefixes = [c[2] for c in fake.calls if c[0] == "hypotheses" and c[2]]
    assert prefixes == [expected]
