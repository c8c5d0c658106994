"""The ``xproj`` command line: a thin layer that builds flow configs and calls the layers below.

Heavy libraries are imported inside the commands, so ``xproj --help`` answers at once.

Exit codes: 0 done (committed, or an identical run reused); 1 an unexpected error (its traceback
is printed); 2 a coded error (``[XPnnn] place: message Fix: …``, one line; ``--debug`` adds the
traceback); 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM, with nothing committed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from xproj.cli.flows import COMMANDS, register
from xproj.schemas.errors import XprojError

app = typer.Typer(
    name="xproj",
    help="Turn labeled data in one language into labeled data in many: project span labels, "
    "store versioned tables, query them with DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    epilog="Example: xproj demo (then xproj tables, and xproj <command> --help for each command)",
)
models_app = typer.Typer(
    help="Convert translation models to CTranslate2 and list the store.",
    no_args_is_help=True,
    epilog="Example: xproj models convert facebook/nllb-200-distilled-600M --quantization int8",
)
app.add_typer(models_app, name="models")
eval_app = typer.Typer(
    help="Evaluate alignments or projections against human gold.",
    no_args_is_help=True,
    epilog="Example: xproj eval projection --gold es.conll --gold-lang es --run <run id>",
)
app.add_typer(eval_app, name="eval")


def _opt(help: str, *names: str, kind: type = str) -> Any:
    """An optional option of type ``kind`` (None when not given), for a command's signature."""
    return Annotated[kind | None, typer.Option(*names, help=help)]


LakeOpt = Annotated[
    str | None,
    typer.Option(
        "--lake", help="Lake root (default: $XPROJ_LAKE or ./data/lake).", envvar="XPROJ_LAKE"
    ),
]

# The options every ``xproj eval`` command shares: how its scores are filed.
DatasetOpt = Annotated[str, typer.Option(help="Dataset name for the evaluations table.")]
SystemOpt = Annotated[str, typer.Option(help="System name for the evaluations table.")]
StoreOpt = Annotated[bool, typer.Option(help="Also append to the evaluations table.")]

_DEBUG = {"on": False}


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Print the full traceback of every error.")
    ] = False,
) -> None:
    """Turn labeled data in one language into labeled data in many."""
    _DEBUG["on"] = debug


def _launch(flow, cfg) -> None:
    """Run a flow (through Prefect only when a Prefect API is configured) and print its summary."""
    from xproj.executor.interrupts import Stopped, as_interrupted
    from xproj.executor.summary import render
    from xproj.flows.runtime import launch

    try:
        summary = launch(flow, cfg, debug=_DEBUG["on"])
    except KeyboardInterrupt as err:  # keep the message (the framework would swallow it)
        raise Stopped(as_interrupted(err)) from None
    typer.echo(render(summary))


for _command in COMMANDS:  # project, translate-train, translate-test, entitycs, paxqa
    register(app, _command, _launch)


@app.command(
    "entitycs-export",
    epilog="Example: xproj entitycs-export --run <run id> --tokenizer xlm-roberta-base/ --out cs.parquet --format parquet",
)
def entitycs_export_cmd(
    run: Annotated[str, typer.Option("--run", help="The entitycs run to export.")],
    tokenizer: Annotated[
        str, typer.Option("--tokenizer", help="Local fast tokenizer folder or tokenizer.json.")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write (replaced atomically).")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl | parquet.")] = "jsonl",
    max_length: _opt(
        "Reject sentences with more tokens (default: the tokenizer's model_max_length).",
        "--max-length",
        kind=int,
    ) = None,
    include_en: Annotated[
        bool, typer.Option("--en/--no-en", help="Also export the English sentences.")
    ] = True,
    offsets: Annotated[
        bool, typer.Option("--offsets", help="Add each token's character span.")
    ] = False,
    lake: LakeOpt = None,
) -> None:
    """Export an EntityCS run for training: tags removed, token ids, entity index per token."""
    from xproj.io.exports.entitycs import export_run

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


