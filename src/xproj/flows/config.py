"""Typed flow configurations: defaults live here; YAML files and CLI flags only override."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xproj.executor.identity import INPUT, LOCAL
from xproj.projectors.model_projection import CodecSettings, MarkerSettings
from xproj.projectors.policy import ProjectionPolicy
from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
from xproj.translators.base import DecodingOptions

#: File name endings → input format, for ``format: auto``.
FORMAT_BY_SUFFIX = {
    ".conll": "conll",
    ".conll02": "conll",
    ".conll03": "conll",
    ".conllu": "conll",
    ".iob": "conll",
    ".iob2": "conll",
    ".bio": "conll",
    ".bioes": "conll",
    ".txt": "conll",
    ".tsv": "conll",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def recorded(self) -> dict[str, Any]:
        """The fields ``runs.parameters`` records (all but the local ones)."""
        from xproj.executor.identity import recorded

        return recorded(self)


def known_language(v: str) -> str:
    """A config's language code, checked (XP201 with close matches) and normalised (``spa``,
    ``es-ES`` → ``es``), so that spellings of one language make one run, not several."""
    from xproj.schemas.languages import normalize_lang

    return normalize_lang(v)


def nest(data: Any, block: str, keys: dict[str, str]) -> Any:
    """Move a config's top-level settings ``keys`` (name there → name in the block) into its
    settings ``block``, where a value given in the block wins: the flat keys configs used before
    the block still work.

    Example:
        >>> nest({"beam_size": 4, "decoding": {"read_ahead": 2}}, "decoding",
        ...      {"beam_size": "beam_size"})
        {'decoding': {'beam_size': 4, 'read_ahead': 2}}
    """
    if not isinstance(data, dict) or not any(k in data for k in keys):
        return data
    data = dict(data)
    given = data.get(block) or {}
    if not isinstance(given, dict):  # an instance of the settings type
        given = {f: getattr(given, f) for f in given.__dataclass_fields__}
    top = {keys[k]: data.pop(k) for k in list(keys) if k in data}
    data[block] = {**{k: v for k, v in top.items() if v is not None}, **given}
    return data


def dataset_ref(
    name: str,
    path: str,
    *,
    hub: bool,
    hf_config: str | None = None,
    split: str = "train",
    revision: str | None = None,
):
    """Lineage of a dataset input: a file's or folder's sha256, or, for a Hugging Face Hub
    dataset (``hub`` and not on disk), its fingerprint and revision (loaded once to read them)."""
    from xproj.catalog.lineage import path_ref

    if not hub or Path(path).exists():
        return path_ref(name, path)
    from xproj.io.readers.hf import hub_input_ref

    return hub_input_ref(name, path, hf_config, split, revision)


def format_of(path: str) -> str:
    """The input format a path's name (or an existing folder) stands for.

    A folder is a Hugging Face dataset (``save_to_disk`` or data files); a name without a file
    ending that is not on disk (``conll2003``, ``owner/name``) is a Hub dataset.

    Raises:
        ConfigError: XP301 for a file ending that names no format.

    Example:
        >>> format_of("train.en.conll"), format_of("spans.jsonl"), format_of("wikiann")
        ('conll', 'jsonl', 'hf')
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in FORMAT_BY_SUFFIX:
        return FORMAT_BY_SUFFIX[suffix]
    if p.is_dir() or (not p.exists() and (not suffix or suffix[1:].isdigit())):
        return "hf"
    raise ConfigError(
        f"cannot tell the format of {path!r} from its name.",
        fix="name it (--source-format / format:) conll, jsonl, parquet, hf or text; file "
        f"endings that say it: {', '.join(sorted(FORMAT_BY_SUFFIX))}.",
        file=path,
        code=E_BAD_CONFIG,
    )


