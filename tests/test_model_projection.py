"""Model projection routes (markers.v1, codec.v1) with fake models whose right answer is known,
and on the tiny random models (structure only: their output is garbage by construction)."""

from __future__ import annotations

import re

import pytest

from xproj.projectors.model_projection import (
    CodecRoute,
    CodecSettings,
    MarkerRoute,
    MarkerSettings,
    RouteResult,
    SpanResult,
    locate_in_original,
    marker_pieces,
    piece_offsets,
    to_pair_projection,
    word_boundaries,
)
from xproj.schemas.errors import ConfigError, LanguageCodeError
from xproj.schemas.records import AnnotatedSentence, CharSpan, DropReason, TokenSpan
from xproj.text.words import tokenizer_for
from xproj.translators.base import Translation

# -- fakes -----------------------------------------------------------------------------------

#: The fake model's dictionary (en → de), one word to one word (or to several pieces).
DICT = {
    "Anna": "Anna",
    "lives": "wohnt",
    "in": "in",
    "Berlin": "Berlin",
    "John": "Johann",
    "Smith": "Schmidt",
    "met": "traf",
    "Paris": "Paris",
    "and": "und",
    "Rome": "Rom",
    "today": "heute",
    "Maria": "Maria",
    "New": "Neu",
    "York": "York",
}
BACK = {v: k for k, v in DICT.items()}

#: Words the fake tokenizer splits into two pieces (a marker must never go between them).
SPLIT = {"Berlin": ("▁Ber", "lin"), "Schmidt": ("▁Schm", "idt")}


def pieces_of(text: str) -> list[str]:
    out = []
    for w in text.split():
        out.extend(SPLIT.get(w, (f"▁{w}",)))
    return out


def words_of(pieces) -> list[str]:
    """Join pieces back into words (markers are words of their own)."""
    words: list[str] = []
    for p in pieces:
        if p.startswith("▁") or not words:
            words.append(p.lstrip("▁"))
        else:
            words[-1] += p
    return words


def groups(words, open_="[", close="]") -> list[tuple[str, ...]]:
    """The word groups inside marker pairs, in order of their opening marker."""
    out, stack = [], []
    for w in words:
        if w == open_:
            stack.append([])
            out.append(stack[-1])
        elif w == close:
            stack.pop()
        else:
            for g in stack:
                g.append(w)
    return [tuple(g) for g in out]


class FakeModel:
    """Scores like a perfect marker-aware dictionary model.

    Unmarked target under a marked source: the translations of marked source words lose 0.8
    nats each (so Δ ≥ 0.5 exactly there). Marked target under a marked source: the marked
    groups must translate the source's marked groups; each wrong group costs 10 nats.
    """

    model_id = "fake"
    unk_token = "<unk>"

    def __init__(self, reverse_ok: bool = True) -> None:
        self.reverse_ok = reverse_ok
        self.calls: list[int] = []

    def target_pieces(self, texts):
        return [pieces_of(t) for t in texts]

    def language_codes(self, src, tgt):
        if not self.reverse_ok and (src, tgt) == ("de", "en"):
            raise LanguageCodeError("no", fix="none", code="XP202")
        return src, tgt

    def score_tokens(self, sources, targets, src_lang, tgt_lang, *, max_batch_size=4096):
        self.calls.append(len(sources))
        out = []
        for src, tgt in zip(sources, targets, strict=True):
            src_groups = groups(src.split())
            words = words_of(tgt)
            lp = [-1.0] * (len(tgt) + 1)
            if "[" not in words:
                marked = {DICT[w] for g in src_groups for w in g}
                for i, p in enumerate(tgt):
                    if p.startswith("▁") and words_of(tgt[i:])[0] in marked:
                        lp[i] -= 0.8
            else:
                want = [tuple(DICT[w] for w in g) for g in src_groups]
                got = groups(words)
                wrong = sum(a != b for a, b in zip(want, got, strict=False))
                lp[0] -= 10.0 * (wrong + abs(len(want) - len(got)))
            out.append(lp)
        return out

    def score(self, sources, targets, src_lang, tgt_lang, *, max_batch_size=4096):
        out = []
        for cand, back in zip(sources, targets, strict=True):
            ok = tuple(BACK.get(w, "?") for w in cand.split()) == tuple(back.split())
            out.append([0.0 if ok else -3.0, 0.0])
        return out


