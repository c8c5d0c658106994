"""The ``xproj`` command line: a thin layer that builds flow configs and calls the layers below.

Heavy libraries are imported inside the commands, so ``xproj --help`` answers at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from schemas.errors import XprojError

app = typer.Typer(
    name="xproj",
    help="Turn labeled data in one language into labeled data in many: project span labels, "
    "store versioned tables, query them with DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(
    help="Convert translation models to CTranslate2 and list the store.", no_args_is_help=True
)
app.add_typer(models_app, name="models")
eval_app = typer.Typer(
    help="Evaluate alignments or projections against human gold.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")

LakeOpt = Annotated[
    str | None,
    typer.Option(
        "--lake", help="Lake root (default: $XPROJ_LAKE or ./data/lake).", envvar="XPROJ_LAKE"
    ),
]


@app.command()
def project(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    source: Annotated[str | None, typer.Option(help="Labeled source file or dataset.")] = None,
    source_lang: Annotated[str | None, typer.Option(help="Source language code.")] = None,
    source_format: Annotated[str | None, typer.Option(help="conll | jsonl | parquet | hf.")] = None,
    target: Annotated[
        str | None, typer.Option(help="Target side, record-aligned with the source.")
    ] = None,
    target_lang: Annotated[str | None, typer.Option(help="Target language code.")] = None,
    target_format: Annotated[
        str | None,
        typer.Option(
            help="conll | jsonl | parquet | hf | text (one untokenized sentence per line)."
        ),
    ] = None,
    aligner: Annotated[str | None, typer.Option(help="eflomal.v1 | simalign.v1 | given.v1")] = None,
    symmetrization: Annotated[
        str | None,
        typer.Option(help="intersection | grow-diag-final-and | union (statistical aligners)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Encoder for simalign.v1 (path or Hub id).")
    ] = None,
    alignments: Annotated[str | None, typer.Option(help="Pharaoh file for given.v1.")] = None,
    extra_bitext: Annotated[
        list[str] | None,
        typer.Option(help="Extra bitext for eflomal (src ||| tgt or TSV); repeatable."),
    ] = None,
    shard_size: Annotated[int | None, typer.Option(help="Pairs per shard.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N pairs.")] = None,
    name: Annotated[str | None, typer.Option(help="Dataset name in evaluations.")] = None,
    on_error: Annotated[
        str | None,
        typer.Option(help="reject (record bad records and go on) | raise (stop at the first)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Run even if an identical run is committed.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Project span labels from a labeled source onto its parallel target side."""
    from flows.config import ProjectParallelConfig, load_config

    aligner_options = {}
    if symmetrization:
        aligner_options["symmetrization"] = symmetrization
    if model:
        aligner_options["model"] = model
    if alignments:
        aligner_options["path"] = alignments
    overrides = {
        "source.path": source,
        "source.lang": source_lang,
        "source.format": source_format,
        "target.path": target,
        "target.lang": target_lang,
        "target.format": target_format,
        "aligner": aligner,
        "shard_size": shard_size,
        "limit": limit,
        "name": name,
        "on_error": on_error,
        "lake": lake,
        "force": force or None,
        "extra_bitext": [{"path": p} for p in extra_bitext] if extra_bitext else None,
    }
    overrides.update({f"aligner_options.{k}": v for k, v in aligner_options.items()})
    cfg = load_config(ProjectParallelConfig, config, overrides)
    from flows.project_parallel import project_parallel

    result = project_parallel(cfg)
    _print_result(result)


def _check_models(cfg) -> None:
    """Fail before Prefect starts: a missing or broken model is the commonest mistake."""
    from translators.store import check_model_dir, resolve

    root = Path(cfg.models_root) if cfg.models_root else None
    qg = getattr(getattr(cfg, "qg", None), "model", None)
    for model in filter(None, (cfg.model, cfg.projection_model, qg)):
        check_model_dir(resolve(model, root=root))


def _echo_run(result) -> None:
    """The run id, whether it was committed or reused, and the table versions it made."""
    state = "reused identical earlier run" if result.reused else "committed"
    typer.echo(
        f"run {result.run_id} {state}: "
        + ", ".join(f"{t}@v{v}" for t, v in sorted(result.versions.items()))
    )


