"""The Ray executor: the same tables as a local run, exactly-once commits when a worker dies,
and a two-node cluster (two ``ray start`` on one machine, inside a network namespace so every
socket is loopback).

The runs use translate-train with a tiny random model and the ``codec`` projector, which is
deterministic (greedy CTranslate2, no sampling aligner), so two runs must give equal rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from xproj.catalog import Lake, query

ray = pytest.importorskip("ray", reason="the Ray executor needs xproj[ray] (make test installs it)")
pytestmark = pytest.mark.slow

SAMPLE = REPO / "data" / "samples" / "ner" / "sample.en.conll"
TABLES = ("translations", "projected", "outcomes", "alignments")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray (2 CPUs) for the module; the backend joins it instead of starting one."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _config(model: Path, lake: Path, **kw):
    from xproj.flows.config import TranslateTrainConfig

    return TranslateTrainConfig(
        source={"path": str(SAMPLE), "lang": "en"},
        target_langs=["de", "es"],
        model=str(model),
        lake=str(lake),
        max_decoding_length=24,
        **{"projector": "codec", "shard_size": 12, **kw},
    )


def _rows(lake_root: Path) -> dict[str, list]:
    lake = Lake(lake_root)
    return {
        t: sorted(
            query(lake, f"SELECT * EXCLUDE (run_id) FROM {t}").to_pylist(),
            key=lambda r: repr(sorted(r.items())),
        )
        for t in TABLES
    }


@pytest.fixture(scope="module")
def local_tables(tiny_mt_models, tmp_path_factory):
    from xproj.flows.translate_train import translate_train

    root = tmp_path_factory.mktemp("local") / "lake"
    translate_train.fn(_config(tiny_mt_models["nllb"]["ct2"], root))
    return _rows(root)


def test_ray_executor_makes_the_same_tables_as_local(
    local_ray, local_tables, tiny_mt_models, tmp_path
):
    from xproj.flows.translate_train import translate_train

    summary = translate_train.fn(
        _config(tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", executor="ray",
                ray={"actors": 2})
    )  # fmt: skip
    assert summary.metrics["attempt"]["shards_run"] == 6  # 3 shards × 2 languages
    got = _rows(tmp_path / "lake")
    assert {t: len(r) for t, r in got.items()} == {t: len(r) for t, r in local_tables.items()}
    assert got == local_tables


def test_ray_worker_killed_mid_run_still_commits_every_row_once(
    local_ray, local_tables, tiny_mt_models, tmp_path, monkeypatch
):
    """A worker process dies (SIGKILL) in its first shard: Ray restarts it, the shard is retried,
    and the committed tables equal a clean local run's, no row lost or doubled."""
    from xproj.flows.translate_train import translate_train

    marker = tmp_path / "killed"
    monkeypatch.setenv("XPROJ_FAULTS", f"kill_in_shard_once={marker}")
    summary = translate_train.fn(
        _config(tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", executor="ray")
    )
    assert marker.exists()  # a worker was killed
    assert summary.metrics["attempt"]["shards_run"] == 6
    assert _rows(tmp_path / "lake") == local_tables


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    from xproj.testing.tiny_models import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def test_ray_two_stages_translation_actors_then_align_actors(
    local_ray, tiny_mt_models, tiny_bert, tmp_path, monkeypatch
):
    """The step split in two: translation actors hand their shards to CPU actors that align
    and project. SimAlign on a tiny BERT is deterministic, so the tables must equal a local
    run's; it is told to count as a CPU aligner here so that the run splits (on GPU actors it
    stays with the translation model, see the next test)."""
    from xproj.flows.translate_train import translate_train
    from xproj.projectors.aligners.simalign import SimAlignAligner

    monkeypatch.setattr(SimAlignAligner, "neural", False)

    def run(lake: Path, **kw):
        return translate_train.fn(
            _config(
                tiny_mt_models["nllb"]["ct2"], lake, projector="align", aligner="simalign",
                aligner_options={"model": str(tiny_bert), "layer": 1}, **kw,
            )
        )  # fmt: skip

    run(tmp_path / "local")
    summary = run(tmp_path / "ray", executor="ray", ray={"actors": 1, "align_actors": 1})
    assert summary.metrics["attempt"]["shards_run"] == 6
    local = _rows(tmp_path / "local")
    assert all(local[t] for t in TABLES)  # every table has rows to compare
    assert _rows(tmp_path / "ray") == local


def test_ray_splits_only_for_cpu_aligners(tiny_mt_models, tiny_bert, tmp_path):
    """eflomal and given links split off the translation actors; SimAlign (a neural model that
    wants the GPU) and the model routes stay with the translation model."""
    from xproj.executor.ray_backend import RaySettings
    from xproj.flows.translate_train import TranslateTrain

    model = tiny_mt_models["nllb"]["ct2"]
    gpu = RaySettings(actors=2, gpus_per_actor=1)  # align_actors unset: as many, on GPU actors
    simalign = {"model": str(tiny_bert), "layer": 1}
    cases = [
        ({"projector": "align"}, 2),
        ({"projector": "align", "aligner": "simalign", "aligner_options": simalign}, 0),
        ({"projector": "codec"}, 0),
        ({"projector": "markers"}, 0),
    ]
    for extra, want in cases:
        plan = TranslateTrain(_config(model, tmp_path / "lake", **extra))
        assert gpu.aligners_for(plan) == want, extra
    assert RaySettings(actors=2).aligners_for(TranslateTrain(_config(model, tmp_path))) == 0


def test_ray_two_stages_small_input_without_priors(local_ray, tiny_mt_models, tmp_path):
    """An input that fits in one shard needs no priors: the driver saves none, and the align
    actors align without them instead of trying to learn them (they hold no model)."""
    from xproj.flows.translate_train import translate_train

    summary = translate_train.fn(
        _config(tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", projector="align",
                shard_size=40, executor="ray", ray={"actors": 1, "align_actors": 1})
    )  # fmt: skip
    assert summary.metrics["attempt"]["shards_run"] == 2  # one shard × de, es
    outcomes = query(Lake(tmp_path / "lake"), "SELECT count(*) AS n FROM outcomes").to_pylist()
    assert outcomes[0]["n"] > 0
    assert Lake(tmp_path / "lake").latest_version("aligner_priors") is None


def test_ray_two_stages_with_priors_and_a_killed_translation_actor(
    local_ray, tiny_mt_models, tmp_path, monkeypatch
):
    """eflomal with priors learned once on the driver, the step in two stages, and the
    translation actor killed in its first shard: every sentence is translated as in a local
    run, every source span has exactly one outcome per language, and the priors are committed once per
    language (eflomal samples, so its links are not compared)."""
    from xproj.flows.translate_train import translate_train

    def run(lake: Path, **kw):
        return translate_train.fn(
            _config(tiny_mt_models["nllb"]["ct2"], lake, projector="align", **kw)
        )

    local_summary = run(tmp_path / "local")
    marker = tmp_path / "killed"
    monkeypatch.setenv("XPROJ_FAULTS", f"kill_in_shard_once={marker}")
    summary = run(tmp_path / "ray", executor="ray", ray={"actors": 1, "align_actors": 1})
    assert marker.exists()
    assert summary.metrics["attempt"]["shards_run"] == 6
    # the driver translated the priors' sample, the actors the rest: all of it is counted
    assert summary.stats["translated"] == local_summary.stats["translated"] == 2 * 36
    local, got = _rows(tmp_path / "local"), _rows(tmp_path / "ray")
    assert got["translations"] == local["translations"]
    ids = "SELECT pair_id, span_index, count(*) AS n FROM outcomes GROUP BY ALL ORDER BY ALL"
    outcomes = query(Lake(tmp_path / "ray"), ids).to_pylist()
    assert outcomes == query(Lake(tmp_path / "local"), ids).to_pylist()
    assert outcomes and all(row["n"] == 1 for row in outcomes)
    priors = "SELECT tgt_lang, count(*) AS n FROM aligner_priors GROUP BY ALL ORDER BY ALL"
    assert query(Lake(tmp_path / "ray"), priors).to_pylist() == [
        {"tgt_lang": "de", "n": 1},
        {"tgt_lang": "es", "n": 1},
    ]


def test_ray_pools_that_cannot_fit_are_refused(local_ray, tiny_mt_models, tmp_path):
    """Two 1-CPU translation actors and a 1-CPU align actor on a 2-CPU Ray would wait forever:
    XP508 says what was asked and what there is, before any shard is sent."""
    from xproj.flows.translate_train import translate_train
    from xproj.schemas.errors import BackendError

    config = _config(
        tiny_mt_models["nllb"]["ct2"], tmp_path / "lake", projector="align",
        executor="ray", ray={"actors": 2, "align_actors": 1},
    )  # fmt: skip
    with pytest.raises(BackendError) as err:
        translate_train.fn(config)
    assert err.value.code == "XP508"
    assert "3 CPU wanted, 2 in the cluster" in str(err.value)
    # refused before the run prepared: nothing translated for the aligner priors
    assert Lake(tmp_path / "lake").latest_version("translation_cache") is None


TWO_NODES = r"""
set -e
ip link set lo up
export RAY_USAGE_STATS_ENABLED=0
# a second node joins only with token authentication, the same token for every process
export RAY_AUTH_MODE=token
export RAY_AUTH_TOKEN="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
trap '"$RAY" stop --force >/dev/null 2>&1 || true' EXIT
"$RAY" start --head --node-ip-address 127.0.0.1 --port 6390 --num-cpus 1 \
    --include-dashboard false --disable-usage-stats >/dev/null
"$RAY" start --address 127.0.0.1:6390 --node-ip-address 127.0.0.1 --num-cpus 2 \
    --disable-usage-stats >/dev/null
"$PY" -m xproj.cli translate-train --source "$SAMPLE" --source-lang en -t de,es \
    --model "$MODEL" --lake "$LAKE" --shard-size 12 --decoding.max_decoding_length 24 \
    --projector codec --executor ray --ray-address 127.0.0.1:6390 --ray-actors 2
"""


def test_ray_executor_on_a_two_node_cluster(local_tables, tiny_mt_models, tmp_path):
    """A head node and a second node (their own ``ray start``) in fresh network and process
    namespaces: the run commits the same tables as a local one."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2) for a loopback-only namespace")
    probe = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip("this user cannot make network and process namespaces (unshare)")
    env = {
        **os.environ,
        "RAY": str(Path(sys.executable).with_name("ray")),
        "PY": sys.executable,
        "SAMPLE": str(SAMPLE),
        "MODEL": str(tiny_mt_models["nllb"]["ct2"]),
        "LAKE": str(tmp_path / "lake"),
        # Ray's socket paths must stay under 108 bytes: a short folder of its own
        "RAY_TMPDIR": tempfile.mkdtemp(prefix="xr", dir="/tmp"),
    }
    try:
        done = subprocess.run(
            # its own network (loopback only) and its own processes: `ray stop` at the end must
            # not reach a Ray of the machine, such as this test module's
            ["unshare", "--net", "--pid", "--fork", "--mount-proc", "bash", "-c", TWO_NODES],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert _rows(tmp_path / "lake") == local_tables
