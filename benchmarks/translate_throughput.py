"""Translation throughput: CTranslate2 int8 vs transformers fp32, then xproj's pipeline overhead.

The model is a random NLLB-style M2M-100 (``benchmarks._mt_models``): ``--size 600m`` has
NLLB-200-distilled-600M's shape (d_model 1024, 12 + 12 layers, 16 heads, ffn 4096) and its real
vocabulary size, 256,206: the tokenizer is a tiny BPE padded with filler word pieces to that
size, so the tied embedding / output projection is 256,206 × 1024 as in the real model.
``--size small`` (d512, 6 + 6, same vocabulary) is for quick runs. Weights are random, so every
sentence is decoded to a fixed length: the output length never depends on the weights.

Under plain greedy search such a model (tied embeddings) picks the forced ``deu_Latn`` token again
at every step, and that decodes to an empty text. (a) does not mind: the decoder does the same work
per step whichever token wins (a forward pass and the full 256,206-way output projection), and
its figure counts steps. (b) does: the flow rejects an empty translation before tokenizing it, so
it would time no alignment or projection at all. (b) therefore decodes with
``no_repeat_ngram_size = 1`` on both sides (no output piece twice, so 31 distinct word pieces: a
non-empty text of random words) and checks, after every pass, that the work was done (below).

(a) Engines. The same ``--sentences`` English sentences, in input order, in batches of 16,
    greedy, exactly 32 decoder steps each (the forced ``deu_Latn`` token + 31; CTranslate2
    ``min_decoding_length = max_decoding_length = 32``, which include the prefix; transformers
    ``generate(min_new_tokens=32, max_new_tokens=32, num_beams=1, do_sample=False,
    forced_bos_token_id=deu_Latn)``). CTranslate2 int8 (``intra_threads=--threads``,
    ``inter_threads=1``) against transformers fp32 (``torch.set_num_threads(--threads)``), in
    one process, ``--repeats`` interleaved passes after one warm-up batch each. Timed: the model
    call (``translate_batch`` / ``generate``) over pre-tokenized batches. Figure: output tokens
    (32 per sentence, checked) per second. Bar: CTranslate2 ≥ 4× transformers (600m shape).
(b) Pipeline overhead. ``--pipeline-sentences`` sentences (a synthetic CoNLL file) translated
    en→de by xproj's ``translate_train`` flow (eflomal aligner, an empty cache in a fresh lake
    each time: translate + tokenize + align + project + stage + commit, model loading included)
    against a bare loop: tokenize, ``ctranslate2.Translator.translate_batch`` with the flow's
    exact decoding arguments (token batches of ``16 × mean source length``, exactly 32 decoder
    steps), detokenize, on a model loaded beforehand. Prefect's ephemeral API is started by a
    warm-up flow run before timing (a once-per-process cost of ~20 s). Both sides decode with
    ``no_repeat_ngram_size = 1``. Checked after every pass, untimed: the bare loop's decoded texts
    are non-empty; the flow's lake holds a non-empty translation for (nearly) every sentence
    (``MIN_DONE_SHARE``), a ``projected`` row and an ``alignments`` row (with links) for every
    non-empty one, and a ``rejected`` row for every other; the counts and the run's own
    ``timings`` go into the result. Figure: output tokens per second of each, and pipeline /
    bare. Bar: ≥ 0.85.

Other processes on the 2 cores distort timings; the result records the load average.

Run: ``.venv/bin/python -m benchmarks.translate_throughput`` (600m shape, about 8 minutes on 2
cores once the model is cached; building and converting it the first time adds 2–3 minutes),
``--size small`` for a quick run, ``--device cuda`` on a GPU machine (CTranslate2 float16 and
int8_float16 against transformers float16). ``--parts pipeline`` (or ``engines``) runs one part;
the other part's section is then carried over from the existing result file, marked with the
timestamp and model of the run that measured it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, loadavg_fields, versions, write_result
from benchmarks._mt_models import SHAPES, cached_nllb, shape_key, write_conll

BAR_SPEEDUP = 4.0
BAR_PIPELINE = 0.85
BATCH = 16
STEPS = 32
SRC, TGT = "eng_Latn", "deu_Latn"
#: per size: sentences for (a), sentences for (b); chosen for ~8 minutes on 2 cores (600m)
DEFAULT_SENTENCES = {"600m": (64, 256), "small": (128, 512)}
#: (b): forbid repeating any output piece, so a random model writes 31 distinct pieces, not the
#: forced language token 31 times (which decodes to an empty text)
NO_REPEAT_NGRAM = 1
#: (b): the least share of sentences that must get a non-empty translation and a projected row
MIN_DONE_SHARE = 0.99
PARTS = ("engines", "pipeline")


def check_device(device: str) -> None:
    """Exit with a clear message when ``device`` is ``cuda`` and no CUDA device is visible."""
    if device != "cuda":
        return
    import ctranslate2
    import torch

    if ctranslate2.get_cuda_device_count() == 0 or not torch.cuda.is_available():
        raise SystemExit(
            "--device cuda: no CUDA device is visible to CTranslate2 "
            f"({ctranslate2.get_cuda_device_count()} devices) or torch "
            f"(cuda available: {torch.cuda.is_available()}); run on a GPU machine or use "
            "--device cpu."
        )


def read_texts(path: Path) -> list[str]:
    """The texts of a CoNLL file exactly as the flow reads them."""
    from xproj.io.readers.conll import iter_conll

    return [s.text for s in iter_conll(path, "en", on_error="raise")]


def source_tokens(tokenizer: Any, texts: list[str]) -> list[list[str]]:
    """NLLB source pieces: ``eng_Latn … </s>``."""
    tokenizer.src_lang = SRC
    return [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(texts)["input_ids"]]


def engines_part(
    args: argparse.Namespace, hf_dir: Path, ct2_dir: Path, texts: list[str]
) -> dict[str, Any]:
    """(a): CTranslate2 vs transformers on the same batches, interleaved."""
    import ctranslate2
    import torch
    from transformers import AutoTokenizer, M2M100ForConditionalGeneration

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    pieces = [source_tokens(tokenizer, b) for b in batches]
    encoded = [tokenizer(b, return_tensors="pt", padding=True) for b in batches]
    tgt_id = tokenizer.convert_tokens_to_ids(TGT)

    hf_dtype = torch.float32 if args.device == "cpu" else torch.float16
    model = M2M100ForConditionalGeneration.from_pretrained(hf_dir, dtype=hf_dtype)
    model = model.to(args.device).eval()
    ct2_types = ["int8"] if args.device == "cpu" else ["float16", "int8_float16"]
    ct2 = {
        ct: ctranslate2.Translator(
            str(ct2_dir),
            device=args.device,
            compute_type=ct,
            intra_threads=args.threads,
            inter_threads=1,
        )
        for ct in ct2_types
    }

    def run_ct2(ct: str, which: list[int]) -> int:
        n = 0
        for i in which:
            out = ct2[ct].translate_batch(
                pieces[i],
                target_prefix=[[TGT]] * len(pieces[i]),
                beam_size=1,
                min_decoding_length=STEPS,
                max_decoding_length=STEPS,
                max_batch_size=BATCH,
                batch_type="examples",
                max_input_length=0,
            )
            lengths = {len(r.hypotheses[0]) for r in out}
            assert lengths == {STEPS}, f"CTranslate2 output lengths {lengths} != {STEPS}"
            n += STEPS * len(out)
        return n

    def run_hf(which: list[int]) -> int:
        n = 0
        with torch.inference_mode():
            for i in which:
                batch = {k: v.to(args.device) for k, v in encoded[i].items()}
                out = model.generate(
                    **batch,
                    forced_bos_token_id=tgt_id,
                    min_new_tokens=STEPS,
                    max_new_tokens=STEPS,
                    num_beams=1,
                    do_sample=False,
                )
                # row = decoder start token + 32 generated (the first is the forced deu_Latn)
                assert out.shape[1] == STEPS + 1, f"transformers output shape {out.shape}"
                assert bool((out[:, 1] == tgt_id).all()), "target language not forced"
                n += STEPS * out.shape[0]
        if args.device == "cuda":
            torch.cuda.synchronize()
        return n

    engines = {f"ctranslate2_{ct}": (lambda which, ct=ct: run_ct2(ct, which)) for ct in ct2_types}
    engines[f"transformers_{'fp32' if args.device == 'cpu' else 'fp16'}"] = run_hf
    for run in engines.values():  # warm-up: one batch each
        run([0])
    all_batches = list(range(len(batches)))
    passes: dict[str, list[float]] = {name: [] for name in engines}
    names = list(engines)
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            tokens = engines[name](all_batches)
            seconds = time.perf_counter() - t0
            passes[name].append(tokens / seconds)
            print(
                f"  pass {r + 1} {name}: {tokens} tokens in {seconds:.1f} s "
                f"= {tokens / seconds:.1f} tok/s",
                flush=True,
            )
    baseline = names[-1]
    figures = {
        name: {
            "tokens_per_s": [round(x, 2) for x in v],
            "median_tokens_per_s": round(statistics.median(v), 2),
        }
        for name, v in passes.items()
    }
    ratios = {}
    for name in names[:-1]:
        per_pass = [a / b for a, b in zip(passes[name], passes[baseline], strict=True)]
        ratios[f"{name}/{baseline}"] = {
            "per_pass": [round(x, 3) for x in per_pass],
            "median": round(statistics.median(per_pass), 3),
        }
    return {
        "sentences": len(texts),
        "batches": len(batches),
        "tokens_per_pass": len(texts) * STEPS,
        "engines": figures,
        "ratios": ratios,
        "baseline": baseline,
    }


def lake_counts(lake_dir: Path, run_id: str) -> dict[str, Any]:
    """What a pipeline pass wrote: translations, projected and alignment rows, rejects, timings.

    Read back from the run's lake with ``xproj.catalog.query``, so the counts are what was committed.
    """
    from xproj.catalog import Lake, query

    lake = Lake(lake_dir)

    def one(sql: str) -> dict[str, Any]:
        (row,) = query(lake, sql.replace("$RUN", run_id)).to_pylist()
        return row

    translations = one(
        "SELECT count(*) AS rows, count(*) FILTER (WHERE length(trim(translation)) > 0) "
        "AS non_empty, count(DISTINCT translation) AS distinct_texts "
        "FROM translations WHERE run_id = '$RUN'"
    )
    projected = one(
        "SELECT count(*) AS rows, coalesce(sum(n_source_spans), 0)::BIGINT AS source_spans, "
        "coalesce(sum(n_projected), 0)::BIGINT AS projected_spans, "
        "coalesce(sum(len(tgt_tokens)), 0)::BIGINT AS target_tokens "
        "FROM projected WHERE run_id = '$RUN'"
    )
    alignments = one(
        "SELECT count(*) AS rows, coalesce(sum(len(links)), 0)::BIGINT AS links "
        "FROM alignments WHERE run_id = '$RUN'"
    )
    rejected = query(
        lake,
        "SELECT stage, code, count(*) AS n FROM rejected "
        f"WHERE run_id = '{run_id}' GROUP BY ALL ORDER BY ALL",
    ).to_pylist()
    timings = json.loads(one("SELECT timings FROM runs WHERE run_id = '$RUN'")["timings"])
    return {
        "translations": translations,
        "projected": projected,
        "alignments": alignments,
        "rejected": {"rows": sum(r["n"] for r in rejected), "by_stage_code": rejected},
        "run_timings_s": {k: round(v, 2) for k, v in timings.items()},
    }


def check_pipeline_counts(counts: dict[str, Any], sentences: int) -> None:
    """Fail unless the pass translated (nearly) every sentence into text, aligned and projected it.

    Raises:
        AssertionError: naming the count that is short.
    """
    least = MIN_DONE_SHARE * sentences
    t, p, a = counts["translations"], counts["projected"], counts["alignments"]
    rejected = counts["rejected"]["rows"]
    assert t["rows"] == sentences, f"{t['rows']} translations rows for {sentences} sentences"
    assert t["non_empty"] >= least, (
        f"only {t['non_empty']} of {sentences} translations are non-empty: the pass did little "
        "or no alignment and projection work"
    )
    assert p["rows"] == t["non_empty"], (
        f"{p['rows']} projected rows for {t['non_empty']} non-empty translations"
    )
    assert a["rows"] == p["rows"] and a["links"] > 0, (
        f"{a['rows']} alignment rows ({a['links']} links) for {p['rows']} projected rows"
    )
    assert p["source_spans"] > 0, "no source span reached projection"
    assert p["rows"] + rejected == sentences, (
        f"{p['rows']} projected + {rejected} rejected != {sentences} sentences"
    )


def pipeline_part(args: argparse.Namespace, ct2_dir: Path, work: Path) -> dict[str, Any]:
    """(b): the translate_train flow vs a bare translate_batch loop on the same sentences."""
    import ctranslate2
    from transformers import AutoTokenizer

    from xproj.flows.config import TranslateTrainConfig
    from xproj.flows.translate_train import translate_train

    conll = write_conll(work / "source.en.conll", args.pipeline_sentences, seed=1)
    texts = read_texts(conll)
    tokenizer = AutoTokenizer.from_pretrained(ct2_dir)
    lengths = [len(p) for p in source_tokens(tokenizer, texts)]
    batch_tokens = round(BATCH * statistics.mean(lengths))
    compute_type = "int8" if args.device == "cpu" else "int8_float16"

    def config(source: Path, lake: Path) -> TranslateTrainConfig:
        return TranslateTrainConfig(
            source={"path": str(source), "lang": "en"},
            target_langs=["de"],
            model=str(ct2_dir),
            device=args.device,
            compute_type=compute_type,
            intra_threads=args.threads,
            inter_threads=1,
            beam_size=1,
            max_decoding_length=STEPS - 1,
            min_decoding_length=STEPS - 1,
            no_repeat_ngram_size=NO_REPEAT_NGRAM,
            batch_tokens=batch_tokens,
            aligner="eflomal.v1",
            lake=str(lake),
        )

    print("  warm-up flow run (starts Prefect's ephemeral API; not timed)", flush=True)
    warm = write_conll(work / "warm.en.conll", 16, seed=2)
    warm_result = translate_train(config(warm, work / "lake-warm"))
    check_pipeline_counts(lake_counts(work / "lake-warm", warm_result.run_id), 16)

    translator = ctranslate2.Translator(
        str(ct2_dir),
        device=args.device,
        compute_type=compute_type,
        intra_threads=args.threads,
        inter_threads=1,
    )
    # what the flow's CT2Translator passes for these options (CT2Translator._decode_kwargs;
    # lengths include the prefix)
    kwargs = {
        "max_batch_size": batch_tokens,
        "batch_type": "tokens",
        "beam_size": 1,
        "num_hypotheses": 1,
        "length_penalty": 1.0,
        "repetition_penalty": 1.0,
        "no_repeat_ngram_size": NO_REPEAT_NGRAM,
        "disable_unk": False,
        "max_decoding_length": STEPS,
        "min_decoding_length": STEPS,
        "max_input_length": 0,
        "use_vmap": False,
        "sampling_topk": 1,
        "sampling_topp": 1.0,
        "sampling_temperature": 1.0,
    }

    bare_checks: list[dict[str, int]] = []
    pipeline_checks: list[dict[str, Any]] = []

    def bare() -> tuple[int, float]:
        t0 = time.perf_counter()
        pieces = source_tokens(tokenizer, texts)
        out = translator.translate_batch(pieces, target_prefix=[[TGT]] * len(pieces), **kwargs)
        hyps = [r.hypotheses[0][1:] for r in out]
        decoded = tokenizer.batch_decode(
            [tokenizer.convert_tokens_to_ids(h) for h in hyps], skip_special_tokens=True
        )
        seconds = time.perf_counter() - t0
        assert {len(h) for h in hyps} == {STEPS - 1}, "bare output lengths differ"
        non_empty = sum(bool(d.strip()) for d in decoded)
        assert non_empty >= MIN_DONE_SHARE * len(texts), (
            f"only {non_empty} of {len(texts)} bare translations are non-empty"
        )
        bare_checks.append({"non_empty": non_empty, "distinct_texts": len(set(decoded))})
        return len(texts) * STEPS, seconds

    def pipeline(r: int) -> tuple[int, float]:
        t0 = time.perf_counter()
        result = translate_train(config(conll, work / f"lake-{r}"))
        seconds = time.perf_counter() - t0
        got = result.metrics["stats"]["translated"]
        assert got == len(texts), f"the flow translated {got} of {len(texts)}"
        counts = lake_counts(work / f"lake-{r}", result.run_id)
        check_pipeline_counts(counts, len(texts))
        tallies = result.metrics["tallies"]
        spans = tallies["spans"]["by"]["de"]
        counts["flow_metrics_de"] = {
            "sentences": tallies["translations"]["by"]["de"]["total"],
            "spans": spans["total"],
            "projected": spans["kept"],
            "projection_rate": spans["rate"],
            "drop_reasons": spans["dropped"],
        }
        pipeline_checks.append(counts)
        return len(texts) * STEPS, seconds

    passes: dict[str, list[float]] = {"bare": [], "pipeline": []}
    seconds: dict[str, list[float]] = {"bare": [], "pipeline": []}
    for r in range(args.repeats):
        order = ("bare", "pipeline") if r % 2 == 0 else ("pipeline", "bare")
        for name in order:
            tokens, secs = bare() if name == "bare" else pipeline(r)
            passes[name].append(tokens / secs)
            seconds[name].append(round(secs, 2))
            extra = ""
            if name == "bare":
                extra = f"; {bare_checks[-1]['non_empty']} non-empty"
            else:
                c = pipeline_checks[-1]
                extra = (
                    f"; {c['translations']['non_empty']} non-empty, "
                    f"{c['projected']['rows']} projected, {c['alignments']['rows']} aligned, "
                    f"{c['rejected']['rows']} rejected; run timings {c['run_timings_s']}"
                )
            print(
                f"  pass {r + 1} {name}: {tokens} tokens in {secs:.1f} s "
                f"= {tokens / secs:.1f} tok/s{extra}",
                flush=True,
            )
    per_pass = [p / b for p, b in zip(passes["pipeline"], passes["bare"], strict=True)]
    return {
        "sentences": len(texts),
        "batch_tokens": batch_tokens,
        "mean_source_tokens": round(statistics.mean(lengths), 2),
        "compute_type": compute_type,
        "no_repeat_ngram_size": NO_REPEAT_NGRAM,
        "seconds": seconds,
        "tokens_per_s": {k: [round(x, 2) for x in v] for k, v in passes.items()},
        "median_tokens_per_s": {k: round(statistics.median(v), 2) for k, v in passes.items()},
        "ratio_pipeline_over_bare": {
            "per_pass": [round(x, 3) for x in per_pass],
            "median": round(statistics.median(per_pass), 3),
        },
        "checks": {
            "min_done_share": MIN_DONE_SHARE,
            "bare": bare_checks,
            "pipeline": pipeline_checks,
        },
    }


def carried_engines(name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Part (a)'s section and bar from the existing result file ``name``, when it has them.

    Returns:
        ``(engines, bar)``, each marked with where it came from, or ``(None, None)``.
    """
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return None, None
    old = json.loads(path.read_text())
    engines = old.get("engines")
    if not engines:
        return None, None
    origin = {
        "timestamp": old.get("timestamp"),
        "model": old.get("settings", {}).get("model"),
        "sentences": old.get("settings", {}).get("sentences_engines"),
        "repeats": old.get("settings", {}).get("repeats"),
    }
    engines = {**engines, "carried_over_from": engines.get("carried_over_from", origin)}
    bar = old.get("bars", {}).get("ct2_int8_over_transformers_fp32")
    if bar is not None:
        bar = {**bar, "carried_over_from": bar.get("carried_over_from", origin)}
    return engines, bar


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["600m", "small"], default="600m")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--sentences",
        type=int,
        default=None,
        help="sentences for the engine comparison (default per size)",
    )
    parser.add_argument(
        "--pipeline-sentences",
        type=int,
        default=None,
        help="sentences for the pipeline comparison (default per size)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="parts to run (default both); a part not run is carried over "
        "from the existing result file",
    )
    parser.add_argument("--skip-pipeline", action="store_true", help="same as --parts engines")
    args = parser.parse_args(argv)
    parts = ["engines"] if args.skip_pipeline else [p for p in PARTS if p in args.parts]
    check_device(args.device)
    n_a, n_b = DEFAULT_SENTENCES[args.size]
    args.sentences = args.sentences or n_a
    args.pipeline_sentences = args.pipeline_sentences or n_b
    name = "translate_throughput" if args.size == "600m" else f"translate_throughput_{args.size}"
    if args.device == "cuda":
        name += "_cuda"
    old_pipeline = None
    if "pipeline" not in parts and (RESULTS / f"{name}.json").is_file():
        old = json.loads((RESULTS / f"{name}.json").read_text())
        if old.get("pipeline"):
            old_pipeline = {
                **old["pipeline"],
                "carried_over_from": old["pipeline"].get(
                    "carried_over_from",
                    {
                        "timestamp": old.get("timestamp"),
                        "model": old.get("settings", {}).get("model"),
                    },
                ),
            }

    t0 = time.perf_counter()
    hf_dir, ct2_dir = cached_nllb(args.size)
    build_s = time.perf_counter() - t0
    load_before = os.getloadavg()
    engines: dict[str, Any] | None = None
    speed_bar: dict[str, Any] | None = None
    pipeline = None
    with tempfile.TemporaryDirectory(prefix="xproj-bench-tt-") as tmp:
        work = Path(tmp)
        if "engines" in parts:
            texts = read_texts(write_conll(work / "engines.en.conll", args.sentences, seed=0))
            print(
                f"(a) engines: {args.size}, {len(texts)} sentences, batch {BATCH}, "
                f"{STEPS} steps, {args.threads} threads, {args.device}",
                flush=True,
            )
            engines = engines_part(args, hf_dir, ct2_dir, texts)
            speed = next(
                (v for k, v in engines["ratios"].items() if k.startswith("ctranslate2_int8")), None
            )
            if args.device == "cpu" and speed is not None:
                speed_bar = {
                    "bar": f">= {BAR_SPEEDUP}",
                    "value": speed["median"],
                    "applies": args.size == "600m",
                    "pass": speed["median"] >= BAR_SPEEDUP,
                }
        else:
            engines, speed_bar = carried_engines(name)
        if "pipeline" in parts:
            print(f"(b) pipeline vs bare: {args.pipeline_sentences} sentences", flush=True)
            pipeline = pipeline_part(args, ct2_dir, work)
        else:
            pipeline = old_pipeline
    total_s = time.perf_counter() - t0

    bars: dict[str, Any] = {}
    if speed_bar is not None:
        bars["ct2_int8_over_transformers_fp32"] = speed_bar
    if pipeline is not None:
        ratio = pipeline["ratio_pipeline_over_bare"]["median"]
        bars["pipeline_over_bare"] = {
            "bar": f">= {BAR_PIPELINE}",
            "value": ratio,
            "pass": ratio >= BAR_PIPELINE,
        }
        if "carried_over_from" in pipeline:
            bars["pipeline_over_bare"]["carried_over_from"] = pipeline["carried_over_from"]
    shape = SHAPES[args.size]
    payload = {
        "versions": versions(
            [
                "ctranslate2",
                "torch",
                "transformers",
                "tokenizers",
                "eflomal",
                "prefect",
                "deltalake",
                "polars",
            ]
        ),
        "device": args.device,
        "parts_run": parts,
        "settings": {
            "size": args.size,
            "model": shape_key(args.size),
            "shape": {
                "d_model": shape.d_model,
                "encoder_layers": shape.layers,
                "decoder_layers": shape.layers,
                "heads": shape.heads,
                "ffn": shape.ffn,
                "vocab": 256_206,
            },
            "threads": args.threads,
            "inter_threads": 1,
            "batch": BATCH,
            "decoder_steps": STEPS,
            "search": "greedy",
            "repeats": args.repeats,
            "sentences_engines": args.sentences if "engines" in parts else None,
            "sentences_pipeline": args.pipeline_sentences if "pipeline" in parts else None,
        },
        "engines": engines,
        "pipeline": pipeline,
        "bars": bars,
        "pass": all(b["pass"] for b in bars.values() if b.get("applies", True)),
        **loadavg_fields(load_before),
        "model_build_or_load_s": round(build_s, 1),
        "total_s": round(total_s, 1),
    }
    path = write_result(name, payload)
    print(
        f"\n{name} ({args.size}, {args.device}, {args.threads} threads; parts run: "
        f"{', '.join(parts)})"
    )
    if engines is not None:
        carried = " (carried over)" if "carried_over_from" in engines else ""
        for engine, fig in engines["engines"].items():
            print(f"  {engine:28s} {fig['median_tokens_per_s']:8.1f} tok/s{carried}")
        for key, value in engines["ratios"].items():
            print(f"  ratio {key}: {value['median']:.2f}x  (per pass {value['per_pass']}){carried}")
    if speed_bar is not None:
        print(
            f"  bar >= {BAR_SPEEDUP}x: {'PASS' if speed_bar['pass'] else 'FAIL'}"
            f"{'' if speed_bar['applies'] else ' (bar is for the 600m shape)'}"
        )
    if pipeline is not None:
        m = pipeline["median_tokens_per_s"]
        r = pipeline["ratio_pipeline_over_bare"]
        carried = " (carried over)" if "carried_over_from" in pipeline else ""
        print(
            f"  pipeline {m['pipeline']:.1f} tok/s vs bare {m['bare']:.1f} tok/s: "
            f"{r['median']:.3f} (bar >= {BAR_PIPELINE}: "
            f"{'PASS' if r['median'] >= BAR_PIPELINE else 'FAIL'}){carried}"
        )
    print(f"  total {total_s:.0f} s; result: {path}")


if __name__ == "__main__":
    main()
