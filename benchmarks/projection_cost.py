"""Projection cost: model calls and wall time of ``align``, ``markers`` and ``codec`` against plain
translation, on the same sentences and the same model.

Model and inputs. Random NLLB-style models from :mod:`benchmarks._mt_models` (``--size``, several
allowed; default ``tiny`` and ``small``; ``600m`` on request): ``small`` is d_model 512, 6 + 6
layers with NLLB-200's 256,206-entry vocabulary, so the output projection costs what the real
model's costs. The sources are ``--sentences`` synthetic English sentences
(:func:`~benchmarks._mt_models.synthetic_sentences`: a person's name plus a sample sentence, PER
and LOC spans), translated en→de, greedy, every translation call with the same
:class:`~xproj.translators.base.DecodingOptions`: ``min_decoding_length = max_decoding_length =
--length`` (32) output pieces, so a random model's garbage has the same length in every route,
and ``no_repeat_ngram_size = 1``, because a random model with tied embeddings otherwise repeats
the forced ``deu_Latn`` token, which decodes to an empty text. One
:class:`~xproj.translators.ct2.CT2Translator` (int8 on CPU, ``intra_threads=--threads``,
``inter_threads=1``, no translation cache) serves every route.

Routes, each timed from its sources to its projected spans:

* ``plain``: ``translate`` the sources. The denominator of every ratio.
* ``align``: ``plain`` + word tokenization of the output (``tokenizer_for("de")``) + ``eflomal.v1``
  alignment of the whole batch + projection (``project_pairs``), as the ``align`` projector does.
* ``markers``: ``MarkerRoute(translator, options=…).run``: one translation of the marked sources,
  plus span translations only for sentences that need matching. This is the issue's definition
  and the one the bar judges. A random model never writes the markers back, so (1) its marked
  translation is no longer than the plain one, and (2) no sentence needs matching. Two extra
  timings estimate a model that writes every marker pair back: ``markers_long``, the same route
  with the output fixed at ``--length`` + the marker pieces of the average sentence (two per
  span for NLLB's ``▁[`` ``▁]``), and ``markers_spans``, each span of every sentence with mixed
  labels (the ones that need matching) translated alone, output fixed at ``SPAN_LENGTH`` pieces
  (a name or place is a few pieces; the route's own options would force ``--length``).
  ``markers_faithful`` is ``markers_long + markers_spans``.
* ``codec``: ``plain`` (the templates) + ``CodecRoute(translator, settings).run``: Δ scoring of
  every template under the unmarked and each single-span marked source, then exact scoring of
  every candidate insertion, then reverse scoring of the n-best. Three settings:
  ``codec`` (default :class:`~xproj.projectors.model_projection.CodecSettings`: the paper's thresholds
  0.5 / 0.1 / window 5, fallback to every boundary for templates up to 40 pieces),
  ``codec_all_words`` (``high = low = 0``, ``window = 0``: every piece is a seed, so every word
  boundary is a candidate) and ``codec_all_pieces`` (the same with ``boundaries="token"``: every
  piece boundary, an upper bound of the candidate set whatever the words look like). The
  candidate count per span is recorded for each.

Templates. A random 256k-vocabulary model emits filler word pieces that no BPE merge produces,
so its output re-tokenizes into about four pieces per decoded token (32 → ~130), while a trained
model's output re-tokenizes to about its own length. The templates given to CODEC are therefore
the plain translations cut, at a word start, to at most ``--length`` pieces: the translation cost
is that of ``--length`` decoder steps and the template has at most ``--length`` pieces, as with a
trained model. (The ``tiny`` model's output is shorter than that already; nothing is cut.) The
timed ``codec`` runs translate again and check the output equals the text the template was cut
from. Consequence: a cut ``small`` template has ~8 filler words of ~4 pieces, fewer word
boundaries than German text of 32 pieces (~20 words), so ``codec`` and ``codec_all_words``
under-count candidates for ``small``; ``codec_all_pieces`` does not depend on the words.

Random weights. Δ log p values of a random model are not a trained model's (the statistics are
recorded in ``delta``): on ``tiny`` and ``small`` |Δ| stays around 0.01, far below ``low``, so no
piece is a seed and the default setting falls back to every word boundary (templates are at most
40 pieces): ``codec`` and ``codec_all_words`` then score the same candidates. A trained model's Δ
peaks where the span is translated and the thresholds keep a window of boundaries around it,
fewer than the fallback; a sentence without a seed still falls back. ``codec_all_words`` and
``codec_all_pieces`` bound the cost from above.

Passes. Per size, two groups, each with its own ``plain`` on the same sentences: ``main`` (all
``--sentences``; plain, align, markers, markers_long, markers_spans, codec) over ``--repeats``
passes and ``exhaustive`` (the first ``--exhaustive-sentences``; plain, codec_all_words,
codec_all_pieces) over ``--exhaustive-repeats`` passes, because scoring every piece boundary on
``small`` takes about 0.07 s per candidate (a ~36-piece sequence) on 2 cores. In each pass the
routes run in an order rotated by pass, after one untimed warm-up of each on two sentences; the
routes other than CODEC run ``--cheap-repeats`` times per pass (round robin, the pass keeps the
fastest run), because their ~1 s timings jump by 10–25 % when another process takes a core; a
CODEC run lasts a minute and averages such jumps out instead (so, on a busy machine, its ratio
is a little high rather than low).

Figures: median seconds per sentence, median of the per-pass ratios to that pass's ``plain``,
model calls per run, sequences and tokens per sentence (translated: output pieces; scored: target
pieces + end token), seconds per phase (translation, Δ scoring, search scoring, reverse scoring,
tokenization, alignment, the route's own Python work), and the process's user and system CPU
seconds (eflomal runs in a child process and is not in them). CODEC's scoring asks CTranslate2
for full-vocabulary log-probabilities in batches of ``max_batch_tokens`` target tokens (1024 by
default: with 256,206 entries that is about 1 GB of float32 logits per batch on CPU; the earlier
default of 4096 meant 4 GB, page faults and ~1.45× slower scoring), and the system time it costs
shows in ``cpu_median_s``.

Batch size matters: plain translation of a few sentences is latency-bound (24 sentences on
``small`` take about 1.4 s, 8 take about 1.2 s), scoring is not, so ratios grow with the number of
sentences. The exhaustive group's ratios use its own, smaller batch; ``ratio_to_main_plain``
divides their seconds per sentence by the main group's plain seconds per sentence instead.

Bars (issue: projection cost): ``codec`` (default settings) ≤ 3× plain, ``markers`` ≤ 1.2×
plain, on the same model and inputs; judged on every size but ``tiny``, whose model is so small that
Python work, not the model, is what is timed. Other processes distort timings: the result records
the load average.

Run: ``.venv/bin/python -m benchmarks.projection_cost`` (``make bench-projection-cost``; about
9 minutes on 2 cores once the models are cached), ``--size 600m`` for NLLB-600M's shape,
``--device cuda`` on a GPU machine (int8_float16).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks._common import loadavg_fields, versions, write_result
from benchmarks._mt_models import SHAPES, VOCABS, cached_nllb, shape_key, synthetic_sentences

BAR_CODEC = 3.0
BAR_MARKERS = 1.2
SRC, TGT = "en", "de"
#: output pieces of a span translated alone (``markers_spans``)
SPAN_LENGTH = 8
#: per size: sentences of the main group, sentences of the exhaustive group
DEFAULT_SENTENCES = {"tiny": (64, 64), "small": (24, 6), "600m": (12, 2)}


def check_device(device: str) -> None:
    """Exit with a clear message when ``device`` is ``cuda`` and CTranslate2 sees no GPU."""
    if device != "cuda":
        return
    import ctranslate2

    if ctranslate2.get_cuda_device_count() == 0:
        raise SystemExit(
            "--device cuda: CTranslate2 sees no CUDA device (get_cuda_device_count() == 0); "
            "run on a GPU machine or use --device cpu."
        )


# -- inputs ---------------------------------------------------------------------------------------


def sources(n: int, seed: int = 0) -> list:
    """``n`` synthetic English :class:`~xproj.schemas.records.AnnotatedSentence` with PER/LOC spans."""
    from xproj.schemas.records import AnnotatedSentence
    from xproj.schemas.tags import spans_from_tags

    out = []
    for i, tagged in enumerate(synthetic_sentences(n, seed)):
        tokens = tuple(t for t, _ in tagged)
        spans = tuple(spans_from_tags([g for _, g in tagged], "iob2"))
        out.append(AnnotatedSentence(f"s{i}", SRC, tokens, spans))
    return out


def cut_template(model, text: str, limit: int) -> str:
    """``text`` cut at a word start to at most ``limit`` of the model's target pieces."""
    from xproj.projectors.model_projection import piece_offsets

    pieces = model.target_pieces([text])[0]
    if len(pieces) <= limit:
        return text
    cut = max(b for b in range(limit + 1) if b == 0 or pieces[b].startswith("▁"))
    offsets = piece_offsets(text, pieces)
    if offsets is None or cut == 0:
        raise SystemExit(f"cannot cut the template {text[:80]!r} at a word start")
    return text[: offsets[cut - 1][1]]