class DictTranslator:
    """Translates word by word with :data:`DICT`; markers pass through; ``reorder`` swaps the
    first and last marked group; ``drop_close`` loses the last closing marker."""

    model_id = "dict"
    quantization = "none"
    family = "fake"

    def __init__(self, reorder: bool = False, drop_close: bool = False) -> None:
        self.reorder = reorder
        self.drop_close = drop_close
        self.seen: list[list[str]] = []

    def translate(self, texts, src_lang, tgt_lang, *, options=None):
        texts = list(texts)
        self.seen.append(texts)
        for text in texts:
            words = [DICT.get(w, w) for w in text.split()]
            out = " ".join(words)
            if self.reorder:
                found = re.findall(r"\[ [^\]]+ \]", out)
                if len(found) >= 2:
                    a, b = found[0], found[-1]
                    out = out.replace(a, "\0").replace(b, a).replace("\0", b)
            if self.drop_close and "]" in out:
                cut = out.rindex("]")
                out = out[:cut] + out[cut + 1 :]
            yield Translation(out)


def sentence(sid: str, text: str, spans: list[tuple[int, int, str]]) -> AnnotatedSentence:
    tokens = tuple(text.split())
    return AnnotatedSentence(sid, "en", tokens, tuple(TokenSpan(*s) for s in spans), text)


def translate(text: str) -> str:
    return " ".join(DICT.get(w, w) for w in text.split())


# -- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, pieces, expected",
    [
        (
            "Ana in Rom.",
            ["▁Ana", "▁in", "▁R", "om", "."],
            [(0, 3), (4, 6), (7, 8), (8, 10), (10, 11)],
        ),
        ("  a b", ["▁", "a", "▁b"], [(2, 2), (2, 3), (4, 5)]),
        ("北京很大", ["▁北京", "很", "大"], [(0, 2), (2, 3), (3, 4)]),
        ("a b", ["▁a", "▁<unk>"], None),
        ("a b", ["▁b", "▁a"], None),
        ("", [], []),
    ],
)
def test_piece_offsets(text, pieces, expected):
    assert piece_offsets(text, pieces) == expected


@pytest.mark.parametrize(
    "pieces, expected",
    [
        (["▁Ro", "me", ",", "▁Italy"], {0, 2, 3, 4}),
        (["▁北", "京", "很"], {0, 1, 2, 3}),
        (["▁a", "b", "c"], {0, 3}),
        ([], {0}),
    ],
)
def test_word_boundaries(pieces, expected):
    assert word_boundaries(pieces) == expected


@pytest.mark.parametrize(
    "result_text, original, expected, how",
    [
        ("Rom", "Er lebt in Rom.", (11, 14), "exact"),
        ("rom", "Er lebt in Rom.", (11, 14), "exact"),
        ("Romm", "Er lebt in Rom.", (11, 14), "fuzzy"),
        ("Madrid", "Er lebt in Rom.", None, None),
        # Case folding changes lengths (ß -> ss): offsets must still be the original's.
        ("paris", "Die Straße führt nach PARIS.", (22, 27), "exact"),
        ("STRASSE", "Die Straße führt nach PARIS.", (4, 10), "exact"),
        ("i̇zmir", "İstanbul ve İzmir", (12, 17), "exact"),
    ],
)
def test_locate_in_original(result_text, original, expected, how):
    clean = f"x {result_text}"
    r = SpanResult(CharSpan(2, 2 + len(result_text), "LOC"), None, 1.0, "order")
    (got,) = locate_in_original([r], clean, original, 0.5)
    if expected is None:
        assert got.reason is DropReason.NOT_IN_ORIGINAL and got.target is None
    else:
        assert (got.target.start, got.target.end) == expected and how in got.detail


def test_locate_in_original_never_reuses_a_placed_span():
    spans = [SpanResult(CharSpan(0, 3, "LOC"), None), SpanResult(CharSpan(4, 7, "LOC"), None)]
    got = locate_in_original(spans, "Rom Rom", "Rom und Rom", 0.5)
    assert [(g.target.start, g.target.end) for g in got] == [(0, 3), (8, 11)]


def test_marker_pieces_refuses_a_vocabulary_without_markers():
    class NoMarkers(FakeModel):
        def target_pieces(self, texts):
            return [["▁", "<unk>"] if t in "[]" else pieces_of(t) for t in texts]

    with pytest.raises(ConfigError) as err:
        marker_pieces(NoMarkers(), ("[", "]"))
    assert err.value.code == "XP301" and "marker-aware" in str(err.value)
    assert marker_pieces(FakeModel(), ("[", "]")).open == ("▁[",)


# -- CODEC with the fake model ---------------------------------------------------------------