@app.command(
    "paxqa-export", epilog="Example: xproj paxqa-export --run <run id> --out exports/news-de"
)
def paxqa_export_cmd(
    run: Annotated[str, typer.Option("--run", help="The paxqa run to export.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write (one subfolder per language).")
    ],
    split: Annotated[str, typer.Option(help="Split name in the file names.")] = "train",
    lake: LakeOpt = None,
) -> None:
    """Export a PAXQA run as SQuAD v1.1 JSON and JSONL files for the four QA directions."""
    from xproj.flows.paxqa import export_run

    for summary in export_run(lake, run, out, split=split):
        typer.echo(f"{summary.language}: {summary.examples} examples → {summary.out_dir}")
        for f in summary.files:
            typer.echo(f"  {f.direction} {f.layout}: {f.path.name} ({f.questions} questions)")


@app.command(
    "publish",
    epilog="Example: xproj publish projected@3 --repo my-org/conll-sw --license cc-by-4.0 "
    "--dry-run out/conll-sw",
)
def publish_cmd(
    table: Annotated[str, typer.Argument(help="TABLE or TABLE@VERSION (latest by default).")],
    repo: Annotated[str, typer.Option("--repo", help="The Hub dataset repository, OWNER/NAME.")],
    config_by: Annotated[
        str,
        typer.Option(
            "--config-by",
            help="One config per language (language), one config (none), or per column "
            "(tables without a layout).",
        ),
    ] = "language",
    split: Annotated[str, typer.Option(help="The split the rows go to.")] = "train",
    run: Annotated[
        list[str] | None, typer.Option("--run", help="Publish only this run's rows (repeatable).")
    ] = None,
    lang: _opt("Publish only these languages (de,sw).", "--lang") = None,
    private: Annotated[bool, typer.Option(help="Create the repository private.")] = False,
    create_pr: Annotated[
        bool, typer.Option("--create-pr", help="Open a pull request instead of committing.")
    ] = False,
    revision: _opt("Commit to this branch (created from main when missing).", "--revision") = None,
    dry_run: _opt(
        "Write the folder that would be uploaded here instead (no network, no token).",
        "--dry-run",
    ) = None,
    license: _opt(
        "Licence of the data for the card (default: the sources' card, or the existing card).",
        "--license",
    ) = None,
    pretty_name: _opt("Title of the dataset card.", "--pretty-name") = None,
    tokenizer: _opt(
        "EntityCS: a local fast tokenizer, for token ids and entity indices.", "--tokenizer"
    ) = None,
    lake: LakeOpt = None,
) -> None:
    """Publish a table version to the Hugging Face Hub: Parquet per config and split, a dataset
    card from the lineage, a tag naming the table version and runs. The token comes from
    HF_TOKEN or `hf auth login` and is never printed or stored."""
    from xproj.cli.flows import csv
    from xproj.flows.publish import PublishConfig, publish
    from xproj.flows.runtime import launch

    config = PublishConfig(
        table=table,
        repo=repo,
        config_by=config_by,
        split=split,
        runs=list(run or []),
        langs=csv(lang) if lang else [],
        private=private,
        create_pr=create_pr,
        revision=revision,
        dry_run=dry_run,
        license=license,
        pretty_name=pretty_name,
        tokenizer=tokenizer,
        lake=lake,
    )
    result = launch(publish, config, debug=_DEBUG["on"])
    typer.echo(result.render())


