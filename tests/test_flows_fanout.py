"""translate-train fanned out per language (flow runs of a deployment, or subflows), and the
Prefect global concurrency limit a run holds on a GPU pool (``gpu_slots``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.test_flows_translate_train import _config
from xproj.catalog import Lake, query
from xproj.schemas.errors import BackendError, ConfigError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_fanout_per_language_configs(tiny_mt_models, tmp_path):
    from xproj.flows.fanout import per_language

    config = _config(
        tiny_mt_models["nllb"]["ct2"], tmp_path, ["de", "es"], name="conll",
        extra_bitext={"de": [{"path": "de.tsv"}]},
    )  # fmt: skip
    de, es = per_language(config)
    assert (de.target_langs, de.name, list(de.extra_bitext)) == (["de"], "conll-de", ["de"])
    assert (es.target_langs, es.name, es.extra_bitext) == (["es"], "conll-es", {})
    assert de.source == config.source and de.model == config.model
    # a key in another form of the language code goes with its language, as in a single run
    config = _config(
        tiny_mt_models["nllb"]["ct2"], tmp_path, ["de", "es"],
        extra_bitext={"deu": [{"path": "de.tsv"}]},
    )  # fmt: skip
    assert [list(part.extra_bitext) for part in per_language(config)] == [["deu"], []]


def test_fanout_runs_each_language_as_its_own_committed_run(tiny_mt_models, tmp_path):
    from xproj.flows.fanout import translate_train_fanout

    config = _config(tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", ["de", "es"])
    runs = translate_train_fanout(config)
    assert sorted(runs) == ["de", "es"] and runs["de"] != runs["es"]
    rows = query(
        Lake(tmp_path / "lake"),
        "SELECT run_id, tgt_lang, count(*) AS n FROM translations GROUP BY ALL ORDER BY tgt_lang",
    ).to_pylist()
    assert rows == [
        {"run_id": runs["de"], "tgt_lang": "de", "n": 36},
        {"run_id": runs["es"], "tgt_lang": "es", "n": 36},
    ]


def test_fanout_starts_deployment_runs_once_per_language(tiny_mt_models, tmp_path, monkeypatch):
    """On a work pool: one deployment run per language, each with a config that validates and
    an idempotency key of its own; a language that fails is named."""
    import prefect.deployments

    import xproj.flows.fanout as fanout
    from xproj.flows.config import TranslateTrainConfig

    started = []

    def fake_run_deployment(name, *, parameters, timeout, idempotency_key, flow_run_name, **_):
        started.append((name, parameters, timeout, idempotency_key, flow_run_name))
        return SimpleNamespace(id=f"run-{len(started)}")

    monkeypatch.setattr(prefect.deployments, "run_deployment", fake_run_deployment)
    monkeypatch.setattr(fanout, "_wait", lambda ids, poll: {"de": "COMPLETED", "es": "FAILED"})
    config = _config(tiny_mt_models["nllb"]["ct2"], tmp_path, ["de", "es"], gpu_slots="gpu")
    with pytest.raises(BackendError) as err:
        fanout.translate_train_fanout(config, deployment="translate_train/translate-train-gpu")
    assert "es (failed)" in str(err.value) and "de (" not in str(err.value)
    assert [s[0] for s in started] == ["translate_train/translate-train-gpu"] * 2
    for (_, parameters, timeout, key, name), lang in zip(started, ["de", "es"], strict=True):
        part = TranslateTrainConfig(**parameters["config"])
        assert part.target_langs == [lang] and part.gpu_slots == "gpu" and timeout == 0
        assert key.endswith(f":{lang}") and name == f"translate-train-{lang}"
    assert started[0][3] != started[1][3] and started[0][3].split(":")[0] != "local"


def test_gpu_slots_hold_a_concurrency_limit_that_must_exist(tiny_mt_models, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    from xproj.flows.translate_train import translate_train

    model = tiny_mt_models["nllb"]["ct2"]
    with pytest.raises(ConfigError) as err:
        translate_train(_config(model, tmp_path / "a", ["de"], gpu_slots="xproj-gpu-missing"))
    assert "prefect gcl create xproj-gpu-missing" in str(err.value)
    assert Lake(tmp_path / "a").latest_version("runs") is None  # refused before any work
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="xproj-gpu-test", limit=1)
        )
    summary = translate_train(_config(model, tmp_path / "b", ["de"], gpu_slots="xproj-gpu-test"))
    assert summary.rows["translations"] == 36
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("xproj-gpu-test")
    assert limit.active_slots == 0  # released when the run ended
