"""The flow commands, declared as data: each is its config model, its shortcut flags and an example.

Every flow command takes the same common options (``--config``, ``--name``, ``--limit``,
``--force``, ``--allow-empty``, ``--lake``, ``--print-config``), its shortcut flags (``--source``
stands for ``source.path``), and any setting of its config model as a dotted override in spaCy's
style: ``--policy.gap_fill 2``, ``--codec.n_best=3``, ``--aligner_options.threads 1``. Values are
read as YAML scalars (``2``, ``true``, ``[de, fr]``); an unknown key fails with the closest
known ones. A YAML file (``-c``) gives the base, flags and overrides change it, and the config
model validates the result once.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError


def csv(value: str) -> list[str]:
    """``de, sw,yo`` → ``["de", "sw", "yo"]``."""
    return [x.strip() for x in value.split(",") if x.strip()]


def device_indices(value: str) -> list[int]:
    """``0,1`` → ``[0, 1]``."""
    try:
        indices = [int(x) for x in csv(value)]
    except ValueError:
        raise typer.BadParameter("write --device-index as GPU numbers, e.g. 0,1") from None
    if not indices or any(i < 0 for i in indices):
        raise typer.BadParameter("write --device-index as GPU numbers, e.g. 0,1")
    return indices


def label_map(value: str) -> dict[str, str]:
    """``PERSON=PER,GPE=LOC`` → ``{"PERSON": "PER", "GPE": "LOC"}``."""
    pairs = [x.split("=", 1) for x in value.split(",") if x.strip()]
    if any(len(p) != 2 for p in pairs):
        raise typer.BadParameter("write --label-map as FROM=TO,FROM=TO")
    return {a.strip(): b.strip() for a, b in pairs}


def bitext_files(value: list[str]) -> list[dict[str, str]]:
    """Repeated ``--extra-bitext FILE`` → ``[{"path": FILE}, …]``."""
    return [{"path": p} for p in value]


@dataclass(frozen=True)
class Flag:
    """A shortcut option: the config keys it sets, its help, and how its text becomes a value.

    Attributes:
        keys: dotted config keys set to the value (``source.scheme`` and ``target.scheme``).
        help: the option's help text.
        names: option names (default ``--`` + the parameter name with dashes).
        kind: the option's type (``str``, ``int``, ``float``, ``list[str]`` for repeatable).
        convert: turns the option's value into the config value (``csv``, ``label_map``).
    """

    keys: tuple[str, ...]
    help: str
    names: tuple[str, ...] = ()
    kind: Any = str
    convert: Callable[[Any], Any] | None = None


def flag(*keys: str, help: str, names: tuple[str, ...] = (), kind: Any = str, convert=None):
    return Flag(keys, help, names, kind, convert)


@dataclass(frozen=True)
class FlowCommand:
    """A flow command: config model, flow, shortcut flags, one example."""

    name: str
    help: str
    config: str  #: ``module:Class`` of the config model
    flow: str  #: ``module:function`` of the Prefect flow
    example: str
    flags: dict[str, Flag] = field(default_factory=dict)
    needs_models: bool = False


def _load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


COMMON = (
    (
        "config",
        Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")],
        None,
    ),
    ("name", Annotated[str | None, typer.Option(help="Dataset name.")], None),
    ("limit", Annotated[int | None, typer.Option(help="Use only the first N records.")], None),
    (
        "force",
        Annotated[bool, typer.Option(help="Run even if an identical run is committed.")],
        False,
    ),
    (
        "allow_empty",
        Annotated[
            bool,
            typer.Option(
                help="Commit a run that used no record (every record rejected, or none read)."
            ),
        ],
        False,
    ),
    (
        "lake",
        Annotated[
            str | None,
            typer.Option(
                help="Lake root (default: $XPROJ_LAKE or ./data/lake).", envvar="XPROJ_LAKE"
            ),
        ],
        None,
    ),
    (
        "executor",
        Annotated[
            str | None,
            typer.Option(
                help="Where shards run: local (this process) or ray (a Ray actor pool; "
                "pip install 'xproj[ray]')."
            ),
        ],
        None,
    ),
    (
        "ray_address",
        Annotated[
            str | None,
            typer.Option(
                help="Ray cluster to join (auto, ray://host:10001); default: a local Ray."
            ),
        ],
        None,
    ),
    (
        "ray_actors",
        Annotated[int | None, typer.Option(help="Ray actors (each holds its own model).")],
        None,
    ),
    (
        "print_config",
        Annotated[
            bool,
            typer.Option(
                "--print-config",
                help="Print the resolved configuration as YAML and exit without running.",
            ),
        ],
        False,
    ),
)


def register(app: typer.Typer, command: FlowCommand, launch: Callable[[Any, Any], None]) -> None:
    """Add ``command`` to ``app``; ``launch(flow, config)`` runs a validated config."""
    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    ]
    annotations: dict[str, Any] = {"ctx": typer.Context}
    for pname, annotation, default in COMMON[:1]:
        params.append(_param(pname, annotation, default, annotations))
    for pname, f in command.flags.items():
        names = f.names or (f"--{pname.replace('_', '-')}",)
        option = typer.Option(*names, help=f.help)
        annotation = Annotated[f.kind | None, option]
        params.append(_param(pname, annotation, None, annotations))
    for pname, annotation, default in COMMON[1:]:
        params.append(_param(pname, annotation, default, annotations))

    def run(ctx: typer.Context, **values: Any) -> None:
        from xproj.flows.config import load_config

        overrides: dict[str, Any] = {}
        for pname, f in command.flags.items():
            value = values.get(pname)
            if value is None or value == []:
                continue
            value = f.convert(value) if f.convert else value
            for key in f.keys:
                overrides[key] = value
        for pname in ("name", "limit", "lake", "executor"):
            overrides[pname] = values[pname]
        for pname, key in (("ray_address", "ray.address"), ("ray_actors", "ray.actors")):
            if values[pname] is not None:
                overrides[key] = values[pname]
        for pname in ("force", "allow_empty"):
            overrides[pname] = values[pname] or None
        model = _load(command.config)
        overrides.update(dotted_overrides(ctx.args, model))
        config = load_config(model, values["config"], overrides, command.name)
        if values["print_config"]:
            import yaml

            typer.echo(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), nl=False)
            return
        if command.needs_models:
            check_models(config)
        launch(_load(command.flow), config)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = annotations
    run.__name__ = command.name.replace("-", "_")
    run.__doc__ = (
        f"{command.help}\n\nAny setting of the configuration can also be given as "
        "--<dotted.key> VALUE (--print-config shows every key)."
    )
    app.command(
        command.name,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        epilog=f"Example: {command.example}",
    )(run)


def _param(
    name: str, annotation: Any, default: Any, annotations: dict[str, Any]
) -> inspect.Parameter:
    annotations[name] = annotation
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def dotted_overrides(args: list[str], model: type) -> dict[str, Any]:
    """``--a.b VALUE`` / ``--a.b=VALUE`` pairs → ``{"a.b": value}`` (values read as YAML).

    Raises:
        ConfigError: XP301 for an argument that is no ``--key value`` pair, a key the config
            does not have (the closest keys suggested), or a value that is not YAML.
    """
    import yaml

    known = config_keys(model)
    out: dict[str, Any] = {}
    k = 0
    while k < len(args):
        arg = args[k]
        if not arg.startswith("--") or arg == "--":
            raise ConfigError(
                f"unexpected argument {arg!r}.",
                fix="give options as --name VALUE; settings as --dotted.key VALUE.",
                code=E_BAD_CONFIG,
            )
        key, sep, text = arg[2:].partition("=")
        if not sep:
            if k + 1 >= len(args):
                raise ConfigError(
                    f"option {arg} has no value.", fix=f"write {arg} VALUE.", code=E_BAD_CONFIG
                )
            text = args[k + 1]
            k += 1
        k += 1
        typed, key = key, key.replace("-", "_")
        if key not in known and not any(key.startswith(f"{p}.") for p in known if known[p]):
            close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.5)
            # named as the help names them: options with dashes, dotted settings as declared
            named = ["--" + (c if "." in c else c.replace("_", "-")) for c in close]
            hint = f" Did you mean {', '.join(named)}?" if close else ""
            raise ConfigError(
                f"unknown option or setting --{typed}.{hint}",
                fix="see the command's --help for its options, and --print-config for every "
                "setting it takes.",
                code=E_BAD_CONFIG,
            )
        try:
            out[key] = yaml.safe_load(text) if text != "" else ""
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or type(err).__name__
            raise ConfigError(
                f"the value of --{key} ({text!r}) is not a YAML value: {problem}.",
                fix=f"quote text for YAML (--{key} \"'{text}'\") or give a scalar, list or "
                "mapping.",
                code=E_BAD_CONFIG,
            ) from None
    return out


def config_keys(model: Any, prefix: str = "") -> dict[str, bool]:
    """Every dotted key of a config model → whether it holds free-form keys below it (a dict)."""
    keys: dict[str, bool] = {}
    if is_dataclass(model):
        items = [(f.name, f.type) for f in fields(model)]
        hints = _hints(model)
        items = [(n, hints.get(n, t)) for n, t in items]
    elif hasattr(model, "model_fields"):
        items = [(n, f.annotation) for n, f in model.model_fields.items()]
    else:
        return keys
    for name, annotation in items:
        key = f"{prefix}{name}"
        inner = _model_of(annotation)
        if inner is not None:
            keys[key] = False
            keys.update(config_keys(inner, f"{key}."))
        else:
            keys[key] = _is_mapping(annotation)
    return keys


def _hints(cls: type) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        return {}


def _model_of(annotation: Any) -> Any:
    """The pydantic model or dataclass an annotation holds (``X | None`` too), else None."""
    import typing

    candidates = [annotation, *typing.get_args(annotation)]
    for c in candidates:
        if isinstance(c, type) and (hasattr(c, "model_fields") or is_dataclass(c)):
            return c
    return None


def _is_mapping(annotation: Any) -> bool:
    import typing

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    return (
        origin is dict
        or any(typing.get_origin(a) is dict for a in args)
        or origin is typing.Annotated
        and _is_mapping(args[0])
    )


def check_models(config: Any) -> None:
    """Fail before any work: a missing or broken model is the commonest mistake."""
    from xproj.translators.store import check_model_dir, resolve

    root = Path(config.models_root) if config.models_root else None
    qg = getattr(getattr(config, "qg", None), "model", None)
    projection = getattr(config, "projection_model", None)
    for model in filter(None, (config.model, projection, qg)):
        check_model_dir(resolve(model, root=root))


_SOURCE = {
    "source": flag("source.path", help="Labeled source: file, folder or HF dataset name."),
    "source_lang": flag("source.lang", help="Source language code."),
    "source_format": flag(
        "source.format", help="conll | jsonl | parquet | hf (default: from the file name)."
    ),
}
_SCHEME = flag(
    "source.scheme", help="Tag scheme: iob1 | iob2 | bioes | auto (detected once per file)."
)
_LABELS = flag(
    "labels",
    help="The label set, e.g. PER,LOC,ORG: records with other labels are rejected.",
    convert=csv,
)
_MODEL = {
    "model": flag("model", help="Store id (xproj models list) or a CTranslate2 model folder."),
    "device": flag("device", help="auto | cpu | cuda."),
    "compute_type": flag("compute_type", help="auto | int8 | int8_float16 | float16 | …"),
    "beam_size": flag("decoding.beam_size", help="1 = greedy (default).", kind=int),
    "device_index": flag(
        "device_index",
        help="GPUs to translate on, e.g. 0,1: one model replica per GPU (default 0).",
        convert=device_indices,
    ),
}
_PROJECTOR = {
    "projector": flag(
        "projector",
        help="align (word alignment) | markers (EasyProject) | codec (constrained decoding); "
        "the last two need a marker-aware model (docs/projection.md).",
    ),
    "projection_model": flag(
        "projection_model", help="Marker-aware model for markers/codec when it is not --model."
    ),
}

COMMANDS = (
    FlowCommand(
        name="project",
        help="Project span labels from a labeled source onto its parallel target side.",
        config="xproj.flows.config:ProjectParallelConfig",
        flow="xproj.flows.project_parallel:project_parallel",
        example="xproj project --source en.conll --source-lang en --target es.conll "
        "--target-lang es --policy.gap_fill 2",
        flags={
            **_SOURCE,
            "target": flag("target.path", help="Target side, record-aligned with the source."),
            "target_lang": flag("target.lang", help="Target language code."),
            "target_format": flag(
                "target.format",
                help="conll | jsonl | parquet | hf | text (one untokenized sentence per line); "
                "default: from the file name.",
            ),
            "scheme": flag("source.scheme", "target.scheme", help=_SCHEME.help),
            "labels": _LABELS,
            "aligner": flag("aligner", help="eflomal.v1 | simalign.v1 | given.v1"),
            "symmetrization": flag(
                "aligner_options.symmetrization",
                help="intersection | grow-diag-final-and | union (statistical aligners).",
            ),
            "model": flag(
                "aligner_options.model", help="Encoder for simalign.v1 (path or Hub id)."
            ),
            "alignments": flag("aligner_options.path", help="Pharaoh file for given.v1."),
            "extra_bitext": flag(
                "extra_bitext",
                help="Extra bitext for eflomal (src ||| tgt or TSV); repeatable.",
                kind=list[str],
                convert=bitext_files,
            ),
            "shard_size": flag(
                "shard_size",
                help="Pairs per shard; eflomal aligns every shard with statistics learned once "
                "over the whole input (aligner_priors), so small shards lose little.",
                kind=int,
            ),
            "on_error": flag(
                "on_error",
                help="reject (record bad records and go on) | raise (stop at the first).",
            ),
        },
    ),
    FlowCommand(
        name="translate-train",
        help="Translate a labeled dataset into target languages and project its span labels.",
        config="xproj.flows.config:TranslateTrainConfig",
        flow="xproj.flows.translate_train:translate_train",
        example="xproj translate-train --source train.en.conll --source-lang en -t de,sw "
        "--model facebook--nllb-200-distilled-600M-int8",
        needs_models=True,
        flags={
            **_SOURCE,
            "scheme": _SCHEME,
            "labels": _LABELS,
            "split": flag("source.split", help="HF dataset split."),
            "tokens_column": flag("source.tokens_column", help="HF tokens column."),
            "tags_column": flag("source.tags_column", help="HF tags column."),
            "text_column": flag("source.text_column", help="JSONL/Parquet text column."),
            "spans_column": flag("source.spans_column", help="JSONL/Parquet spans column."),
            "target_langs": flag(
                "target_langs",
                help="Comma-separated target languages, e.g. de,sw,yo.",
                names=("--target-langs", "-t"),
                convert=csv,
            ),
            **_MODEL,
            **_PROJECTOR,
            "aligner": flag("aligner", help="eflomal.v1 | simalign.v1"),
            "shard_size": flag(
                "shard_size",
                help="Sentences per shard; eflomal aligns every shard with statistics learned "
                "once over the input (aligner_priors).",
                kind=int,
            ),
        },
    ),
    FlowCommand(
        name="translate-test",
        help="Translate X text into English, label it, and project the labels back onto the X "
        "text.",
        config="xproj.flows.config:TranslateTestConfig",
        flow="xproj.flows.translate_test_flow:translate_test",
        example="xproj translate-test -i test.sw.conll --lang sw --model <store id> "
        "--spacy en_core_web_lg --label-map PERSON=PER,GPE=LOC",
        needs_models=True,
        flags={
            "input": flag(
                "input.path",
                help="Target-language text: file or HF dataset.",
                names=("--input", "-i"),
            ),
            "lang": flag("input.lang", help="Language of the input."),
            "input_format": flag(
                "input.format",
                help="text | conll | jsonl | parquet | hf (labeled: gold); default: from the name.",
            ),
            "scheme": flag("input.scheme", help=_SCHEME.help),
            "labels": _LABELS,
            "pivot_lang": flag(
                "pivot_lang", help="Language the predictions are made in (default en)."
            ),
            "predictions": flag(
                "predictions.path", help="JSONL/Parquet of English spans {id, text, spans}."
            ),
            "spacy": flag("spacy", help="spaCy pipeline (name or folder) to label the English."),
            "label_map": flag(
                "label_map", help="Rename predicted labels: PERSON=PER,GPE=LOC.", convert=label_map
            ),
            **_MODEL,
            **_PROJECTOR,
            "aligner": flag("aligner", help="For --projector align."),
            "shard_size": flag("shard_size", help="Records per shard.", kind=int),
        },
    ),
    FlowCommand(
        name="entitycs",
        help="Build an entity code-switched corpus (EntityCS) as new table versions.",
        config="xproj.flows.entitycs:EntityCSConfig",
        flow="xproj.flows.entitycs:entitycs",
        example="xproj entitycs --source val_wiki.json --source-format fewrel "
        "--names wikidata-labels --seed 1",
        flags={
            "source": flag(
                "source.path", help="FewRel JSON, MediaWiki articles or WikiExtractor output."
            ),
            "source_format": flag(
                "source.format", help="fewrel | linked | hf | mediawiki | extracted | auto."
            ),
            "names": flag(
                "names.path", help="Label TSV folder (<lang>.txt) or a Wikidata JSON dump."
            ),
            "names_format": flag("names.format", help="tsv | wikidata."),
            "titles": flag("titles.path", help="title<TAB>QID table for wikitext links."),
            "languages": flag(
                "switch.languages",
                help="Comma-separated languages (default: XLM-R's 92).",
                convert=csv,
            ),
            "seed": flag("switch.seed", help="Seed of the language sampling.", kind=int),
        },
    ),
    FlowCommand(
        name="paxqa",
        help="Generate cross-lingual QA examples (PAXQA) from English–X contexts, as new table "
        "versions.",
        config="xproj.flows.paxqa:PaxqaConfig",
        flow="xproj.flows.paxqa:paxqa",
        example="xproj paxqa --contexts news.en-de.tsv --lang de --model <store id> "
        "--qg-model lmqg--t5-base-squad-qg-int8",
        needs_models=True,
        flags={
            "contexts": flag(
                "contexts.path",
                help="English–X contexts: bitext file, HF dataset, or English SQuAD file.",
            ),
            "contexts_format": flag("contexts.format", help="bitext | hf | squad."),
            "tgt_path": flag("contexts.tgt_path", help="The X file of a two-file bitext."),
            "lang": flag("lang", help="The X language.", names=("--lang", "-l")),
            "model": flag("model", help="Translation model (store id or CTranslate2 folder)."),
            "qg_model": flag(
                "qg.model", help="Question generation model, converted with --family text2text."
            ),
            "questions": flag("questions", help="generate | given (SQuAD input's own) | both."),
            "spacy": flag(
                "spacy",
                help="spaCy pipeline for answer candidates (name or folder; default rules).",
            ),
            "aligner": flag("aligner", help="eflomal.v1 | simalign.v1 | given.v1"),
            "device": _MODEL["device"],
            "compute_type": _MODEL["compute_type"],
            "beam_size": _MODEL["beam_size"],
            "min_round_trip": flag(
                "filters.min_round_trip",
                help="Drop examples whose round-trip token F1 is lower.",
                kind=float,
            ),
            "shard_size": flag("shard_size", help="Contexts per shard.", kind=int),
        },
    ),
)