@models_app.command(
    "convert",
    epilog="Example: xproj models convert facebook/nllb-200-distilled-600M --quantization int8",
)
def models_convert(
    source: Annotated[str, typer.Argument(help="Hugging Face Hub id or local model folder.")],
    quantization: Annotated[
        str, typer.Option(help="int8 | int8_float16 | int8_bfloat16 | float16 | bfloat16 | float32")
    ] = "int8",
    family: _opt(
        "nllb | m2m100 | marian | madlad | mbart50 | text2text (a T5-style generator, "
        "e.g. a question generation model); detected when omitted."
    ) = None,
    revision: _opt("Hub revision (branch, tag or commit).") = None,
    force: Annotated[bool, typer.Option(help="Replace an existing store model.")] = False,
    root: Annotated[
        Path | None,
        typer.Option(help="Model store (default $XPROJ_MODELS or ~/.cache/xproj/models)."),
    ] = None,
    tokenizer: _opt(
        "Take the tokenizer from this Hub id or folder (checkpoints published without "
        "one, e.g. EasyProject's NLLB: facebook/nllb-200-distilled-600M)."
    ) = None,
) -> None:
    """Convert a translation model to CTranslate2 into the local model store."""
    from xproj.translators.store import convert

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


@models_app.command("list", epilog="Example: xproj models list")
def models_list(
    root: Annotated[
        Path | None,
        typer.Option(help="Model store (default $XPROJ_MODELS or ~/.cache/xproj/models)."),
    ] = None,
) -> None:
    """List the models in the local store."""
    from xproj.translators.store import default_root, list_models

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


@app.command(epilog="Example: xproj tables --lake data/lake")
def tables(lake: LakeOpt = None) -> None:
    """List the lake's tables with their latest version."""
    from xproj.catalog import Lake

    lk = Lake(lake)
    names = lk.tables()
    if not names:
        typer.echo(f"no tables under {lk.root}")
        return
    for t in names:
        typer.echo(f"{t}\tv{lk.latest_version(t)}")


@app.command(epilog="Example: xproj versions projected")
def versions(
    table: Annotated[str, typer.Argument(help="Table name.")], lake: LakeOpt = None
) -> None:
    """List a table's versions with the run that made each."""
    from xproj.catalog import Lake

    found = Lake(lake).versions(table)
    for v in found:
        typer.echo(
            f"v{v.version}\t{v.timestamp}\t{v.operation}\trun={v.run_id or '-'}\t"
            f"rows+={v.rows_added if v.rows_added is not None else '-'}"
        )
    if not found:  # a declared table no run has written rows to yet
        typer.echo(f"{table}: no versions yet (no run has written rows to it)", err=True)


@app.command(epilog="Example: xproj report 4c4b9621 -o report.html")
def report(
    run: Annotated[str, typer.Argument(help="Run id (or its first 8 characters).")],
    out: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="HTML file (default: <lake>/_reports/<run id>.html)."),
    ] = None,
    lake: LakeOpt = None,
) -> None:
    """Write a run's HTML report: rates, drop reasons, examples with spans and alignments."""
    from xproj.catalog import Lake
    from xproj.report import write_report

    path = write_report(Lake(lake), run, out)
    typer.echo(f"report: {path}")


