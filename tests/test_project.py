"""Span projection through word alignments (``align.v1``), punctuation and anchors."""

from __future__ import annotations

import random

import pytest

from xproj.projectors.anchors import AnchorIndex, is_anchorable
from xproj.projectors.policy import ProjectionPolicy
from xproj.projectors.project import (
    REASONS,
    project_pair,
    project_spans,
    target_sentence,
    target_spans,
)
from xproj.projectors.punct import is_punct
from xproj.schemas.errors import ConfigError, InputFormatError
from xproj.schemas.records import (
    Alignment,
    AnnotatedSentence,
    DropReason,
    ParallelPair,
    ProjectionOutcome,
    TokenSpan,
)

NO_ALIGN = DropReason.NO_ALIGNMENT
PUNCT = DropReason.PUNCTUATION_ONLY
LOST = DropReason.LOST_OVERLAP
EMPTY = DropReason.EMPTY_TARGET


def links(pharaoh: str) -> list[tuple[int, int]]:
    return [tuple(map(int, p.split("-"))) for p in pharaoh.split()]


def run(src: str, tgt: str, pharaoh: str, spans, **policy) -> list[ProjectionOutcome]:
    return project_spans(
        src.split(),
        tgt.split(),
        links(pharaoh),
        [TokenSpan(*s) for s in spans],
        policy=ProjectionPolicy(**policy),
    )


def summary(outcomes: list[ProjectionOutcome]) -> list[tuple]:
    """``(start, end)`` when projected, ``("merged", into, start, end)``, else the reason."""
    out = []
    for o in outcomes:
        if o.projected:
            out.append((o.target.start, o.target.end))
        elif o.reason is DropReason.MERGED:
            out.append(("merged", o.merged_into, o.target.start, o.target.end))
        else:
            out.append(o.reason)
    return out


