"""Flow ``entitycs``: entity-linked English text → entity code-switched corpora, as table versions.

Inputs: FewRel-style entity-linked sentences, or MediaWiki / WikiExtractor text whose links are
mapped to Wikidata QIDs through a title index; names per language from label TSVs or a Wikidata
JSON dump (streamed). The records are read as a stream and cut into shards; each shard goes through
:class:`xproj.generators.entitycs.switch.Switcher` and its rows are staged; all tables are committed
together at the end (``entitycs_en``, ``entitycs_cs``, ``entitycs_entities``, ``entitycs_dropped``,
``rejected``). Sampling depends only on the seed and each sentence's id, so the same inputs and seed
give identical tables however they are sharded.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from prefect import flow
from pydantic import Field, model_validator

from xproj.executor.core import Identity, Shard, ShardOutput
from xproj.executor.identity import INPUT
from xproj.executor.summary import RunSummary, Source, Tally
from xproj.flows.config import _Model, _RunSettings, dataset_ref, nest
from xproj.flows.runtime import run_plan
from xproj.generators.entitycs.switch import SwitchSettings

FLOW_NAME = "entitycs"

#: Every sentence of the input: kept (``entitycs_en``) or dropped with its reason.
SENTENCES = Tally(
    "sentences",
    (Source("entitycs_en"), Source("entitycs_dropped", reason="reason")),
    stage="filter",
)
#: Code-switched sentences per language.
CS_SENTENCES = Tally("code-switched sentences", (Source("entitycs_cs"),), group="language")
#: Switched entity occurrences per language.
ENTITIES = Tally("entities switched", (Source("entitycs_entities"),), group="language")


class EntitySourceSpec(_Model):
    """Entity-linked English text: ``fewrel`` (``{PID: [{tokens, h, t}]}``), ``linked`` (sentences
    with mentions: JSONL, Parquet, or a Hugging Face dataset with ``hf``; see
    ``generators/entitycs/linked.py``), ``mediawiki`` (raw articles, a file or a folder),
    ``extracted`` (WikiExtractor output) or ``auto`` (by file name and content)."""

    path: Annotated[str, INPUT]
    format: Literal["fewrel", "linked", "hf", "mediawiki", "extracted", "auto"] = "auto"
    split: str = "train"

    def input_ref(self, field: str, name: str):
        """Lineage of the source (:func:`~xproj.flows.config.dataset_ref`)."""
        return dataset_ref(name, self.path, hub=self.format == "hf", split=self.split)


class NamesSpec(_Model):
    """Entity names per language: ``tsv`` (a folder of ``<lang>.txt``: ``QID<TAB>name…``) or
    ``wikidata`` (a JSON dump, ``.json``/``.gz``/``.bz2``, streamed)."""

    path: Annotated[str, INPUT]
    format: Literal["tsv", "wikidata"] = "tsv"


class TitlesSpec(_Model):
    """Title → QID table (``title<TAB>QID``) and optional redirects (``from<TAB>to``)."""

    path: Annotated[str, INPUT]
    redirects: Annotated[str | None, INPUT] = None


#: The switcher's settings a config may give at its top level (as configs before ``switch:``
#: did); they move into ``switch``, where a value given there wins.
_TOP_LEVEL_SWITCH = {
    key: key
    for key in (
        "languages",
        "max_languages",
        "seed",
        "min_links",
        "max_links",
        "min_chars",
        "max_words",
        "max_single_link_share",
        "use_aliases",
        "segment",
        "spacy_pipeline",
    )
}


class EntityCSConfig(_RunSettings):
    """Configuration of the ``entitycs`` flow: the inputs, and the switcher's settings
    (:class:`~xproj.generators.entitycs.switch.SwitchSettings`, the published EntityCS
    parameters by default) under ``switch`` or, for short, at the top level.

    Example (YAML)::

        name: fewrel-entitycs
        source: {path: ../shared/data/entities/fewrel/val_wiki.json, format: fewrel}
        names: {path: ../shared/data/entities/wikidata-labels, format: tsv}
        seed: 13                      # = switch: {seed: 13}
    """

    name: str = ""
    source: EntitySourceSpec
    names: NamesSpec
    titles: TitlesSpec | None = None
    switch: SwitchSettings = Field(default_factory=SwitchSettings)
    shard_size: int = Field(default=5_000, ge=1)
    limit: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _switch_at_top_level(cls, data: Any) -> Any:
        return nest(data, "switch", _TOP_LEVEL_SWITCH)

    def dataset_name(self) -> str:
        return self.name or f"{Path(self.source.path).stem}-entitycs"

    def source_format(self) -> str:
        if self.source.format != "auto":
            return self.source.format
        p = Path(self.source.path)
        if p.is_file() and p.suffix == ".json":
            return "fewrel"
        if p.is_file() and p.suffix in (".jsonl", ".ndjson", ".parquet"):
            return "linked"
        return "auto"

    def settings(self) -> SwitchSettings:
        """The switcher's settings; ``segment`` unset means: split records into sentences unless
        the source is sentence-level (FewRel, linked sentences)."""
        if self.switch.segment is not None:
            return self.switch
        sentences = self.source_format() in ("fewrel", "linked", "hf")
        return dataclasses.replace(self.switch, segment=not sentences)


def iter_records(config: EntityCSConfig):
    """The source's records (``LinkedText`` or ``Reject``), streamed."""
    fmt = config.source_format()
    if fmt == "fewrel":
        from xproj.generators.entitycs.fewrel import iter_fewrel

        return iter_fewrel(config.source.path)
    if fmt in ("linked", "hf"):
        from xproj.generators.entitycs.linked import iter_linked

        kind = "hf" if fmt == "hf" else "auto"
        return iter_linked(config.source.path, fmt=kind, split=config.source.split)
    from xproj.generators.entitycs.wikitext import iter_wikitext

    return iter_wikitext(config.source.path, fmt=fmt)


