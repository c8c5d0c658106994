"""Answer candidates on the English side (generators/paxqa/candidates.py)."""

from __future__ import annotations

import json
import random

import pytest

from xproj.generators.paxqa.candidates import (
    KINDS,
    AnswerCandidate,
    CandidateSettings,
    candidates_for,
    capitalised_candidates,
    date_candidates,
    find_candidates,
    load_pipeline,
    number_candidates,
    select_candidates,
)
from xproj.schemas.errors import E_BAD_CONFIG, ConfigError, InputFormatError


def spans(cands: list[AnswerCandidate]) -> list[tuple[str, int]]:
    return [(c.text, c.start) for c in cands]


def assert_invariant(context: str, cands: list[AnswerCandidate]) -> None:
    for c in cands:
        assert c.text, c
        assert context[c.start : c.start + len(c.text)] == c.text, (context, c)
        assert c.text == c.text.strip(), c
        assert c.kind in KINDS


# --------------------------------------------------------------------------- rules

NUMBER_CASES = [
    ("It cost $5 million in total.", [("$5 million", 8)]),
    ("The road is 1,000 km long and 3.5 m wide.", [("1,000 km", 12), ("3.5 m", 30)]),
    ("Unemployment rose to 12.5% and then 13 percent.", [("12.5%", 21), ("13 percent", 36)]),
    ("She finished 3rd and he was 21st.", [("3rd", 13), ("21st", 28)]),
    (
        "A European decimal is 3,5 and a group is 1.000.000 people.",
        [("3,5", 22), ("1.000.000 people", 41)],
    ),
    ("There were 42 players, 7 coaches and 250 fans.", [("42", 11), ("7", 23), ("250", 37)]),
    (
        "Tickets cost €20 or US$ 25 each, about 30 dollars.",
        [("€20", 13), ("US$ 25", 20), ("30 dollars", 39)],
    ),
    (
        "It lasted 20 years and covered 5,000 square miles.",
        [("20 years", 10), ("5,000 square miles", 31)],
    ),
    ("COVID-19 spread, A4 paper, MP3 files and 3D films.", []),
    ("The value 0.25 rose to 1,234,567.89 overnight.", [("0.25", 10), ("1,234,567.89", 23)]),
]


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_number_rule(text: str, expected: list[tuple[str, int]]) -> None:
    assert spans(number_candidates(text)) == expected


DATE_CASES = [
    ("He was born on March 3, 1998 in Ohio.", [("March 3, 1998", 15)]),
    (
        "It opened on 3 March 1998 and closed on 21st of June.",
        [("3 March 1998", 13), ("21st of June", 40)],
    ),
    (
        "Work began in September 1990 and ended Jan. 5, 1991.",
        [("September 1990", 14), ("Jan. 5, 1991", 39)],
    ),
    (
        "The city grew in the 1990s, the '80s and the 1800s.",
        [("1990s", 21), ("'80s", 32), ("1800s", 45)],
    ),
    (
        "It was built in the 19th century, not the nineteenth-century.",
        [("19th century", 20), ("nineteenth-century", 42)],
    ),
    ("Founded in 1842, it was rebuilt in 2011.", [("1842", 11), ("2011", 35)]),
    ("Rome fell in AD 476; Troy burned around 1200 BC.", [("AD 476", 13), ("1200 BC", 40)]),
    (
        "The war lasted 1914–18 and was recorded on 1919-06-28.",
        [("1914–18", 15), ("1919-06-28", 43)],
    ),
    # not years: too small, too large, grouped, a unit, currency or a scale word after them
    ("He scored 999 points, 2150 goals, 1,998 runs, 1500 km and $1900 and 1999 million.", []),
]


@pytest.mark.parametrize(("text", "expected"), DATE_CASES)
def test_date_rule(text: str, expected: list[tuple[str, int]]) -> None:
    assert spans(date_candidates(text)) == expected


def test_numbers_inside_dates_are_left_to_the_date() -> None:
    text = "On March 3, 1998 the 3rd ship came."
    dates = date_candidates(text)
    assert spans(dates) == [("March 3, 1998", 3)]
    assert spans(number_candidates(text, dates)) == [("3rd", 21)]
    # without dates (kind off) the pieces are numbers
    assert spans(number_candidates(text)) == [("3", 9), ("1998", 12), ("3rd", 21)]