CODEC_CASES = [
    # (source, spans, expected target texts)
    ("Anna lives in Berlin", [(0, 1, "PER"), (3, 4, "LOC")], ["Anna", "Berlin"]),
    (
        "John Smith met Anna in Rome",
        [(0, 2, "PER"), (3, 4, "PER"), (5, 6, "LOC")],
        ["Johann Schmidt", "Anna", "Rom"],
    ),
    ("Paris and Rome", [(0, 1, "LOC"), (2, 3, "LOC")], ["Paris", "Rom"]),  # sentence edges
    ("Maria met John Smith", [(2, 4, "PER")], ["Johann Schmidt"]),  # span at the end, split word
    ("New York today", [(0, 2, "LOC")], ["Neu York"]),
    ("Anna met Maria", [(0, 1, "PER"), (2, 3, "PER")], ["Anna", "Maria"]),
]


@pytest.mark.parametrize("source, spans, expected", CODEC_CASES)
def test_codec_fake_model_finds_the_dictionary_answer(source, spans, expected):
    s = sentence("s", source, spans)
    template = translate(source)
    (res,) = CodecRoute(FakeModel()).run([s], [template], "en", "de")
    assert [template[r.target.start : r.target.end] for r in res.spans] == expected
    assert all(r.reason is None and "forward" in r.detail for r in res.spans)
    assert res.marked.count("[") == len(spans)


def test_codec_batches_all_sentences_into_shared_calls():
    model = FakeModel()
    sents = [sentence(str(i), src, sp) for i, (src, sp, _) in enumerate(CODEC_CASES)]
    route = CodecRoute(model, CodecSettings(batch_size=100_000))
    route.run(sents, [translate(s.text) for s in sents], "en", "de")
    rounds = max(len(s.spans) for s in sents)
    # one Δ call for the whole batch, one search call per round, one reverse call
    assert route.stats.calls == {"score_delta": 1, "score_search": rounds, "score_reverse": 1}
    assert len(model.calls) == 1 + rounds
    spans = sum(len(s.spans) for s in sents)
    assert route.stats.sequences["score_delta"] == len(sents) + spans


def test_codec_never_puts_a_marker_inside_a_word():
    s = sentence("s", "Anna lives in Berlin", [(3, 4, "LOC")])
    route = CodecRoute(FakeModel(), CodecSettings(high=0.0, low=0.0, window=0, n_best=50))
    (res,) = route.run([s], ["Anna wohnt in Berlin"], "en", "de")
    template = "Anna wohnt in Berlin"
    assert template[res.spans[0].target.start : res.spans[0].target.end] == "Berlin"
    # every word boundary was a candidate (5 boundaries, spans of ≤ 2·2+4 pieces), none inside
    assert route.stats.candidates == 10


@pytest.mark.parametrize(
    "settings, reason_part",
    [
        (CodecSettings(high=5.0, fallback_max_tokens=None), "max Δ 0.800"),
        (CodecSettings(max_span_tokens=1, high=5.0, fallback_max_tokens=None), "none with"),
    ],
)
def test_codec_no_candidate_is_an_outcome_with_a_reason(settings, reason_part):
    s = sentence("s", "Anna lives in Berlin", [(0, 1, "PER"), (3, 4, "LOC")])
    (res,) = CodecRoute(FakeModel(), settings).run([s], ["Anna wohnt in Berlin"], "en", "de")
    assert [r.reason for r in res.spans] == [DropReason.NO_CANDIDATE] * 2
    assert all(reason_part in r.detail for r in res.spans)


def test_codec_without_reverse_direction_notes_it_and_still_projects():
    s = sentence("s", "Anna lives in Berlin", [(3, 4, "LOC")])
    route = CodecRoute(FakeModel(reverse_ok=False))
    (res,) = route.run([s], ["Anna wohnt in Berlin"], "en", "de")
    assert res.spans[0].target is not None and "reverse n/a" in res.spans[0].detail
    assert any("no reverse score" in n for n in route.stats.notes)


def test_codec_sentences_without_spans_cost_nothing():
    model = FakeModel()
    route = CodecRoute(model)
    out = route.run([sentence("s", "Anna lives", [])], ["Anna wohnt"], "en", "de")
    assert out[0].spans == () and model.calls == []


# -- markers with the fake translator --------------------------------------------------------