def _print_result(result) -> None:
    m = result.metrics
    _echo_run(result)
    typer.echo(
        f"pairs {m.get('pairs')}, spans {m.get('spans')}, projected {m.get('projected')} "
        f"(rate {m.get('projection_rate', 0):.3f}), rejected records "
        f"{m.get('rejected_records')}"
    )
    if m.get("drop_reasons"):
        typer.echo(
            "drop reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(m["drop_reasons"].items()))
        )
    gold = m.get("gold", {}).get("_micro")
    if gold:
        typer.echo(
            f"against gold: P {gold['precision']:.3f}  R {gold['recall']:.3f}  F1 {gold['f1']:.3f}"
        )


ProjectorOpt = Annotated[
    str | None,
    typer.Option(
        help="align (word alignment) | markers (EasyProject) | codec (constrained decoding); "
        "the last two need a marker-aware model (docs/projection.md)."
    ),
]
ProjectionModelOpt = Annotated[
    str | None,
    typer.Option(help="Marker-aware model for markers/codec when it is not --model."),
]


@app.command("translate-train")
def translate_train_cmd(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    source: Annotated[
        str | None, typer.Option(help="Labeled source: file, folder or HF dataset name.")
    ] = None,
    source_lang: Annotated[str | None, typer.Option(help="Source language code.")] = None,
    source_format: Annotated[str | None, typer.Option(help="conll | jsonl | parquet | hf.")] = None,
    split: Annotated[str | None, typer.Option(help="HF dataset split.")] = None,
    tokens_column: Annotated[str | None, typer.Option(help="HF tokens column.")] = None,
    tags_column: Annotated[str | None, typer.Option(help="HF tags column.")] = None,
    text_column: Annotated[str | None, typer.Option(help="JSONL/Parquet text column.")] = None,
    spans_column: Annotated[str | None, typer.Option(help="JSONL/Parquet spans column.")] = None,
    target_langs: Annotated[
        str | None,
        typer.Option(
            "--target-langs", "-t", help="Comma-separated target languages, e.g. de,sw,yo."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Store id (xproj models list) or a CTranslate2 model folder.")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda.")] = None,
    compute_type: Annotated[
        str | None, typer.Option(help="auto | int8 | int8_float16 | float16 | …")
    ] = None,
    beam_size: Annotated[int | None, typer.Option(help="1 = greedy (default).")] = None,
    projector: ProjectorOpt = None,
    projection_model: ProjectionModelOpt = None,
    aligner: Annotated[str | None, typer.Option(help="eflomal.v1 | simalign.v1")] = None,
    shard_size: Annotated[int | None, typer.Option(help="Sentences per shard.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N records.")] = None,
    name: Annotated[str | None, typer.Option(help="Dataset name.")] = None,
    force: Annotated[bool, typer.Option(help="Run even if an identical run is committed.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Translate a labeled dataset into target languages and project its span labels."""
    from flows.config import TranslateTrainConfig, load_config

    overrides = {
        "source.path": source,
        "source.lang": source_lang,
        "source.format": source_format,
        "source.split": split,
        "source.tokens_column": tokens_column,
        "source.tags_column": tags_column,
        "source.text_column": text_column,
        "source.spans_column": spans_column,
        "target_langs": [x.strip() for x in target_langs.split(",") if x.strip()]
        if target_langs
        else None,
        "model": model,
        "device": device,
        "compute_type": compute_type,
        "beam_size": beam_size,
        "projector": projector,
        "projection_model": projection_model,
        "aligner": aligner,
        "shard_size": shard_size,
        "limit": limit,
        "name": name,
        "lake": lake,
        "force": force or None,
    }
    cfg = load_config(TranslateTrainConfig, config, overrides)
    _check_models(cfg)
    from flows.translate_train import translate_train

    result = translate_train(cfg)
    _echo_run(result)
    for lang, m in result.metrics.get("languages", {}).items():
        typer.echo(
            f"{lang}: sentences {m['sentences']}, spans {m['spans']}, projected "
            f"{m['projected']} (rate {m['projection_rate']:.3f})"
        )


@app.command("translate-test")
def translate_test_cmd(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    input: Annotated[
        str | None, typer.Option("--input", "-i", help="Target-language text: file or HF dataset.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the input.")] = None,
    input_format: Annotated[
        str | None, typer.Option(help="text | conll | jsonl | parquet | hf (labeled: gold).")
    ] = None,
    pivot_lang: Annotated[
        str | None, typer.Option(help="Language the predictions are made in (default en).")
    ] = None,
    predictions: Annotated[
        str | None, typer.Option(help="JSONL/Parquet of English spans {id, text, spans}.")
    ] = None,
    spacy: Annotated[
        str | None, typer.Option(help="spaCy pipeline (name or folder) to label the English.")
    ] = None,
    label_map: Annotated[
        str | None, typer.Option(help="Rename predicted labels: PERSON=PER,GPE=LOC.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Store id (xproj models list) or a CTranslate2 model folder.")
    ] = None,
    projector: ProjectorOpt = None,
    projection_model: ProjectionModelOpt = None,
    aligner: Annotated[str | None, typer.Option(help="For --projector align.")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda.")] = None,
    compute_type: Annotated[str | None, typer.Option(help="auto | int8 | …")] = None,
    beam_size: Annotated[int | None, typer.Option(help="1 = greedy (default).")] = None,
    shard_size: Annotated[int | None, typer.Option(help="Records per shard.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N records.")] = None,
    name: Annotated[str | None, typer.Option(help="Dataset name.")] = None,
    force: Annotated[bool, typer.Option(help="Run even if an identical run is committed.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Translate X text into English, label it, and project the labels back onto the X text."""
    from flows.config import TranslateTestConfig, load_config

    mapping = None
    if label_map:
        pairs = [x.split("=", 1) for x in label_map.split(",") if x.strip()]
        if any(len(p) != 2 for p in pairs):
            raise typer.BadParameter("write --label-map as FROM=TO,FROM=TO")
        mapping = {a.strip(): b.strip() for a, b in pairs}
    overrides = {
        "input.path": input,
        "input.lang": lang,
        "input.format": input_format,
        "pivot_lang": pivot_lang,
        "predictions.path": predictions,
        "spacy": spacy,
        "label_map": mapping,
        "model": model,
        "projector": projector,
        "projection_model": projection_model,
        "aligner": aligner,
        "device": device,
        "compute_type": compute_type,
        "beam_size": beam_size,
        "shard_size": shard_size,
        "limit": limit,
        "name": name,
        "lake": lake,
        "force": force or None,
    }
    cfg = load_config(TranslateTestConfig, config, overrides)
    _check_models(cfg)
    from flows.translate_test import translate_test

    result = translate_test(cfg)
    _echo_run(result)
    for code, m in result.metrics.get("languages", {}).items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(m["drop_reasons"].items())) or "none"
        typer.echo(
            f"{code}: records {m['sentences']}, spans {m['spans']}, projected {m['projected']} "
            f"(rate {m['projection_rate']:.3f}); drop reasons: {reasons}"
        )
    gold = result.metrics.get("gold", {}).get("_micro")
    if gold:
        typer.echo(
            f"against gold: P {gold['precision']:.3f}  R {gold['recall']:.3f}  F1 {gold['f1']:.3f}"
        )


@app.command("entitycs")
def entitycs_cmd(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    source: Annotated[
        str | None, typer.Option(help="FewRel JSON, MediaWiki articles or WikiExtractor output.")
    ] = None,
    source_format: Annotated[
        str | None, typer.Option(help="fewrel | mediawiki | extracted | auto.")
    ] = None,
    names: Annotated[
        str | None, typer.Option(help="Label TSV folder (<lang>.txt) or a Wikidata JSON dump.")
    ] = None,
    names_format: Annotated[str | None, typer.Option(help="tsv | wikidata.")] = None,
    titles: Annotated[
        str | None, typer.Option(help="title<TAB>QID table for wikitext links.")
    ] = None,
    languages: Annotated[
        str | None, typer.Option(help="Comma-separated languages (default: XLM-R's 92).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the language sampling.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N records.")] = None,
    name: Annotated[str | None, typer.Option(help="Dataset name.")] = None,
    force: Annotated[bool, typer.Option(help="Run even if an identical run is committed.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Build an entity code-switched corpus (EntityCS) as new table versions."""
    from flows.config import load_config
    from flows.entitycs import EntityCSConfig, entitycs

    overrides = {
        "source.path": source,
        "source.format": source_format,
        "names.path": names,
        "names.format": names_format,
        "titles.path": titles,
        "languages": [x.strip() for x in languages.split(",") if x.strip()] if languages else None,
        "seed": seed,
        "limit": limit,
        "name": name,
        "lake": lake,
        "force": force or None,
    }
    result = entitycs(load_config(EntityCSConfig, config, overrides))
    _echo_run(result)
    m = result.metrics
    typer.echo(
        f"sentences read {m['sentences_read']}, kept {m['sentences_kept']}; code-switched "
        f"{m['cs_sentences']} in {len(m['per_language'])} languages, entities switched "
        f"{m['entities_switched']}"
    )
    if m["sentences_dropped"]:
        typer.echo(
            "dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(m["sentences_dropped"].items()))
        )


@app.command("entitycs-export")
def entitycs_export_cmd(
    run: Annotated[str, typer.Option("--run", help="The entitycs run to export.")],
    tokenizer: Annotated[
        str, typer.Option("--tokenizer", help="Local fast tokenizer folder or tokenizer.json.")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write (replaced atomically).")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl | parquet.")] = "jsonl",
    max_length: Annotated[
        int | None,
        typer.Option(
            "--max-length",
            help="Reject sentences with more tokens (default: the tokenizer's model_max_length).",
        ),
    ] = None,
    include_en: Annotated[
        bool, typer.Option("--en/--no-en", help="Also export the English sentences.")
    ] = True,
    offsets: Annotated[
        bool, typer.Option("--offsets", help="Add each token's character span.")
    ] = False,
    lake: LakeOpt = None,
) -> None:
    """Export an EntityCS run for training: tags removed, token ids, entity index per token."""
    from generators.entitycs.export import export_run

    counts = export_run(
        lake,
        run,
        tokenizer,
        out,
        include_en=include_en,
        max_length=max_length,
        fmt=fmt,
        with_offsets=offsets,
    )
    limit = counts["max_length"]
    typer.echo(
        f"wrote {counts['rows_written']} of {counts['rows_read']} rows to {counts['out']} "
        f"({counts['format']}; max length {limit if limit is not None else 'none'})"
    )
    typer.echo(
        "rows per language: "
        + (", ".join(f"{k} {v}" for k, v in counts["languages"].items()) or "none")
    )
    typer.echo(
        f"entities {counts['entities']}, tokens {counts['tokens']} "
        f"(in entities {counts['entity_tokens']})"
    )
    if counts["rejected"]:
        typer.echo(
            "rejected: " + ", ".join(f"{k} {v}" for k, v in sorted(counts["rejected"].items()))
        )
        for ex in counts["rejected_examples"][:3]:
            typer.echo(f"  e.g. {ex['id']} ({ex['language']}) {ex['reason']}: {ex['detail']}")


@app.command("paxqa")
def paxqa_cmd(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    contexts: Annotated[
        str | None,
        typer.Option(help="English–X contexts: bitext file, HF dataset, or English SQuAD file."),
    ] = None,
    contexts_format: Annotated[str | None, typer.Option(help="bitext | hf | squad.")] = None,
    tgt_path: Annotated[str | None, typer.Option(help="The X file of a two-file bitext.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", "-l", help="The X language.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Translation model (store id or CTranslate2 folder).")
    ] = None,
    qg_model: Annotated[
        str | None,
        typer.Option(help="Question generation model, converted with --family text2text."),
    ] = None,
    questions: Annotated[
        str | None, typer.Option(help="generate | given (SQuAD input's own) | both.")
    ] = None,
    spacy: Annotated[
        str | None,
        typer.Option(help="spaCy pipeline for answer candidates (name or folder; default rules)."),
    ] = None,
    aligner: Annotated[str | None, typer.Option(help="eflomal.v1 | simalign.v1 | given.v1")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda.")] = None,
    min_round_trip: Annotated[
        float | None, typer.Option(help="Drop examples whose round-trip token F1 is lower.")
    ] = None,
    shard_size: Annotated[int | None, typer.Option(help="Contexts per shard.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N contexts.")] = None,
    name: Annotated[str | None, typer.Option(help="Dataset name.")] = None,
    force: Annotated[bool, typer.Option(help="Run even if an identical run is committed.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Generate cross-lingual QA examples (PAXQA) from English–X contexts, as new table versions."""
    from flows.config import load_config
    from flows.paxqa import PaxqaConfig, paxqa

    overrides = {
        "contexts.path": contexts,
        "contexts.format": contexts_format,
        "contexts.tgt_path": tgt_path,
        "lang": lang,
        "model": model,
        "qg.model": qg_model,
        "questions": questions,
        "spacy": spacy,
        "aligner": aligner,
        "device": device,
        "filters.min_round_trip": min_round_trip,
        "shard_size": shard_size,
        "limit": limit,
        "name": name,
        "lake": lake,
        "force": force or None,
    }
    cfg = load_config(PaxqaConfig, config, overrides)
    _check_models(cfg)
    result = paxqa(cfg)
    _echo_run(result)
    m = result.metrics
    c = m["constraints"]
    typer.echo(
        f"contexts {m['contexts']}, answer candidates {m['candidates']}, questions generated "
        f"{m['questions_generated']}, examples {m['examples']}; constraints {c['total']} "
        f"(satisfied {c['satisfied']})"
    )
    if m["dropped"]:
        typer.echo("dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(m["dropped"].items())))


@app.command("paxqa-export")
def paxqa_export_cmd(
    run: Annotated[str, typer.Option("--run", help="The paxqa run to export.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write (one subfolder per language).")
    ],
    split: Annotated[str, typer.Option(help="Split name in the file names.")] = "train",
    lake: LakeOpt = None,
) -> None:
    """Export a PAXQA run as SQuAD v1.1 JSON and JSONL files for the four QA directions."""
    from flows.paxqa import export_run

    for summary in export_run(lake, run, out, split=split):
        typer.echo(f"{summary.language}: {summary.examples} examples → {summary.out_dir}")
        for f in summary.files:
            typer.echo(f"  {f.direction} {f.layout}: {f.path.name} ({f.questions} questions)")


@models_app.command("convert")
def models_convert(
    source: Annotated[str, typer.Argument(help="Hugging Face Hub id or local model folder.")],
    quantization: Annotated[
        str, typer.Option(help="int8 | int8_float16 | int8_bfloat16 | float16 | bfloat16 | float32")
    ] = "int8",
    family: Annotated[
        str | None,
        typer.Option(help="nllb | m2m100 | marian | madlad | mbart50 (detected when omitted)."),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="Hub revision (branch, tag or commit).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing store model.")] = False,
    root: Annotated[
        Path | None,
        typer.Option(help="Model store (default $XPROJ_MODELS or ~/.cache/xproj/models)."),
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            help="Take the tokenizer from this Hub id or folder (checkpoints published without "
            "one, e.g. EasyProject's NLLB: facebook/nllb-200-distilled-600M)."
        ),
    ] = None,
) -> None:
    """Convert a translation model to CTranslate2 into the local model store."""
    from translators.store import convert

    path = convert(
        source,
        quantization=quantization,
        family=family,
        revision=revision,
        force=force,
        root=root,
        log=typer.echo,
        tokenizer=tokenizer,
    )
    typer.echo(f"converted: {path}")


@models_app.command("list")
def models_list(
    root: Annotated[
        Path | None,
        typer.Option(help="Model store (default $XPROJ_MODELS or ~/.cache/xproj/models)."),
    ] = None,
) -> None:
    """List the models in the local store."""
    from translators.store import default_root, list_models

    infos = list_models(root)
    if not infos:
        typer.echo(
            f"no models in {root or default_root()}; add one with: xproj models convert "
            "HUB_ID_OR_DIR"
        )
        return
    for m in infos:
        size = f"{m.size_bytes / 2**20:.0f} MiB"
        state = f"BROKEN: {m.problem}" if m.problem else "ok"
        typer.echo(
            f"{m.id}\t{m.family or '?'}\t{m.quantization or '?'}\t{size}\t"
            f"{m.source or '-'}\t{state}"
        )


@app.command()
def tables(lake: LakeOpt = None) -> None:
    """List the lake's tables with their latest version."""
    from catalog import Lake

    lk = Lake(lake)
    names = lk.tables()
    if not names:
        typer.echo(f"no tables under {lk.root}")
        return
    for t in names:
        typer.echo(f"{t}\tv{lk.latest_version(t)}")


@app.command()
def versions(
    table: Annotated[str, typer.Argument(help="Table name.")], lake: LakeOpt = None
) -> None:
    """List a table's versions with the run that made each."""
    from catalog import Lake

    for v in Lake(lake).versions(table):
        typer.echo(
            f"v{v.version}\t{v.timestamp}\t{v.operation}\trun={v.run_id or '-'}\t"
            f"rows+={v.rows_added if v.rows_added is not None else '-'}"
        )


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A read-only SQL query over the lake's tables.")],
    at: Annotated[
        list[str] | None, typer.Option(help="Pin a table version: TABLE=VERSION; repeatable.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table | csv | json | parquet")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows shown in table format.")] = 50,
    lake: LakeOpt = None,
) -> None:
    """Run SQL with DuckDB over the latest (or pinned) table versions."""
    from catalog import Lake, render
    from catalog import query as run_query
    from schemas.errors import E_BAD_CONFIG, ConfigError

    pins = {}
    for item in at or []:
        t, sep, v = item.partition("=")
        if not sep or not v.isdigit():
            raise ConfigError(
                f"--at {item!r} is not TABLE=VERSION.",
                fix="e.g. --at projected=3",
                code=E_BAD_CONFIG,
            )
        pins[t] = int(v)
    result = run_query(Lake(lake), sql, at=pins or None)
    render(result, fmt=fmt, output=output, max_rows=max_rows)


@eval_app.command("alignment")
def eval_alignment(
    pred: Annotated[Path, typer.Option(help="Predicted alignments (Pharaoh).")],
    gold: Annotated[Path, typer.Option(help="Gold alignments (Pharaoh, i-j sure, ipj possible).")],
    bitext: Annotated[
        Path | None,
        typer.Option(
            help="Tokenized bitext (src ||| tgt) to check links against sentence lengths."
        ),
    ] = None,
    gold_one_based: Annotated[bool, typer.Option(help="Gold indices start at 1.")] = False,
    pred_one_based: Annotated[bool, typer.Option(help="Predicted indices start at 1.")] = False,
    dataset: Annotated[str, typer.Option(help="Dataset name for the evaluations table.")] = "",
    system: Annotated[str, typer.Option(help="System name for the evaluations table.")] = "",
    store: Annotated[bool, typer.Option(help="Also append to the evaluations table.")] = True,
    lake: LakeOpt = None,
) -> None:
    """Precision, recall, F1 and AER of word alignments against gold (sure + possible)."""
    from flows.evaluate import evaluate_alignment_files

    scores, issues = evaluate_alignment_files(
        pred,
        gold,
        bitext=bitext,
        pred_one_based=pred_one_based,
        gold_one_based=gold_one_based,
        dataset=dataset or gold.stem,
        system=system or pred.stem,
        lake=lake if store else False,
    )
    for r in issues:
        typer.echo(f"warning: {r.source} {r.locator}: {r.reason}", err=True)
    typer.echo(
        f"P {scores.precision:.4f}  R {scores.recall:.4f}  F1 {scores.f1:.4f}  "
        f"AER {scores.aer:.4f}  (links: predicted {scores.n_pred}, sure {scores.n_sure})"
    )


@eval_app.command("projection")
def eval_projection(
    gold: Annotated[Path, typer.Option(help="Gold target annotations (CoNLL).")],
    gold_lang: Annotated[str, typer.Option(help="Language of the gold file.")],
    pred: Annotated[
        Path | None,
        typer.Option(help="Predicted annotations (CoNLL), sentence-aligned with the gold."),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(help="Take predictions from this run's projected rows in the lake."),
    ] = None,
    dataset: Annotated[str, typer.Option(help="Dataset name for the evaluations table.")] = "",
    system: Annotated[str, typer.Option(help="System name for the evaluations table.")] = "",
    store: Annotated[bool, typer.Option(help="Also append to the evaluations table.")] = True,
    lake: LakeOpt = None,
) -> None:
    """Span precision, recall and F1 (micro and per label) against gold target annotations."""
    from flows.evaluate import evaluate_projection

    scores = evaluate_projection(
        gold,
        gold_lang,
        pred=pred,
        run_id=run,
        dataset=dataset or gold.stem,
        system=system or (run or str(pred)),
        lake=lake,
        store=store,
    )
    typer.echo(f"{'label':<12}{'P':>8}{'R':>8}{'F1':>8}{'gold':>7}{'pred':>7}")
    for r in scores.as_rows():
        typer.echo(
            f"{r['label']:<12}{r['precision']:>8.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}"
            f"{r['n_gold']:>7}{r['n_pred']:>7}"
        )


@app.command()
def demo(
    lake: LakeOpt = None,
    shared_data: Annotated[
        Path | None,
        typer.Option(help="Evaluation data folder (default $XPROJ_SHARED_DATA or ../shared/data)."),
    ] = None,
) -> None:
    """The main job: project the shipped sample (and Europarl when present), query, evaluate."""
    from flows.demo import run_demo

    run_demo(lake=lake, shared_data=shared_data)


@app.command()
def strategies() -> None:
    """List the registered aligners and projection strategies."""
    from projectors.aligners import ALIGNERS
    from projectors.strategies import PROJECTORS

    typer.echo("aligners: " + ", ".join(ALIGNERS.names()))
    typer.echo("projection strategies: " + ", ".join(PROJECTORS.names()))


def main() -> None:
    """Entry point: coded errors print as one clear line and exit with status 2."""
    try:
        app()
    except XprojError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