CAPITALISED_CASES = [
    (
        "Father Edward Sorin founded the University of Notre Dame in Indiana.",
        [("Father Edward Sorin", 0), ("University of Notre Dame", 32), ("Indiana", 60)],
    ),
    ("The Beatles met Leonardo da Vinci fans.", [("Beatles", 4), ("Leonardo da Vinci", 16)]),
    ("However, the plan failed. The end came soon.", []),
    ("Paris is large. It lies in France.", [("France", 27)]),  # sentence-initial Paris once
    ("Paris is large. He loves Paris.", [("Paris", 0), ("Paris", 25)]),  # recurs mid-sentence
    ("NASA said so. Then it agreed.", [("NASA", 0)]),  # all capitals
    (
        "In Germany, Mr. Smith met J. K. Rowling.",
        [("Germany", 3), ("Mr. Smith", 12), ("J. K. Rowling", 26)],
    ),
    ("Obama's aide went to the U.S. Congress of the.", [("U.S. Congress", 25)]),
    (
        "She met the President of the United States of America today.",
        [("President of the United States of America", 12)],
    ),
    (
        "I think Johnson & Johnson and the Bank of England agree.",
        [("Johnson & Johnson", 8), ("Bank of England", 34)],
    ),
    (
        "Vitamin C is sold in Tesco and\nLidl stores.",
        [("Vitamin C", 0), ("Tesco", 21)],
    ),
    (
        "He flew to Paris and Lyon, not to Rome and the Vatican.",
        [("Paris and Lyon", 11), ("Rome", 34), ("Vatican", 47)],
    ),
    (
        "He read The Lord of the Rings by Tolkien of Oxford.",
        [("The Lord of the Rings", 8), ("Tolkien of Oxford", 33)],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CAPITALISED_CASES)
def test_capitalised_rule(text: str, expected: list[tuple[str, int]]) -> None:
    assert spans(capitalised_candidates(text)) == expected


def test_capitalised_run_continues_after_initialism_and_ends_at_possessive() -> None:
    text = "He met U.S. President Barack Obama's aide and Denver's General Manager."
    assert spans(capitalised_candidates(text)) == [
        ("U.S. President Barack Obama", 7),
        ("Denver", 46),
        ("General Manager", 55),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The weather was fine.",
        "However it rained later.",
        "After that nothing happened.",
        "This is true. That is false. Those are fine.",
        "I said it, and I meant it.",
    ],
)
def test_sentence_initial_common_words_are_no_candidates(text: str) -> None:
    assert capitalised_candidates(text) == []
    assert candidates_for(text) == []


def test_capitalised_spans_inside_dates_go_to_the_date() -> None:
    text = "In March 1998 the Senate met."
    got = candidates_for(text)
    assert [(c.text, c.start, c.kind) for c in got] == [
        ("March 1998", 3, "date"),
        ("Senate", 18, "capitalised"),
    ]


# --------------------------------------------------------------------------- invariant


def _synthetic_sentences(n: int) -> list[str]:
    rng = random.Random(7)
    names = ["Paris", "the University of Notre Dame", "J. K. Rowling", "NASA", "Mr. O'Brien"]
    things = ["$5 million", "1,000 km", "12.5%", "3rd", "3,5 kg", "the '90s", "“Thriller”"]
    times = ["in 1998", "on March 3, 1998", "in the 19th century", "(1914–18)", "by AD 476"]
    openers = ["The", "However,", "In 2001,", '"Yes,"', "(", "", "After"]
    out = []
    for _ in range(n):
        parts = [
            rng.choice(openers),
            rng.choice(names),
            rng.choice(["met", "sold", "bought", "saw"]),
            rng.choice(things),
            rng.choice(times) + rng.choice([".", ",", ";", "!", ")."]),
            rng.choice(["", " Then Berlin's mayor left.", "\nThe End"]),
        ]
        out.append(" ".join(p for p in parts if p))
    return out


def test_substring_invariant_on_synthetic_sentences() -> None:
    texts = _synthetic_sentences(400)
    settings = CandidateSettings(max_per_context=None, allow_overlap=True)
    results = list(find_candidates(texts, settings=settings))
    assert len(results) == len(texts)
    assert sum(len(r) for r in results) > 1000
    for text, cands in zip(texts, results, strict=True):
        assert_invariant(text, cands)


@pytest.mark.shared_data
def test_substring_invariant_on_xquad_contexts(shared_data) -> None:
    path = shared_data / "xquad" / "xquad.en.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    contexts = [p["context"] for article in data for p in article["paragraphs"]]
    sentences = [s for c in contexts[:80] for s in c.split(". ") if s.strip()]
    texts = contexts + sentences
    assert len(texts) > 300
    nlp = _ruler_pipeline()
    kinds_seen: set[str] = set()
    for settings in (
        CandidateSettings(),
        CandidateSettings(max_per_context=None, allow_overlap=True),
    ):
        for text, cands in zip(
            texts, find_candidates(texts, nlp, settings, batch_size=32), strict=True
        ):
            assert_invariant(text, cands)
            kinds_seen.update(c.kind for c in cands)
            if settings.max_per_context is not None:
                assert len(cands) <= settings.max_per_context
    assert {"date", "number", "capitalised", "entity"} <= kinds_seen