def test_markers_identity_order_assignment():
    s = sentence("s", "Anna lives in Berlin", [(0, 1, "PER"), (3, 4, "PER")])
    tr = DictTranslator()
    route = MarkerRoute(tr)
    (res,) = route.run([s], "en", "de")
    assert res.target_text == "Anna wohnt in Berlin"
    assert [res.target_text[r.target.start : r.target.end] for r in res.spans] == ["Anna", "Berlin"]
    assert route.stats.sequences == {"translate_marked": 1}  # no span translations needed


def test_markers_mixed_labels_match_by_text_and_translate_only_what_needs_it():
    a = sentence("a", "Anna lives in Berlin", [(0, 1, "PER"), (3, 4, "LOC")])
    b = sentence("b", "Anna met Maria", [(0, 1, "PER"), (2, 3, "PER")])
    tr = DictTranslator(reorder=True)
    route = MarkerRoute(tr)
    res_a, res_b = route.run([a, b], "en", "de")
    assert res_a.target_text == "Berlin wohnt in Anna"
    got = {r.target.label: res_a.target_text[r.target.start : r.target.end] for r in res_a.spans}
    assert got == {"PER": "Anna", "LOC": "Berlin"}
    # only sentence a (mixed labels) had its 2 spans translated on their own
    assert route.stats.sequences["translate_spans"] == 2 and tr.seen[-1] == ["Anna", "Berlin"]
    assert [r.reason for r in res_b.spans] == [None, None]


@pytest.mark.parametrize(
    "settings, reasons",
    [
        (MarkerSettings(), [DropReason.MALFORMED_MARKERS] * 2),
        (MarkerSettings(strict=False), [None, DropReason.UNMATCHED]),
    ],
)
def test_markers_mangled_output_gives_every_span_a_reason(settings, reasons):
    s = sentence("s", "Anna lives in Berlin", [(0, 1, "PER"), (3, 4, "LOC")])
    route = MarkerRoute(DictTranslator(drop_close=True), settings)
    (res,) = route.run([s], "en", "de")
    assert [r.reason for r in res.spans] == reasons


def test_markers_translate_test_lands_on_the_original():
    s = sentence("s", "Anna lives in Rome", [(0, 1, "PER"), (3, 4, "LOC")])
    original = "Anna wohnt seit Jahren in Rom."
    (res,) = MarkerRoute(DictTranslator()).run([s], "en", "de", originals=[original])
    assert res.target_text == original
    assert [original[r.target.start : r.target.end] for r in res.spans] == ["Anna", "Rom"]


# -- to word tokens --------------------------------------------------------------------------


def test_to_pair_projection_resolves_overlaps_and_widens():
    s = sentence("s", "John Smith met Anna", [(0, 2, "PER"), (3, 4, "LOC"), (0, 1, "PER")][:2])
    text = "Johann Schmidt traf Anna"
    result = RouteResult(
        s,
        text,
        (
            SpanResult(CharSpan(0, 14, "PER"), None, -1.0, "a"),
            SpanResult(CharSpan(7, 12, "LOC"), None, -2.0, "b"),  # inside "Schmidt": overlaps
        ),
    )
    p = to_pair_projection(result, "s|t", "t", "de", tokenizer_for("de"))
    assert [o.reason for o in p.outcomes] == [None, DropReason.LOST_OVERLAP]
    assert p.spans == (TokenSpan(0, 2, "PER"),) and p.outcomes[0].score == -1.0
    widened = RouteResult(
        s, text, (SpanResult(CharSpan(1, 5, "PER"), None), SpanResult(None, DropReason.UNMATCHED))
    )
    q = to_pair_projection(widened, "s|t", "t", "de", tokenizer_for("de"))
    assert q.outcomes[0].target == TokenSpan(0, 1, "PER") and "widened" in q.outcomes[0].detail
    assert q.outcomes[1].reason is DropReason.UNMATCHED
    assert (
        to_pair_projection(RouteResult(s, "  ", ()), "s|t", "t", "de", tokenizer_for("de")) is None
    )


def test_to_pair_projection_keeps_the_routes_character_spans():
    """Character spans are canonical for the model routes: the token span rounds to whole words,
    the character span stays what the model marked."""
    s = sentence("s", "John Smith met Anna", [(0, 2, "PER"), (3, 4, "PER")])
    text = "Johann Schmidt traf Annabelle"
    result = RouteResult(
        s, text, (SpanResult(CharSpan(1, 5, "PER"), None), SpanResult(CharSpan(20, 24, "PER")))
    )
    p = to_pair_projection(result, "s|t", "t", "de", tokenizer_for("de"))
    assert p.spans == (TokenSpan(0, 1, "PER"), TokenSpan(3, 4, "PER"))
    assert p.char_spans == (CharSpan(1, 5, "PER"), CharSpan(20, 24, "PER"))
    assert [o.char_target for o in p.outcomes] == list(p.char_spans)
    assert [text[c.start : c.end] for c in p.char_spans] == ["ohan", "Anna"]


