"""The dataset card: YAML metadata the Hub reads, and a body written from the runs' lineage.

A card is built from what it already says (an earlier push to the same repo or folder) and what
this push adds, so a later push never loses what an earlier one published:

- the YAML ``configs`` and ``dataset_info`` keep every config; a config pushed again gets its
  new split files and features, the others stay as they were;
- the lineage lives in the YAML too, under ``xproj``: per config and split the table version,
  rows and runs; per run its flow, inputs, models, aligner, settings, projection figures and
  quality against gold; and the list of pushes. The body between ``<!-- xproj:begin -->`` and
  ``<!-- xproj:end -->`` is written from it each time, so it covers the configs of every push;
  text outside those two lines (a hand-written introduction) is kept.

The Hub's own fields are filled from the lineage: ``language`` (ISO 639 codes; the tags with
script in ``language_details``), ``license`` (given or inherited), ``task_categories`` /
``task_ids`` from the layout, ``multilinguality``, ``annotations_creators: machine-generated``,
``language_creators``, ``source_datasets: extended|<id>``, ``size_categories`` over all configs,
``pretty_name`` and ``tags``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from xproj.publish.layouts import Config, Layout

BEGIN = "<!-- xproj:begin -->"
END = "<!-- xproj:end -->"

#: Flow name → the ``xproj`` command that runs it.
COMMANDS = {
    "project_parallel": "project",
    "translate_train": "translate-train",
    "translate_test": "translate-test",
    "entitycs": "entitycs",
    "paxqa": "paxqa",
}
#: Flows whose target text a translation model wrote.
TRANSLATING_FLOWS = frozenset({"translate_train", "translate_test", "paxqa"})

#: Size buckets of the Hub's ``size_categories``.
_SIZES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]

#: Methods and their references, cited when a run used them.
CITATIONS = {
    "eflomal": (
        "eflomal (word alignment)",
        "@article{ostling-tiedemann-2016-efficient,\n"
        "  title = {Efficient Word Alignment with {M}arkov {C}hain {M}onte {C}arlo},\n"
        '  author = {{\\"O}stling, Robert and Tiedemann, J{\\"o}rg},\n'
        "  journal = {The Prague Bulletin of Mathematical Linguistics},\n"
        "  volume = {106},\n  year = {2016}\n}",
    ),
    "simalign": (
        "SimAlign (word alignment)",
        "@inproceedings{jalili-sabet-etal-2020-simalign,\n"
        "  title = {{S}im{A}lign: High Quality Word Alignments without Parallel Training Data "
        "using Static and Contextualized Embeddings},\n"
        "  author = {Jalili Sabet, Masoud and Dufter, Philipp and Yvon, Fran{\\c{c}}ois and "
        'Sch{\\"u}tze, Hinrich},\n'
        "  booktitle = {Findings of the Association for Computational Linguistics: EMNLP 2020},\n"
        "  year = {2020}\n}",
    ),
    "easyproject": (
        "EasyProject (marker-based projection)",
        "@inproceedings{chen-etal-2023-frustratingly,\n"
        "  title = {Frustratingly Easy Label Projection for Cross-lingual Transfer},\n"
        "  author = {Chen, Yang and Jiang, Chao and Ritter, Alan and Xu, Wei},\n"
        "  booktitle = {Findings of the Association for Computational Linguistics: ACL 2023},\n"
        "  year = {2023}\n}",
    ),
    "codec": (
        "CODEC (constrained decoding for label projection)",
        "@inproceedings{le-etal-2024-constrained,\n"
        "  title = {Constrained Decoding for Cross-lingual Label Projection},\n"
        "  author = {Le, Duc Minh and Chen, Yang and Ritter, Alan and Xu, Wei},\n"
        "  booktitle = {International Conference on Learning Representations (ICLR)},\n"
        "  year = {2024}\n}",
    ),
    "entitycs": (
        "EntityCS (entity code-switching)",
        "@inproceedings{whitehouse-etal-2022-entitycs,\n"
        "  title = {{E}ntity{CS}: Improving Zero-Shot Cross-lingual Transfer with "
        "Entity-Centric Code Switching},\n"
        "  author = {Whitehouse, Chenxi and Christopoulou, Fenia and Iacobacci, Ignacio},\n"
        "  booktitle = {Findings of the Association for Computational Linguistics: EMNLP 2022},\n"
        "  year = {2022}\n}",
    ),
    "paxqa": (
        "PAXQA (cross-lingual QA from bitext)",
        "@inproceedings{li-callison-burch-2023-paxqa,\n"
        "  title = {{PAXQA}: Generating Cross-lingual Question Answering Examples at Training "
        "Scale},\n"
        "  author = {Li, Bryan and Callison-Burch, Chris},\n"
        "  booktitle = {Findings of the Association for Computational Linguistics: EMNLP 2023},\n"
        "  year = {2023}\n}",
    ),
    "nllb": (
        "NLLB-200 (translation model)",
        "@article{nllb-2022,\n"
        "  title = {No Language Left Behind: Scaling Human-Centered Machine Translation},\n"
        "  author = {{NLLB Team}},\n  journal = {arXiv preprint arXiv:2207.04672},\n"
        "  year = {2022}\n}",
    ),
}


@dataclass(slots=True)
class Push:
    """What one publish adds to a card.

    Attributes:
        repo: ``owner/name`` on the Hub.
        table: the lake table published.
        version: its version.
        split: the split the rows go to.
        layout: how the table is published.
        configs: the configs written (rows and features).
        runs: the ``runs`` rows of the runs whose rows are published.
        evaluations: ``evaluations`` rows of those runs (label ``ALL``).
        published_at: ISO time of the push.
        tag: the Hub tag of the push.
        license: the licence given or inherited (None: keep the card's).
        pretty_name: the card's ``pretty_name`` (None: keep the card's, or make one).
        tokenizer: the tokenizer of an EntityCS export, if any.
        source_licenses: input reference → licence found in its card.
    """

    repo: str
    table: str
    version: int
    split: str
    layout: Layout
    configs: list[Config]
    runs: list[dict[str, Any]]
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    published_at: str = ""
    tag: str = ""
    license: str | None = None
    pretty_name: str | None = None
    tokenizer: str | None = None
    source_licenses: dict[str, str] = field(default_factory=dict)


# -- reading an existing card --------------------------------------------------------------------


def split_card(text: str | None, where: str = "README.md") -> tuple[dict[str, Any], str]:
    """``(metadata, body)`` of a card's text (empty for None); ``where`` names the card in
    errors (a folder's path, or the repository's file)."""
    import yaml

    if not text:
        return {}, ""
    text = text.removeprefix("\ufeff")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n?", text, flags=re.S)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as err:
        from xproj.schemas.errors import E_MALFORMED_LINE, InputFormatError

        mark = getattr(err, "problem_mark", None)
        raise InputFormatError(
            f"the existing dataset card's YAML does not parse ({str(err).splitlines()[0]}).",
            fix="repair the YAML between the two --- lines of the card (or remove the card), "
            "then publish again.",
            file=where,
            line=None if mark is None else mark.line + 2,  # after the opening ---
            code=E_MALFORMED_LINE,
        ) from None
    if not isinstance(meta, dict):
        meta = {}
    _check_shapes(meta, where)
    return meta, text[match.end() :]


def _check_shapes(meta: Mapping[str, Any], where: str) -> None:
    """Refuse (XP301) a card whose fields xproj merges into do not have the Hub's shapes."""
    problems = []
    configs = meta.get("configs")
    if configs is not None and not (
        isinstance(configs, list)
        and all(isinstance(c, dict) and c.get("config_name") for c in configs)
    ):
        problems.append("configs is not a list of entries with a config_name")
    infos = _infos(meta)
    if infos is not None and not (
        isinstance(infos, list)
        and all(isinstance(i, dict) and isinstance(i.get("features", []), list) for i in infos)
    ):
        problems.append("dataset_info is not a list of entries with a list of features")
    if meta.get("xproj") is not None and not isinstance(meta.get("xproj"), dict):
        problems.append("xproj is not a mapping")
    if problems:
        raise _refuse(
            f"the existing dataset card {where} cannot be merged into: {'; '.join(problems)}.",
            fix="repair those fields of the card's YAML (or remove the card), then publish again.",
        )