class InputSpec(_Model):
    """One side of a parallel dataset.

    ``conll`` files carry tokens and tags; ``jsonl``/``parquet`` carry text and character spans;
    ``hf`` is any Hugging Face dataset with token and ClassLabel tag columns (by name, or a local
    folder / data files); ``text`` is one untokenized sentence per line (target side only), split
    with the language's word tokenizer. ``auto`` (the default) takes the format from the file
    ending (:data:`FORMAT_BY_SUFFIX`; a folder or a name not on disk is ``hf``). ``scheme: auto``
    detects the tag scheme once per file (``xproj.schemas.tags.detect_file_scheme``).
    """

    path: Annotated[str, INPUT]
    lang: str
    format: Literal["auto", "conll", "jsonl", "parquet", "hf", "text"] = "auto"
    scheme: Literal["auto", "iob1", "iob2", "bioes"] = "auto"
    hf_config: str | None = None
    split: str = "train"
    revision: str | None = None
    tokens_column: str = "tokens"
    tags_column: str = "ner_tags"
    id_column: str = "id"
    text_column: str = "text"
    spans_column: str = "spans"

    _known_language = field_validator("lang")(known_language)

    @model_validator(mode="after")
    def _resolve_format(self) -> InputSpec:
        if self.format == "auto":  # a ConfigError is not pydantic's: it reaches the user whole
            self.format = format_of(self.path)  # type: ignore[assignment]
        return self

    def input_ref(self, field: str, name: str):
        """Lineage of the input (:func:`dataset_ref`)."""
        return dataset_ref(
            name,
            self.path,
            hub=self.format == "hf",
            hf_config=self.hf_config,
            split=self.split,
            revision=self.revision,
        )


class BitextSpec(_Model):
    """Extra parallel text for statistical aligners (``src ||| tgt``, TSV, or two files)."""

    path: Annotated[str, INPUT]
    format: Literal["auto", "pipes", "tsv"] = "auto"
    tgt_path: Annotated[str | None, INPUT] = None
    limit: int | None = Field(default=None, ge=1)


#: The decoding settings a translating config may give at its top level (→ ``decoding``).
DECODING_KEYS = {
    "beam_size": "beam_size",
    "max_decoding_length": "max_decoding_length",
    "min_decoding_length": "min_decoding_length",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
    "batch_tokens": "max_batch_size",
}


class _TranslationSettings(_Model):
    """The translation model and how it runs: shared by the flows that translate.

    ``model`` names where a model is; the run key holds the model's identity instead (id,
    quantization, family: ``CT2Translator.describe``), so a model moved to another folder still
    makes the same run.
    """

    model: Annotated[str, LOCAL]
    family: str | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "auto"
    device_index: Annotated[list[int], LOCAL] = Field(default_factory=lambda: [0])
    inter_threads: Annotated[int, LOCAL] = Field(default=1, ge=1)
    intra_threads: Annotated[int, LOCAL] = Field(default=0, ge=0)
    #: how to decode (``xproj.translators.base.DecodingOptions``); ``beam_size``,
    #: ``max_decoding_length``, ``min_decoding_length``, ``no_repeat_ngram_size`` and
    #: ``batch_tokens`` (= ``max_batch_size``) may also be given at the top level
    decoding: DecodingOptions = Field(default_factory=DecodingOptions)
    models_root: Annotated[str | None, LOCAL] = None
    #: under Prefect: a global concurrency limit the run holds one slot of while it runs (make
    #: it once per GPU pool: ``prefect gcl create xproj-gpu --limit <GPUs>``), so flow runs fanned
    #: out over a work pool never put more runs on the GPUs than they have
    gpu_slots: Annotated[str | None, LOCAL] = None

    @model_validator(mode="before")
    @classmethod
    def _flat_decoding(cls, data: Any) -> Any:
        return nest(data, "decoding", DECODING_KEYS)

    def translator(self, model: str | None = None, family: str | None = None):
        """A CTranslate2 translator for ``model`` (default: ``self.model``) with these settings;
        ``family`` names another model's family (default: detected)."""
        from xproj.translators.ct2 import CT2Translator

        return CT2Translator(
            model or self.model,
            family=self.family if model is None else family,
            device=self.device,
            compute_type=self.compute_type,
            device_index=self.device_index,
            inter_threads=self.inter_threads,
            intra_threads=self.intra_threads,
            root=None if self.models_root is None else Path(self.models_root),
        )


