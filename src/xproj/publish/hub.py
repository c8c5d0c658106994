"""Publish a table version to the Hugging Face Hub as a dataset: Parquet per config and split,
a dataset card from the lineage, one commit and one tag per push.

Order of work, so that nothing is half done:

1. **Before any work**: the table spec and options are checked; unless ``dry_run``, the Hub must
   be reachable (``HF_HUB_OFFLINE`` set is XP601), a token must exist (``HF_TOKEN`` or the
   login that ``hf auth login`` stores: XP602 without one) and the Hub must accept it
   (``whoami``: XP603 refused, XP604 unreachable). The token is handed to ``HfApi`` only: it is
   never printed, logged, or written into a card, a file or the lake.
2. **The rows**: the committed rows of the table version (``Lake.read`` keeps committed runs
   only), filtered by ``runs`` and ``langs``, become configs (:mod:`xproj.publish.layouts`).
3. **The card**: the existing card (the folder's ``README.md`` for a dry run, else the repo's at
   ``revision``, read at its head commit) is merged with this push (:mod:`xproj.publish.card`).
4. **The folder**: Parquet files ``{config}/{split}-{i:05d}-of-{n:05d}.parquet`` and
   ``README.md``. A dry run writes them into ``dry_run`` (built beside it first, then moved in;
   files of a replaced config split are removed): the folder is the repository as it would be
   if it held what the folder held before, and loads with ``datasets.load_dataset(folder,
   config)``. A dry run has no network: it merges into the folder's card, not the Hub's, and
   cannot read a Hub source's licence.
5. **The upload**: ``create_repo`` (``exist_ok``, ``private``), ``create_branch`` for a
   ``revision`` that is not ``main``, one ``create_commit`` with the files added and the replaced
   ones deleted, on top of the commit the card was read at (``parent_commit``: a push that
   raced it fails and is run again), then ``create_tag`` on that commit:
   ``xproj-{table}-v{version}-{digest}`` (``-2``, ``-3`` … when the same rows are pushed again:
   a tag never moves), its message naming the table version, the split, the configs and the run
   ids. ``create_pr`` opens a pull request instead and tags nothing: the tag belongs on the
   merged commit.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xproj.publish.card import Push, as_list, build_card, known_class_names, split_card
from xproj.publish.layouts import (
    LANGUAGE_COLUMNS,
    Config,
    check_not_empty,
    check_qa_config_by,
    entitycs_configs,
    layout_of,
    ner_configs,
    qa_configs,
    table_configs,
)
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_HUB_FAILED,
    E_HUB_NO_TOKEN,
    E_HUB_OFFLINE,
    E_HUB_TOKEN_REFUSED,
    E_HUB_UNREACHABLE,
    ConfigError,
    HubError,
)

logger = logging.getLogger("xproj")

REPO_TYPE = "dataset"
_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Split names ``datasets`` accepts.
_SPLIT_RE = re.compile(r"^\w+(\.\w+)*$")
#: The licence ids the Hub's card metadata accepts (its documentation's list); any other
#: licence is ``other``, named in the card by hand.
HUB_LICENSES = frozenset(
    """apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m
    bigscience-bloom-rail-1.0 bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause
    bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0
    cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
    cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0
    etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc
    h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl
    openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr
    deepfloyd-if-license fair-noncommercial-research-license llama2 llama3 llama3.1 llama3.2
    llama3.3 llama4 gemma unknown other""".split()
)


def check_license(license: str, where: str = "--license") -> str:
    """``license`` if the Hub accepts it as a card's ``license``, else XP301."""
    if license not in HUB_LICENSES:
        close = difflib.get_close_matches(license.lower(), sorted(HUB_LICENSES), n=3)
        hint = f" Close: {', '.join(close)}." if close else ""
        raise ConfigError(
            f"licence {license!r} ({where}) is not one the Hub accepts in a card.{hint}",
            fix="give the Hub's id (cc-by-4.0, cc-by-sa-4.0, cc-by-nc-4.0, apache-2.0, mit, "
            "odc-by …; https://huggingface.co/docs/hub/repositories-licenses), or other for a "
            "licence it does not list (then name it in the card: license_name, license_link).",
            code=E_BAD_CONFIG,
        )
    return license