# (id, source, target, links, spans, policy, expected per span)
CASES = [
    # fmt: off
    (
        "identity",
        "Anna lives in Rome",
        "Anna wohnt in Rom",
        "0-0 1-1 2-2 3-3",
        [(0, 1, "PER"), (3, 4, "LOC")],
        {},
        [(0, 1), (3, 4)],
    ),
    ("one_to_many", "in NYC .", "in New York .", "0-0 1-1 1-2 2-3", [(1, 2, "LOC")], {}, [(1, 3)]),
    ("many_to_one", "in New York City", "in NYC", "0-0 1-1 2-1 3-1", [(1, 4, "LOC")], {}, [(1, 2)]),
    (
        "reordered",
        "the White House",
        "la Casa Blanca",
        "0-0 1-2 2-1",
        [(1, 3, "ORG")],
        {},
        [(1, 3)],
    ),
    (
        "sentence_edges",
        "Rome is in Italy",
        "Italia contiene Roma",
        "0-2 3-0",
        [(0, 1, "LOC"), (3, 4, "LOC")],
        {},
        [(2, 3), (0, 1)],
    ),
    (
        "no_alignment",
        "Anna saw Bob",
        "Anna sah Bob",
        "0-0",
        [(0, 1, "PER"), (2, 3, "PER")],
        {"anchor_identical": False},
        [(0, 1), NO_ALIGN],
    ),
    ("empty_span_list", "Anna saw Bob", "Anna sah Bob", "0-0", [], {}, []),
    # discontiguous targets
    (
        "largest_group",
        "European Central Bank",
        "Banca Centrale ha detto Europea",
        "0-4 1-1 2-0",
        [(0, 3, "ORG")],
        {},
        [(0, 2)],
    ),
    (
        "extent",
        "European Central Bank",
        "Banca Centrale ha detto Europea",
        "0-4 1-1 2-0",
        [(0, 3, "ORG")],
        {"grouping": "extent"},
        [(0, 5)],
    ),
    (
        "largest_tie_leftmost",
        "Barack Obama",
        "Barack x y Obama",
        "0-0 1-3",
        [(0, 2, "PER")],
        {},
        [(0, 1)],
    ),
    (
        "largest_tie_more_support",
        "New York",
        "York x y New",
        "0-3 1-3 1-0",
        [(0, 2, "LOC")],
        {},
        [(3, 4)],
    ),
    # gap filling
    ("gap_filled", "Bank of Spain", "Banco de España", "0-0 2-2", [(0, 3, "ORG")], {}, [(0, 3)]),
    (
        "gap_not_filled_0",
        "Bank of Spain",
        "Banco de España",
        "0-0 2-2",
        [(0, 3, "ORG")],
        {"gap_fill": 0},
        [(0, 1)],
    ),
    ("gap_too_wide", "Bank of Spain", "Banco x y España", "0-0 2-3", [(0, 3, "ORG")], {}, [(0, 1)]),
    (
        "gap_fill_2",
        "Bank of Spain",
        "Banco x y España",
        "0-0 2-3",
        [(0, 3, "ORG")],
        {"gap_fill": 2},
        [(0, 4)],
    ),
    # punctuation
    ("punct_drop", "in Rome .", "a Roma , ok", "1-1 1-2", [(1, 2, "LOC")], {}, [(1, 2)]),
    (
        "punct_drop_only",
        "in Rome",
        "a , Roma",
        "1-1",
        [(1, 2, "LOC")],
        {"anchor_identical": False},
        [PUNCT],
    ),
    ("punct_drop_inside_gap", "Smith & Co", "Smith , Co", "0-0 2-2", [(0, 3, "ORG")], {}, [(0, 3)]),
    (
        "punct_keep",
        "in Rome .",
        "a Roma , ok",
        "1-1 1-2",
        [(1, 2, "LOC")],
        {"punctuation": "keep"},
        [(1, 3)],
    ),
    (
        "punct_keep_only",
        "in Rome",
        "a , Roma",
        "1-1",
        [(1, 2, "LOC")],
        {"punctuation": "keep", "anchor_identical": False},
        [(1, 2)],
    ),
    (
        "punct_trim_edges",
        "in Rome .",
        "a « Roma » ok",
        "1-1 1-2 1-3",
        [(1, 2, "LOC")],
        {"punctuation": "trim"},
        [(2, 3)],
    ),
    (
        "punct_trim_bridges",
        "Rhein Nord",
        "Rhein - - Nord",
        "0-0 0-1 1-2 1-3",
        [(0, 2, "LOC")],
        {"punctuation": "trim"},
        [(0, 4)],
    ),
    (
        "punct_drop_no_bridge",
        "Rhein Nord",
        "Rhein - - Nord",
        "0-0 0-1 1-2 1-3",
        [(0, 2, "LOC")],
        {"punctuation": "drop"},
        [(0, 1)],
    ),
    (
        "punct_trim_only",
        "in Rome",
        "a , Roma",
        "1-1",
        [(1, 2, "LOC")],
        {"punctuation": "trim", "anchor_identical": False},
        [PUNCT],
    ),
    ("punct_other_scripts", "in Tokyo", "東京 。 「", "1-1 1-2", [(1, 2, "LOC")], {}, [PUNCT]),
    # anchoring identical names and numbers
    (
        "anchor_on",
        "Obama visited Berlin in 2019",
        "2019 besuchte Obama Berlin",
        "1-1",
        [(0, 1, "PER"), (2, 3, "LOC"), (4, 5, "DATE")],
        {},
        [(2, 3), (3, 4), (0, 1)],
    ),
    (
        "anchor_off",
        "Obama visited Berlin in 2019",
        "2019 besuchte Obama Berlin",
        "1-1",
        [(0, 1, "PER"), (2, 3, "LOC"), (4, 5, "DATE")],
        {"anchor_identical": False},
        [NO_ALIGN, NO_ALIGN, NO_ALIGN],
    ),
    ("anchor_not_lowercase", "the band", "die band", "0-0", [(1, 2, "ORG")], {}, [NO_ALIGN]),
    (
        "anchor_not_repeated_in_target",
        "in Paris",
        "Paris und Paris",
        "",
        [(1, 2, "LOC")],
        {},
        [NO_ALIGN],
    ),
    (
        "anchor_not_repeated_in_source",
        "Paris or Paris",
        "Paris oder",
        "",
        [(0, 1, "LOC")],
        {},
        [NO_ALIGN],
    ),
    ("anchor_case_sensitive", "in PARIS", "in Paris", "0-0", [(1, 2, "LOC")], {}, [NO_ALIGN]),
    (
        "anchor_adds_to_links",
        "Obama spoke",
        "Der Obama sprach",
        "0-0",
        [(0, 1, "PER")],
        {},
        [(0, 2)],
    ),
    (
        "anchor_only_replaces_links",
        "Obama spoke",
        "Der Obama sprach",
        "0-0",
        [(0, 1, "PER")],
        {"anchor_only": True},
        [(1, 2)],
    ),
    (
        "anchor_only_keeps_links_of_unanchored_tokens",
        "Obama spoke in 2019",
        "2019 sprach Obama",
        "0-0 1-1 3-1",
        [(0, 4, "X")],
        {"anchor_only": True, "grouping": "extent"},
        [(0, 3)],
    ),
    # overlapping projections
    (
        "same_type_merge",
        "John Smith met Anna",
        "John Smith traf",
        "0-0 1-1 3-1",
        [(0, 2, "PER"), (3, 4, "PER")],
        {},
        [(0, 2), ("merged", 0, 0, 2)],
    ),
    (
        "same_type_merge_extends",
        "John Smith met Anna",
        "John Smith Anna x",
        "0-0 1-1 3-1 3-2",
        [(0, 2, "PER"), (3, 4, "PER")],
        {},
        [(0, 3), ("merged", 0, 0, 3)],
    ),
    (
        "same_type_merge_into_longer",
        "Anna met John Smith",
        "John Smith Anna",
        "0-1 0-2 2-0 3-1",
        [(0, 1, "PER"), (2, 4, "PER")],
        {},
        [("merged", 1, 0, 3), (0, 3)],
    ),
    (
        "duplicate_source_spans",
        "Anna sings",
        "Anna singt",
        "0-0",
        [(0, 1, "PER"), (0, 1, "PER")],
        {},
        [(0, 1), ("merged", 0, 0, 1)],
    ),
    (
        "other_type_longer_wins",
        "Bank of Spain in Madrid",
        "Banco Madrid x",
        "0-0 2-1 4-1",
        [(0, 3, "ORG"), (4, 5, "LOC")],
        {},
        [(0, 2), LOST],
    ),
    (
        "other_type_longer_wins_later",
        "Madrid has Bank of Spain",
        "Banco Madrid x",
        "0-1 2-0 4-1",
        [(0, 1, "LOC"), (2, 5, "ORG")],
        {},
        [LOST, (0, 2)],
    ),
    (
        "other_type_tie_earlier_wins",
        "Madrid Spain",
        "Madrid-Spanien",
        "0-0 1-0",
        [(0, 1, "LOC"), (1, 2, "MISC")],
        {},
        [(0, 1), LOST],
    ),
    (
        "chain_merge_three",
        "Ann Lee and Bo and Cy",
        "t0 t1 t2 t3 t4",
        "0-0 1-1 3-3 3-4 5-1 5-2 5-3",
        [(0, 2, "PER"), (3, 4, "PER"), (5, 6, "PER")],
        {"gap_fill": 0},
        [(0, 5), ("merged", 0, 0, 5), ("merged", 0, 0, 5)],
    ),
    (
        "same_and_other_type_loses",
        "Ann Lee in Rome or Cy",
        "t0 t1 t2 t3",
        "0-0 1-1 3-2 3-3 5-1 5-2",
        [(0, 2, "PER"), (3, 4, "LOC"), (5, 6, "PER")],
        {"gap_fill": 0},
        [(0, 2), (2, 4), LOST],
    ),
    (
        "dropped_span_does_not_block",
        "Bank of Spain in Madrid or Cy",
        "t0 t1 t2 t3",
        "0-0 2-1 4-1 4-2 6-2",
        [(0, 3, "ORG"), (4, 5, "LOC"), (6, 7, "PER")],
        {"gap_fill": 0},
        [(0, 2), LOST, (2, 3)],
    ),
    (
        "overlap_keep",
        "Bank of Spain in Madrid",
        "Banco Madrid x",
        "0-0 2-1 4-1",
        [(0, 3, "ORG"), (4, 5, "LOC")],
        {"overlap": "keep"},
        [(0, 2), (1, 2)],
    ),
    (
        "overlap_keep_same_type",
        "John Smith met Anna",
        "John Smith traf",
        "0-0 1-1 3-1",
        [(0, 2, "PER"), (3, 4, "PER")],
        {"overlap": "keep"},
        [(0, 2), (1, 2)],
    ),
    # fmt: on
]


