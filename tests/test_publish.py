"""``xproj publish``: dry-run folders that ``datasets`` loads with the declared features, dataset
cards from the lineage that later pushes merge into, and the upload path against a fake HfApi
(never the network) with a sentinel token that must appear nowhere."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow.compute as pc
import pytest

from tests.conftest import REPO
from xproj.catalog import Lake, query
from xproj.flows.config import ProjectParallelConfig
from xproj.publish.layouts import natural_key
from xproj.schemas.errors import CatalogError, ConfigError, HubError, InputFormatError

SAMPLES = REPO / "data" / "samples" / "ner"
SENTINEL = "hf_SENTINELtoken0123456789abcdefXYZ"
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _project(lake_root: Path, lang: str, **kw) -> str:
    from xproj.flows.project_parallel import project_parallel

    config = ProjectParallelConfig(
        name=f"sample-en-{lang}",
        source={"path": str(SAMPLES / "sample.en.conll"), "lang": "en"},
        target={"path": str(SAMPLES / f"sample.{lang}.conll"), "lang": lang},
        lake=str(lake_root),
        **kw,
    )
    return project_parallel.fn(config).run_id


@pytest.fixture(scope="module")
def ner_lake(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A lake with two committed projection runs (en→de, en→es) of the shipped sample."""
    root = tmp_path_factory.mktemp("ner-lake")
    return root, {lang: _project(root, lang) for lang in ("de", "es")}


def _load(folder: Path, config: str):
    """``load_dataset(folder, config)``, cached beside the folder: ``datasets`` reads its cache
    setting once at import, and a shared cache can hand back another folder's rows."""
    from datasets import load_dataset

    return load_dataset(
        str(folder), config, cache_dir=str(folder.parent / f".hf-cache-{folder.name}")
    )


def _card(folder: Path):
    from huggingface_hub import DatasetCard

    return DatasetCard.load(folder / "README.md")


def _iob2(n: int, spans) -> list[str]:
    tags = ["O"] * n
    for s in spans:
        tags[s["start"]] = f"B-{s['label']}"
        for k in range(s["start"] + 1, s["end"]):
            tags[k] = f"I-{s['label']}"
    return tags


# -- projected NER ----------------------------------------------------------------------------------


def test_publish_ner_dry_run_loads_with_features_and_card(ner_lake, tmp_path):
    from xproj.publish import publish

    root, runs = ner_lake
    out = tmp_path / "ner"
    result = publish("projected", "me/sample-ner", lake=root, dry_run=out, license="cc-by-4.0")
    assert result.configs == {"de": 36, "es": 36} and result.folder == str(out)
    assert sorted(result.runs) == sorted(runs.values())
    lake = Lake(root)
    names = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    for lang in ("de", "es"):
        rows = query(lake, f"SELECT * FROM projected WHERE tgt_lang = '{lang}'").to_pylist()
        rows.sort(key=lambda r: natural_key(r["pair_id"]))  # ids in number order
        ds = _load(out, lang)["train"]
        assert ds.num_rows == len(rows) == 36
        tag_feature = ds.features["ner_tags"].feature
        assert tag_feature.names == names
        assert ds.features["source_ner_tags"].feature.names == names
        for got, row in zip(ds, rows, strict=True):
            assert got["id"] == row["pair_id"] and got["tokens"] == row["tgt_tokens"]
            tags = [tag_feature.int2str(t) for t in got["ner_tags"]]
            assert tags == _iob2(len(row["tgt_tokens"]), row["tgt_spans"])
            assert got["spans"] == [dict(s) for s in row["tgt_char_spans"]]
            for span in got["spans"]:
                assert got["text"][span["start"] : span["end"]].strip()
            assert got["source_tokens"] == row["src_tokens"]
    card = _card(out)
    data = card.data.to_dict()
    assert CARD_FIELDS <= set(data)
    assert data["language"] == ["de", "en", "es"]
    assert data["language_details"] == "de-Latn, en-Latn, es-Latn"
    assert data["license"] == "cc-by-4.0"
    assert data["task_categories"] == ["token-classification"]
    assert data["task_ids"] == ["named-entity-recognition"]
    assert data["annotations_creators"] == ["machine-generated"]
    assert data["language_creators"] == ["found"]  # the targets are given, not translated
    assert data["multilinguality"] == ["multilingual", "translation"]
    assert data["source_datasets"] == ["extended"]
    assert data["size_categories"] == ["n<1K"]
    assert data["pretty_name"] == "sample ner"
    assert "xproj" in data["tags"] and "label-projection" in data["tags"]
    assert [c["config_name"] for c in data["configs"]] == ["de", "es"]
    assert data["configs"][0]["data_files"] == [{"split": "train", "path": "de/train-*"}]
    assert {i["config_name"] for i in data["dataset_info"]} == {"de", "es"}
    # the body, from the lineage: per-language projection rate, gold quality, the command
    text = card.text
    metrics = json.loads(
        query(lake, f"SELECT metrics FROM runs WHERE run_id = '{runs['de']}'")["metrics"][0].as_py()
    )
    gold = metrics["gold"]["_micro"]
    assert f"| micro | {gold['precision']:.3f} | {gold['recall']:.3f} | {gold['f1']:.3f}" in text
    spans = metrics["tallies"]["spans"]["by"]["de"]
    assert f"| de | {spans['total']} | {spans['kept']} | {spans['rate']:.1%} |" in text
    assert "xproj project -c run.yaml" in text and "sample.en.conll" in text
    assert "@article{ostling-tiedemann-2016-efficient" in text  # eflomal is cited
    assert str(REPO) not in (out / "README.md").read_text()  # no local paths in the card