def mixed_label_spans(sentences: Sequence) -> list[str]:
    """Span texts of the sentences whose spans cannot be labelled by order (mixed labels)."""
    return [
        s.span_text(sp)
        for s in sentences
        if len({sp.label for sp in s.spans}) > 1
        for sp in s.spans
    ]


# -- timing ---------------------------------------------------------------------------------------


@dataclass
class Call:
    """One call into the model: what, how many sequences and tokens, how long."""

    kind: str
    sequences: int
    tokens: int
    seconds: float


@dataclass
class TimedModel:
    """Forwards to a :class:`~xproj.translators.ct2.CT2Translator` and logs every model call.

    ``translate`` is consumed inside the timing (the routes make lists of it anyway);
    ``score_tokens``/``score`` log target pieces plus the end token; ``target_pieces`` is the
    routes' subword tokenization.
    """

    inner: Any
    log: list[Call] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)

    def _timed(self, kind: str, sequences: int, fn: Callable[[], Any], tokens) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.log.append(Call(kind, sequences, tokens(out), time.perf_counter() - t0))
        return out

    def translate(self, texts, src_lang, tgt_lang, *, options=None):
        texts = list(texts)
        out = self._timed(
            "translate",
            len(texts),
            lambda: list(self.inner.translate(texts, src_lang, tgt_lang, options=options)),
            lambda res: sum(t.tokens for t in res),
        )
        return iter(out)

    def _timed_scoring(self, method: str, sources, targets, src_lang, tgt_lang, **kw):
        """``inner.<method>`` (``score_tokens`` or ``score``), logged under that name."""
        return self._timed(
            method,
            len(sources),
            lambda: getattr(self.inner, method)(sources, targets, src_lang, tgt_lang, **kw),
            _total_len,
        )

    def score_tokens(self, sources, targets, src_lang, tgt_lang, **kw):
        return self._timed_scoring("score_tokens", sources, targets, src_lang, tgt_lang, **kw)

    def score(self, sources, targets, src_lang, tgt_lang, **kw):
        return self._timed_scoring("score", sources, targets, src_lang, tgt_lang, **kw)

    def target_pieces(self, texts):
        texts = list(texts)
        return self._timed(
            "tokenize", len(texts), lambda: self.inner.target_pieces(texts), _total_len
        )