def load_names(config: EntityCSConfig, languages, *, titles_from_dump: bool = False):
    """The name table of the requested languages (its ``rejects`` say what reading left out),
    and, from a Wikidata dump when ``titles_from_dump``, the title index of its enwiki sitelinks
    (wikitext links carry titles) built in the same streaming pass."""
    from xproj.generators.entitycs.wikidata import TitleIndex, load_names_from_dump, read_label_tsv

    if config.names.format == "tsv":
        return read_label_tsv(config.names.path, languages), None
    sink = TitleIndex() if titles_from_dump else None
    names = load_names_from_dump(
        config.names.path, languages, aliases=config.switch.use_aliases, titles=sink
    )
    return names, sink


class EntityCS:
    """The plan of an ``entitycs`` run (see :class:`xproj.executor.core.Plan`)."""

    flow = FLOW_NAME
    tables = ("entitycs_en", "entitycs_cs", "entitycs_entities", "entitycs_dropped")
    tallies = (SENTENCES, CS_SENTENCES, ENTITIES)
    keys = None

    def __init__(self, config: EntityCSConfig) -> None:
        self.config = config
        self.shard_size = config.shard_size
        self.title = f"{config.dataset_name()}: EntityCS"
        self.settings = config.settings()

    def identity(self) -> Identity:
        from xproj.executor.identity import key_of

        key_parameters, inputs = key_of(self.config)
        # what the file name decides: how the source is read, and the dataset's name
        key_parameters["source_format"] = self.config.source_format()
        key_parameters["dataset_name"] = self.config.dataset_name()
        return Identity(self.config.recorded(), key_parameters, inputs)

    def prepare(self, run: Any, log: Any) -> None:
        self.run_id = run.run_id
        titles = None
        if self.config.titles is not None:
            from xproj.generators.entitycs.wikidata import read_title_index

            titles = read_title_index(self.config.titles.path, self.config.titles.redirects)
        self.names, dump_titles = load_names(
            self.config,
            self.settings.languages,
            titles_from_dump=(titles is None and self.settings.segment),
        )
        self.titles = titles if titles is not None else dump_titles
        log.info(
            "names: %d entities in %d languages", len(self.names), len(self.settings.languages)
        )

    def records(self) -> Iterator[Any]:
        return itertools.islice(iter_records(self.config), self.config.limit)

    def process(self, shard: Shard) -> ShardOutput:
        from xproj.generators.entitycs.switch import Switcher

        switcher = Switcher(self.names, self.titles, self.settings)
        out = ShardOutput(rows={name: [] for name in self.tables})
        for record in shard.records:
            got = switcher.process(record)
            out.rows["entitycs_en"] += got.en_rows
            out.rows["entitycs_cs"] += got.cs_rows
            out.rows["entitycs_entities"] += got.entity_rows
            out.rows["entitycs_dropped"] += got.dropped
        out.stats = switcher.stats.as_dict()
        return out

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        rejects = list(getattr(self.names, "rejects", []))
        summary.stats["names"] = {
            "entities": len(self.names),
            "rejected_lines": len(rejects),
            "missing_languages": list(getattr(self.names, "missing_languages", []) or []),
        }
        # lines of the title and redirect files that were not used (a dump's go to the names')
        rejects += getattr(self.titles, "rejects", [])
        return {"rejected": rejects} if rejects else {}

    def close(self) -> None:
        """Nothing to release."""


@flow(name=FLOW_NAME, log_prints=True)
def entitycs(config: EntityCSConfig) -> RunSummary:
    """Build an entity code-switched corpus (EntityCS) and commit it as new table versions."""
    return run_plan(EntityCS(config), config)