def test_publish_second_push_keeps_the_first_config(ner_lake, tmp_path):
    from xproj.publish import publish

    root, runs = ner_lake
    out = tmp_path / "repo"
    (out).mkdir()
    (out / "README.md").write_text("A note the owner wrote by hand.\n")
    publish("projected", "me/ner", lake=root, dry_run=out, runs=[runs["de"]], license="mit")
    first = _card(out).data.to_dict()
    assert [c["config_name"] for c in first["configs"]] == ["de"]
    result = publish("projected", "me/ner", lake=root, dry_run=out, langs=["es"])
    assert result.configs == {"es": 36} and result.removed == []
    stale = out / "es" / "train-00000-of-00002.parquet"  # as if es had had two files
    stale.write_bytes(b"old")
    again = publish("projected", "me/ner", lake=root, dry_run=out, langs=["es"])
    assert again.removed == ["es/train-00000-of-00002.parquet"] and not stale.exists()
    card = _card(out)
    data = card.data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["de", "es"]
    assert {i["config_name"] for i in data["dataset_info"]} == {"de", "es"}
    assert data["license"] == "mit"  # kept from the card: this push gave none
    assert len(data["xproj"]["publications"]) == 2
    assert set(data["xproj"]["runs"]) == set(runs.values())
    assert "A note the owner wrote by hand." in card.text
    assert card.text.count("### Run ") == 2
    assert _load(out, "de")["train"].num_rows == 36  # the first config still loads
    assert _load(out, "es")["train"].num_rows == 36


def test_publish_refuses_rows_of_two_runs_with_the_same_ids(tmp_path):
    from xproj.publish import publish

    first = _project(tmp_path / "lake", "es")
    second = _project(tmp_path / "lake", "es", force=True)
    with pytest.raises(ConfigError) as err:
        publish("projected", "me/x", lake=tmp_path / "lake", dry_run=tmp_path / "o", license="mit")
    assert first in str(err.value) and second in str(err.value) and "--run" in str(err.value)
    assert not (tmp_path / "o" / "README.md").exists()
    ok = publish(
        "projected",
        "me/x",
        lake=tmp_path / "lake",
        dry_run=tmp_path / "o",
        runs=[second],
        license="mit",
    )
    assert ok.configs == {"es": 36}


@pytest.mark.parametrize(
    ("spec", "kwargs", "error", "needle"),
    [
        ("projected@x", {}, ConfigError, "TABLE@VERSION"),
        ("nosuch", {}, CatalogError, "XP401"),
        ("projected@99", {}, CatalogError, "XP402"),
        ("projected", {"runs": ["feedbeef"]}, CatalogError, "feedbeef"),
        ("projected", {"repo": "no-owner"}, ConfigError, "OWNER/NAME"),
        ("projected", {"split": "tr ain"}, ConfigError, "split"),
        ("projected", {"license": None}, ConfigError, "--license"),
        ("projected", {"langs": ["zz-nope"]}, Exception, "XP201"),
        ("projected", {"config_by": "src_lang"}, ConfigError, "--config-by"),
        ("projected", {"repo": "me/x..y"}, ConfigError, "cannot be a Hub repository"),
        ("projected", {"split": "train-extra"}, ConfigError, "split"),
        ("projected", {"license": "not a licence"}, ConfigError, "not one the Hub accepts"),
        ("projected", {"license": "my-own-licence"}, ConfigError, "not one the Hub accepts"),
        ("projected", {"split": "train\n"}, ConfigError, "split"),
        ("projected", {"tokenizer": "xlm-roberta-base"}, ConfigError, "--tokenizer"),
        ("projected", {"revision": "a..b"}, ConfigError, "branch name"),
        ("runs", {}, ConfigError, "bookkeeping"),
        ("outcomes", {"config_by": "src_text"}, ConfigError, "cannot be a config name"),
    ],
)
def test_publish_bad_requests_are_coded_errors(ner_lake, tmp_path, spec, kwargs, error, needle):
    from xproj.publish import publish

    root, _ = ner_lake
    args = {"repo": "me/x", "license": "mit", **kwargs}
    with pytest.raises(error) as err:
        publish(spec, args.pop("repo"), lake=root, dry_run=tmp_path / "o", **args)
    assert needle in str(err.value)
    assert not (tmp_path / "o" / "README.md").exists()


def test_publish_block_of_a_flow_publishes_its_committed_run(tmp_path):
    out = tmp_path / "after"
    run_id = _project(
        tmp_path / "lake", "fr", publish={"repo": "me/fr", "dry_run": str(out), "license": "mit"}
    )
    data = _card(out).data.to_dict()
    assert list(data["xproj"]["runs"]) == [run_id]
    assert _load(out, "fr")["train"].num_rows == 36


# -- PAXQA ------------------------------------------------------------------------------------------