# --------------------------------------------------------------------------- selection


def C(text: str, start: int, kind: str, label: str | None = None) -> AnswerCandidate:
    return AnswerCandidate(text, start, kind, label)


def test_dedupe_keeps_most_specific_kind() -> None:
    got = select_candidates(
        [
            C("1998", 5, "number"),
            C("1998", 5, "date"),
            C("Obama", 20, "capitalised"),
            C("Obama", 20, "noun_chunk"),
            C("Obama", 20, "entity", "PERSON"),
        ]
    )
    assert got == [C("1998", 5, "date"), C("Obama", 20, "entity", "PERSON")]


def test_overlaps_dropped_by_priority_unless_allowed() -> None:
    cands = [
        C("old man Smith", 0, "noun_chunk"),
        C("Smith", 8, "capitalised"),
        C("Smith", 8, "entity", "PERSON"),
        C("5 kg", 20, "number"),
        C("the 5 kg bag", 16, "noun_chunk"),
    ]
    assert select_candidates(cands) == [C("Smith", 8, "entity", "PERSON"), C("5 kg", 20, "number")]
    loose = select_candidates(cands, CandidateSettings(allow_overlap=True))
    assert loose == [
        C("old man Smith", 0, "noun_chunk"),
        C("Smith", 8, "entity", "PERSON"),
        C("the 5 kg bag", 16, "noun_chunk"),
        C("5 kg", 20, "number"),
    ]


def test_limit_takes_kinds_by_priority_then_spreads() -> None:
    nums = [C(str(i), 10 * i, "number") for i in range(10)]
    ents = [C(f"E{i}", 200 + 10 * i, "entity", "ORG") for i in range(2)]
    nouns = [C("dog", 500, "noun_chunk")]
    got = select_candidates(nums + ents + nouns, CandidateSettings(max_per_context=6))
    # both entities first, then 4 of 10 numbers spread: indices 1, 3, 6, 8
    assert [(c.text, c.kind) for c in got] == [
        ("1", "number"),
        ("3", "number"),
        ("6", "number"),
        ("8", "number"),
        ("E0", "entity"),
        ("E1", "entity"),
    ]
    assert [c.start for c in got] == sorted(c.start for c in got)
    assert (
        len(select_candidates(nums + ents + nouns, CandidateSettings(max_per_context=None))) == 13
    )


def test_limit_is_deterministic_and_spread_across_context() -> None:
    text = " ".join(f"Name{i} saw {i + 10} km." for i in range(30))
    a = candidates_for(text, settings=CandidateSettings(max_per_context=5, kinds=["number"]))
    b = candidates_for(text, settings=CandidateSettings(max_per_context=5, kinds=["number"]))
    assert a == b and len(a) == 5
    assert a[0].start < len(text) / 5 and a[-1].start > 4 * len(text) / 5


def test_kinds_and_length_filters() -> None:
    text = "The University of Notre Dame paid $5 million in 1998."
    only_dates = candidates_for(text, settings=CandidateSettings(kinds=["date"]))
    assert spans(only_dates) == [("1998", 48)]
    short = candidates_for(text, settings=CandidateSettings(max_words=2))
    assert spans(short) == [("$5 million", 34), ("1998", 48)]
    long = candidates_for(text, settings=CandidateSettings(min_chars=5))
    assert spans(long) == [("University of Notre Dame", 4), ("$5 million", 34)]
    # dates off: the year becomes a number
    no_dates = candidates_for(text, settings=CandidateSettings(kinds=["number"]))
    assert spans(no_dates) == [("$5 million", 34), ("1998", 48)]
    assert {c.kind for c in no_dates} == {"number"}


# --------------------------------------------------------------------------- spaCy


def _ruler_pipeline():
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": "Edward Sorin"},
            {"label": "ORG", "pattern": [{"LOWER": "notre"}, {"LOWER": "dame"}]},
            {"label": "GPE", "pattern": "Paris"},
            {"label": "GPE", "pattern": "France"},
            {"label": "EVENT", "pattern": "Super Bowl 50"},
        ]
    )
    return nlp