def test_to_pair_projection_merged_spans_share_the_union_of_their_characters():
    s = sentence("s", "New York City", [(0, 2, "LOC"), (2, 3, "LOC")])
    text = "Neu Yorkstadt"
    result = RouteResult(
        s, text, (SpanResult(CharSpan(0, 8, "LOC")), SpanResult(CharSpan(8, 13, "LOC")))
    )
    p = to_pair_projection(result, "s|t", "t", "de", tokenizer_for("de"))
    assert [o.reason for o in p.outcomes] == [None, DropReason.MERGED]
    assert p.spans == (TokenSpan(0, 2, "LOC"),)
    assert p.char_spans == (CharSpan(0, 13, "LOC"),)
    assert {o.char_target for o in p.outcomes} == {CharSpan(0, 13, "LOC")}


# -- tiny real models (structure, never quality) ---------------------------------------------

TINY_SOURCES = [
    ("The train to Madrid leaves at eight .", [(3, 4, "LOC")]),
    ("Maria reads a book about the history of Paris .", [(0, 1, "PER"), (8, 9, "LOC")]),
    (
        "John and Anna are planning a trip to Beijing .",
        [(0, 1, "PER"), (2, 3, "PER"), (8, 9, "LOC")],
    ),
    ("Thank you for your help yesterday .", []),
]


@pytest.fixture(scope="module")
def tiny_nllb(tiny_mt_models):
    from xproj.translators.ct2 import CT2Translator

    return CT2Translator(tiny_mt_models["nllb"]["ct2"], device="cpu")


@pytest.mark.parametrize("family", ["nllb", "marian"])
def test_codec_tiny_models_one_outcome_per_span_inside_the_template(tiny_mt_models, family):
    from xproj.translators.base import DecodingOptions
    from xproj.translators.ct2 import CT2Translator

    model = CT2Translator(tiny_mt_models[family]["ct2"], device="cpu")
    sents = [sentence(str(i), t, sp) for i, (t, sp) in enumerate(TINY_SOURCES)]
    opts = DecodingOptions(max_decoding_length=16)
    templates = [t.text for t in model.translate([s.text for s in sents], "en", "de", options=opts)]
    route = CodecRoute(model, CodecSettings(batch_size=100_000))
    results = route.run(sents, templates, "en", "de")
    for s, r, template in zip(sents, results, templates, strict=True):
        assert len(r.spans) == len(s.spans) and r.target_text == template
        for span in r.spans:
            assert (span.target is None) == (span.reason is not None)
            if span.target is not None:
                assert 0 <= span.target.start < span.target.end <= len(template)
                assert template[span.target.start : span.target.end].strip()
    assert route.stats.calls["score_delta"] == 1
    assert route.stats.calls["score_search"] <= max(len(s.spans) for s in sents)
    if family == "marian":  # one direction only: no reverse score, and the run says so
        assert any("no reverse score" in n for n in route.stats.notes)


def test_markers_tiny_model_every_span_one_outcome(tiny_nllb):
    from xproj.translators.base import DecodingOptions

    sents = [sentence(str(i), t, sp) for i, (t, sp) in enumerate(TINY_SOURCES)]
    route = MarkerRoute(tiny_nllb, options=DecodingOptions(max_decoding_length=16))
    results = route.run(sents, "en", "de")
    allowed = {
        None,
        DropReason.MARKER_COUNT_MISMATCH,
        DropReason.MALFORMED_MARKERS,
        DropReason.UNMATCHED,
    }
    for s, r in zip(sents, results, strict=True):
        assert len(r.spans) == len(s.spans) and r.translation is not None
        assert "[" not in r.target_text or r.marked.count("[") > r.target_text.count("[")
        assert all(x.reason in allowed for x in r.spans)


def test_markers_project_refuses_a_batch_mixing_made_and_given_targets():
    from xproj.projectors.projector import ProjectionTask

    s = sentence("s", "Anna lives in Berlin", [(0, 1, "PER")])
    tasks = [ProjectionTask(s, None, "t1"), ProjectionTask(s, "Anna wohnt in Berlin", "t2")]
    route = MarkerRoute(DictTranslator())
    with pytest.raises(ValueError, match="mixes tasks with and without a target"):
        route.project(tasks, "en", "de", tokenizer=tokenizer_for("de"))