def _total_len(res) -> int:
    """Items over all the sequences of a result (pieces or scores)."""
    return sum(map(len, res))


@dataclass
class Measured:
    """One timed route run: wall seconds, seconds per phase, model work, route facts, and the
    CPU time of this process (user, system) during the run."""

    seconds: float
    cpu: tuple[float, float]
    phases: dict[str, float]
    calls: dict[str, int]
    sequences: dict[str, int]
    tokens: dict[str, int]
    facts: dict[str, Any]


def _work(log: Sequence[Call], names: Sequence[str]) -> tuple[dict, dict, dict, dict]:
    """Phases, calls, sequences and tokens of a call log whose entries are named ``names``."""
    phases: Counter = Counter()
    calls: Counter = Counter()
    seqs: Counter = Counter()
    toks: Counter = Counter()
    for call, name in zip(log, names, strict=True):
        phases[name] += call.seconds
        if name.startswith(("translate", "score")):  # model calls; the rest is other work
            calls[name] += 1
            seqs[name] += call.sequences
            toks[name] += call.tokens
    return dict(phases), dict(calls), dict(seqs), dict(toks)


class Routes:
    """The routes of one size on one translator; each method is one timed run."""

    def __init__(self, model, options, span_options, aligner_name: str = "eflomal.v1"):
        from xproj.text.words import tokenizer_for

        self.model = TimedModel(model)
        self.options = options
        self.span_options = span_options
        self.aligner_name = aligner_name
        self.word_tokenizer = tokenizer_for(TGT)
        self.plain_texts: dict[str, str] = {}
        self.templates: dict[str, str] = {}

    def prepare(self, sentences: Sequence, limit: int) -> dict[str, Any]:
        """Translate once (untimed) and cut the templates; returns template facts."""
        out = list(
            self.model.inner.translate([s.text for s in sentences], SRC, TGT, options=self.options)
        )
        for s, t in zip(sentences, out, strict=True):
            self.plain_texts[s.id] = t.text
            self.templates[s.id] = cut_template(self.model.inner, t.text, limit)
        decoded = [len(self.model.inner.target_pieces([t.text])[0]) for t in out]
        kept = [
            len(p)
            for p in self.model.inner.target_pieces([self.templates[s.id] for s in sentences])
        ]
        return {
            "output_pieces": sorted({t.tokens for t in out}),
            "text_pieces_mean": round(statistics.mean(decoded), 2),
            "template_pieces_mean": round(statistics.mean(kept), 2),
            "template_pieces_min_max": [min(kept), max(kept)],
            "cut": sum(a != b for a, b in zip(decoded, kept, strict=True)),
        }

    def _run(self, fn: Callable[[], tuple[dict[str, Any], list[str]]]) -> Measured:
        self.model.log = []
        gc.collect()  # not inside the timing: garbage of the previous route (CODEC's candidates)
        u0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        facts, names = fn()
        seconds = time.perf_counter() - t0
        u1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (u1.ru_utime - u0.ru_utime, u1.ru_stime - u0.ru_stime)
        phases, calls, seqs, toks = _work(self.model.log, names)
        phases["other"] = max(0.0, seconds - sum(phases.values()))
        return Measured(seconds, cpu, phases, calls, seqs, toks, facts)

    def _translate(self, sentences) -> list:
        out = list(
            self.model.translate([s.text for s in sentences], SRC, TGT, options=self.options)
        )
        for s, t in zip(sentences, out, strict=True):
            if t.text != self.plain_texts[s.id]:
                raise SystemExit(
                    f"translation of {s.id} changed between runs; greedy decoding "
                    "should be deterministic"
                )
        return out

    def plain(self, sentences) -> Measured:
        def run():
            out = self._translate(sentences)
            return {"output_pieces": sum(t.tokens for t in out)}, ["translate"]

        return self._run(run)

    def align(self, sentences) -> Measured:
        from xproj.projectors.aligners import get_aligner
        from xproj.projectors.pipeline import project_pairs
        from xproj.schemas.records import AnnotatedSentence, ParallelPair

        def run():
            out = self._translate(sentences)
            t0 = time.perf_counter()
            pairs = []
            for s, t in zip(sentences, out, strict=True):
                words = self.word_tokenizer.tokenize(t.text)
                if not words:
                    continue  # the flows record a reject: no token to project onto
                tgt = AnnotatedSentence(
                    f"{s.id}@{TGT}",
                    TGT,
                    tuple(w for w, _, _ in words),
                    (),
                    t.text,
                    tuple((a, b) for _, a, b in words),
                )
                pairs.append(ParallelPair(f"{s.id}|{tgt.id}", s, tgt))
            self.model.log.append(Call("word_tokenize", len(pairs), 0, time.perf_counter() - t0))
            t0 = time.perf_counter()
            results = project_pairs(pairs, get_aligner(self.aligner_name))
            self.model.log.append(Call("align_project", len(pairs), 0, time.perf_counter() - t0))
            projected = sum(o.projected for r in results for o in r.outcomes)
            words = [len(p.tgt) for p in pairs]
            return (
                {
                    "pairs": len(pairs),
                    "projected": projected,
                    "target_words_mean": round(statistics.mean(words), 2) if words else 0,
                },
                ["translate", "word_tokenize", "align_project"],
            )

        return self._run(run)

    def markers(self, sentences, options=None) -> Measured:
        """``markers.v1``; ``options`` replaces the shared decoding options (``markers_long``)."""
        from xproj.projectors.model_projection import MarkerRoute

        def run():
            route = MarkerRoute(self.model, options=options or self.options)
            results = route.run(sentences, SRC, TGT)
            names = []
            translate_calls = iter(k for k, v in route.stats.calls.items() for _ in range(v))
            for call in self.model.log:
                names.append(
                    "tokenize_pieces" if call.kind == "tokenize" else next(translate_calls)
                )
            projected = sum(r.target is not None for res in results for r in res.spans)
            return {"projected": projected, "stats": route.stats.as_dict()}, names

        return self._run(run)

    def markers_spans(self, sentences) -> Measured:
        texts = mixed_label_spans(sentences)

        def run():
            if not texts:
                return {"spans_translated": 0}, []
            out = list(self.model.translate(texts, SRC, TGT, options=self.span_options))
            return (
                {
                    "spans_translated": len(texts),
                    "sentences_with_mixed_labels": sum(
                        len({sp.label for sp in s.spans}) > 1 for s in sentences
                    ),
                    "output_pieces": sum(t.tokens for t in out),
                },
                ["translate_spans"] * len(self.model.log),
            )

        return self._run(run)

    def codec(self, sentences, settings) -> Measured:
        from xproj.projectors.model_projection import CodecRoute

        def run():
            self._translate(sentences)
            templates = [self.templates[s.id] for s in sentences]
            route = CodecRoute(self.model, settings)
            results = route.run(sentences, templates, SRC, TGT)
            names, first_score = [], True
            for call in self.model.log:
                if call.kind == "translate":
                    names.append("translate")
                elif call.kind == "tokenize":
                    names.append("tokenize_pieces")
                elif call.kind == "score":
                    names.append("score_reverse")
                else:
                    names.append("score_delta" if first_score else "score_search")
                    first_score = False
            stats = route.stats.as_dict()
            if names.count("score_search") != stats["calls"].get("score_search", 0):
                raise SystemExit(f"call log and route stats disagree: {names} vs {stats}")
            spans = sum(len(s.spans) for s in sentences)
            projected = sum(r.target is not None for res in results for r in res.spans)
            return (
                {
                    "spans": spans,
                    "projected": projected,
                    "candidates": route.stats.candidates,
                    "candidates_per_span": round(route.stats.candidates / spans, 2),
                    "stats": stats,
                },
                names,
            )

        return self._run(run)