def as_list(value: Any) -> list[str]:
    """A card field as a list of strings (a field may be one string, a list, or absent).

    Example:
        >>> as_list("ner"), as_list(["a", 2023]), as_list(None)
        (['ner'], ['a', '2023'], [])
    """
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _infos(meta: Mapping[str, Any]) -> Any:
    """A card's ``dataset_info`` as a list (the Hub writes one config's as a mapping); None when
    the card has none."""
    infos = meta.get("dataset_info")
    return [infos] if isinstance(infos, dict) else infos


def known_class_names(meta: Mapping[str, Any], feature: str = "ner_tags") -> list[str]:
    """The ``ClassLabel`` names of ``feature`` over all configs of an existing card's
    ``dataset_info``, in the order they first appear, so a later push keeps the ids of the tags
    the card already has."""
    found: list[str] = []
    for info in _infos(meta) or []:
        for feat in (info or {}).get("features") or []:
            if feat.get("name") != feature:
                continue
            inner = feat.get("list") or feat.get("sequence") or {}
            names = (
                (inner.get("class_label") or {}).get("names") if isinstance(inner, dict) else None
            )
            if isinstance(names, dict):
                found += [str(names[k]) for k in sorted(names, key=int) if names[k] not in found]
    return found


# -- lineage of a run, as the card keeps it --------------------------------------------------------