def test_entity_candidates_from_a_pipeline_keep_labels() -> None:
    nlp = _ruler_pipeline()
    texts = [
        "Edward Sorin came to Notre Dame in 1842.",
        "nothing here",
        "Paris is in France, like Lyon; Super Bowl 50 was not.",
    ]
    got = list(find_candidates(texts, nlp, batch_size=2))
    assert [(c.text, c.start, c.kind, c.label) for c in got[0]] == [
        ("Edward Sorin", 0, "entity", "PERSON"),
        ("Notre Dame", 21, "entity", "ORG"),
        ("1842", 35, "date", None),
    ]
    assert got[1] == []
    third = [(c.text, c.kind, c.label) for c in got[2]]
    assert ("Paris", "entity", "GPE") in third and ("France", "entity", "GPE") in third
    assert ("Super Bowl 50", "entity", "EVENT") in third
    # the capitalised "Super Bowl" and the number "50" lose to the entity (overlap)
    assert ("Super Bowl", "capitalised", None) not in third
    assert ("50", "number", None) not in third
    assert ("Lyon", "capitalised", None) in third


def test_entities_off_skips_the_pipeline() -> None:
    calls = []

    class Boom:
        def pipe(self, texts, batch_size):  # pragma: no cover - must not be called
            calls.append(batch_size)
            raise AssertionError("pipeline run although entity/noun_chunk are off")

    got = list(find_candidates(["In 1998 it rained."], Boom(), CandidateSettings(kinds=["date"])))
    assert spans(got[0]) == [("1998", 3)] and calls == []


def test_blank_pipeline_has_no_noun_chunks_but_rules_run() -> None:
    nlp = load_pipeline("blank")
    assert nlp.pipe_names == []
    got = next(find_candidates(["The old man saw Lyon in 1998."], nlp))
    assert [(c.text, c.kind) for c in got] == [("Lyon", "capitalised"), ("1998", "date")]


def test_noun_chunks_drop_determiners_and_pronouns() -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.language import Language

    parse = {
        "The old man saw a big dog .": (
            [2, 2, 3, 3, 6, 6, 3, 3],
            ["det", "amod", "nsubj", "ROOT", "det", "amod", "dobj", "punct"],
            ["DET", "ADJ", "NOUN", "VERB", "DET", "ADJ", "NOUN", "PUNCT"],
        ),
        "He saw it .": (
            [1, 1, 1, 1],
            ["nsubj", "ROOT", "dobj", "punct"],
            ["PRON", "VERB", "PRON", "PUNCT"],
        ),
    }

    @Language.component("test_paxqa_toy_parser")
    def toy_parser(doc):
        heads, deps, pos = parse[" ".join(t.text for t in doc)]
        for tok, h, d, p in zip(doc, heads, deps, pos, strict=True):
            tok.head, tok.dep_, tok.pos_ = doc[h], d, p
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("test_paxqa_toy_parser")
    got = list(find_candidates(["The old man saw a big dog.", "He saw it."], nlp))
    assert [(c.text, c.start, c.kind) for c in got[0]] == [
        ("old man", 4, "noun_chunk"),
        ("big dog", 18, "noun_chunk"),
    ]
    assert got[1] == []
    off = next(
        find_candidates(["The old man saw a big dog."], nlp, CandidateSettings(kinds=["entity"]))
    )
    assert off == []


def test_load_pipeline() -> None:
    assert load_pipeline(None) is None
    with pytest.raises(ConfigError) as err:
        load_pipeline("xproj_no_such_pipeline_sm")
    assert err.value.code == E_BAD_CONFIG
    assert "xproj_no_such_pipeline_sm" in str(err.value)
    assert "spacy download xproj_no_such_pipeline_sm" in (err.value.fix or "")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"max_per_context": 0}, "max_per_context"),
        ({"max_per_context": 2.5}, "max_per_context"),
        ({"kinds": ["entity", "verb"]}, "unknown candidate kind"),
        ({"kinds": []}, "no candidate kind"),
        ({"kinds": "date"}, "not the string"),
        ({"min_words": 0}, "min_words"),
        ({"min_words": 4, "max_words": 3}, "min_words (4) is larger"),
        ({"min_chars": 10, "max_chars": 5}, "min_chars (10) is larger"),
        ({"max_chars": True}, "max_chars"),
        ({"allow_overlap": "yes"}, "allow_overlap"),
    ],
)
def test_settings_validation(kwargs: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        CandidateSettings(**kwargs)
    assert err.value.code == E_BAD_CONFIG
    assert needle in err.value.message
    assert err.value.fix


def test_settings_normalise_kinds_and_are_frozen() -> None:
    s = CandidateSettings(kinds=["date", "number", "date"])
    assert s.kinds == frozenset({"date", "number"})
    with pytest.raises(AttributeError):
        s.max_per_context = 3  # type: ignore[misc]


def test_bad_inputs_raise_coded_errors() -> None:
    with pytest.raises(ConfigError):
        list(find_candidates(["x"], batch_size=0))
    with pytest.raises(InputFormatError) as err:
        list(find_candidates(["fine", None]))  # type: ignore[list-item]
    assert err.value.record == "1"