@pytest.mark.parametrize(
    "src, tgt, pharaoh, spans, policy, expected",
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_project_spans_cases(src, tgt, pharaoh, spans, policy, expected):
    outcomes = run(src, tgt, pharaoh, spans, **policy)
    assert summary(outcomes) == expected
    assert [o.source_index for o in outcomes] == list(range(len(spans)))
    assert [o.source for o in outcomes] == [TokenSpan(*s) for s in spans]
    for o, s in zip(outcomes, spans, strict=True):
        if o.target is not None:
            assert o.target.label == s[2]


@pytest.mark.parametrize(
    "policy",
    [{}, {"punctuation": "keep"}, {"overlap": "keep"}, {"grouping": "extent"}],
    ids=["default", "punct_keep", "overlap_keep", "extent"],
)
def test_project_spans_empty_target(policy):
    spans = [TokenSpan(0, 1, "PER"), TokenSpan(2, 3, "LOC")]
    outcomes = project_spans(
        ["Anna", "in", "Rome"], [], [], spans, policy=ProjectionPolicy(**policy)
    )
    assert [o.reason for o in outcomes] == [EMPTY, EMPTY]
    assert all(o.target is None and o.detail for o in outcomes)


@pytest.mark.parametrize(
    "src, tgt, pharaoh, spans, policy, reason, detail_part",
    [
        (
            "Anna saw Bob",
            "Anna sah Bob",
            "0-0",
            [(2, 3, "PER")],
            {"anchor_identical": False},
            NO_ALIGN,
            "'Bob'",
        ),
        ("in Rome", "a , Roma", "1-1", [(1, 2, "LOC")], {}, PUNCT, "','"),
        (
            "Bank of Spain in Madrid",
            "Banco Madrid x",
            "0-0 2-1 4-1",
            [(0, 3, "ORG"), (4, 5, "LOC")],
            {},
            LOST,
            "ORG projection of source span 0 (longer)",
        ),
        (
            "Madrid Spain",
            "Madrid-Spanien",
            "0-0 1-0",
            [(0, 1, "LOC"), (1, 2, "MISC")],
            {},
            LOST,
            "same length, earlier",
        ),
        (
            "John Smith met Anna",
            "John Smith traf",
            "0-0 1-1 3-1",
            [(0, 2, "PER"), (3, 4, "PER")],
            {},
            DropReason.MERGED,
            "merged into the PER projection of source span 0",
        ),
    ],
)
def test_project_spans_drop_details(src, tgt, pharaoh, spans, policy, reason, detail_part):
    dropped = [o for o in run(src, tgt, pharaoh, spans, **policy) if not o.projected]
    assert [o.reason for o in dropped] == [reason]
    assert detail_part in dropped[0].detail


def test_project_spans_every_drop_reason_covered():
    covered = {e for c in CASES for e in c[-1] if isinstance(e, DropReason)}
    covered |= {EMPTY} | {DropReason.MERGED for c in CASES for e in c[-1] if e[0] == "merged"}
    assert covered == REASONS


@pytest.mark.parametrize(
    "policy, detail_part",
    [({}, "anchored 'Obama'->1"), ({"anchor_identical": False}, "")],
)
def test_project_spans_anchor_detail(policy, detail_part):
    (out,) = run("Obama spoke", "Der Obama sprach", "0-0 1-2", [(0, 1, "PER")], **policy)
    assert out.detail == detail_part


def test_project_spans_accepts_alignment_record():
    align = Alignment(frozenset(links("0-0 1-1")), possible=frozenset({(2, 2)}))
    spans = [TokenSpan(0, 2, "PER"), TokenSpan(2, 3, "PER")]
    outcomes = project_spans("John Smith met".split(), "John Smith traf".split(), align, spans)
    assert summary(outcomes) == [(0, 2), NO_ALIGN]  # possible links are not used


@pytest.mark.parametrize(
    "spans, pharaoh, error, code",
    [
        ([(0, 4, "PER")], "0-0", InputFormatError, "XP105"),
        ([(0, 1, "PER")], "0-3", InputFormatError, "XP107"),
        ([(0, 1, "PER")], "3-0", InputFormatError, "XP107"),
    ],
)
def test_project_spans_rejects_broken_input(spans, pharaoh, error, code):
    with pytest.raises(error) as exc:
        run("a b c", "x y z", pharaoh, spans)
    assert exc.value.code == code


@pytest.mark.parametrize(
    "policy",
    [{"gap_fill": -1}, {"punctuation": "strip"}, {"grouping": "first"}, {"overlap": "merge"}],
)
def test_project_spans_rejects_bad_policy(policy):
    with pytest.raises(ConfigError) as exc:
        run("a", "x", "0-0", [(0, 1, "X")], **policy)
    assert exc.value.code == "XP301"


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        ({"gap_fill": -1}, "gap_fill=-1"),
        ({"punctuation": "strip"}, "punctuation='strip' is not one of drop, trim, keep"),
        ({"grouping": "first"}, "grouping='first' is not one of largest, extent"),
        ({"overlap": "merge"}, "overlap='merge' is not one of type_then_length, keep"),
    ],
)
def test_project_policy_refuses_bad_choice_when_made(policy, named):
    # checked once where the policy is made, not again for every sentence projected
    with pytest.raises(ConfigError) as exc:
        ProjectionPolicy(**policy)
    assert exc.value.code == "XP301" and named in exc.value.message


