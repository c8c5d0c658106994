"""Flow ``entitycs``: entity-linked English text → entity code-switched corpora, as table versions.

Inputs: FewRel-style entity-linked sentences, or MediaWiki / WikiExtractor text whose links are
mapped to Wikidata QIDs through a title index; names per language from label TSVs or a Wikidata
JSON dump (streamed). The records are read as a stream and cut into shards; each shard goes through
:class:`generators.entitycs.switch.Switcher` and its rows are staged; all tables are committed
together at the end (``entitycs_en``, ``entitycs_cs``, ``entitycs_entities``, ``entitycs_dropped``,
``rejected``). Sampling depends only on the seed and each sentence's id, so the same inputs and seed
give identical tables however they are sharded.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from flows._runs import FlowResult, commit_outputs, committed_run, path_ref
from flows.config import _Model

FLOW_NAME = "entitycs"
OUTPUT_TABLES = (
    "entitycs_en",
    "entitycs_cs",
    "entitycs_entities",
    "entitycs_dropped",
    "rejected",
)


class EntitySourceSpec(_Model):
    """Entity-linked English text: ``fewrel`` (``{PID: [{tokens, h, t}]}``), ``linked`` (sentences
    with mentions: JSONL, Parquet, or a Hugging Face dataset with ``hf``; see
    ``generators/entitycs/linked.py``), ``mediawiki`` (raw articles, a file or a folder),
    ``extracted`` (WikiExtractor output) or ``auto`` (by file name and content)."""

    path: str
    format: Literal["fewrel", "linked", "hf", "mediawiki", "extracted", "auto"] = "auto"
    split: str = "train"


class NamesSpec(_Model):
    """Entity names per language: ``tsv`` (a folder of ``<lang>.txt``: ``QID<TAB>name…``) or
    ``wikidata`` (a JSON dump, ``.json``/``.gz``/``.bz2``, streamed)."""

    path: str
    format: Literal["tsv", "wikidata"] = "tsv"


class TitlesSpec(_Model):
    """Title → QID table (``title<TAB>QID``) and optional redirects (``from<TAB>to``)."""

    path: str
    redirects: str | None = None


class EntityCSConfig(_Model):
    """Configuration of the ``entitycs`` flow; defaults are the published EntityCS parameters.

    Example (YAML)::

        name: fewrel-entitycs
        source: {path: ../shared/data/entities/fewrel/val_wiki.json, format: fewrel}
        names: {path: ../shared/data/entities/wikidata-labels, format: tsv}
        seed: 13
    """

    name: str = ""
    source: EntitySourceSpec
    names: NamesSpec
    titles: TitlesSpec | None = None
    languages: list[str] | None = None
    max_languages: int = Field(default=5, ge=1)
    seed: int = 0
    min_links: int = Field(default=1, ge=0)
    max_links: int = Field(default=10, ge=1)
    min_chars: int = Field(default=20, ge=0)
    max_words: int = Field(default=128, ge=1)
    max_single_link_share: float = Field(default=0.5, gt=0.0, le=1.0)
    use_aliases: bool = False
    segment: bool | None = None
    spacy_pipeline: str = "sentencizer"
    shard_size: int = Field(default=5_000, ge=1)
    limit: int | None = Field(default=None, ge=1)
    lake: str | None = None
    force: bool = False

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

    def settings(self):
        from generators.entitycs.switch import XLMR_TARGET_LANGUAGES, SwitchSettings

        fmt = self.source_format()
        return SwitchSettings(
            languages=tuple(self.languages) if self.languages else XLMR_TARGET_LANGUAGES,
            max_languages=self.max_languages,
            seed=self.seed,
            min_links=self.min_links,
            max_links=self.max_links,
            min_chars=self.min_chars,
            max_words=self.max_words,
            max_single_link_share=self.max_single_link_share,
            use_aliases=self.use_aliases,
            segment=self.segment
            if self.segment is not None
            else fmt not in ("fewrel", "linked", "hf"),
            spacy_pipeline=self.spacy_pipeline,
        )


def iter_records(config: EntityCSConfig):
    """The source's records (``LinkedText`` or ``Reject``), streamed."""
    fmt = config.source_format()
    if fmt == "fewrel":
        from generators.entitycs.fewrel import iter_fewrel

        return iter_fewrel(config.source.path)
    if fmt in ("linked", "hf"):
        from generators.entitycs.linked import iter_linked

        kind = "hf" if fmt == "hf" else "auto"
        return iter_linked(config.source.path, fmt=kind, split=config.source.split)
    from generators.entitycs.wikitext import iter_wikitext

    return iter_wikitext(config.source.path, fmt=fmt)


def load_names(config: EntityCSConfig, languages, *, titles_from_dump: bool = False):
    """The name table of the requested languages (its ``rejects`` say what reading left out),
    and, from a Wikidata dump when ``titles_from_dump``, the title index of its enwiki sitelinks
    (wikitext links carry titles) built in the same streaming pass."""
    from generators.entitycs.wikidata import TitleIndex, load_names_from_dump, read_label_tsv

    if config.names.format == "tsv":
        return read_label_tsv(config.names.path, languages), None
    sink = TitleIndex() if titles_from_dump else None
    names = load_names_from_dump(
        config.names.path, languages, aliases=config.use_aliases, titles=sink
    )
    return names, sink