def test_publish_paxqa_squad_configs_per_direction(tmp_path, tiny_mt_models, tiny_qg_model):
    from tests.test_flows_paxqa import _bitext, _config
    from xproj.flows.paxqa import paxqa
    from xproj.publish import publish

    cfg = _config(tmp_path, tiny_mt_models, tiny_qg_model, {"path": str(_bitext(tmp_path))})
    run_id = paxqa.fn(cfg).run_id
    rows = Lake(cfg.lake).read("paxqa", filter=pc.field("run_id") == run_id).to_pylist()
    assert rows
    out = tmp_path / "qa"
    result = publish("paxqa", "me/qa-de", lake=cfg.lake, dry_run=out, license="cc-by-sa-4.0")
    assert result.configs == {
        name: len(rows) for name in ("de.de-de", "de.de-en", "de.en-de", "de.en-en")
    }
    by_id = {r["id"]: r for r in rows}
    sides = {
        "de.en-en": ("en", "en"),
        "de.de-de": ("x", "x"),
        "de.en-de": ("en", "x"),
        "de.de-en": ("x", "en"),
    }
    for name, (q, c) in sides.items():
        ds = _load(out, name)["train"]
        assert ds.num_rows == len(rows)
        assert set(ds.features) == {"id", "title", "context", "question", "answers"}
        assert ds.features["answers"]["answer_start"].feature.dtype == "int32"
        for got in ds:
            row = by_id[got["id"]]
            assert got["question"] == row[f"question_{q}"] and got["context"] == row[f"context_{c}"]
            assert got["answers"] == {k: list(v) for k, v in row[f"answers_{c}"].items()}
            for text, start in zip(
                got["answers"]["text"], got["answers"]["answer_start"], strict=True
            ):
                assert got["context"][start : start + len(text)] == text
    data = _card(out).data.to_dict()
    assert CARD_FIELDS <= set(data)
    assert data["task_categories"] == ["question-answering"] and data["task_ids"] == [
        "extractive-qa"
    ]
    assert data["language"] == ["de", "en"]
    assert data["language_creators"] == ["machine-generated"]
    assert "@inproceedings{li-callison-burch-2023-paxqa" in _card(out).text


# -- EntityCS ---------------------------------------------------------------------------------------


def test_publish_entitycs_training_export(tmp_path):
    from tests.entitycs_samples import small_entitycs_config
    from tests.test_entitycs_export import build_tokenizer
    from xproj.flows.entitycs import entitycs
    from xproj.publish import publish

    config = small_entitycs_config(tmp_path)
    run_id = entitycs.fn(config).run_id
    tokenizer = build_tokenizer("wordpiece", tmp_path / "tok")
    out = tmp_path / "cs"
    result = publish(
        "entitycs_cs",
        "me/cs",
        lake=config.lake,
        dry_run=out,
        license="cc-by-sa-4.0",
        tokenizer=str(tokenizer),
    )
    lake = Lake(config.lake)
    counts = {
        r["language"]: r["n"]
        for r in query(
            lake, "SELECT language, count(*) AS n FROM entitycs_cs GROUP BY ALL"
        ).to_pylist()
    }
    counts["en"] = query(lake, "SELECT count(*) AS n FROM entitycs_en")["n"][0].as_py()
    assert result.configs == counts and result.rejected == {}
    for name, n in counts.items():
        ds = _load(out, name)["train"]
        assert ds.num_rows == n
        assert list(ds.features) == [
            "id",
            "language",
            "text",
            "input_ids",
            "attention_mask",
            "entity_ids",
            "entity_spans",
        ]
        for row in ds:
            assert "<" not in row["text"]  # tags removed
            assert len(row["input_ids"]) == len(row["entity_ids"]) == len(row["attention_mask"])
            assert set(range(len(row["entity_spans"]))) <= set(row["entity_ids"])
    data = _card(out).data.to_dict()
    assert CARD_FIELDS <= set(data)
    assert data["task_categories"] == ["fill-mask"]
    assert data["xproj"]["configs"]["de"]["splits"]["train"]["tokenizer"] == "tok"
    assert list(data["xproj"]["runs"]) == [run_id]


# -- the upload path --------------------------------------------------------------------------------


def _response(status: int):
    """An HTTP response as the Hub's errors carry one (status, headers, request)."""
    return SimpleNamespace(status_code=status, headers={}, request=None)


class FakeHub:
    """One repository's state on a pretend Hub: branches (head commit and files) and tags."""

    def __init__(self):
        self.exists = False
        self.branches: dict[str, dict] = {}
        self.tags: dict[str, str] = {}
        self.commits = 0


