"""Constrained question translation: constraint satisfaction and cost against plain translation,
on XQuAD questions and constraints, side by side in one run.

Inputs (real data). For each language of ``--langs`` (default es, de, zh): the English and X contexts
of XQuAD (``../shared/data/xquad``, same paragraphs and question ids in every language) are
tokenized and aligned with eflomal at sentence level (:func:`xproj.generators.paxqa.answers.
align_contexts`, grow-diag-final-and, as the answer projection benchmark does); the first
``--questions`` English questions (file order) get their constraints from
:func:`xproj.generators.paxqa.constraints.extract_constraints` with the English gold answer's offset
as ``answer_start``. Extraction figures: constraints per question, questions with one or more,
n-grams unmapped (by reason) or over the limit.

Model (random). A random NLLB-style model from :mod:`benchmarks._mt_models` (``--model``:
``tiny``, the tests' shape with 1024 positions; ``small``; ``600m``, NLLB-200-distilled-600M's
shape with its 256,206-entry vocabulary, for a GPU machine: ``--model 600m --device cuda``).
Its weights are random, so its translations are garbage: **this measures the mechanism and its
cost, not translation quality**. Plain satisfaction is near zero because a random model never
writes the constraint by itself; constrained satisfaction is mostly the forced-prefix step's,
and is capped by constraints whose pieces the tiny vocabulary cannot spell (``<unk>``: they
cannot be forced; counted as ``unforceable``) and by completions that glue a piece onto the
forced word (then it is no longer a whole word and does not count). A trained model's plain
output already satisfies many constraints and its n-best list others, so fewer questions reach
the forced prefixes and the cost ratio is lower than here.

Sides, all with the same :class:`~xproj.translators.ct2.CT2Translator` (int8 on CPU,
``int8_float16`` on CUDA) and the same decoding options: greedy, ``no_repeat_ngram_size`` 1
(a random model otherwise repeats its language token) and ``min = max_decoding_length =
--length`` output pieces, so every random output is as long in every side:

* ``plain``: ``translate`` of the questions (the denominator of every ratio);
* ``constrained``: :func:`~xproj.translators.constrained.translate_constrained` with the default
  :class:`~xproj.translators.constrained.ConstrainedSettings`;
* ``force_all``: the same with ``force="all"`` (every unmet constraint forced in every round
  instead of the first one in question order);
* ``n_best_only`` (``max_rounds`` 0) and ``prefix_only`` (``n_best`` 0): what each mechanism
  contributes and costs.

Each side runs ``--repeats`` times in a rotated order; seconds are medians, ratios are medians of
the per-repeat ratios to that repeat's ``plain``. Outputs must be identical between repeats
(checked). Satisfaction: the share of constraints whose X text occurs in the output
(:func:`~xproj.translators.constrained.satisfies`), overall and per method (the origin of each
chosen translation: ``plain``, ``n_best``, ``prefix``); plain's share is the plain outputs'.
Cost: seconds, model calls, sequences decoded (hypotheses returned) and scored per question,
seconds per phase (decoding, scoring, subword tokenization, the rest is Python).

Run: ``.venv/bin/python -m benchmarks.constrained_translation`` (``make
bench-constrained-translation``; about 2 minutes on 2 cores with the tiny model).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks._common import Timer, loadavg_fields, versions, write_result
from benchmarks._mt_models import SHAPES, VOCABS, cached_nllb, shape_key
from benchmarks.answer_projection import SENTENCE_SETTINGS, load
from benchmarks.projection_cost import Call, TimedModel, check_device

SRC = "en"
LANGS = ("es", "de", "zh")


@dataclass
class CountingModel(TimedModel):
    """:class:`~benchmarks.projection_cost.TimedModel` that also logs ``hypotheses`` calls
    (sequences: hypotheses returned; tokens: their pieces)."""

    def hypotheses(
        self, texts, src_lang, tgt_lang, *, prefixes=None, num_hypotheses=1, options=None
    ):  # noqa: E501
        texts = list(texts)
        return self._timed(
            "hypotheses",
            len(texts) * num_hypotheses,
            lambda: self.inner.hypotheses(
                texts,
                src_lang,
                tgt_lang,
                prefixes=prefixes,
                num_hypotheses=num_hypotheses,
                options=options,
            ),
            lambda res: sum(len(h.tokens) for hs in res for h in hs),
        )


# -- inputs ---------------------------------------------------------------------------------------


def prepare(lang: str, en_pars: list[dict[str, Any]], n_questions: int, settings) -> dict[str, Any]:
    """Align the contexts of one language and extract the constraints of its first questions."""
    from xproj.generators.paxqa.answers import align_contexts
    from xproj.generators.paxqa.constraints import extract_constraints
    from xproj.projectors.aligners import get_aligner

    x_pars = load(lang)
    aligner = get_aligner("eflomal.v1", **SENTENCE_SETTINGS)
    contexts = [(pe["context"], px["context"]) for pe, px in zip(en_pars, x_pars, strict=True)]
    with Timer() as t_align:
        aligned = align_contexts(contexts, lang, aligner)
    questions, constraints, sets = [], [], []
    with Timer() as t_extract:
        for pe, px, a in zip(en_pars, x_pars, aligned, strict=True):
            for q in pe["qas"]:
                if len(questions) >= n_questions:
                    break
                cs = extract_constraints(
                    q["question"],
                    pe["context"],
                    a,
                    px["context"],
                    settings=settings,
                    answer_start=q["answers"][0]["answer_start"],
                    lang_x=lang,
                )
                for c in cs.constraints:  # the invariant the flows rely on
                    assert px["context"][c.x_start : c.x_start + len(c.x_text)] == c.x_text
                questions.append(q["question"])
                constraints.append(list(cs.constraints))
                sets.append(cs)
    per_question = Counter(len(c) for c in constraints)
    n = len(questions)
    return {
        "questions": questions,
        "constraints": constraints,
        "facts": {
            "questions": n,
            "contexts_aligned": len(contexts),
            "align_s": round(t_align.seconds, 2),
            "extract_s": round(t_extract.seconds, 2),
            "aligner": aligner.describe(),
            "constraints": sum(per_question[k] * k for k in per_question),
            "constraints_per_question": round(sum(map(len, constraints)) / n, 3),
            "questions_by_constraint_count": {
                str(k): per_question[k] for k in sorted(per_question)
            },
            "questions_with_constraints": sum(1 for c in constraints if c),
            "unmapped": sum(len(s.unmapped) for s in sets),
            "unmapped_by_reason": dict(Counter(u.reason for s in sets for u in s.unmapped)),
            "over_limit": sum(len(s.over_limit) for s in sets),
            "examples": [
                {
                    "question": questions[i],
                    "constraints": [(c.en_text, c.x_text) for c in constraints[i]],
                    "unmapped": [(u.en_text, u.reason) for u in sets[i].unmapped],
                }
                for i in range(min(5, n))
            ],
        },
    }


# -- sides ----------------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    texts: list[str]
    results: list[Any]
    log: list[Call]


def _timed_run(model: CountingModel, fn: Callable[[], tuple[list[str], list[Any]]]) -> Run:
    model.log = []
    t0 = time.perf_counter()
    texts, results = fn()
    return Run(time.perf_counter() - t0, texts, results, list(model.log))


def _forceable_share(flags, forceable) -> float | None:
    pairs = [
        m for ms, fs in zip(flags, forceable, strict=True) for m, f in zip(ms, fs, strict=True) if f
    ]
    return round(sum(pairs) / len(pairs), 4) if pairs else None


def satisfaction(results, constraints, forceable) -> dict[str, Any]:
    """Constraint satisfaction of constrained results, overall, of the constraints the model
    can spell (``forceable``: per question, per constraint) and per method."""
    total = sum(map(len, constraints))
    met = sum(len(r.satisfied) for r in results)
    flags = [
        [c.x_text in r.satisfied for c in cs] for r, cs in zip(results, constraints, strict=True)
    ]
    by_method: dict[str, dict[str, Any]] = {}
    for method in ("plain", "n_best", "prefix"):
        chosen = [(r, c) for r, c in zip(results, constraints, strict=True) if r.method == method]
        cons = sum(len(c) for _, c in chosen if c)
        ok = sum(len(r.satisfied) for r, c in chosen if c)
        by_method[method] = {
            "questions": len(chosen),
            "questions_with_constraints": sum(1 for _, c in chosen if c),
            "constraints": cons,
            "satisfied": ok,
            "share": round(ok / cons, 4) if cons else None,
        }
    with_c = [(r, c) for r, c in zip(results, constraints, strict=True) if c]
    return {
        "constraints": total,
        "satisfied": met,
        "share": round(met / total, 4) if total else None,
        "share_of_forceable": _forceable_share(flags, forceable),
        "questions_all_satisfied": sum(1 for r, _ in with_c if not r.unsatisfied),
        "questions_with_constraints": len(with_c),
        "by_method": by_method,
    }


def plain_satisfaction(texts, constraints, forceable, lang: str) -> dict[str, Any]:
    from xproj.translators.constrained import satisfies

    total = sum(map(len, constraints))
    flags = [
        [satisfies(t, c.x_text, lang) for c in cs] for t, cs in zip(texts, constraints, strict=True)
    ]
    met = sum(map(sum, flags))
    return {
        "constraints": total,
        "satisfied": met,
        "share": round(met / total, 4) if total else None,
        "share_of_forceable": _forceable_share(flags, forceable),
    }


def _work(log: list[Call], n: int) -> dict[str, Any]:
    calls = Counter(c.kind for c in log)
    seqs: Counter[str] = Counter()
    secs: Counter[str] = Counter()
    for c in log:
        seqs[c.kind] += c.sequences
        secs[c.kind] += c.seconds
    return {
        "model_calls": dict(calls),
        "sequences_per_question": {k: round(v / n, 3) for k, v in seqs.items()},
        "phase_s": {k: round(v, 3) for k, v in secs.items()},
    }


def measure_language(model: CountingModel, lang: str, prep: dict[str, Any], args) -> dict[str, Any]:
    from xproj.translators.base import DecodingOptions
    from xproj.translators.constrained import ConstrainedSettings, translate_constrained

    questions, constraints = prep["questions"], prep["constraints"]
    options = DecodingOptions(
        beam_size=1,
        min_decoding_length=args.length,
        max_decoding_length=args.length,
        no_repeat_ngram_size=1,
    )
    default = ConstrainedSettings()
    variants = {
        "constrained": default,
        "force_all": ConstrainedSettings(force="all"),
        "n_best_only": ConstrainedSettings(max_rounds=0),
        "prefix_only": ConstrainedSettings(n_best=0),
    }

    def plain(qs, cs):
        out = list(model.translate(qs, SRC, lang, options=options))
        return [t.text for t in out], out

    def constrained(settings):
        def run(qs, cs):
            out = translate_constrained(
                model, qs, cs, SRC, lang, settings=settings, options=options
            )
            return [r.text for r in out], out

        return run

    sides: dict[str, Callable[[list, list], tuple[list[str], list[Any]]]] = {"plain": plain}
    sides.update({name: constrained(s) for name, s in variants.items()})
    names = list(sides)
    for name in names:  # warm-up, untimed
        sides[name](questions[:4], constraints[:4])
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for p in range(args.repeats):
        for name in names[p % len(names) :] + names[: p % len(names)]:
            run = _timed_run(model, lambda f=sides[name]: f(questions, constraints))
            if runs[name] and run.texts != runs[name][0].texts:
                raise SystemExit(f"{lang} {name}: outputs changed between repeats")
            runs[name].append(run)
            print(f"  {lang} repeat {p + 1} {name:12s} {run.seconds:8.2f} s", flush=True)

    n = len(questions)
    plain_secs = [r.seconds for r in runs["plain"]]
    pieces = iter(model.inner.target_pieces([c.x_text for cs in constraints for c in cs]))
    forceable = [[model.inner.unk_token not in next(pieces) for _ in cs] for cs in constraints]
    unforceable = sum(not f for fs in forceable for f in fs)
    out: dict[str, Any] = {
        "extraction": prep["facts"],
        "unforceable_constraints": unforceable,
        "sides": {},
    }
    for name, rs in runs.items():
        first = rs[0]
        ratios = [r.seconds / b for r, b in zip(rs, plain_secs, strict=True)]
        fig: dict[str, Any] = {
            "seconds": [round(r.seconds, 3) for r in rs],
            "median_seconds": round(statistics.median(r.seconds for r in rs), 3),
            "ratio_to_plain": {
                "per_repeat": [round(x, 3) for x in ratios],
                "median": round(statistics.median(ratios), 3),
            },
            **_work(first.log, n),
        }
        if name == "plain":
            fig["satisfaction"] = plain_satisfaction(first.texts, constraints, forceable, lang)
            fig["decoded_per_question"] = 1.0
            fig["scored_per_question"] = 0.0
        else:
            fig["settings"] = variants[name].as_dict()
            fig["satisfaction"] = satisfaction(first.results, constraints, forceable)
            fig["decoded_per_question"] = round(sum(r.decoded for r in first.results) / n, 3)
            fig["scored_per_question"] = round(sum(r.scored for r in first.results) / n, 3)
            fig["methods"] = dict(Counter(r.method for r in first.results))
            plain_texts = runs["plain"][0].texts
            fig["plain_text_equals_plain_side"] = all(
                r.plain_text == t for r, t in zip(first.results, plain_texts, strict=True)
            )
        out["sides"][name] = fig
    return out


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--langs", default=",".join(LANGS))
    ap.add_argument("--questions", type=int, default=300, help="questions per language")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--length", type=int, default=24, help="output pieces of every translation")
    args = ap.parse_args(argv)
    check_device(args.device)
    from xproj.translators.constrained import ConstrainedSettings
    from xproj.translators.ct2 import CT2Translator

    langs = [x for x in args.langs.split(",") if x]
    compute_type = "int8" if args.device == "cpu" else "int8_float16"
    load_before = os.getloadavg()
    with Timer() as total:
        en_pars = load("en")
        preps = {}
        for lang in langs:
            preps[lang] = prepare(lang, en_pars, args.questions, ConstrainedSettings())
            f = preps[lang]["facts"]
            print(
                f"{lang}: {f['questions']} questions, {f['constraints_per_question']:.2f} "
                f"constraints/question, {f['unmapped']} unmapped, align {f['align_s']:.1f} s",
                flush=True,
            )
        with Timer() as t_load:
            _, ct2_dir = cached_nllb(args.model)
            inner = CT2Translator(
                ct2_dir,
                device=args.device,
                compute_type=compute_type,
                intra_threads=args.threads,
                inter_threads=1,
            )
        model = CountingModel(inner)
        per_lang = {lang: measure_language(model, lang, preps[lang], args) for lang in langs}

    summary = {}
    for lang, res in per_lang.items():
        s = res["sides"]
        summary[lang] = {
            "constraints_per_question": res["extraction"]["constraints_per_question"],
            "satisfied_plain": s["plain"]["satisfaction"]["share"],
            "satisfied_constrained": s["constrained"]["satisfaction"]["share"],
            "unforceable_constraints": res["unforceable_constraints"],
            "satisfied_of_forceable_plain": s["plain"]["satisfaction"]["share_of_forceable"],
            "satisfied_of_forceable_constrained": s["constrained"]["satisfaction"][
                "share_of_forceable"
            ],
            "satisfied_force_all": s["force_all"]["satisfaction"]["share"],
            "satisfied_n_best_only": s["n_best_only"]["satisfaction"]["share"],
            "satisfied_prefix_only": s["prefix_only"]["satisfaction"]["share"],
            "cost_ratio_constrained": s["constrained"]["ratio_to_plain"]["median"],
            "cost_ratio_force_all": s["force_all"]["ratio_to_plain"]["median"],
            "cost_ratio_n_best_only": s["n_best_only"]["ratio_to_plain"]["median"],
            "cost_ratio_prefix_only": s["prefix_only"]["ratio_to_plain"]["median"],
            "decoded_per_question_constrained": s["constrained"]["decoded_per_question"],
            "scored_per_question_constrained": s["constrained"]["scored_per_question"],
        }
    inner_shape = SHAPES[args.model]
    name = "constrained_translation" + ("" if args.model == "tiny" else f"_{args.model}")
    name += "_cuda" if args.device == "cuda" else ""
    payload = {
        "command": "python -m benchmarks.constrained_translation " + " ".join(sys.argv[1:]),
        "note": "random weights: the figures measure the constrained decoding mechanism and its "
        "cost, not translation quality; a random model never writes a constraint by itself, so "
        "plain satisfaction is near zero and constrained satisfaction comes from forced prefixes",
        "versions": versions(["ctranslate2", "eflomal", "transformers", "tokenizers", "spacy"]),
        "device": args.device,
        "model": {
            "name": shape_key(args.model),
            "d_model": inner_shape.d_model,
            "layers": inner_shape.layers,
            "vocab": VOCABS[args.model] or len(inner._tokenizer),
            "compute_type": inner.quantization,
            "load_s": round(t_load.seconds, 1),
        },
        "settings": {
            "langs": langs,
            "questions_per_language": args.questions,
            "repeats": args.repeats,
            "threads": args.threads,
            "length": args.length,
            "decoding": "greedy, no_repeat_ngram_size 1, min = max_decoding_length = length",
            "constrained": ConstrainedSettings().as_dict(),
            "aligner": "eflomal.v1 " + str(SENTENCE_SETTINGS) + ", sentence level",
        },
        "languages": per_lang,
        "summary": summary,
        **loadavg_fields(load_before),
        "total_s": round(total.seconds, 1),
    }
    path = write_result(name, payload)
    print(f"\n{name} ({args.device}, model {args.model}, {args.length} pieces per output)")
    print(
        f"  {'lang':4s} {'side':12s} {'sat.':>6s} {'forc.':>6s} {'× plain':>8s} "
        f"{'dec/q':>6s} {'sc/q':>6s}"
    )
    for lang, res in per_lang.items():
        for side, fig in res["sides"].items():
            sat = fig["satisfaction"]
            print(
                f"  {lang:4s} {side:12s} {sat['share'] or 0:6.3f} "
                f"{sat['share_of_forceable'] or 0:6.3f} "
                f"{fig['ratio_to_plain']['median']:8.2f} {fig['decoded_per_question']:6.2f} "
                f"{fig['scored_per_question']:6.2f}"
            )
    print("  (sat.: share of constraints met; forc.: share of those the vocabulary can spell)")
    print(f"  total {total.seconds:.0f} s; result: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