def test_project_target_sentence_char_round_trip():
    src = AnnotatedSentence(
        "s1",
        "en",
        ("Anna", "lives", "in", "New", "York", "."),
        (TokenSpan(0, 1, "PER"), TokenSpan(3, 5, "LOC")),
        text="Anna lives in New York.",
    )
    tgt = AnnotatedSentence(
        "s1",
        "es",
        ("Anna", "vive", "en", "Nueva", "York", "."),
        text="Anna vive en Nueva York.",
    )
    sent, outcomes = project_pair(ParallelPair("s1", src, tgt), links("0-0 1-1 2-2 3-3 4-4 5-5"))
    assert [o.projected for o in outcomes] == [True, True]
    assert [sent.text[c.start : c.end] for c in sent.char_spans] == ["Anna", "Nueva York"]
    assert sent.spans == tuple(target_spans(outcomes))
    assert target_sentence(tgt, outcomes) == sent


def test_project_target_spans_distinct_sorted():
    outcomes = run(
        "John Smith met Anna in Rome",
        "Roma John Smith",
        "0-1 1-2 3-2 5-0",
        [(0, 2, "PER"), (3, 4, "PER"), (5, 6, "LOC")],
        overlap="keep",
    )
    assert target_spans(outcomes) == [
        TokenSpan(0, 1, "LOC"),
        TokenSpan(1, 3, "PER"),
        TokenSpan(2, 3, "PER"),
    ]