class PublishTarget(_Model):
    """Where and how a flow's committed run is published (a flow config's ``publish:``; the
    ``publish`` flow, ``xproj.flows.publish``, does it once the run is committed)."""

    repo: str
    split: str = "train"
    config_by: str = "language"
    private: bool = False
    create_pr: bool = False
    revision: str | None = None
    #: write the folder here instead of uploading
    dry_run: str | None = None
    license: str | None = None
    pretty_name: str | None = None
    #: EntityCS: a local fast tokenizer for token ids
    tokenizer: str | None = None


class RayOptions(_Model):
    """Where the ``ray`` executor runs (``xproj.executor.ray_backend.RaySettings``)."""

    #: a running cluster (``auto``, ``ray://host:10001``); None starts a local Ray
    address: str | None = None
    actors: int = Field(default=1, ge=1)
    cpus_per_actor: float = Field(default=1.0, gt=0)
    #: 1 on GPU nodes: one translator per GPU
    gpus_per_actor: float = Field(default=0.0, ge=0)
    #: CPU actors that align and project apart from the translation actors (0: the translation
    #: actors do it; None: as many as ``actors`` when they hold GPUs, else 0)
    align_actors: int | None = Field(default=None, ge=0)
    cpus_per_align_actor: float = Field(default=1.0, gt=0)
    #: CPUs of a local Ray (None: the machine's)
    num_cpus: int | None = Field(default=None, ge=1)
    window: int = Field(default=64, ge=1)
    max_restarts: int = Field(default=3, ge=0)


class _RunSettings(_Model):
    """Where a run commits, how it treats an earlier or an empty run, where its shards run
    (``executor``: this process, or a Ray cluster), where it is published once committed, and
    whether its HTML report is written (none of them in the run key)."""

    lake: Annotated[str | None, LOCAL] = None
    force: Annotated[bool, LOCAL] = False
    allow_empty: Annotated[bool, LOCAL] = False
    executor: Annotated[Literal["local", "ray"], LOCAL] = "local"
    ray: Annotated[RayOptions, LOCAL] = Field(default_factory=RayOptions)
    publish: Annotated[PublishTarget | None, LOCAL] = None
    #: write the run's HTML report (``<lake>/_reports/<run id>.html``) once it is committed
    report: Annotated[bool, LOCAL] = True

    def backend(self):
        """The executor backend of ``executor`` (None: this process)."""
        if self.executor == "local":
            return None
        from xproj.executor.ray_backend import RayBackend, RaySettings

        return RayBackend(RaySettings(**self.ray.model_dump()))


class _Aligning(_Model):
    """A registered word aligner (``xproj.projectors.aligners.ALIGNERS``) and its settings.

    The name is checked when the config is read (close matches suggested), and
    ``aligner_options`` against the aligner's typed settings (unknown names and wrong types
    fail then, not at the first shard).
    """

    aligner: str = "eflomal.v1"
    aligner_options: Annotated[dict[str, Any], INPUT] = Field(default_factory=dict)
    #: eflomal: ``auto`` learns its statistics once over the whole input (up to
    #: ``aligner_priors_sample`` pairs, with the extra bitext) when the input spans several
    #: shards, and aligns every shard with them as priors, so quality does not depend on the
    #: shard size; ``off`` lets each shard learn alone.
    aligner_priors: Literal["auto", "off"] = "auto"
    aligner_priors_sample: int = Field(default=100_000, ge=1)

    @field_validator("aligner_priors", mode="before")
    @classmethod
    def _priors_switch(cls, v: Any) -> Any:
        """YAML reads ``off`` (and ``no``) as false: take it as the word meant."""
        return {False: "off", True: "auto"}.get(v, v) if isinstance(v, bool) else v

    @model_validator(mode="after")
    def _known_aligner(self) -> _Aligning:
        from xproj.projectors.aligners import ALIGNERS, aligner_options

        self.aligner = ALIGNERS.canonical(self.aligner)  # XP302 with close matches
        self.aligner_options = aligner_options(self.aligner, self.aligner_options)
        return self