def delta_stats(model, sentences, templates, high: float, low: float) -> dict[str, Any]:
    """|Δ log p| of the template pieces under each single-span marked source (as CODEC's first
    step computes it; untimed): how many pieces reach the thresholds, how many spans have no
    seed (the default setting then falls back to every boundary)."""
    from xproj.projectors.model_projection import marked_source

    src, tgt, index = [], [], []
    pieces = model.target_pieces(templates)
    for i, s in enumerate(sentences):
        if not s.spans:
            continue
        src.append(s.text)
        tgt.append(pieces[i])
        index.append((i, None))
        for k in range(len(s.spans)):
            src.append(marked_source(s, [k], ("[", "]"), check_text=False))
            tgt.append(pieces[i])
            index.append((i, k))
    logps = model.score_tokens(src, tgt, SRC, TGT)
    plain = {i: lp for (i, k), lp in zip(index, logps, strict=True) if k is None}
    values, seedless, spans = [], 0, 0
    for (i, k), lp in zip(index, logps, strict=True):
        if k is None:
            continue
        n = len(pieces[i])
        d = [abs(a - b) for a, b in zip(lp[:n], plain[i][:n], strict=True)]
        values += d
        spans += 1
        seedless += not any(x >= high for x in d)
    return {
        "pieces": len(values),
        "mean_abs_delta": round(statistics.mean(values), 4) if values else None,
        "median_abs_delta": round(statistics.median(values), 4) if values else None,
        "share_ge_high": round(sum(x >= high for x in values) / len(values), 4),
        "share_ge_low": round(sum(x >= low for x in values) / len(values), 4),
        "spans": spans,
        "spans_without_seed": seedless,
    }