def test_project_projector_registry_dispatches_align(tmp_path):
    from xproj.projectors.projector import (
        PROJECTORS,
        ProjectionTask,
        ProjectorSetup,
        make_projector,
    )

    assert {"align.v1", "markers.v1", "codec.v1"} <= set(PROJECTORS.names())
    links = tmp_path / "links.align"
    links.write_text("0-0\n")
    setup = ProjectorSetup(aligner="given.v1", aligner_settings={"path": str(links)})
    projector = make_projector("align", setup)  # the short name stands for align.v1
    src = AnnotatedSentence("s", "en", ("Rome",), (TokenSpan(0, 1, "LOC"),))
    tgt = AnnotatedSentence("t", "it", ("Roma",), ())
    [result] = projector.project([ProjectionTask(src, tgt, "t")], "en", "it", tokenizer=None)
    assert projector.name == "align.v1" and result.task.pair_id == "s|t"
    assert summary(result.projection.outcomes) == [(0, 1)]


@pytest.mark.parametrize(
    "token, expected",
    [
        (",", True),
        ("...", True),
        ("«", True),
        ("。", True),
        ("،", True),
        ("¿", True),
        ("``", True),
        ("—", True),
        ("U.S.", False),
        ("$", False),
        ("%", False),
        ("&", False),
        ("#", False),
        ("", False),
        ("a", False),
        ("東京", False),
        ("-1", False),
    ],
)
def test_punct_is_punct_any_script(token, expected):
    assert is_punct(token) is expected