@task(name="entitycs-shard", cache_policy=NO_CACHE)
def switch_shard(shard_id: str, records: list, switcher, run_id: str, staging) -> dict[str, int]:
    """Switch one shard's records and stage its rows."""
    from catalog.rows import reject_rows
    from generators.entitycs.records import LinkedText

    rows: dict[str, list] = {name: [] for name in OUTPUT_TABLES}
    rejects = []
    for record in records:
        if not isinstance(record, LinkedText):
            rejects.append(record)
            continue
        out = switcher.process(record)
        rows["entitycs_en"] += [{"run_id": run_id, **r} for r in out.en_rows]
        rows["entitycs_cs"] += [{"run_id": run_id, **r} for r in out.cs_rows]
        rows["entitycs_entities"] += [{"run_id": run_id, **r} for r in out.entity_rows]
        rows["entitycs_dropped"] += [{"run_id": run_id, **r} for r in out.dropped]
    rows["rejected"] = reject_rows(rejects, run_id=run_id)
    staging.put(shard_id, rows)
    return {"records": len(records), "rejected": len(rejects)}


@flow(name=FLOW_NAME, log_prints=True)
def entitycs(config: EntityCSConfig) -> FlowResult:
    """Build an entity code-switched corpus and commit it as new table versions."""
    return run_entitycs(config)


def run_entitycs(config: EntityCSConfig) -> FlowResult:
    """The flow's body; call ``entitycs`` to run it under Prefect."""
    import itertools

    from tqdm.auto import tqdm

    from catalog import Lake, RunRecord, Staging
    from catalog.rows import reject_rows
    from generators.entitycs.records import LinkedText
    from generators.entitycs.switch import Switcher, SwitchStats

    log = get_run_logger()
    t0 = time.perf_counter()
    lake = Lake(config.lake)
    settings = config.settings()
    inputs = [path_ref("source", config.source.path), path_ref("names", config.names.path)]
    if config.titles is not None:
        inputs.append(path_ref("titles", config.titles.path))
    run = RunRecord.start(FLOW_NAME, config.model_dump(exclude={"force", "lake"}), inputs)
    reused = committed_run(lake, run, force=config.force, log=log)
    if reused is not None:
        return reused
    staging = Staging(lake, run.run_key)
    staging.resume(run)

    titles = None
    if config.titles is not None:
        from generators.entitycs.wikidata import read_title_index

        titles = read_title_index(config.titles.path, config.titles.redirects)
    names, dump_titles = load_names(
        config, settings.languages, titles_from_dump=(titles is None and settings.segment)
    )
    if titles is None:
        titles = dump_titles
    log.info("names: %d entities in %d languages", len(names), len(settings.languages))
    stats = SwitchStats()
    counts: Counter = Counter()
    records = iter_records(config)
    if config.limit is not None:
        records = itertools.islice(records, config.limit)
    progress = tqdm(desc="entitycs", unit="rec", total=config.limit)
    k = 0
    while shard := list(itertools.islice(records, config.shard_size)):
        switcher = Switcher(names, titles, settings)
        shard_id = f"{k}"
        if staging.done(shard_id):
            counts["reused_shards"] += 1
            # the statistics of a resumed shard are recomputed (cheap, no output)
            for record in shard:
                if isinstance(record, LinkedText):
                    switcher.process(record)
        else:
            got = switch_shard(shard_id, shard, switcher, run.run_id, staging)
            counts.update(got)
        stats.merge(switcher.stats)
        progress.update(len(shard))
        k += 1
    progress.close()
    name_rejects = list(getattr(names, "rejects", []))
    if name_rejects:
        staging.put("names.read", {"rejected": reject_rows(name_rejects, run_id=run.run_id)})
    metrics: dict[str, Any] = {**stats.as_dict(), "counts": dict(counts)}
    metrics["names"] = {
        "entities": len(names),
        "rejected_lines": len(name_rejects),
        "missing_languages": list(getattr(names, "missing_languages", []) or []),
    }
    run.metrics = metrics
    run.timings = {"total_s": time.perf_counter() - t0}
    outputs = {name: staging.files(name) for name in OUTPUT_TABLES}
    versions = commit_outputs(lake, run, outputs)
    staging.clear()
    _artifact(config, run.run_id, metrics)
    return FlowResult(run.run_id, run.run_key, versions, metrics)


def _artifact(config: EntityCSConfig, run_id: str, metrics: dict[str, Any]) -> None:
    lines = [f"# {config.dataset_name()}: EntityCS", "", f"run `{run_id}`", ""]
    per_lang = metrics.get("per_language") or {}
    if per_lang:
        lines += ["| language | sentences | entities switched |", "|---|---:|---:|"]
        for lang, m in sorted(per_lang.items()):
            if isinstance(m, dict):
                lines.append(f"| {lang} | {m.get('sentences', 0)} | {m.get('entities', 0)} |")
    lines += [
        "",
        f"sentences read {metrics['sentences_read']}, kept {metrics['sentences_kept']}, "
        f"code-switched sentences {metrics['cs_sentences']}, entities switched "
        f"{metrics['entities_switched']}",
    ]
    for key in ("sentences_dropped", "documents_dropped", "entity_reasons"):
        if metrics.get(key):
            shown = ", ".join(f"{k} {v}" for k, v in sorted(metrics[key].items()))
            lines += ["", f"{key.replace('_', ' ')}: {shown}"]
    create_markdown_artifact(
        "\n".join(lines), key="entitycs-summary", description="sentences per language, reasons"
    )