class FakeHfApi:
    """Records every call against a shared :class:`FakeHub`, so a later push reads what an
    earlier one committed. Never touches the network."""

    instances: list[FakeHfApi] = []
    hub = FakeHub()

    def __init__(self, token=None, endpoint=None, **_):
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.whoami_error: Exception | None = None
        FakeHfApi.instances.append(self)

    def whoami(self, token=None, **_):
        self.calls.append(("whoami", {}))
        if self.whoami_error is not None:
            raise self.whoami_error
        return {"name": "me"}

    def _branch(self, revision):
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        if not self.hub.exists:
            raise RepositoryNotFoundError("no such repo", response=_response(404))
        for branch in self.hub.branches.values():
            if revision == branch["sha"]:
                return branch
        if (revision or "main") not in self.hub.branches:
            raise RevisionNotFoundError("no such revision", response=_response(404))
        return self.hub.branches[revision or "main"]

    def repo_info(self, repo_id, revision=None, **kw):
        self.calls.append(("repo_info", {"repo_id": repo_id, "revision": revision, **kw}))
        return SimpleNamespace(sha=self._branch(revision)["sha"])

    def list_repo_files(self, repo_id, revision=None, **kw):
        self.calls.append(("list_repo_files", {"repo_id": repo_id, "revision": revision, **kw}))
        return sorted(self._branch(revision)["files"])

    def list_repo_refs(self, repo_id, **kw):
        self.calls.append(("list_repo_refs", {"repo_id": repo_id, **kw}))
        tags = [SimpleNamespace(name=n, target_commit=c) for n, c in self.hub.tags.items()]
        return SimpleNamespace(tags=tags)

    def hf_hub_download(self, repo_id, filename, revision=None, **kw):
        import tempfile

        self.calls.append(("hf_hub_download", {"repo_id": repo_id, "filename": filename, **kw}))
        path = Path(tempfile.mkdtemp()) / filename
        path.write_bytes(self._branch(revision)["files"][filename])
        return str(path)

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))
        if not self.hub.exists:
            self.hub.exists = True
            self.hub.branches["main"] = {"sha": "0" * 40, "files": {}}

    def create_branch(self, repo_id, branch, **kw):
        self.calls.append(("create_branch", {"repo_id": repo_id, "branch": branch, **kw}))
        main = self.hub.branches["main"]
        self.hub.branches.setdefault(branch, {"sha": main["sha"], "files": dict(main["files"])})

    def create_commit(self, repo_id, operations, revision=None, create_pr=False, **kw):
        from huggingface_hub import CommitOperationAdd
        from huggingface_hub.errors import HfHubHTTPError

        paths = [
            ("add" if isinstance(op, CommitOperationAdd) else "delete", op.path_in_repo)
            for op in operations
        ]
        record = {"repo_id": repo_id, "operations": paths, "revision": revision}
        self.calls.append(("create_commit", {**record, "create_pr": create_pr, **kw}))
        branch = self._branch(revision)
        parent = kw.get("parent_commit")
        if parent is not None and parent != branch["sha"]:
            raise HfHubHTTPError("412 precondition failed", response=_response(412))
        self.hub.commits += 1
        oid = f"{self.hub.commits:040x}"
        if not create_pr:  # a pull request leaves the branch as it is
            for op in operations:
                if isinstance(op, CommitOperationAdd):
                    branch["files"][op.path_in_repo] = Path(op.path_or_fileobj).read_bytes()
                else:
                    branch["files"].pop(op.path_in_repo, None)
            branch["sha"] = oid
        return SimpleNamespace(
            oid=oid,
            commit_url=f"https://huggingface.co/datasets/{repo_id}/commit/{oid}",
            pr_url="https://huggingface.co/datasets/me/pr/1" if create_pr else None,
        )

    def create_tag(self, repo_id, tag, revision=None, **kw):
        self.calls.append(
            ("create_tag", {"repo_id": repo_id, "tag": tag, "revision": revision, **kw})
        )
        assert tag not in self.hub.tags, "a tag never moves"
        self.hub.tags[tag] = revision


@pytest.fixture
def fake_hub(monkeypatch):
    import huggingface_hub

    FakeHfApi.instances = []
    FakeHfApi.hub = FakeHub()
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.setenv("HF_TOKEN", SENTINEL)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return FakeHfApi


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _names(api: FakeHfApi) -> list[str]:
    return [name for name, _ in api.calls]


def _call(api: FakeHfApi, name: str) -> dict:
    return [kw for n, kw in api.calls if n == name][-1]


def test_publish_upload_through_the_cli_records_commit_and_tag(ner_lake, fake_hub, caplog):
    from typer.testing import CliRunner

    from xproj.cli.app import app

    root, runs = ner_lake
    caplog.set_level("DEBUG")
    runner = CliRunner()
    args = ["publish", "projected", "--repo", "me/ner", "--lake", str(root), "--private"]
    first = runner.invoke(app, [*args, "--run", runs["de"], "--license", "cc-by-4.0"])
    assert first.exit_code == 0, first.output
    api = fake_hub.instances[-1]
    assert api.token == SENTINEL  # the token reached the client …
    assert _names(api) == [
        "whoami",
        "repo_info",  # not there yet
        "create_repo",
        "repo_info",  # its first commit, to commit on top of
        "list_repo_files",
        "create_commit",
        "create_tag",
    ]
    assert _call(api, "create_repo") == {
        "repo_id": "me/ner",
        "repo_type": "dataset",
        "private": True,
        "exist_ok": True,
    }
    commit = _call(api, "create_commit")
    assert commit["operations"] == [
        ("add", "de/train-00000-of-00001.parquet"),
        ("add", "README.md"),
    ]
    assert commit["repo_type"] == "dataset" and commit["create_pr"] is False
    tag = _call(api, "create_tag")
    assert tag["tag"].startswith("xproj-projected-v") and runs["de"] in tag["tag_message"]
    assert tag["revision"] == fake_hub.hub.branches["main"]["sha"]  # the commit just made
    assert "projected@" in tag["tag_message"] and f"tag: {tag['tag']}" in first.output
    # the same rows again: a new commit and a new tag; the first tag stays where it was
    again = runner.invoke(app, [*args, "--run", runs["de"]])
    assert again.exit_code == 0, again.output
    retag = _call(fake_hub.instances[-1], "create_tag")
    assert retag["tag"] == tag["tag"] + "-2" and fake_hub.hub.tags[tag["tag"]] == tag["revision"]
    # another language into a pull request on a new branch: reads the card on the "Hub"
    second = runner.invoke(app, [*args, "--run", runs["es"], "--create-pr", "--revision", "data"])
    assert second.exit_code == 0, second.output
    assert "pull request: https://huggingface.co/datasets/me/pr/1" in second.output
    api = fake_hub.instances[-1]
    assert _names(api) == [
        "whoami",
        "repo_info",
        "repo_info",
        "list_repo_files",
        "list_repo_refs",
        "hf_hub_download",
        "create_repo",
        "create_branch",
        "create_commit",
    ]  # no tag on an unmerged pull request
    commit = _call(api, "create_commit")
    assert commit["create_pr"] is True and commit["revision"] == "data"
    assert ("add", "README.md") in commit["operations"]
    assert ("add", "es/train-00000-of-00001.parquet") in commit["operations"]
    uploaded_card = fake_hub.hub.branches["main"]["files"]["README.md"].decode()
    # … and nowhere else: not in the output, the logs, the cards, the files, or the lake
    files = b"".join(
        b for branch in fake_hub.hub.branches.values() for b in branch["files"].values()
    )
    for text in (first.output, again.output, second.output, caplog.text, uploaded_card):
        assert SENTINEL not in text
    assert SENTINEL.encode() not in files and SENTINEL.encode() not in _all_bytes(root)