class _Projecting(_Aligning):
    """How spans are projected: a registered projector
    (``xproj.projectors.projector.PROJECTORS``: ``align.v1``, ``markers.v1``, ``codec.v1``; the
    short names ``align``, ``markers``, ``codec`` are accepted) and the settings of each route.
    ``projection_model`` is a marker-aware model for the model routes when it is not the
    translation model. A config written with ``method: align.v1`` still reads."""

    projector: str = "align.v1"
    policy: ProjectionPolicy = Field(default_factory=ProjectionPolicy)
    markers: MarkerSettings = Field(default_factory=MarkerSettings)
    codec: CodecSettings = Field(default_factory=CodecSettings)
    projection_model: Annotated[str | None, LOCAL] = None

    @model_validator(mode="before")
    @classmethod
    def _method_is_the_projector(cls, data: Any) -> Any:
        if isinstance(data, dict) and "method" in data:
            data = dict(data)
            method = data.pop("method")
            data.setdefault("projector", method)
        return data

    @field_validator("projector")
    @classmethod
    def _known_projector(cls, v: str) -> str:
        from xproj.projectors.projector import PROJECTORS

        return PROJECTORS.canonical(v)  # XP302 with close matches

    def projector_info(self) -> dict[str, Any]:
        """What the projector declared: ``uses_aligner``, ``needs_model``, ``makes_targets``."""
        from xproj.projectors.projector import PROJECTORS

        return PROJECTORS.info(self.projector)

    def projector_setup(self, **resources: Any):
        """A :class:`~xproj.projectors.projector.ProjectorSetup` with these settings and the
        run's ``resources`` (translator, model, options, extra_bitext)."""
        from xproj.projectors.projector import ProjectorSetup

        return ProjectorSetup(
            policy=self.policy,
            aligner=self.aligner,
            aligner_settings=self.aligner_options,
            markers=self.markers,
            codec=self.codec,
            **resources,
        )


class _ProjectionRun(_RunSettings, _Projecting):
    """Fields every flow that projects labels from a labeled source shares.

    ``labels`` (optional) is the label set of the data: a record with a span labelled otherwise
    is rejected with its reason.
    """

    name: str = ""
    source: InputSpec
    labels: list[str] | None = None
    limit: int | None = Field(default=None, ge=1)
    on_error: Literal["raise", "reject"] = "reject"

    @field_validator("source")
    @classmethod
    def _source_has_labels(cls, v: InputSpec) -> InputSpec:
        if v.format == "text":
            raise ValueError("the source side needs labels: use conll, jsonl, parquet or hf")
        return v


def _aligns_run_text(data: Any) -> Any:
    """Refuse an aligner that reads links from a file for text the run itself makes (checked on
    the raw config, before the aligner's own settings are)."""
    from xproj.projectors.aligners import ALIGNERS

    name = data.get("aligner") if isinstance(data, dict) else None
    if name and ALIGNERS.info(name)["reads_file"]:
        raise ValueError(
            f"{ALIGNERS.canonical(name)} reads links from a file, but the translations are made "
            "by this run: use eflomal.v1 or simalign.v1"
        )
    return data