# -- passes ---------------------------------------------------------------------------------------


def run_group(
    name: str,
    routes: dict[str, Callable[[Sequence], Measured]],
    sentences,
    repeats: int,
    *,
    cheap: Sequence[str] = (),
    cheap_repeats: int = 1,
    warm_up: bool = True,
) -> dict[str, Any]:
    """Every route of a group over ``repeats`` rotated passes; medians and ratios to plain.

    Args:
        cheap: routes run ``cheap_repeats`` times per pass, round robin with each other (the
            others once, in the first round); the pass keeps their fastest run. Short timings
            (about a second) jump by 10–25 % when another process takes a core; the fastest of
            a few is the least disturbed, at little cost.
        warm_up: run each route once on two sentences first (untimed).
    """
    names = list(routes)
    for route in names if warm_up else ():
        routes[route](sentences[:2])
    runs: dict[str, list[Measured]] = {r: [] for r in names}
    for p in range(repeats):
        order = names[p % len(names) :] + names[: p % len(names)]
        tries: dict[str, list[Measured]] = {r: [] for r in names}
        for j in range(cheap_repeats):
            for route in order:
                if j == 0 or route in cheap:
                    m = routes[route](sentences)
                    tries[route].append(m)
                    print(f"  {name} pass {p + 1} {route:18s} {m.seconds:8.2f} s", flush=True)
        for route, ms in tries.items():
            runs[route].append(min(ms, key=lambda m: m.seconds))
    n = len(sentences)
    out: dict[str, Any] = {
        "sentences": n,
        "repeats": repeats,
        "cheap_routes": {"routes": list(cheap), "runs_per_pass": cheap_repeats},
        "spans": sum(len(s.spans) for s in sentences),
        "routes": {},
    }
    plain = [m.seconds for m in runs["plain"]]
    for route, ms in runs.items():
        first = ms[0]
        ratios = [m.seconds / b for m, b in zip(ms, plain, strict=True)]
        phase_names = sorted({k for m in ms for k in m.phases})
        out["routes"][route] = {
            "seconds": [round(m.seconds, 3) for m in ms],
            "median_seconds": round(statistics.median(m.seconds for m in ms), 3),
            "seconds_per_sentence": round(statistics.median(m.seconds for m in ms) / n, 5),
            "ratio_to_plain": {
                "per_pass": [round(x, 3) for x in ratios],
                "median": round(statistics.median(ratios), 3),
            },
            "phases_median_s": {
                k: round(statistics.median(m.phases.get(k, 0.0) for m in ms), 3)
                for k in phase_names
            },
            "cpu_median_s": {
                "user": round(statistics.median(m.cpu[0] for m in ms), 3),
                "system": round(statistics.median(m.cpu[1] for m in ms), 3),
            },
            "model_calls": first.calls,
            "model_calls_total": sum(first.calls.values()),
            "sequences_per_sentence": {k: round(v / n, 3) for k, v in first.sequences.items()},
            "sequences_per_sentence_total": round(sum(first.sequences.values()) / n, 3),
            "tokens_per_sentence": {k: round(v / n, 2) for k, v in first.tokens.items()},
            "facts": first.facts,
        }
    if "markers_long" in runs and "markers_spans" in runs:  # per pass
        both = [
            (a.seconds + b.seconds) / c
            for a, b, c in zip(runs["markers_long"], runs["markers_spans"], plain, strict=True)
        ]
        out["routes"]["markers_faithful"] = {
            "ratio_to_plain": {
                "per_pass": [round(x, 3) for x in both],
                "median": round(statistics.median(both), 3),
            },
            "note": "markers_long + markers_spans: the cost with a model that writes every "
            "marker pair back (longer output, span translations for mixed labels)",
        }
    return out