def test_publish_upload_replaces_a_config_split_and_merges_the_card(ner_lake, fake_hub):
    """A push of a config split the repo already holds deletes the old files it does not write
    again, and its card keeps the other configs."""
    from xproj.publish import publish

    root, runs = ner_lake
    publish("projected", "me/ner", lake=root, license="mit")  # de and es
    main = fake_hub.hub.branches["main"]
    main["files"]["es/train-00000-of-00002.parquet"] = b"old"  # as if es had had two files
    main["files"]["es/train-00001-of-00002.parquet"] = b"old"
    result = publish("projected", "me/ner", lake=root, runs=[runs["es"]])
    commit = _call(fake_hub.instances[-1], "create_commit")
    assert ("delete", "es/train-00000-of-00002.parquet") in commit["operations"]
    assert ("delete", "es/train-00001-of-00002.parquet") in commit["operations"]
    assert commit["parent_commit"] is not None  # on top of the commit the card was read at
    assert result.removed == [
        "es/train-00000-of-00002.parquet",
        "es/train-00001-of-00002.parquet",
    ]
    assert sorted(main["files"]) == [
        "README.md",
        "de/train-00000-of-00001.parquet",
        "es/train-00000-of-00001.parquet",
    ]
    from xproj.publish.card import split_card

    meta, _ = split_card(main["files"]["README.md"].decode())
    assert [c["config_name"] for c in meta["configs"]] == ["de", "es"]
    assert meta["license"] == "mit"


def test_publish_upload_refuses_a_repo_that_moved(ner_lake, fake_hub, monkeypatch):
    """Another push between reading the card and committing: the commit is refused (412), so
    the card it merged is never written over the newer one."""
    from xproj.publish import hub as hub_module
    from xproj.publish import publish

    root, runs = ner_lake
    publish("projected", "me/ner", lake=root, runs=[runs["de"]], license="mit")
    real = hub_module._remote

    def racing(api, repo, revision):
        remote = real(api, repo, revision)
        fake_hub.hub.branches["main"]["sha"] = "f" * 40  # someone else committed meanwhile
        return remote

    monkeypatch.setattr(hub_module, "_remote", racing)
    with pytest.raises(HubError) as err:
        publish("projected", "me/ner", lake=root, runs=[runs["es"]])
    assert err.value.code == "XP605" and "changed while" in str(err.value)


def test_publish_checks_the_hub_before_any_work(ner_lake, fake_hub, monkeypatch, tmp_path):
    from huggingface_hub.errors import HfHubHTTPError

    from xproj.publish import publish

    root, _ = ner_lake
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError) as err:
        publish("projected", "me/x", lake=root, license="mit")
    assert err.value.code == "XP601" and fake_hub.instances == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(HubError) as err:
        publish("projected", "me/x", lake=root, license="mit")
    assert err.value.code == "XP602" and fake_hub.instances == []
    refused = FakeHfApi(token=SENTINEL)
    refused.whoami_error = HfHubHTTPError(f"401 Unauthorized {SENTINEL}", response=_response(401))
    with pytest.raises(HubError) as err:
        publish("projected@99", "me/x", lake=root, license="mit", api=refused)
    # refused before the lake is read (version 99 would be XP402), and the token is not echoed
    assert err.value.code == "XP603" and SENTINEL not in str(err.value)
    assert [name for name, _ in refused.calls] == ["whoami"]
    unreachable = FakeHfApi(token=SENTINEL)
    unreachable.whoami_error = ConnectionError("Name or service not known")
    with pytest.raises(HubError) as err:
        publish("projected", "me/x", lake=root, license="mit", api=unreachable)
    assert err.value.code == "XP604"