class ProjectParallelConfig(_ProjectionRun):
    """Configuration of the ``project_parallel`` flow.

    Example (YAML)::

        name: europarl-en-es
        source: {path: ../shared/data/ner-europarl/en-europarl.test.conll02, lang: en}
        target: {path: ../shared/data/ner-europarl/es-europarl.test.conll02, lang: es}
        aligner: eflomal.v1
        aligner_options: {symmetrization: grow-diag-final-and}
    """

    target: InputSpec
    extra_bitext: list[BitextSpec] = Field(default_factory=list)
    shard_size: int = Field(default=20_000, ge=1)
    evaluate: bool = True

    @model_validator(mode="after")
    def _projects_by_alignment(self) -> ProjectParallelConfig:
        if self.projector_info()["needs_model"]:
            raise ValueError(
                f"{self.projector} needs a translation model, and project_parallel has a given "
                "target side: use align.v1 here, or translate-train for the model routes"
            )
        return self

    def dataset_name(self) -> str:
        if self.name:
            return self.name
        return f"{Path(self.source.path).stem}-{self.source.lang}-{self.target.lang}"


def load_config(
    model: type[_Model],
    path: str | Path | None,
    overrides: dict[str, Any],
    command: str = "project",
) -> Any:
    """Build a config from an optional YAML file, then apply dotted-key overrides.

    ``overrides`` maps ``"source.path"``-style keys to values; ``None`` values are ignored, so CLI
    flags that were not given leave the file's (or the model's default) value in place.
    ``command`` is the CLI command, for the hint of an invalid configuration.
    """
    import yaml

    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"config file {p} not found.", fix="check the --config path.", code=E_BAD_CONFIG
            )
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as err:
            line = getattr(getattr(err, "problem_mark", None), "line", None)
            raise ConfigError(
                f"invalid YAML: {err}",
                file=str(p),
                line=None if line is None else line + 1,
                fix="fix the YAML syntax.",
                code=E_BAD_CONFIG,
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(
                "the config file must hold a mapping.",
                file=str(p),
                fix="write `key: value` pairs at the top level.",
                code=E_BAD_CONFIG,
            )
    for key, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, leaf = key.split(".")
        for depth, part in enumerate(parents):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                where = ".".join(parents[: depth + 1])
                raise ConfigError(
                    f"cannot set {key}: {where} is {node!r} in the config, not a mapping.",
                    file=None if path is None else str(path),
                    fix=f"write {where} as a mapping of settings (key: value), or leave out "
                    f"the option that sets {key}.",
                    code=E_BAD_CONFIG,
                )
        node[leaf] = value
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}{_close_keys(model, e)}"
            for e in err.errors()
        ).rstrip(".")
        raise ConfigError(
            f"invalid configuration: {problems}.",
            file=None if path is None else str(path),
            fix=f"see `xproj {command} --help` and the example in README.md.",
            code=E_BAD_CONFIG,
        ) from None


_UNKNOWN_KEY = ("extra_forbidden", "unexpected_keyword_argument")