def measure_size(size: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both groups of one size."""
    from xproj.projectors.model_projection import CodecSettings, marker_pieces
    from xproj.translators.base import DecodingOptions
    from xproj.translators.ct2 import CT2Translator

    t0 = time.perf_counter()
    _, ct2_dir = cached_nllb(size)
    model = CT2Translator(
        ct2_dir,
        device=args.device,
        compute_type=args.compute_type,
        intra_threads=args.threads,
        inter_threads=1,
    )
    load_s = time.perf_counter() - t0
    n_main, n_ex = DEFAULT_SENTENCES[size]
    n_main = args.sentences or n_main
    n_ex = min(n_main, args.exhaustive_sentences or n_ex)
    options = DecodingOptions(
        beam_size=1,
        min_decoding_length=args.length,
        max_decoding_length=args.length,
        no_repeat_ngram_size=1,
    )
    span_options = DecodingOptions(
        beam_size=1,
        min_decoding_length=SPAN_LENGTH,
        max_decoding_length=SPAN_LENGTH,
        no_repeat_ngram_size=1,
    )
    sentences = sources(n_main)
    markers = marker_pieces(model, ("[", "]"))
    per_span = len(markers.open) + len(markers.close)
    extra = round(per_span * sum(len(s.spans) for s in sentences) / len(sentences))
    long_options = DecodingOptions(
        beam_size=1,
        min_decoding_length=args.length + extra,
        max_decoding_length=args.length + extra,
        no_repeat_ngram_size=1,
    )
    r = Routes(model, options, span_options)
    templates = r.prepare(sentences, args.length)
    default = CodecSettings()
    all_words = CodecSettings(high=0.0, low=0.0, window=0)
    all_pieces = CodecSettings(high=0.0, low=0.0, window=0, boundaries="token")
    delta = delta_stats(
        model, sentences, [r.templates[s.id] for s in sentences], default.high, default.low
    )
    shape = SHAPES[size]
    print(
        f"{size}: {shape_key(size)}; {n_main} sentences (exhaustive: {n_ex}), templates "
        f"{templates['template_pieces_mean']} pieces on average, Δ ≥ {default.high} for "
        f"{delta['share_ge_high']:.0%} of pieces",
        flush=True,
    )
    main = run_group(
        "main",
        {
            "plain": r.plain,
            "align": r.align,
            "markers": r.markers,
            "markers_long": lambda s: r.markers(s, long_options),
            "markers_spans": r.markers_spans,
            "codec": lambda s: r.codec(s, default),
        },
        sentences,
        args.repeats,
        cheap=("plain", "align", "markers", "markers_long", "markers_spans"),
        cheap_repeats=args.cheap_repeats,
    )
    exhaustive = run_group(
        "exhaustive",
        {
            "plain": r.plain,
            "codec_all_words": lambda s: r.codec(s, all_words),
            "codec_all_pieces": lambda s: r.codec(s, all_pieces),
        },
        sentences[:n_ex],
        args.exhaustive_repeats,
        cheap=("plain",),
        cheap_repeats=args.cheap_repeats,
        warm_up=False,
    )  # the main group warmed up
    main_plain = main["routes"]["plain"]["seconds_per_sentence"]
    for fig in exhaustive["routes"].values():
        fig["ratio_to_main_plain"] = round(fig["seconds_per_sentence"] / main_plain, 3)
    return {
        "model": shape_key(size),
        "shape": {
            "d_model": shape.d_model,
            "layers": shape.layers,
            "heads": shape.heads,
            "ffn": shape.ffn,
            "vocab": len(model._tokenizer) if VOCABS[size] is None else VOCABS[size],
        },
        "compute_type": model.quantization,
        "load_s": round(load_s, 1),
        "templates": templates,
        "markers_long_length": args.length + extra,
        "delta": delta,
        "codec_settings": {
            "codec": _settings(default),
            "codec_all_words": _settings(all_words),
            "codec_all_pieces": _settings(all_pieces),
        },
        "main": main,
        "exhaustive": exhaustive,
    }


def _settings(s) -> dict[str, Any]:
    """Every field of a ``CodecSettings``; an unset ``max_span_tokens`` is named by its rule."""
    return {**asdict(s), "max_span_tokens": s.max_span_tokens or "2 x source pieces + 4"}


def summary_rows(size: str, res: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows: route, sentences, s/sentence, ratios, calls, sequences/sentence, candidates."""
    rows = []
    for group in ("main", "exhaustive"):
        g = res[group]
        for route, fig in g["routes"].items():
            if route == "plain" and group == "exhaustive":
                continue
            facts = fig.get("facts") or {}
            rows.append(
                {
                    "size": size,
                    "route": route,
                    "sentences": g["sentences"],
                    "s_per_sentence": fig.get("seconds_per_sentence"),
                    "ratio": fig["ratio_to_plain"]["median"],
                    "ratio_main_plain": fig.get("ratio_to_main_plain"),
                    "calls": fig.get("model_calls_total"),
                    "seq_per_sentence": fig.get("sequences_per_sentence_total"),
                    "candidates_per_span": facts.get("candidates_per_span"),
                }
            )
    return rows


def _cell(value: Any, fmt: str, width: int) -> str:
    return f"{'' if value is None else format(value, fmt):>{width}s}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size",
        action="append",
        choices=sorted(SHAPES),
        help="model size; repeat for several (default: tiny and small)",
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="passes of the main group")
    parser.add_argument(
        "--cheap-repeats",
        type=int,
        default=3,
        help="runs per pass of the routes other than codec (the fastest is kept)",
    )
    parser.add_argument(
        "--exhaustive-repeats", type=int, default=1, help="passes of the exhaustive group"
    )
    parser.add_argument(
        "--sentences", type=int, default=None, help="sentences of the main group (default per size)"
    )
    parser.add_argument(
        "--exhaustive-sentences",
        type=int,
        default=None,
        help="sentences of the exhaustive group (default per size)",
    )
    parser.add_argument(
        "--length",
        type=int,
        default=32,
        help="output pieces of every translation; longest template",
    )
    args = parser.parse_args(argv)
    check_device(args.device)
    sizes = args.size or ["tiny", "small"]
    args.compute_type = "int8" if args.device == "cpu" else "int8_float16"

    t0 = time.perf_counter()
    load_before = os.getloadavg()
    per_size = {size: measure_size(size, args) for size in sizes}
    total_s = time.perf_counter() - t0

    bars: dict[str, Any] = {}
    for size, res in per_size.items():
        routes = res["main"]["routes"]
        for key, route, bar in (("codec", "codec", BAR_CODEC), ("markers", "markers", BAR_MARKERS)):
            value = routes[route]["ratio_to_plain"]["median"]
            bars[f"{key}_{size}"] = {
                "bar": f"<= {bar}",
                "value": value,
                "applies": size != "tiny",
                "pass": value <= bar,
            }
    payload = {
        "versions": versions(
            ["ctranslate2", "eflomal", "transformers", "tokenizers", "spacy", "torch"]
        ),
        "device": args.device,
        "settings": {
            "sizes": sizes,
            "threads": args.threads,
            "inter_threads": 1,
            "compute_type": args.compute_type,
            "src": SRC,
            "tgt": TGT,
            "search": "greedy",
            "length": args.length,
            "span_length": SPAN_LENGTH,
            "no_repeat_ngram_size": 1,
            "repeats": args.repeats,
            "cheap_repeats": args.cheap_repeats,
            "exhaustive_repeats": args.exhaustive_repeats,
            "aligner": "eflomal.v1",
            "translation_cache": False,
        },
        "sizes": per_size,
        "bars": bars,
        "pass": all(b["pass"] for b in bars.values() if b["applies"]),
        **loadavg_fields(load_before),
        "total_s": round(total_s, 1),
    }
    name = "projection_cost" + ("_cuda" if args.device == "cuda" else "")
    path = write_result(name, payload)
    print(f"\n{name} ({args.device}, {args.threads} threads, {args.length} pieces per translation)")
    print(
        f"  {'size':5s} {'route':17s} {'sent':>4s} {'s/sent':>8s} {'× plain':>8s} "
        f"{'× main':>7s} {'calls':>5s} {'seq/sent':>8s} {'cand/span':>9s}"
    )
    for size, res in per_size.items():
        for row in summary_rows(size, res):
            print(
                f"  {row['size']:5s} {row['route']:17s} {row['sentences']:4d} "
                + " ".join(
                    [
                        _cell(row["s_per_sentence"], ".4f", 8),
                        _cell(row["ratio"], ".2f", 8),
                        _cell(row["ratio_main_plain"], ".2f", 7),
                        _cell(row["calls"], "d", 5),
                        _cell(row["seq_per_sentence"], ".1f", 8),
                        _cell(row["candidates_per_span"], ".1f", 9),
                    ]
                )
            )
    print("  (× main: seconds per sentence over the main group's plain seconds per sentence)")
    for key, b in bars.items():
        verdict = "PASS" if b["pass"] else "FAIL"
        print(
            f"  bar {key} {b['bar']}: {b['value']:.2f} {verdict}"
            f"{'' if b['applies'] else ' (not judged: tiny model)'}"
        )
    print(
        f"  load average {payload['loadavg_before']} → {payload['loadavg_after']}; "
        f"total {total_s:.0f} s; result: {path}"
    )


if __name__ == "__main__":
    main()