def test_publish_flow_runs_under_prefect(ner_lake, tmp_path):
    """The ``publish`` flow as a Prefect flow run (a deployment's path): same folder, and the
    result as the flow run's artifact."""
    from prefect.testing.utilities import prefect_test_harness

    from xproj.flows.publish import PublishConfig, publish

    root, runs = ner_lake
    out = tmp_path / "prefect"
    config = PublishConfig(
        table="projected",
        repo="me/p",
        runs=[runs["es"]],
        dry_run=str(out),
        license="mit",
        lake=str(root),
    )
    with prefect_test_harness(server_startup_timeout=180):
        from prefect.client.orchestration import get_client

        result = publish(config)
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts()
    assert result.configs == {"es": 36}
    assert _load(out, "es")["train"].num_rows == 36
    summary = [a for a in artifacts if a.key == "publish-summary"]
    assert summary and "es: 36 rows" in summary[0].data


CARD_FIELDS = {
    "language",
    "language_details",
    "license",
    "annotations_creators",
    "language_creators",
    "multilinguality",
    "size_categories",
    "source_datasets",
    "task_categories",
    "task_ids",
    "configs",
    "dataset_info",
    "pretty_name",
    "tags",
}


def _translate_train_run(run_id: str, finished: str) -> dict:
    """A ``runs`` row as translate-train commits it, from a Hub source dataset."""
    from datetime import datetime

    params = {
        "name": "conll-sw",
        "source": {"path": "eriktks/conll2003", "format": "hf", "revision": "abc123", "lang": "en"},
        "target_langs": ["sw"],
        "model": "/home/me/models/facebook--nllb-200-distilled-600M-int8",
        "projector": "align.v1",
        "aligner": "eflomal.v1",
        "policy": {"gap_fill": 1},
        "tokenizers": {"sw": "spacy:xx"},
    }
    metrics = {
        "title": "conll-sw: translate-train",
        "tallies": {
            "spans": {
                "kept_word": "projected",
                "total": 10,
                "kept": 8,
                "rate": 0.8,
                "dropped": {"project.no_alignment": 2},
                "by": {
                    "sw": {
                        "total": 10,
                        "kept": 8,
                        "rate": 0.8,
                        "dropped": {"project.no_alignment": 2},
                    }
                },
            }
        },
    }
    when = datetime.fromisoformat(finished)
    return {
        "run_id": run_id,
        "flow": "translate_train",
        "parameters": json.dumps(params),
        "metrics": json.dumps(metrics),
        "code_version": "xproj 0.1.0 (git 1234567)",
        "finished_at": when,
        "started_at": when,
        "models": ["facebook/nllb-200-distilled-600M@int8"],
        "aligner": "eflomal.v1",
        "inputs": [{"name": "source", "ref": "eriktks/conll2003", "version": None, "sha256": None}],
    }


def test_publish_card_of_a_translated_hub_dataset_and_its_licence(tmp_path):
    """The card of a translate-train run from a Hub dataset: source and revision, models, the
    machine-made language, the NLLB and eflomal citations; the licence from the source's card."""
    import pyarrow as pa

    from xproj.publish.card import Push, build_card, split_card
    from xproj.publish.hub import choose_license, source_licenses
    from xproj.publish.layouts import Config, layout_of, ner_features

    features = ner_features(["O", "B-PER", "I-PER"])
    table = pa.Table.from_pylist([], schema=features.arrow_schema)
    run = _translate_train_run("r" * 32, "2026-12-01T10:00:00+00:00")
    hub = SimpleNamespace(
        dataset_info=lambda ref: SimpleNamespace(card_data={"license": "other"}),
    )
    inherited = source_licenses([run], hub)
    assert inherited == {"eriktks/conll2003": "other"}
    assert choose_license(None, inherited, None) == "other"
    with pytest.raises(ConfigError):
        choose_license(None, {"a": "mit", "b": "cc-by-4.0"}, None)
    push = Push(
        repo="me/conll-sw",
        table="projected",
        version=4,
        split="train",
        layout=layout_of("projected"),
        configs=[Config("sw", table, features, ("en", "sw"), {run["run_id"]: 0})],
        runs=[run],
        published_at="2026-12-06T00:00:00+00:00",
        tag="xproj-projected-v4-x",
        license=choose_license(None, inherited, None),
    )
    text = build_card(None, push)
    meta, body = split_card(text)
    assert CARD_FIELDS <= set(meta)
    assert meta["source_datasets"] == ["extended|eriktks/conll2003"]
    assert meta["language_creators"] == ["machine-generated"]
    assert meta["language_details"] == "en-Latn, sw-Latn" and meta["license"] == "other"
    assert "Hub dataset `eriktks/conll2003` at revision `abc123`" in body
    assert "`facebook/nllb-200-distilled-600M@int8`" in body
    assert "| sw | 10 | 8 | 80.0% | no_alignment 2 |" in body
    assert "`no_alignment`: None of the span's tokens is aligned" in body
    assert "xproj translate-train -c run.yaml" in body and "/home/me" not in text
    assert "@article{nllb-2022" in body and "@article{ostling-tiedemann-2016-efficient" in body