#: Tables of the lake's own bookkeeping: their lineage is in every card, not a dataset.
NOT_DATASETS = frozenset({"runs", "translation_cache"})
#: A Parquet file a publish writes: ``{config}/{split}-{i:05d}-of-{n:05d}.parquet``.
SHARD_FILE = re.compile(r"(?P<config>[^/]+)/(?P<split>\w+(?:\.\w+)*)-\d{5}-of-\d{5}\.parquet")


@dataclass(frozen=True, slots=True)
class TableSpec:
    """``TABLE[@VERSION]`` as the user wrote it."""

    table: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> TableSpec:
        """``projected@3`` (or ``projected@v3``, as ``xproj versions`` prints it) →
        ``TableSpec("projected", 3)``; ``paxqa`` → latest.

        Raises:
            ConfigError: XP301 for anything else.
        """
        match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:@\s*v?(\d+))?\s*", text or "")
        if not match:
            raise ConfigError(
                f"table {text!r} is not TABLE or TABLE@VERSION.",
                fix="write e.g. projected or projected@3 (xproj tables lists the tables).",
                code=E_BAD_CONFIG,
            )
        version = match.group(2)
        return cls(match.group(1), int(version) if version is not None else None)


@dataclass(slots=True)
class Published:
    """What a publish did.

    Attributes:
        repo: the Hub repository.
        table: the table published, and ``version`` its version.
        split: the split the rows went to.
        configs: config → rows written.
        rejected: config → reason → rows the layout could not write.
        files: the files written (relative to the folder), README.md last.
        removed: files of replaced config splits, removed from the folder or the repo.
        folder: the dry-run folder (None for an upload).
        tag: the Hub tag (made on upload).
        commit_url: the commit on the Hub, and ``pr_url`` its pull request (``create_pr``).
    """

    repo: str
    table: str
    version: int
    split: str
    configs: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    folder: str | None = None
    tag: str = ""
    commit_url: str | None = None
    pr_url: str | None = None
    runs: list[str] = field(default_factory=list)

    def render(self) -> str:
        """Lines for the CLI."""
        lines = []
        where = (
            f"folder {self.folder} (dry run)"
            if self.folder
            else f"https://huggingface.co/datasets/{self.repo}"
        )
        lines.append(f"published {self.table}@{self.version} ({self.split}) to {where}")
        for name, rows in self.configs.items():
            extra = self.rejected.get(name)
            not_written = (
                f" (not written: {', '.join(f'{k} {v}' for k, v in extra.items())})"
                if extra
                else ""
            )
            lines.append(f"  {name}: {rows} rows{not_written}")
        lines.append(f"  runs: {', '.join(self.runs)}")
        if self.removed:
            lines.append(f"  replaced: {', '.join(self.removed)}")
        if self.commit_url:
            lines.append(f"  commit: {self.commit_url}")
        if self.pr_url:
            lines.append(f"  pull request: {self.pr_url}")
        if self.tag:
            lines.append(f"  tag: {self.tag}" + (" (on upload)" if self.folder else ""))
        return "\n".join(lines)


# -- before any work -------------------------------------------------------------------------------


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def make_api() -> Any:
    """An ``HfApi`` with the user's token (``HF_TOKEN`` or the stored login).

    Raises:
        HubError: XP601 when ``HF_HUB_OFFLINE`` is set, XP602 without a token.
    """
    from huggingface_hub import HfApi, get_token

    from xproj.translators.store import hub_offline

    if hub_offline():
        raise HubError(
            "HF_HUB_OFFLINE is set, so nothing can be published; nothing was done.",
            fix="unset HF_HUB_OFFLINE on a machine that reaches the Hub (publish from there, with "
            "the lake copied or on shared storage); --dry-run DIR shows what would be uploaded.",
            code=E_HUB_OFFLINE,
        )
    token = get_token()
    if not token:
        raise HubError(
            "no Hugging Face token: HF_TOKEN is not set and no login is stored; nothing was done.",
            fix="set HF_TOKEN to a token with write access, or run `hf auth login`.",
            code=E_HUB_NO_TOKEN,
        )
    return HfApi(token=token)