@app.command(
    epilog='Example: xproj query "SELECT label, reason, count(*) FROM outcomes GROUP BY ALL" --format csv'
)
def query(
    sql: Annotated[str, typer.Argument(help="A read-only SQL query over the lake's tables.")],
    at: Annotated[
        list[str] | None, typer.Option(help="Pin a table version: TABLE=VERSION; repeatable.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="table | csv | json (JSON Lines; jsonl too) | parquet"),
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows shown in table format.")] = 50,
    lake: LakeOpt = None,
) -> None:
    """Run SQL with DuckDB over the latest (or pinned) table versions."""
    from xproj.catalog import Lake
    from xproj.catalog import query as run_query
    from xproj.io.writers.results import render
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

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
    if output is not None:
        typer.echo(f"{result.num_rows} row(s) written to {output} ({fmt})", err=True)


@eval_app.command(
    "alignment",
    epilog="Example: xproj eval alignment --pred pred.align --gold gold.align --gold-one-based",
)
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
    dataset: DatasetOpt = "",
    system: SystemOpt = "",
    store: StoreOpt = True,
    lake: LakeOpt = None,
) -> None:
    """Precision, recall, F1 and AER of word alignments against gold (sure + possible)."""
    from xproj.cli.evaluate import evaluate_alignment_files

    scores, issues = evaluate_alignment_files(
        pred,
        gold,
        bitext=bitext,
        pred_one_based=pred_one_based,
        gold_one_based=gold_one_based,
        dataset=dataset or gold.stem,
        system=system or pred.stem,
        lake=lake,
        store=store,
    )
    for r in issues:
        typer.echo(f"warning: {r.source} {r.locator}: {r.reason}", err=True)
    typer.echo(
        f"P {scores.precision:.4f}  R {scores.recall:.4f}  F1 {scores.f1:.4f}  "
        f"AER {scores.aer:.4f}  (links: predicted {scores.n_pred}, sure {scores.n_sure})"
    )


@eval_app.command(
    "projection",
    epilog="Example: xproj eval projection --gold es.conll --gold-lang es --run <run id>",
)
def eval_projection(
    gold: Annotated[Path, typer.Option(help="Gold target annotations (CoNLL).")],
    gold_lang: Annotated[str, typer.Option(help="Language of the gold file.")],
    pred: Annotated[
        Path | None,
        typer.Option(help="Predicted annotations (CoNLL), sentence-aligned with the gold."),
    ] = None,
    run: _opt("Take predictions from this run's projected rows in the lake.") = None,
    dataset: DatasetOpt = "",
    system: SystemOpt = "",
    store: StoreOpt = True,
    lake: LakeOpt = None,
) -> None:
    """Span precision, recall and F1 (micro and per label) against gold target annotations."""
    from xproj.cli.evaluate import evaluate_projection

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


@app.command(epilog="Example: xproj demo --lake /tmp/demo-lake")
def demo(
    lake: LakeOpt = None,
    shared_data: Annotated[
        Path | None,
        typer.Option(help="Evaluation data folder (default $XPROJ_SHARED_DATA or ../shared/data)."),
    ] = None,
) -> None:
    """The main job: project the shipped sample (and Europarl when present), query, evaluate."""
    from xproj.cli.demo import run_demo

    run_demo(lake=lake, shared_data=shared_data)


@app.command(epilog="Example: xproj strategies")
def strategies() -> None:
    """List the registered aligners and projection strategies."""
    from xproj.projectors.aligners import ALIGNERS
    from xproj.projectors.projector import PROJECTORS

    typer.echo("aligners: " + ", ".join(ALIGNERS.names()))
    typer.echo("projectors: " + ", ".join(PROJECTORS.names()))


def _configure_logging() -> None:
    """Progress lines of runs on stderr (the ``xproj`` logger; Prefect logs its own way)."""
    log = logging.getLogger("xproj")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def main() -> None:
    """Entry point. Exit codes: 0 done, 1 unexpected error, 2 coded error (one line, its fix),
    130 / 143 interrupted by SIGINT / SIGTERM (nothing committed; the message says how to
    resume)."""
    import traceback

    from xproj.executor.interrupts import Stopped, last_signal, trap

    _configure_logging()
    try:
        with trap():  # SIGTERM stops a command as Ctrl-C does, with the same clean-up
            status = app(standalone_mode=False)
    except Stopped as err:
        typer.echo(f"xproj: {err.message}", err=True)
        sys.exit(err.exit_code)
    except XprojError as err:
        if _DEBUG["on"]:
            traceback.print_exc()
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
    except Exception as err:  # usage errors (click's) print themselves; anything else is a bug
        if callable(getattr(err, "show", None)) and isinstance(
            getattr(err, "exit_code", None), int
        ):
            err.show()
            sys.exit(err.exit_code)
        traceback.print_exc()
        typer.echo(f"xproj: unexpected error ({type(err).__name__}); please report it.", err=True)
        sys.exit(1)
    if status == 130:  # Ctrl-C or SIGTERM outside a run: the framework returns 130
        signum = last_signal.get("signum", 2)
        typer.echo(f"xproj: interrupted ({'SIGTERM' if signum == 15 else 'SIGINT'}).", err=True)
        sys.exit(128 + signum)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