def test_publish_run_prefixes_versions_and_splits(ner_lake, tmp_path):
    """Runs as cards show them (8 characters), versions as ``xproj versions`` prints them
    (``@v1``), a second split, and the same run refused in two splits."""
    from xproj.publish import publish

    root, runs = ner_lake
    version = Lake(root).latest_version("projected")
    out = tmp_path / "splits"
    first = publish(
        f"projected@v{version}",
        "me/s",
        lake=root,
        dry_run=out,
        runs=[runs["de"][:8]],
        license="mit",
    )
    assert first.runs == [runs["de"]] and first.version == version
    publish("projected", "me/s", lake=root, dry_run=out, runs=[runs["es"]], split="train_extra")
    publish("projected", "me/s", lake=root, dry_run=out, runs=[runs["de"]])  # train again
    assert (out / "es" / "train_extra-00000-of-00001.parquet").exists()
    with pytest.raises(ConfigError) as err:
        publish("projected", "me/s", lake=root, dry_run=out, runs=[runs["de"]], split="test")
    assert "two splits" in str(err.value)
    with pytest.raises(ConfigError) as err:  # a folder made for another repository
        publish("projected", "me/other", lake=root, dry_run=out, runs=[runs["de"]])
    assert "belongs to me/s" in str(err.value)
    data = _card(out).data.to_dict()
    assert len(data["xproj"]["publications"]) == 2  # the same push twice is listed once


def test_publish_merges_a_hand_written_card(ner_lake, tmp_path):
    """A card xproj did not write: its fields are merged (a string is a one-item list), its
    configs are never overwritten, and a broken card is a coded error."""
    from xproj.publish import publish

    root, runs = ner_lake
    out = tmp_path / "theirs"
    out.mkdir()
    card = (
        "---\nlicense: cc-by-4.0\nlanguage: fr\ntask_categories: token-classification\n"
        "tags: [ner, 2023]\nannotations_creators: expert-generated\n"
        "configs:\n- config_name: default\n  data_files: data/*.parquet\n---\n\n# Theirs\n"
    )
    (out / "README.md").write_text(card)
    publish("projected", "me/t", lake=root, dry_run=out, runs=[runs["de"]])
    data = _card(out).data.to_dict()
    assert data["language"] == ["de", "en", "fr"] and data["tags"][:2] == [
        "2023",
        "label-projection",
    ]
    assert data["task_categories"] == ["token-classification"]
    assert data["annotations_creators"] == ["expert-generated", "machine-generated"]
    assert [c["config_name"] for c in data["configs"]] == ["de", "default"]
    assert data["license"] == "cc-by-4.0" and "# Theirs" in (out / "README.md").read_text()
    with pytest.raises(ConfigError) as err:
        publish("projected", "me/t", lake=root, dry_run=out, runs=[runs["es"]], config_by="none")
    assert "xproj did not write" in str(err.value)
    (out / "README.md").write_text("---\nlicense: [unclosed\n---\n")
    with pytest.raises(InputFormatError) as err:
        publish("projected", "me/t", lake=root, dry_run=out, runs=[runs["es"]])
    assert "README.md" in str(err.value)


def test_publish_card_survives_hostile_values(ner_lake, tmp_path):
    """Values from the lake (a run title, a path) cannot open markup or end the generated block:
    three pushes give one block, one Publications section."""
    import pyarrow as pa

    from xproj.publish.card import END, Push, build_card, split_card
    from xproj.publish.layouts import Config, layout_of, ner_features

    features = ner_features(["O"])
    empty = pa.Table.from_pylist([], schema=features.arrow_schema)
    run = _translate_train_run("h" * 32, "2026-12-01T10:00:00+00:00")
    metrics = json.loads(run["metrics"])
    metrics["title"] = f"evil {END} <script>alert(1)</script> ``` `x`"
    run["metrics"] = json.dumps(metrics)
    params = json.loads(run["parameters"])
    params["name"] = "```\n" + END
    run["parameters"] = json.dumps(params)
    text = None
    for k in range(3):
        push = Push(
            repo="me/h",
            table="projected",
            version=k,
            split="train",
            layout=layout_of("projected"),
            configs=[Config("sw", empty, features, ("sw",), {run["run_id"]: 0})],
            runs=[run],
            published_at=f"2026-12-0{k + 1}",
            tag=f"t{k}",
            license="mit",
        )
        text = build_card(text, push)
    meta, body = split_card(text)
    assert body.count(END) == 1 and body.count("## Publications") == 1
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert body.count("### Run ") == 1 and len(meta["xproj"]["publications"]) == 3
    assert meta["xproj"]["runs"][run["run_id"]]["title"] == metrics["title"]  # data kept as is


def _card_push(existing, table: str, features, split: str, run: str) -> str:
    """The card after pushing config ``de`` of ``table`` (no rows, ``features``) into ``split``
    from run ``run`` (a translate-train lineage)."""

    from xproj.publish.card import Push, build_card
    from xproj.publish.layouts import Config, layout_of

    return build_card(
        existing,
        Push(
            repo="me/c",
            table=table,
            version=1,
            split=split,
            layout=layout_of(table),
            configs=[
                Config("de", features.arrow_schema.empty_table(), features, ("de",), {run: 0})
            ],
            runs=[_translate_train_run(run, "2026-12-01T10:00:00+00:00")],
            license="mit",
            tag=split,
        ),
    )


def test_publish_card_refuses_other_features_in_another_split(tmp_path):
    """One config, one set of features: an EntityCS split with token ids beside one without."""

    from xproj.publish.layouts import entitycs_features, qa_configs

    def push(split: str, tokens: bool, run: str, existing=None) -> str:
        return _card_push(existing, "entitycs_cs", entitycs_features(tokens), split, run)

    first = push("train", True, "a" * 32)
    assert push("train", False, "a" * 32, first)  # the only split may change its features
    with pytest.raises(ConfigError) as err:
        push("test", False, "b" * 32, first)
    assert "other features" in str(err.value)
    with pytest.raises(ConfigError):  # paxqa is per language: --config-by none is refused
        qa_configs([], "none")