def check_access(api: Any, repo: str) -> str:
    """The user the token belongs to (``whoami``), before any work.

    Raises:
        HubError: XP603 when the Hub refuses the token, XP604 when it cannot be reached.
    """
    from huggingface_hub.errors import HfHubHTTPError

    token = getattr(api, "token", None)
    try:
        who = api.whoami()
    except HfHubHTTPError as err:
        status = getattr(getattr(err, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(
                f"the Hub refused the token ({status}); nothing was done.",
                fix="check HF_TOKEN (or `hf auth login` again) and that the token may write "
                f"to {repo}.",
                code=E_HUB_TOKEN_REFUSED,
            ) from None
        raise HubError(
            f"the Hub answered {status} to whoami: {_scrub(str(err), token)}; nothing was done.",
            fix="try again later; https://status.huggingface.co says whether the Hub is down.",
            code=E_HUB_UNREACHABLE,
        ) from None
    except OSError as err:
        raise _unreachable(err, token) from None
    except Exception as err:  # the HTTP client's own errors are not OSErrors
        if _network_error(err):
            raise _unreachable(err, token) from None
        raise HubError(
            f"whoami failed ({type(err).__name__}: {_scrub(str(err), token)[:200]}); nothing "
            "was done.",
            fix="check HF_TOKEN and HF_ENDPOINT; run with --debug for the traceback.",
            code=E_HUB_UNREACHABLE,
        ) from None
    return str(who.get("name") or "")


def _network_error(err: BaseException) -> bool:
    """Whether ``err`` comes from the HTTP client (httpx, httpcore, requests, urllib3 and their
    renamed builds) rather than from the Hub's answer."""
    clients = ("httpx", "httpcore", "requests", "urllib3")
    return any(c.__module__.startswith(clients) for c in type(err).__mro__)


def _unreachable(err: BaseException, token: str | None) -> HubError:
    return HubError(
        f"cannot reach the Hub ({type(err).__name__}: {_scrub(str(err), token)[:200]}); "
        "nothing was done.",
        fix="check the network (HF_ENDPOINT if you use a mirror), or write the folder with "
        "--dry-run DIR and upload it later.",
        code=E_HUB_UNREACHABLE,
    )


def check_options(
    repo: str, split: str, config_by: str, revision: str | None, license: str | None
) -> None:
    from huggingface_hub.utils import validate_repo_id

    problem = None
    if not _REPO_RE.fullmatch(repo or ""):
        problem = "it is not OWNER/NAME"
    else:
        try:
            validate_repo_id(repo)
        except Exception as err:  # HFValidationError: the Hub's own rules
            problem = str(err).split("\n")[0]
    if problem:
        raise ConfigError(
            f"repository {repo!r} cannot be a Hub repository: {problem}.",
            fix="give --repo OWNER/NAME with letters, digits, '-', '_' and '.' (no '--' or "
            "'..', at most 96 characters), e.g. --repo my-org/conll-projected.",
            code=E_BAD_CONFIG,
        )
    if not _SPLIT_RE.fullmatch(split or ""):
        raise ConfigError(
            f"split {split!r} is not a split name datasets accepts.",
            fix="use letters, digits and '_' (train, validation, test, train_extra).",
            code=E_BAD_CONFIG,
        )
    if not _NAME_RE.fullmatch(config_by or ""):
        raise ConfigError(
            f"--config-by {config_by!r} is not language, none or a column name.",
            fix="use --config-by language (default) or none.",
            code=E_BAD_CONFIG,
        )
    if revision is not None and (
        not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_./-]*", revision) or ".." in revision
    ):
        raise ConfigError(
            f"revision {revision!r} is not a branch name.",
            fix="give a branch name of letters, digits, '_', '-', '.' and '/' (e.g. "
            "--revision v2-data), or leave --revision out to commit to main.",
            code=E_BAD_CONFIG,
        )
    if license is not None:
        check_license(license)


# -- rows → configs --------------------------------------------------------------------------------


def _select(lake: Any, spec: TableSpec, runs: Sequence[str], langs: Sequence[str]):
    """The committed rows of the table version, filtered by run ids and languages."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from xproj.catalog.lineage import full_run_id
    from xproj.schemas.errors import E_NOTHING_TO_EXPORT, E_UNKNOWN_VERSION, CatalogError
    from xproj.schemas.languages import normalize_lang

    if spec.table in NOT_DATASETS:
        raise ConfigError(
            f"{spec.table} is the lake's own bookkeeping, not a dataset: the card of every "
            "publish already carries the lineage of its runs.",
            fix="publish a table of run outputs (projected, paxqa, entitycs_cs, outcomes …).",
            code=E_BAD_CONFIG,
        )
    version = spec.version if spec.version is not None else lake.latest_version(spec.table)
    if version is None:
        raise CatalogError(
            f"table {spec.table!r} has no version yet, so there is nothing to publish.",
            fix="run a flow that writes it first (xproj tables lists what the lake holds).",
            code=E_UNKNOWN_VERSION,
        )
    data = lake.read(spec.table, version)
    if runs:
        present = set(data["run_id"].to_pylist()) if "run_id" in data.column_names else set()
        runs = [full_run_id(r, present, f"{spec.table}@{version}") for r in runs]
        missing = [r for r in runs if r not in present]
        if missing:
            raise CatalogError(
                f"{spec.table}@{version} holds no committed rows of run(s) {', '.join(missing)}.",
                fix=f"list the runs with: xproj versions {spec.table}",
                code=E_NOTHING_TO_EXPORT,
            )
        data = data.filter(pc.is_in(data["run_id"], value_set=pa.array(list(runs), pa.string())))
    if langs:
        column = LANGUAGE_COLUMNS.get(spec.table)
        if column is None:
            raise ConfigError(
                f"table {spec.table!r} has no language column to filter by.",
                fix="leave --lang out for this table.",
                code=E_BAD_CONFIG,
            )
        wanted = [normalize_lang(lang) for lang in langs]
        data = data.filter(pc.is_in(data[column], value_set=pa.array(wanted, pa.string())))
    return version, data


def _entitycs_tags(run_rows: Sequence[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Run id → the run's switch tag templates (``switch.open_tag`` / ``close_tag``)."""
    from xproj.io.exports.entitycs import switch_tags

    return {
        run["run_id"]: switch_tags(json.loads(run.get("parameters") or "{}")) for run in run_rows
    }


def check_layout_options(table: str, config_by: str, tokenizer: str | None) -> None:
    """The options a table's layout takes (XP301 otherwise), before any row is read."""
    kind = layout_of(table).kind
    if tokenizer is not None and kind != "entitycs":
        raise ConfigError(
            f"--tokenizer is for EntityCS exports; {table} does not use one.",
            fix="leave --tokenizer out.",
            code=E_BAD_CONFIG,
        )
    if kind != "table" and config_by not in ("language", "none"):
        raise ConfigError(
            f"--config-by {config_by!r}: {table} is published by language or as one config.",
            fix="use --config-by language or --config-by none.",
            code=E_BAD_CONFIG,
        )
    if kind == "qa":
        check_qa_config_by(config_by)


def build_configs(
    lake: Any,
    table: str,
    data: Any,
    config_by: str,
    *,
    known_names: Sequence[str] = (),
    tokenizer: str | None = None,
    run_rows: Sequence[dict[str, Any]] = (),
    with_english: bool = True,
) -> list[Config]:
    """The configs of ``data`` (rows of ``table``) in the table's layout; for EntityCS also the
    English sentences of its runs (``with_english``)."""
    kind = layout_of(table).kind
    check_layout_options(table, config_by, tokenizer)
    if kind == "ner":
        return ner_configs(data.to_pylist(), config_by, known_names)
    if kind == "qa":
        return qa_configs(data.to_pylist(), config_by)
    if kind == "entitycs":
        rows = data.to_pylist()
        if with_english:  # the English sentences of the same runs: config ``en``
            english = lake.read("entitycs_en", filter=_of_runs({r["run_id"] for r in rows}))
            rows = english.to_pylist() + rows
        loaded = None
        if tokenizer is not None:
            from xproj.io.exports.entitycs import load_tokenizer

            loaded = load_tokenizer(tokenizer)
        return entitycs_configs(rows, config_by, tokenizer=loaded, tags=_entitycs_tags(run_rows))
    return table_configs(table, data, config_by)


# -- licence ------------------------------------------------------------------------------------------


def _first_license(meta: Any) -> str | None:
    """The (first) licence a card's metadata states, or None."""
    values = as_list(meta.get("license") if hasattr(meta, "get") else None)
    return values[0] if values else None


def source_licenses(run_rows: Sequence[dict[str, Any]], api: Any = None) -> dict[str, str]:
    """Input → the licence its dataset card states: a local dataset folder's ``README.md``, or
    (with ``api``) a Hub dataset's card. Inputs whose card says nothing are left out."""
    found: dict[str, str] = {}
    for run in run_rows:
        for ref in run.get("inputs") or []:
            if ref["name"] not in ("source", "contexts", "input"):
                continue
            where = Path(ref["ref"])
            card = where / "README.md" if where.is_dir() else where.parent / "README.md"
            if ref.get("sha256") and card.is_file():
                text = card.read_text(encoding="utf-8")
                license_ = _first_license(split_card(text, str(card))[0])
            elif not ref.get("sha256") and ref.get("version") is None and api is not None:
                try:
                    info = api.dataset_info(ref["ref"])
                    license_ = _first_license(getattr(info, "card_data", None) or {})
                except Exception as err:  # the card is a courtesy: say so, go on
                    logger.warning(
                        "could not read the card of %s (%s)", ref["ref"], type(err).__name__
                    )
                    license_ = None
            else:
                license_ = None
            if license_:
                found[ref["ref"]] = license_
    return found


def choose_license(given: str | None, inherited: dict[str, str], existing: str | None) -> str:
    """The card's licence: the one given, else the sources' (when they agree), else the card's.

    Raises:
        ConfigError: XP301 when none is known, or the sources disagree and none is given.
    """
    values = sorted(set(inherited.values()))
    if given:
        if values and given not in values:
            logger.warning(
                "--license %s differs from the source data's licence (%s): check that it allows this",
                given,
                ", ".join(values),
            )
        return given
    for ref, value in sorted(inherited.items()):
        check_license(value, f"the card of {ref}")
    if len(values) == 1:
        return values[0]
    if len(values) > 1:
        raise ConfigError(
            "the sources state different licences ("
            + ", ".join(f"{k}: {v}" for k, v in sorted(inherited.items()))
            + "), so the card's cannot be inherited.",
            fix="give the licence of the published data with --license ID (publish.license in a "
            "flow config).",
            code=E_BAD_CONFIG,
        )
    if existing:
        return existing
    raise ConfigError(
        "the licence of the data is unknown: its sources have no dataset card that states one.",
        fix="give the licence the source data allows with --license ID (publish.license in a "
        "flow config), e.g. cc-by-4.0, cc-by-sa-4.0, other.",
        code=E_BAD_CONFIG,
    )


# -- the folder ------------------------------------------------------------------------------------------


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")


def config_files(config: Config, split: str) -> dict[str, Config | Any]:
    """Relative path → Arrow table, for each Parquet file of ``config``'s ``split``."""
    shards = config.shards()
    n = len(shards)
    return {
        f"{config.name}/{split}-{i:05d}-of-{n:05d}.parquet": shard for i, shard in enumerate(shards)
    }


def _replaced(
    existing: Sequence[str], configs: Sequence[Config], split: str, new: set[str]
) -> list[str]:
    """Existing files of the config splits this push replaces, that it does not write again."""
    names = {c.name for c in configs}
    return sorted(
        f
        for f in existing
        if (m := SHARD_FILE.fullmatch(f))
        and m.group("config") in names
        and m.group("split") == split
        and f not in new
    )


def write_folder(
    root: Path, configs: Sequence[Config], split: str, card: str, existing: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """Write the Parquet files and ``README.md`` into ``root``; remove the files of the replaced
    config splits among ``existing``. Files are written beside ``root`` first and moved in once
    all are complete, README.md last. Returns ``(written, removed)``."""
    root.mkdir(parents=True, exist_ok=True)
    planned: dict[str, Any] = {}
    for config in configs:
        planned.update(config_files(config, split))
    removed = _replaced(existing, configs, split, set(planned))
    work = Path(tempfile.mkdtemp(prefix=".xproj-publish-", dir=root))
    try:
        for rel, table in planned.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            _write_parquet(table, work / rel)
        (work / "README.md").write_text(card, encoding="utf-8")
        for rel in planned:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(work / rel, root / rel)
        for rel in removed:
            (root / rel).unlink(missing_ok=True)
        os.replace(work / "README.md", root / "README.md")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [*planned, "README.md"], removed


def _folder_files(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    files = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return sorted(f for f in files if not f.startswith("."))  # a failed publish's work folder


# -- the push -----------------------------------------------------------------------------------------------


def free_tag(name: str, taken: frozenset[str]) -> str:
    """``name``, or ``name-2``, ``name-3`` … when taken (the same rows pushed again): a tag
    never moves to another commit.

    Example:
        >>> free_tag("t", frozenset({"t", "t-2"}))
        't-3'
    """
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def tag_name(
    table: str, version: int, split: str, configs: Sequence[Config], revision: str | None = None
) -> str:
    """``xproj-{table}-v{version}-{digest}``: the digest names the branch, split, configs and
    runs, so pushing the same rows to the same branch again gives the same tag."""
    key = json.dumps(
        [
            revision or "main",
            split,
            sorted(c.name for c in configs),
            sorted({r for c in configs for r in c.runs}),
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"xproj-{table.replace('_', '-')}-v{version}-{digest}"


@dataclass(slots=True)
class _Remote:
    """What the repository holds at the revision published to."""

    card: str | None = None
    files: list[str] = field(default_factory=list)
    exists: bool = False
    #: the commit the card was read at: the upload commits on top of it or fails
    head: str | None = None
    #: the repository's tags
    tags: frozenset[str] = frozenset()


def _remote(api: Any, repo: str, revision: str | None) -> _Remote:
    """The card, files and head commit of the repo at ``revision`` (main for a new branch)."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        info = api.repo_info(repo, repo_type=REPO_TYPE, revision=revision)
    except RepositoryNotFoundError:
        return _Remote()
    except RevisionNotFoundError:  # a new branch: it starts from main
        info = api.repo_info(repo, repo_type=REPO_TYPE)
        revision = None
    files = api.list_repo_files(repo, repo_type=REPO_TYPE, revision=info.sha)
    tags = frozenset(t.name for t in api.list_repo_refs(repo, repo_type=REPO_TYPE).tags)
    remote = _Remote(None, files, True, info.sha, tags)
    if "README.md" in files:
        try:
            path = api.hf_hub_download(repo, "README.md", repo_type=REPO_TYPE, revision=info.sha)
        except EntryNotFoundError:
            return remote
        remote.card = Path(path).read_text(encoding="utf-8")
    return remote


def publish(
    table: str,
    repo: str,
    *,
    lake: Any = None,
    config_by: str = "language",
    split: str = "train",
    runs: Sequence[str] = (),
    langs: Sequence[str] = (),
    private: bool = False,
    create_pr: bool = False,
    revision: str | None = None,
    dry_run: str | os.PathLike[str] | None = None,
    license: str | None = None,
    pretty_name: str | None = None,
    tokenizer: str | None = None,
    api: Any = None,
) -> Published:
    """Publish ``table`` (``TABLE[@VERSION]``) to the Hub repo ``repo`` (see the module docstring).

    Args:
        table: ``projected``, ``projected@3``, ``paxqa``, ``entitycs_cs`` or any table.
        repo: ``OWNER/NAME`` of the dataset repository.
        lake: a ``Lake`` or its root (None: ``$XPROJ_LAKE`` or ./data/lake).
        config_by: ``language`` (one config per language), ``none``, or (other tables) a column.
        split: the split the rows go to.
        runs: publish only the rows of these runs.
        langs: publish only these languages.
        private: create the repository private.
        create_pr: open a pull request instead of committing to the branch.
        revision: the branch to commit to (created from main when missing).
        dry_run: write the folder here instead of uploading (no network, no token).
        license: the data's licence for the card (default: the sources', or the card's).
        pretty_name: the card's title.
        tokenizer: EntityCS: a local fast tokenizer for token ids in the export.
        api: an ``HfApi``-like client (tests pass a fake); default :func:`make_api`.

    Raises:
        HubError: XP601–XP605 (offline, no token, refused, unreachable, upload failed).
        ConfigError, CatalogError: bad options, unknown table, version or run, nothing to publish.
    """
    from xproj.catalog import Lake

    spec = TableSpec.parse(table)
    check_options(repo, split, config_by, revision, license)
    folder = Path(dry_run) if dry_run is not None else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"--dry-run {str(folder)!r} is a file.",
            fix="give a folder (new, or one an earlier publish of this repository wrote).",
            code=E_BAD_CONFIG,
        )
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    if folder is None:
        api = api if api is not None else make_api()
        user = check_access(api, repo)
        logger.info("publishing %s to %s as %s", table, repo, user or "(unknown user)")
    version, data = _select(lake, spec, runs, langs)

    if folder is None:
        try:
            remote = _remote(api, repo, revision)
        except Exception as err:
            raise _hub_failed("reading the repository", err, api) from None
    else:
        card_path = folder / "README.md"
        text = card_path.read_text(encoding="utf-8") if card_path.is_file() else None
        remote = _Remote(text, _folder_files(folder), True)
    meta, _ = split_card(
        remote.card, str(folder / "README.md") if folder is not None else f"{repo}/README.md"
    )

    run_ids = sorted(set(data["run_id"].to_pylist())) if "run_id" in data.column_names else []
    run_rows = _run_rows(lake, run_ids)
    license_ = choose_license(
        license, source_licenses(run_rows, api if folder is None else None), meta.get("license")
    )
    configs = build_configs(
        lake,
        spec.table,
        data,
        config_by,
        known_names=known_class_names(meta),
        tokenizer=tokenizer,
        run_rows=run_rows,
        with_english=not langs or "en" in langs,
    )
    check_not_empty(spec.table, version, configs, _filters(runs, langs))
    _check_folders(configs, meta, remote.files)
    for config in configs:
        logger.info("%s/%s: %d rows", config.name, split, config.rows)
    push = Push(
        repo=repo,
        table=spec.table,
        version=version,
        split=split,
        layout=layout_of(spec.table),
        configs=configs,
        runs=run_rows,
        evaluations=_evaluations(lake, run_ids),
        published_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        tag=""
        if create_pr
        else free_tag(tag_name(spec.table, version, split, configs, revision), remote.tags),
        license=license_,
        pretty_name=pretty_name,
        tokenizer=Path(tokenizer).name if tokenizer else None,
    )
    card = build_card(remote.card, push)
    result = Published(
        repo,
        spec.table,
        version,
        split,
        configs={c.name: c.rows for c in configs},
        rejected={c.name: c.rejected for c in configs if c.rejected},
        tag=push.tag,
        runs=run_ids,
    )
    if folder is not None:
        result.files, result.removed = write_folder(folder, configs, split, card, remote.files)
        result.folder = str(folder)
        return result
    with tempfile.TemporaryDirectory(prefix="xproj-publish-") as work:
        # written into an empty folder; what it replaces is deleted from the repo by the commit
        result.files, result.removed = write_folder(Path(work), configs, split, card, remote.files)
        _upload(
            api, Path(work), result, remote, private=private, create_pr=create_pr, revision=revision
        )
    return result


def _check_folders(configs: Sequence[Config], meta: dict[str, Any], files: Sequence[str]) -> None:
    """Refuse a config whose folder (or name) holds files xproj did not write: a hand-made
    config's data, or a file at the top of the repository."""
    ours = set((meta.get("xproj") or {}).get("configs") or {})
    for config in configs:
        name = config.name
        foreign = [
            f
            for f in files
            if f == name
            or (f.startswith(name + "/") and not (name in ours and SHARD_FILE.fullmatch(f)))
        ]
        if foreign:
            raise ConfigError(
                f"config {name!r} would write into {foreign[0]!r}, which xproj did not write.",
                fix="publish under other config names (--config-by), or into another repository.",
                code=E_BAD_CONFIG,
            )


def _filters(runs: Sequence[str], langs: Sequence[str]) -> str:
    parts = []
    if runs:
        parts.append(f"runs {', '.join(runs)}")
    if langs:
        parts.append(f"languages {', '.join(langs)}")
    return f" for {' and '.join(parts)}" if parts else ""


def _of_runs(run_ids: Iterable[str]) -> Any:
    """A row filter: the rows of these runs."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.is_in(pc.field("run_id"), pa.array(sorted(run_ids), pa.string()))


def _run_rows(lake: Any, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not run_ids:
        return []
    rows = lake.read("runs", filter=_of_runs(run_ids))
    return sorted(rows.to_pylist(), key=lambda r: (r["finished_at"], r["run_id"]))


def _evaluations(lake: Any, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The micro-average ``evaluations`` rows of ``run_ids``: scored during a run (its own
    ``run_id``) or later by ``xproj eval … --run ID`` (``params.run``), each with ``run_id`` set to
    the run it scores."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from xproj.projectors.metrics import MICRO

    if not run_ids or lake.latest_version("evaluations") is None:
        return []
    wanted = set(run_ids)
    rows = lake.read(
        "evaluations", filter=pc.is_in(pc.field("label"), pa.array([MICRO, "ALL"], pa.string()))
    ).to_pylist()
    out = []
    for row in rows:
        try:
            scored = json.loads(row.get("params") or "{}").get("run")
        except (ValueError, AttributeError):
            scored = None
        run = row["run_id"] if row["run_id"] in wanted else scored
        if run in wanted:
            out.append({**row, "run_id": run})
    return sorted(out, key=lambda r: (r["created_at"], r["eval_id"]))


def _hub_failed(doing: str, err: BaseException, api: Any) -> HubError:
    token = getattr(api, "token", None)
    return HubError(
        f"the Hub failed while {doing} ({type(err).__name__}: {_scrub(str(err), token)[:300]}).",
        fix="nothing was committed unless the message says so. A 401/403 means the token may "
        "not write to this repository (give a write token in HF_TOKEN); otherwise run the same "
        "command again.",
        code=E_HUB_FAILED,
    )


def _upload(
    api: Any,
    folder: Path,
    result: Published,
    remote: _Remote,
    *,
    private: bool,
    create_pr: bool,
    revision: str | None,
) -> None:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    repo = result.repo
    try:
        api.create_repo(repo, repo_type=REPO_TYPE, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo, branch=revision, repo_type=REPO_TYPE, exist_ok=True)
        if not remote.exists:  # made just now: commit on top of its first commit, unless
            # another push made it meanwhile and already wrote a card this one did not merge
            head = api.repo_info(repo, repo_type=REPO_TYPE, revision=revision)
            if "README.md" in api.list_repo_files(repo, repo_type=REPO_TYPE, revision=head.sha):
                raise HubError(
                    f"{repo} was created by another push while this one was prepared; nothing "
                    "was committed.",
                    fix="run the same command again: it merges into that push's card.",
                    code=E_HUB_FAILED,
                )
            remote.head = head.sha
    except HubError:
        raise
    except Exception as err:
        raise _hub_failed(f"creating {repo}", err, api) from None
    operations = [
        CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(folder / rel))
        for rel in result.files
    ]
    operations += [CommitOperationDelete(path_in_repo=rel) for rel in result.removed]
    message = (
        f"xproj publish {result.table}@{result.version} ({result.split}: "
        f"{', '.join(result.configs)})"
    )
    description = "\n".join(
        [
            f"Table {result.table} version {result.version}, split {result.split}.",
            "Configs: " + ", ".join(f"{k} ({v} rows)" for k, v in result.configs.items()) + ".",
            "Runs: " + ", ".join(result.runs) + ".",
        ]
    )
    logger.info("uploading %d files to %s", len(result.files), repo)
    try:
        commit = api.create_commit(
            repo,
            operations,
            commit_message=message,
            commit_description=description,
            repo_type=REPO_TYPE,
            revision=revision,
            create_pr=create_pr,
            # the card merged what the repo held at this commit: refuse if it moved since
            parent_commit=None if create_pr else remote.head,
        )
    except Exception as err:
        status = getattr(getattr(err, "response", None), "status_code", None)
        if status in (409, 412):
            raise HubError(
                f"{repo} changed while this publish was being prepared (another push?); "
                "nothing was committed.",
                fix="run the same command again: it merges into the card as it is now.",
                code=E_HUB_FAILED,
            ) from None
        raise _hub_failed(f"committing to {repo}", err, api) from None
    result.commit_url = getattr(commit, "commit_url", None)
    result.pr_url = getattr(commit, "pr_url", None)
    if create_pr:
        logger.info("pull request %s: tag the merged commit, not this one", result.pr_url)
        return
    _tag(api, repo, result, commit.oid, message)


def _tag(api: Any, repo: str, result: Published, oid: str, message: str) -> None:
    """Tag commit ``oid`` with the push's tag (free when the card was read)."""
    try:
        api.create_tag(
            repo,
            tag=result.tag,
            tag_message=f"{message}; runs {', '.join(result.runs)}",
            revision=oid,
            repo_type=REPO_TYPE,
        )
    except Exception as err:
        raise HubError(
            f"the files were committed ({result.commit_url}), but tagging failed "
            f"({type(err).__name__}).",
            fix=f"tag the commit by hand: hf repo tag create {repo} {result.tag} "
            f"--revision {oid} --repo-type dataset",
            code=E_HUB_FAILED,
        ) from None