@pytest.mark.parametrize(
    "token, expected",
    [
        ("Obama", True),
        ("2019", True),
        ("iPhone", True),
        ("COVID-19", True),
        ("7", True),
        ("A", False),
        ("house", False),
        ("été", False),
        ("-", False),
        ("東京", False),
        ("", False),
    ],
)
def test_anchors_is_anchorable(token, expected):
    assert is_anchorable(token) is expected


def test_anchors_index_unique_both_sides():
    idx = AnchorIndex(["Obama", "and", "Obama", "in", "Rome", "2019"], ["Rom", "2019", "Rome"])
    assert [idx.target_of(i) for i in range(6)] == [None, None, None, None, 2, 1]


# ---- property-style invariants over random alignments ----------------------------------------

VOCAB = ["the", "a", "Rome", "Anna", "2019", "IBM", ",", ".", "«", "»", "-", "house", "Bank", "x"]
LABELS = ["PER", "LOC", "ORG"]
POLICIES = [
    ProjectionPolicy(punctuation=p, gap_fill=g, grouping=gr, overlap=ov, anchor_identical=an)
    for p in ("drop", "trim", "keep")
    for g in (0, 1, 3)
    for gr in ("largest", "extent")
    for ov in ("type_then_length", "keep")
    for an in (True, False)
]


def random_case(rng: random.Random):
    n_src, n_tgt = rng.randint(1, 14), rng.choice([0, *range(1, 15)])
    src = [rng.choice(VOCAB) for _ in range(n_src)]
    tgt = [rng.choice(VOCAB) for _ in range(n_tgt)]
    density = rng.random() * 0.4
    pairs = [(i, j) for i in range(n_src) for j in range(n_tgt) if rng.random() < density]
    spans = []
    for _ in range(rng.randint(0, 5)):
        s = rng.randrange(n_src)
        spans.append(TokenSpan(s, rng.randint(s + 1, min(n_src, s + 4)), rng.choice(LABELS)))
    return src, tgt, pairs, spans