def test_publish_block_checks_the_hub_before_the_run(tmp_path, monkeypatch):
    """A flow's publish: block that cannot upload (offline) fails before the run, not after."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError) as err:
        _project(tmp_path / "lake", "de", publish={"repo": "me/de", "license": "mit"})
    assert err.value.code == "XP601"
    assert Lake(tmp_path / "lake").latest_version("runs") is None  # nothing ran


def test_publish_card_keeps_tag_ids_when_a_split_adds_labels(tmp_path):
    """A split whose tags add a label keeps the config's ids and extends its ClassLabel; other
    columns in a new split are refused."""

    from xproj.publish.card import split_card
    from xproj.publish.layouts import ner_features

    def push(split, names, run, existing=None):
        return _card_push(existing, "projected", ner_features(names), split, run)

    first = push("train", ["O", "B-PER", "I-PER"], "a" * 32)
    both = push("test", ["O", "B-PER", "I-PER", "B-MISC", "I-MISC"], "b" * 32, first)
    (info,) = split_card(both)[0]["dataset_info"]
    names = info["features"][3]["list"]["class_label"]["names"]
    assert list(names.values()) == ["O", "B-PER", "I-PER", "B-MISC", "I-MISC"]
    with pytest.raises(ConfigError):  # a reordered label set would change the train ids
        push("dev", ["O", "B-MISC", "I-MISC"], "c" * 32, both)


def test_publish_never_writes_over_files_it_did_not_write(ner_lake, tmp_path):
    """A config named like a hand-made config's folder, or a top-level file, is refused; so is
    a card whose fields do not have the Hub's shapes; an intro mentioning the end marker stays."""
    from xproj.publish import publish
    from xproj.publish.card import END

    root, runs = ner_lake
    out = tmp_path / "mixed"
    (out / "de").mkdir(parents=True)
    (out / "de" / "train-00000-of-00001.parquet").write_bytes(b"theirs")  # push_to_hub layout
    (out / "README.md").write_text(f"My intro quotes {END} by accident.\n")
    with pytest.raises(ConfigError) as err:
        publish("projected", "me/m", lake=root, dry_run=out, runs=[runs["de"]], license="mit")
    assert "did not write" in str(err.value)
    assert (out / "de" / "train-00000-of-00001.parquet").read_bytes() == b"theirs"
    publish("projected", "me/m", lake=root, dry_run=out, runs=[runs["es"]], license="mit")
    publish("projected", "me/m", lake=root, dry_run=out, runs=[runs["es"]])  # again
    assert "My intro quotes" in (out / "README.md").read_text()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "README.md").write_text("---\nconfigs: {default: data}\n---\n")
    with pytest.raises(ConfigError) as err:
        publish("projected", "me/b", lake=root, dry_run=bad, runs=[runs["es"]], license="mit")
    assert "configs is not a list" in str(err.value)


def test_publish_block_is_checked_before_the_run(tmp_path):
    """A publish: block without a licence, or with options its table does not take, fails
    before the run (nothing committed), not after it."""
    for block, needle in (
        ({"repo": "me/x", "dry_run": str(tmp_path / "o")}, "no license"),
        (
            {
                "repo": "me/x",
                "dry_run": str(tmp_path / "o"),
                "license": "mit",
                "config_by": "tgt_lang",
            },
            "--config-by",
        ),
        (
            {"repo": "me/x", "dry_run": str(tmp_path / "o"), "license": "mit", "tokenizer": "tok"},
            "--tokenizer",
        ),
    ):
        with pytest.raises(ConfigError) as err:
            _project(tmp_path / "lake", "de", publish=block)
        assert needle in str(err.value)
    assert Lake(tmp_path / "lake").latest_version("runs") is None


def test_publish_upload_refuses_a_repo_another_push_created(ner_lake, fake_hub, monkeypatch):
    """Two first pushes to a new repository: the second one sees the first one's card after
    create_repo and stops instead of writing over it."""
    from xproj.publish import hub as hub_module
    from xproj.publish import publish

    root, runs = ner_lake
    real = hub_module._remote

    def racing(api, repo, revision):
        remote = real(api, repo, revision)  # not there yet …
        monkeypatch.setattr(hub_module, "_remote", real)
        publish("projected", repo, lake=root, runs=[runs["de"]], license="mit")  # … now it is
        return remote

    monkeypatch.setattr(hub_module, "_remote", racing)
    with pytest.raises(HubError) as err:
        publish("projected", "me/new", lake=root, runs=[runs["es"]], license="mit")
    assert "created by another push" in str(err.value)


def test_publish_entitycs_rows_with_bad_tags_are_counted_not_lost():
    """With or without a tokenizer, a row whose tags do not parse is counted by reason in its
    config (and logged), never dropped silently nor stopping the others."""
    from xproj.publish.layouts import entitycs_configs

    rows = [
        {"run_id": "r", "id": "1", "language": "de", "cs_sentence": "In <de>Köln</de>."},
        {"run_id": "r", "id": "2", "language": "de", "cs_sentence": "In <de>Köln."},
    ]
    (config,) = entitycs_configs(rows, "language")
    assert config.rows == 1 and config.rejected == {"bad_tags": 1}
    assert config.table.to_pylist()[0]["entity_spans"] == [[3, 7]]