def _portable(value: Any) -> Any:
    """Settings as a card shows them: absolute local paths reduced to their file names."""
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_portable(v) for v in value]
    if isinstance(value, str) and (
        value.startswith(("/", "~")) or re.match(r"^[A-Za-z]:\\", value)
    ):
        return PurePath(value).name
    return value


def _tally(entry: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("kept_word", "total", "kept", "rate", "dropped")
    out = {k: entry[k] for k in keep if k in entry}
    if entry.get("by"):
        out["by"] = {
            str(g): {k: v for k, v in sub.items() if k in keep}
            for g, sub in sorted(entry["by"].items())
        }
    if entry.get("labels"):
        out["labels"] = {
            str(label): {k: v for k, v in sub.items() if k in keep}
            for label, sub in sorted(entry["labels"].items())
        }
    return out


def run_lineage(run: Mapping[str, Any]) -> dict[str, Any]:
    """What the card keeps of a ``runs`` row: flow, command, inputs, models, settings, figures."""
    params = json.loads(run.get("parameters") or "{}")
    metrics = json.loads(run.get("metrics") or "{}")
    tokenizers = params.pop("tokenizers", {})
    inputs = []
    for ref in run.get("inputs") or []:
        item = {"name": ref["name"], "ref": _portable(ref["ref"])}
        if ref.get("sha256"):
            item["sha256"] = ref["sha256"]
        if ref.get("version") is not None:
            item["version"] = ref["version"]
        inputs.append(item)
    gold = {
        str(label): {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()}
        for label, scores in sorted((metrics.get("gold") or {}).items())
    }
    finished = run.get("finished_at")
    return {
        "flow": run["flow"],
        "command": COMMANDS.get(run["flow"], run["flow"]),
        "title": metrics.get("title", ""),
        "code_version": run.get("code_version", ""),
        "finished_at": finished.isoformat() if hasattr(finished, "isoformat") else str(finished),
        "inputs": inputs,
        "models": [_portable(m) for m in run.get("models") or []],
        "aligner": run.get("aligner"),
        "tokenizers": tokenizers,
        "config": _portable(params),
        "tallies": {k: _tally(v) for k, v in sorted((metrics.get("tallies") or {}).items())},
        "gold": gold,
    }


# -- metadata ----------------------------------------------------------------------------------


def size_category(rows: int) -> str:
    """The Hub's size bucket for ``rows`` examples.

    Example:
        >>> size_category(799), size_category(12_000)
        ('n<1K', '10K<n<100K')
    """
    for limit, name in _SIZES:
        if rows < limit:
            return name
    return "n>1T"


def _hub_code(lang: str) -> str:
    """The ISO 639 code the Hub's ``language`` field takes (``zh-Hant`` → ``zh``)."""
    from xproj.schemas.languages import normalize_lang

    return normalize_lang(lang).split("-")[0]


def _bcp47(lang: str) -> str:
    """The language with its script (``th`` → ``th-Thai``)."""
    from xproj.schemas.languages import language_script, normalize_lang

    return f"{normalize_lang(lang).split('-')[0]}-{language_script(lang)}"


def _source_datasets(runs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    out = set()
    for lineage in runs.values():
        for ref in lineage["inputs"]:
            if ref["name"] not in ("source", "contexts", "input", "target"):
                continue
            if "sha256" in ref or "version" in ref:
                out.add("extended")
            else:
                out.add(f"extended|{ref['ref']}")
    return sorted(out) or ["extended"]


def _refuse(message: str, fix: str):
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

    return ConfigError(message, fix=fix, code=E_BAD_CONFIG)


def _merge_config(entry: dict[str, Any] | None, push: Push, config: Config) -> dict[str, Any]:
    entry = dict(entry or {})
    splits = dict(entry.get("splits") or {})
    for split, old in splits.items():
        shared = sorted(set(old.get("runs") or {}) & set(config.runs))
        if split != push.split and shared:
            raise _refuse(
                f"config {config.name!r} already holds the rows of run {shared[0]} in split "
                f"{split!r}; the same rows in two splits would leak one into the other.",
                fix=f"publish another run into {push.split!r}, or push to {split!r} again.",
            )
    splits[push.split] = {
        "rows": config.rows,
        "table": push.table,
        "version": push.version,
        "runs": config.runs,
        **({"rejected": config.rejected} if config.rejected else {}),
        **({"tokenizer": push.tokenizer} if push.tokenizer else {}),
    }
    languages = set(config.languages) | (
        set(entry.get("languages") or []) if len(splits) > 1 else set()
    )
    group = config.name.split(".")[0] if push.layout.kind == "qa" else config.name
    entry.update(
        {
            "table": push.table,
            "layout": push.layout.kind,
            "group": group,
            "languages": sorted(languages),
            "splits": dict(sorted(splits.items())),
        }
    )
    return entry


def extends(old: Any, new: Any) -> bool:
    """Whether features ``new`` (YAML form) read every file written with ``old``: equal, except
    that a ``ClassLabel`` may have new names appended (ids keep their positions).

    Example:
        >>> extends({"class_label": {"names": {"0": "O"}}},
        ...         {"class_label": {"names": {"0": "O", "1": "B-PER"}}})
        True
    """
    if old is None:
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        if "names" in old and "names" in new and isinstance(old["names"], dict):
            names_old, names_new = old["names"], new["names"]
            return isinstance(names_new, dict) and all(
                names_new.get(k) == v for k, v in names_old.items()
            )
        return old.keys() == new.keys() and all(extends(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(extends(a, b) for a, b in zip(old, new, strict=True))
    return old == new


def _dataset_info(config: Config, old: Mapping[str, Any] | None, split: str) -> dict[str, Any]:
    from datasets import DatasetInfo
    from datasets.splits import SplitDict, SplitInfo

    num_bytes = config.table.nbytes
    splits = SplitDict()
    for s in (old or {}).get("splits") or []:
        if s["name"] != split:
            splits.add(
                SplitInfo(
                    name=s["name"],
                    num_bytes=s.get("num_bytes", 0),
                    num_examples=s.get("num_examples", 0),
                )
            )
    splits.add(SplitInfo(name=split, num_bytes=num_bytes, num_examples=config.rows))
    info = DatasetInfo(features=config.features, splits=splits)
    data = info._to_yaml_dict()
    others = [s for s in splits if s != split]
    if old and others and not extends(old.get("features"), data["features"]):
        raise _refuse(
            f"config {config.name!r} has split(s) {', '.join(others)} with other features than "
            f"this push's {split!r} (other columns, types or tag names); one config has one set "
            "of features.",
            fix="push the other splits again with the same settings, or publish this one as "
            "another config or repository.",
        )
    data["dataset_size"] = sum(s.num_bytes for s in splits.values())
    return {"config_name": config.name, **data}


_LIST_FIELDS = (
    "language",
    "annotations_creators",
    "language_creators",
    "multilinguality",
    "source_datasets",
    "task_categories",
    "task_ids",
    "tags",
)


def build_metadata(meta: Mapping[str, Any], push: Push) -> dict[str, Any]:
    """The card's YAML after ``push``: ``meta`` (the card so far) with the push merged in.

    Raises:
        ConfigError: XP301 when the card belongs to another repository, a config of the card
            was not written by xproj or holds another table, the same run would land in two
            splits of a config, or a split's features would differ from its config's others.
    """
    meta = dict(meta)
    xp = dict(meta.get("xproj") or {})
    if xp.get("repo") not in (None, push.repo):
        raise _refuse(
            f"this card belongs to {xp['repo']}, not {push.repo}.",
            fix=f"publish into a folder of its own for {push.repo} (or give --repo {xp['repo']}).",
        )
    configs = dict(xp.get("configs") or {})
    theirs = {c.get("config_name") for c in meta.get("configs") or [] if isinstance(c, dict)}
    infos = {i.get("config_name", "default"): i for i in _infos(meta) or [] if isinstance(i, dict)}
    for config in push.configs:
        old = configs.get(config.name)
        if old is None and (config.name in theirs or config.name in infos):
            raise _refuse(
                f"the card already has a config {config.name!r} that xproj did not write.",
                fix="publish under other config names (--config-by), or into another repository.",
            )
        if old and old.get("table") not in (None, push.table):
            raise _refuse(
                f"config {config.name!r} of {push.repo} already holds rows of table "
                f"{old['table']!r}, not {push.table!r}.",
                fix="publish this table into another repository (or folder).",
            )
        configs[config.name] = _merge_config(old, push, config)
    runs = dict(xp.get("runs") or {})
    for run in push.runs:
        runs[run["run_id"]] = run_lineage(run)
    keep = ("kind", "dataset", "system", "label", "precision", "recall", "f1", "n_gold")
    for ev in push.evaluations:
        filed = runs.get(ev["run_id"], {}).setdefault("evaluations", [])
        row = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in ev.items() if k in keep}
        if row not in filed:
            filed.append(row)
    publications = [  # the same push again (same tag) is listed once
        p for p in xp.get("publications") or [] if not push.tag or p.get("tag") != push.tag
    ]
    publications.append(
        {
            "published_at": push.published_at,
            "table": push.table,
            "version": push.version,
            "split": push.split,
            "configs": [c.name for c in push.configs],
            "runs": sorted({r for c in push.configs for r in c.runs}),
            "tag": push.tag,
        }
    )
    xp.update(
        {
            "repo": push.repo,
            "configs": dict(sorted(configs.items())),
            "runs": runs,
            "publications": publications,
        }
    )

    # the Hub's configs and dataset_info: every config, each split's files
    hub_configs = {c["config_name"]: c for c in meta.get("configs") or [] if isinstance(c, dict)}
    for name, entry in configs.items():
        files = [{"split": s, "path": f"{name}/{s}-*"} for s in entry["splits"]]
        hub_configs[name] = {"config_name": name, "data_files": files}
    for config in push.configs:
        infos[config.name] = _dataset_info(config, infos.get(config.name), push.split)

    languages = sorted({lang for entry in configs.values() for lang in entry["languages"]})
    flows = {lineage["flow"] for lineage in runs.values()}
    largest: dict[str, int] = {}
    for entry in configs.values():  # QA directions share their examples: count one of them
        rows = sum(s["rows"] for s in entry["splits"].values())
        group = entry.get("group", "")
        largest[group] = max(largest.get(group, 0), rows)
    created = ["machine-generated"] if flows & TRANSLATING_FLOWS else ["found"]
    ours: dict[str, list[str]] = {
        "language": [_hub_code(lang) for lang in languages],
        "annotations_creators": ["machine-generated"],
        "language_creators": created,
        "multilinguality": ["multilingual"]
        + (["translation"] if push.layout.kind in ("ner", "qa") else []),
        "source_datasets": _source_datasets(runs),
        "task_categories": list(push.layout.task_categories),
        "task_ids": list(push.layout.task_ids),
        "tags": ["xproj", *push.layout.tags],
    }
    out: dict[str, Any] = {}
    for key in _LIST_FIELDS:
        merged = sorted({*as_list(meta.get(key)), *ours[key]})
        if merged:
            out[key] = merged
    out["language_details"] = ", ".join(sorted({_bcp47(lang) for lang in languages}))
    out["license"] = push.license or meta.get("license")
    out["size_categories"] = [size_category(sum(largest.values()))]
    out["pretty_name"] = push.pretty_name or meta.get("pretty_name") or _pretty_name(push.repo)
    order = [
        "language",
        "language_details",
        "license",
        *_LIST_FIELDS[1:],
        "size_categories",
        "pretty_name",
    ]
    result = {k: out[k] for k in order if out.get(k) not in (None, [], "")}
    result |= {
        k: v
        for k, v in meta.items()
        if k not in result and k not in out and k not in ("configs", "dataset_info", "xproj")
    }
    result["configs"] = [hub_configs[k] for k in sorted(hub_configs)]
    result["dataset_info"] = [infos[k] for k in sorted(infos)]
    result["xproj"] = xp
    return result


def _pretty_name(repo: str) -> str:
    return repo.split("/")[-1].replace("-", " ").replace("_", " ").strip() or repo


# -- body --------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A value from the lake as Markdown text: one line, and no markup (``<`` ``>`` ``&`` as
    entities, backticks as quotes), so no dataset value can open a tag, a comment or code."""
    text = " ".join(str(value).split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


def _uncomment(text: str) -> str:
    """``text`` with HTML comment markers broken (hyphens made U+2010), so that code shown in
    the body can never open or close a comment, such as the generated block's markers."""
    return text.replace("<!--", "<!\u2010\u2010").replace("-->", "\u2010\u2010>")


def _code(value: Any) -> str:
    """A value from the lake as inline code: one line, no backtick, no comment marker."""
    return "`" + _uncomment(" ".join(str(value).split()).replace("`", "'")) + "`"


def _fenced(info: str, text: str) -> list[str]:
    """A fenced code block whose fence is longer than any backtick run in ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, _uncomment(text), fence]


def _cell(value: Any) -> str:
    """A value as a Markdown table cell (markup escaped, pipes escaped, one line)."""
    return _text(value).replace("\\", "\\\\").replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _reasons(dropped: Mapping[str, int]) -> str:
    return ", ".join(f"{k.split('.', 1)[-1]} {v}" for k, v in sorted(dropped.items())) or "none"


def _explanations(reasons: Iterable[str]) -> list[str]:
    from xproj.schemas.records import explain_reason

    explained = ((reason, explain_reason(reason)) for reason in sorted(set(reasons)))
    return [f"- `{reason}`: {text}" for reason, text in explained if text]


def _run_section(run_id: str, lineage: Mapping[str, Any]) -> list[str]:
    import yaml

    lines = [f"### Run {_code(run_id)}", ""]
    if lineage.get("title"):
        lines += [f"{_text(lineage['title'])}.", ""]
    lines.append(
        f"- Flow: {_code(lineage['flow'])}, {_text(lineage['code_version'])}, finished "
        f"{_text(lineage['finished_at'])}"
    )
    config = lineage["config"]
    for ref in lineage["inputs"]:
        where = _code(ref["ref"])
        if "sha256" in ref:
            where += f" (sha256 {_code(ref['sha256'][:16] + '…')})"
        elif "version" in ref:
            where += f" (table version {_text(ref['version'])})"
        else:
            spec = config.get(ref["name"])
            revision = spec.get("revision") if isinstance(spec, dict) else None
            where = f"Hub dataset {where}" + (f" at revision {_code(revision)}" if revision else "")
        lines.append(f"- Input {_code(ref['name'])}: {where}")
    if lineage["models"]:
        lines.append("- Models: " + ", ".join(_code(m) for m in lineage["models"]))
    if config.get("projector"):
        lines.append(f"- Projector: {_code(config['projector'])}")
    if lineage.get("aligner"):
        options = config.get("aligner_options") or {}
        shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()))
        lines.append(
            f"- Aligner: {_code(lineage['aligner'])}" + (f" ({_text(shown)})" if shown else "")
        )
    if config.get("policy"):
        policy = ", ".join(f"{k}={v}" for k, v in sorted(config["policy"].items()))
        lines.append(f"- Projection policy: {_text(policy)}")
    if lineage["tokenizers"]:
        lines.append(
            "- Word tokenizers: "
            + ", ".join(f"{_text(k)}: {_code(v)}" for k, v in sorted(lineage["tokenizers"].items()))
        )
    lines.append("")
    reasons: list[str] = []
    for name, tally in lineage["tallies"].items():
        kept = tally.get("kept_word", "kept")
        rows = []
        for group, sub in (tally.get("by") or {"all": tally}).items():
            dropped = sub.get("dropped") or {}
            rate = f"{sub.get('rate', 0):.1%}"
            rows.append([group, sub.get("total", 0), sub.get("kept", 0), rate, _reasons(dropped)])
            reasons += [k.split(".", 1)[-1] for k in dropped]
        lines += [f"**{_text(name.capitalize())}**, {_text(kept)} per language:", ""]
        lines += _table(["language", "total", kept, "rate", "dropped (reason count)"], rows)
        lines.append("")
    explained = _explanations(reasons)
    if explained:
        lines += ["Drop reasons:", "", *explained, ""]
    if lineage["gold"]:
        lines += ["**Quality against human gold** (measured during the run):", ""]
        rows = [
            [
                "micro" if label == "_micro" else label,
                f"{s.get('precision', 0):.3f}",
                f"{s.get('recall', 0):.3f}",
                f"{s.get('f1', 0):.3f}",
                s.get("n_gold", ""),
            ]
            for label, s in lineage["gold"].items()
        ]
        lines += _table(["label", "precision", "recall", "F1", "gold spans"], rows)
        lines.append("")
    if lineage.get("evaluations"):
        lines += ["**Evaluations filed for this run** (`xproj eval`, micro average):", ""]
        rows = [
            [
                e.get("kind"),
                e.get("dataset"),
                f"{e.get('precision', 0):.3f}",
                f"{e.get('recall', 0):.3f}",
                f"{e.get('f1', 0):.3f}",
            ]
            for e in lineage["evaluations"]
        ]
        lines += _table(["kind", "dataset", "precision", "recall", "F1"], rows)
        lines.append("")
    config_yaml = yaml.safe_dump(config, sort_keys=True, allow_unicode=True).rstrip()
    varies = ""
    if str(lineage.get("aligner") or "").startswith("eflomal"):
        varies = (
            " eflomal samples its alignments at random and cannot be seeded, so a new run gives "
            "figures within run-to-run noise of the ones above (a few F1 points on a small "
            "input), not the same rows."
        )
    lines += [
        "<details><summary>Run it again</summary>",
        "",
        f"With {_text(lineage['code_version'])}, save the settings below as `run.yaml` (local "
        "paths are reduced to file names: point them at your copies) and run the command." + varies,
        "",
        *_fenced("bash", f"xproj {lineage['command']} -c run.yaml"),
        "",
        *_fenced("yaml", config_yaml),
        "",
        "</details>",
        "",
    ]
    return lines


def _cited(runs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    keys: list[str] = []

    def add(key: str) -> None:
        if key not in keys:
            keys.append(key)

    for lineage in runs.values():
        aligner = (lineage.get("aligner") or "").lower()
        for name in ("eflomal", "simalign"):
            if aligner.startswith(name):
                add(name)
        projector = str(lineage["config"].get("projector") or "")
        if projector.startswith("markers"):
            add("easyproject")
        if projector.startswith("codec"):
            add("codec")
        if lineage["flow"] in ("entitycs", "paxqa"):
            add(lineage["flow"])
        if any("nllb" in str(m).lower() for m in lineage["models"]):
            add("nllb")
    return keys


def render_body(meta: Mapping[str, Any], repo: str) -> str:
    """The generated part of the body (between :data:`BEGIN` and :data:`END`), from ``meta``."""
    xp = meta["xproj"]
    configs = xp["configs"]
    runs = xp["runs"]
    lines = [BEGIN, "", f"# {_text(meta.get('pretty_name') or _pretty_name(repo))}", ""]
    kinds = {e["layout"] for e in configs.values()}
    what = {
        "ner": "named-entity annotations carried onto other languages by label projection",
        "qa": "cross-lingual extractive question answering examples (PAXQA)",
        "entitycs": "entity code-switched sentences (EntityCS) for pretraining",
        "table": "tables of an xproj lake",
    }
    lines.append(
        "Machine-generated data made with xproj: "
        + "; ".join(what[k] for k in sorted(kinds))
        + ". Every row comes from a committed xproj run; the runs, their inputs, models and "
        "settings are listed below, with what each run dropped and why."
    )
    lines.append("")
    lines += ["## Configs", ""]
    rows = []
    for name, entry in configs.items():
        for split, s in entry["splits"].items():
            made = f"{s['table']}@{s['version']}, runs " + ", ".join(r[:8] for r in s["runs"])
            rejected = ", ".join(f"{k} {v}" for k, v in (s.get("rejected") or {}).items())
            rows.append(
                [
                    name,
                    ", ".join(entry["languages"]),
                    split,
                    s["rows"],
                    made + (f" (not written: {rejected})" if rejected else ""),
                ]
            )
    lines += _table(["config", "languages", "split", "rows", "made from"], rows)
    first = next(iter(configs))
    lines += [
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'ds = load_dataset("{repo}", "{first}")',
        "```",
        "",
    ]
    if "ner" in kinds:
        lines += [
            "Projected NER rows: `tokens` and `ner_tags` (IOB2, a `ClassLabel`) of the target "
            "sentence, `text` and `spans` (character offsets into `text`), and the source "
            "sentence with its tags. A span the projection could not place is absent from the "
            "target (its reason is counted below), so targets can hold fewer entities than "
            "their sources.",
            "",
        ]
    if "qa" in kinds:
        lines += [
            "QA configs are named `LANG.Q-C`: the question's language, then the context's "
            "(`de.en-de`: English questions on German contexts). Rows have SQuAD's features; "
            "the same example keeps its `id` in every direction.",
            "",
        ]
    if "entitycs" in kinds:
        lines += [
            "EntityCS rows are the training export: `text` without tags, `entity_spans` "
            "(character offsets of each switched entity) and, when published with a "
            "tokenizer, `input_ids`, `attention_mask` and `entity_ids` (per token, the index "
            "of its entity or -1), ready for whole- or partial-entity masking.",
            "",
        ]
    lines += ["## How it was made", ""]
    for run_id, lineage in runs.items():
        lines += _run_section(run_id, lineage)
    cited = _cited(runs)
    if cited:
        lines += ["## Citations", "", "Methods and models used to make this data:", ""]
        for key in cited:
            title, bib = CITATIONS[key]
            lines += [f"{title}:", "", "```bibtex", bib, "```", ""]
    lines += ["## Publications", ""]
    rows = [
        [
            p["published_at"],
            f"{p['table']}@{p['version']}",
            p["split"],
            ", ".join(p["configs"]),
            ", ".join(r[:8] for r in p["runs"]),
            p.get("tag") or "",
        ]
        for p in xp["publications"]
    ]
    lines += _table(["published", "table version", "split", "configs", "runs", "Hub tag"], rows)
    lines += ["", END]
    return "\n".join(lines) + "\n"


def build_card(existing: str | None, push: Push) -> str:
    """The card text after ``push``: the existing card's metadata merged, the generated body
    rewritten, any text outside the generated block kept."""
    import yaml

    meta, body = split_card(existing)
    meta = build_metadata(meta, push)
    before, after = "", ""
    if BEGIN in body and END in body:
        before = body[: body.index(BEGIN)]
        after = body[body.index(END, body.index(BEGIN)) + len(END) :]
    elif body.strip():
        after = "\n" + body.strip() + "\n"
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{before}{render_body(meta, push.repo)}{after}"
