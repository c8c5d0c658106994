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
from xproj.schemas.errors import CatalogError, ConfigError, HubError

SAMPLES = REPO / "data" / "samples" / "ner"
SENTINEL = "hf_SENTINELtoken0123456789abcdefXYZ"
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    """``load_dataset`` caches under the test's folder, offline."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
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
    from datasets import load_dataset

    return load_dataset(str(folder), config)


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
        rows = query(lake, f"SELECT * FROM projected WHERE tgt_lang = '{lang}' ORDER BY pair_id")
        rows = rows.to_pylist()
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
    stale = out / "es" / "train-00000-of-00002.parquet"  # a file of a split pushed before
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    result = publish("projected", "me/ner", lake=root, dry_run=out, langs=["es"])
    assert result.configs == {"es": 36} and result.removed == ["es/train-00000-of-00002.parquet"]
    assert not stale.exists()
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


class FakeHfApi:
    """Records every call; keeps the files committed, so a second push reads the first's card."""

    instances: list[FakeHfApi] = []

    def __init__(self, token=None, endpoint=None, **_):
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.files: dict[str, bytes] = {}
        self.tags: dict[str, str] = {}
        self.exists = False
        self.whoami_error: Exception | None = None
        FakeHfApi.instances.append(self)

    def whoami(self, token=None, **_):
        self.calls.append(("whoami", {}))
        if self.whoami_error is not None:
            raise self.whoami_error
        return {"name": "me"}

    def list_repo_files(self, repo_id, **kw):
        from huggingface_hub.errors import RepositoryNotFoundError

        self.calls.append(("list_repo_files", {"repo_id": repo_id, **kw}))
        if not self.exists:
            raise RepositoryNotFoundError("no such repo", response=_response(404))
        return sorted(self.files)

    def hf_hub_download(self, repo_id, filename, **kw):
        import tempfile

        self.calls.append(("hf_hub_download", {"repo_id": repo_id, "filename": filename, **kw}))
        path = Path(tempfile.mkdtemp()) / filename
        path.write_bytes(self.files[filename])
        return str(path)

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))
        self.exists = True

    def create_branch(self, repo_id, **kw):
        self.calls.append(("create_branch", {"repo_id": repo_id, **kw}))

    def create_commit(self, repo_id, operations, **kw):
        from huggingface_hub import CommitOperationAdd

        paths = []
        for op in operations:
            if isinstance(op, CommitOperationAdd):
                self.files[op.path_in_repo] = Path(op.path_or_fileobj).read_bytes()
                paths.append(("add", op.path_in_repo))
            else:
                self.files.pop(op.path_in_repo, None)
                paths.append(("delete", op.path_in_repo))
        oid = f"{len(self.calls):040x}"
        self.calls.append(("create_commit", {"repo_id": repo_id, "operations": paths, **kw}))
        return SimpleNamespace(
            oid=oid,
            commit_url=f"https://huggingface.co/datasets/{repo_id}/commit/{oid}",
            pr_url="https://huggingface.co/datasets/me/pr/1" if kw.get("create_pr") else None,
        )

    def create_tag(self, repo_id, **kw):
        self.calls.append(("create_tag", {"repo_id": repo_id, **kw}))
        self.tags[kw["tag"]] = kw["revision"]


@pytest.fixture
def fake_hub(monkeypatch):
    import huggingface_hub

    FakeHfApi.instances = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.setenv("HF_TOKEN", SENTINEL)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return FakeHfApi


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_publish_upload_through_the_cli_records_commit_and_tag(
    ner_lake, fake_hub, caplog, monkeypatch
):
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
    names = [name for name, _ in api.calls]
    assert names == [
        "whoami",
        "list_repo_files",
        "create_repo",
        "create_commit",
        "create_tag",
    ]
    create_repo = dict(api.calls)["create_repo"]
    assert create_repo == {
        "repo_id": "me/ner",
        "repo_type": "dataset",
        "private": True,
        "exist_ok": True,
    }
    commit = dict(api.calls)["create_commit"]
    assert commit["operations"] == [
        ("add", "de/train-00000-of-00001.parquet"),
        ("add", "README.md"),
    ]
    assert commit["repo_type"] == "dataset" and commit["create_pr"] is False
    tag = dict(api.calls)["create_tag"]
    assert tag["tag"].startswith("xproj-projected-v") and runs["de"] in tag["tag_message"]
    assert tag["revision"] == api.tags[tag["tag"]]
    assert "projected@" in tag["tag_message"]
    # a second push (another language, into a pull request) reads the card on the "Hub"
    second_api = FakeHfApi()
    second_api.files, second_api.exists = dict(api.files), True

    def reuse(token=None, **_):
        second_api.token = token
        return second_api

    monkeypatch.setattr("huggingface_hub.HfApi", reuse)
    second = runner.invoke(app, [*args, "--run", runs["es"], "--create-pr", "--revision", "data"])
    assert second.exit_code == 0, second.output
    assert "pull request: https://huggingface.co/datasets/me/pr/1" in second.output
    names = [name for name, _ in second_api.calls]
    assert names == [
        "whoami",
        "list_repo_files",
        "hf_hub_download",
        "create_repo",
        "create_branch",
        "create_commit",
        "create_tag",
    ]
    commit = [kw for name, kw in second_api.calls if name == "create_commit"][0]
    assert commit["create_pr"] is True and commit["revision"] == "data"
    card = second_api.files["README.md"].decode()
    assert "config_name: de" in card and "config_name: es" in card and "license: cc-by-4.0" in card
    # … and nowhere else: not in the output, the logs, the card, the files, or the lake
    uploaded = b"".join(second_api.files.values())
    for text in (first.output, second.output, caplog.text, card):
        assert SENTINEL not in text
    assert SENTINEL.encode() not in uploaded and SENTINEL.encode() not in _all_bytes(root)


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