def _close_keys(model: type, error: Mapping[str, Any]) -> str:
    """`` (did you mean …?)`` for an unknown key of a config, from the names its place takes."""
    import dataclasses
    import difflib
    import typing

    if error["type"] not in _UNKNOWN_KEY or not error["loc"]:
        return ""
    node: Any = model
    for part in error["loc"][:-1]:
        fields = getattr(node, "model_fields", None) or {
            f.name: f for f in dataclasses.fields(node) if dataclasses.is_dataclass(node)
        }
        field = fields.get(part)
        if field is None:
            return ""
        node = getattr(field, "annotation", None) or field.type
        while typing.get_origin(node) is not None:  # Annotated[X, …], X | None
            node = next((a for a in typing.get_args(node) if a is not type(None)), None)
        if not isinstance(node, type):
            return ""
    names = list(getattr(node, "model_fields", None) or [])
    if not names and dataclasses.is_dataclass(node):
        names = [f.name for f in dataclasses.fields(node)]
    close = difflib.get_close_matches(str(error["loc"][-1]), names, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


class TranslateTrainConfig(_ProjectionRun, _TranslationSettings):
    """Configuration of the ``translate_train`` flow: translate a labeled dataset, project labels.

    ``projector`` picks the route: ``align`` (word alignment of source and translation with
    ``aligner``), ``markers`` (translate the marked source, read the markers back) or ``codec``
    (insert markers into the clean translation by constrained decoding). The model routes need a
    marker-aware model: ``model`` itself, or ``projection_model`` when the translations come from
    another model.

    Example (YAML)::

        name: conll-en-to-sw-yo
        source: {path: train.en.conll, lang: en}
        target_langs: [sw, yo]
        model: facebook--nllb-200-distilled-600M-int8      # a store id (xproj models list) or a folder
        projector: align
        aligner: eflomal.v1
        shard_size: 2000
    """

    target_langs: list[str] = Field(min_length=1)
    extra_bitext: dict[str, list[BitextSpec]] = Field(default_factory=dict)
    shard_size: int = Field(default=2_000, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _aligner_can_align_translations(cls, data: Any) -> Any:
        return _aligns_run_text(data)

    @field_validator("target_langs")
    @classmethod
    def _known_languages(cls, v: list[str]) -> list[str]:
        from xproj.schemas.languages import normalize_lang

        codes = [normalize_lang(code) for code in v]  # XP201 with close matches
        if len(set(codes)) != len(codes):
            raise ValueError(f"target languages repeat: {v}")
        return codes

    def dataset_name(self) -> str:
        if self.name:
            return self.name
        return f"{Path(self.source.path).stem}-{self.source.lang}"


class PredictionsSpec(_Model):
    """English span predictions for translate-test: JSONL or Parquet, one record per input
    record, ``{"id": <input record id>, "text": <the English text labeled>, "spans": [{"start",
    "end", "label"}]}`` (character offsets into ``text``)."""

    path: Annotated[str, INPUT]
    id_column: str = "id"
    text_column: str = "text"
    spans_column: str = "spans"


class TranslateTestConfig(_RunSettings, _Projecting, _TranslationSettings):
    """Configuration of the ``translate_test`` flow: label X text through English, project back.

    ``input`` is the target-language text (``text`` lines, or a labeled format whose spans are
    gold for the evaluation). English spans come from ``predictions`` or from the spaCy pipeline
    ``spacy`` (a package name or folder; xproj ships none); with neither, the run translates only.
    ``label_map`` renames predicted labels (spaCy's ``PERSON``/``GPE`` → ``PER``/``LOC``).

    Example (YAML)::

        name: sw-news-translate-test
        input: {path: news.sw.txt, lang: sw, format: text}
        model: facebook--nllb-200-distilled-600M-int8
        projection_model: easyproject-nllb-int8
        spacy: en_core_web_lg
        label_map: {PERSON: PER, GPE: LOC, NORP: MISC}
        projector: codec
    """

    name: str = ""
    input: InputSpec
    pivot_lang: str = "en"
    predictions: PredictionsSpec | None = None
    spacy: Annotated[str | None, INPUT] = None
    label_map: dict[str, str] = Field(default_factory=dict)
    projector: str = "codec.v1"
    labels: list[str] | None = None
    shard_size: int = Field(default=2_000, ge=1)
    limit: int | None = Field(default=None, ge=1)
    on_error: Literal["raise", "reject"] = "reject"
    evaluate: bool = True

    _known_pivot = field_validator("pivot_lang")(known_language)

    @model_validator(mode="before")
    @classmethod
    def _aligner_can_align_translations(cls, data: Any) -> Any:
        return _aligns_run_text(data)

    def model_post_init(self, _context: Any) -> None:
        if self.predictions is not None and self.spacy is not None:
            raise ConfigError(
                "give predictions or spacy, not both.",
                fix="drop one of them from the config or the command line.",
                code=E_BAD_CONFIG,
            )

    def dataset_name(self) -> str:
        if self.name:
            return self.name
        return f"{Path(self.input.path).stem}-{self.input.lang}"