def test_project_spans_invariants_random():
    rng = random.Random(20240613)
    for _ in range(600):
        src, tgt, pairs, spans = random_case(rng)
        policy = rng.choice(POLICIES)
        outcomes = project_spans(src, tgt, pairs, spans, policy=policy)
        shuffled = pairs[:]
        rng.shuffle(shuffled)
        assert project_spans(src, tgt, shuffled, spans, policy=policy) == outcomes
        anchors = AnchorIndex(src, tgt) if policy.anchor_identical else None

        assert len(outcomes) == len(spans)
        for k, (o, span) in enumerate(zip(outcomes, spans, strict=True)):
            assert (o.source_index, o.source) == (k, span)
            if not tgt:
                assert o.reason is EMPTY
            if o.reason in (None, DropReason.MERGED):
                assert o.target is not None and o.target.label == span.label
                assert 0 <= o.target.start < o.target.end <= len(tgt)
            else:
                assert o.target is None and o.merged_into is None
            if o.reason is DropReason.MERGED:
                winner = outcomes[o.merged_into]
                assert winner.projected and winner.target == o.target
            if o.projected and policy.punctuation != "keep":
                assert not is_punct(tgt[o.target.start]) and not is_punct(tgt[o.target.end - 1])
            if o.projected and policy.overlap == "keep":
                aligned = {j for i, j in pairs if span.start <= i < span.end}
                if anchors is not None:
                    aligned |= {anchors.target_of(i) for i in range(span.start, span.end)}
                assert {o.target.start, o.target.end - 1} <= aligned
            if o.reason is NO_ALIGN:
                assert not any(span.start <= i < span.end for i, _ in pairs)

        finals = sorted(target_spans(outcomes))
        if policy.overlap == "type_then_length":
            for a, b in zip(finals, finals[1:], strict=False):
                assert a.end <= b.start, (src, tgt, pairs, spans, policy, outcomes)


def test_project_spans_winner_detail_names_merged_spans():
    outcomes = run(
        "Ann Lee and Bo and Cy",
        "t0 t1 t2 t3 t4",
        "0-0 1-1 3-3 3-4 5-1 5-2 5-3",
        [(0, 2, "PER"), (3, 4, "PER"), (5, 6, "PER")],
        gap_fill=0,
    )
    assert outcomes[0].detail == "merged with source span(s) 1, 2"


def test_project_align_projector_builds_its_aligner_once_per_target_language(tmp_path, monkeypatch):
    from xproj.projectors import aligners
    from xproj.projectors.projector import ProjectionTask, ProjectorSetup, make_projector

    built = []
    real = aligners.get_aligner

    def counting(name, **settings):
        built.append(sorted(settings))
        return real(name, **settings)

    monkeypatch.setattr(aligners, "get_aligner", counting)
    links = tmp_path / "links.align"
    links.write_text("0-0\n0-0\n")
    setup = ProjectorSetup(aligner="given.v1", aligner_settings={"path": str(links)})
    projector = make_projector("align.v1", setup)
    src = AnnotatedSentence("s", "en", ("Rome",), (TokenSpan(0, 1, "LOC"),))
    tgt = AnnotatedSentence("t", "it", ("Roma",), ())
    for start in (0, 1):  # two shards: the file's line of each
        [result] = projector.project(
            [ProjectionTask(src, tgt, "t")], "en", "it", tokenizer=None, start=start
        )
        assert summary(result.projection.outcomes) == [(0, 1)]
    assert built == [["path"]]


@pytest.mark.parametrize(
    "name, aliases, taken",
    [
        ("other.v1", ("null",), "null"),  # an alias already pointing elsewhere
        ("other.v1", ("null.v1",), "null.v1"),  # an alias shadowing a registered name
        ("null", (), "null"),  # a name already used as an alias
    ],
)
def test_registry_refuses_names_and_aliases_already_taken(name, aliases, taken):
    from xproj.schemas.registry import Registry

    reg: Registry = Registry("aligner")
    reg.register("null.v1", aliases=("null",))(lambda: None)
    with pytest.raises(ConfigError) as err:
        reg.register(name, aliases=aliases)(lambda: None)
    assert err.value.code == "XP303" and repr(taken) in str(err.value)
    assert reg.canonical("null") == "null.v1"
