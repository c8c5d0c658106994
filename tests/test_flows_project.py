"""The project_parallel flow end to end: tables, versions, idempotence, crash-resume, rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import write_texts
from xproj.catalog import Lake, query
from xproj.flows.config import ProjectParallelConfig

SAMPLES = REPO / "data" / "samples" / "ner"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _config(lake_root: Path, lang: str = "es", **kw) -> ProjectParallelConfig:
    return ProjectParallelConfig(
        name=f"sample-en-{lang}",
        source={"path": str(SAMPLES / "sample.en.conll"), "lang": "en"},
        target={"path": str(SAMPLES / f"sample.{lang}.conll"), "lang": lang},
        lake=str(lake_root),
        **kw,
    )


def _written_config(
    folder: Path, lake_root: Path, src_text: str, tgt_text: str, *, source=None, **kw
) -> ProjectParallelConfig:
    """A config over ``src.conll`` (en, with ``source``'s extra settings) and ``tgt.conll`` (es),
    written into ``folder`` with these texts."""
    src, tgt = write_texts(folder, {"src.conll": src_text, "tgt.conll": tgt_text})
    return ProjectParallelConfig(
        source={"path": str(src), "lang": "en", **(source or {})},
        target={"path": str(tgt), "lang": "es"},
        lake=str(lake_root),
        **kw,
    )


def _given_config(
    folder: Path, lake_root: Path, links: str, src_text: str, tgt_text: str, strict=True, **kw
) -> ProjectParallelConfig:
    """:func:`_written_config` aligned by ``given.v1`` with these Pharaoh ``links``."""
    (path,) = write_texts(folder, {"links.align": links})
    options = {"path": str(path), "strict": strict}
    return _written_config(
        folder, lake_root, src_text, tgt_text, aligner="given.v1", aligner_options=options, **kw
    )


def test_flows_project_writes_versions_and_lineage(lake_root):
    from xproj.flows.project_parallel import project_parallel

    result = project_parallel(_config(lake_root))
    lake = Lake(lake_root)
    assert set(result.versions) >= {"projected", "outcomes", "alignments", "evaluations", "runs"}
    # nothing was refused: no rejected version, and no empty folder that looks like a table
    assert "rejected" not in result.versions and not (Path(lake_root) / "rejected").exists()
    projected = lake.read("projected")
    assert projected.num_rows == 36
    outcomes = lake.read("outcomes").to_pylist()
    # exactly one outcome per source span
    n_src_spans = sum(row["n_source_spans"] for row in projected.to_pylist())
    assert len(outcomes) == n_src_spans == 65
    run = query(lake, "SELECT * FROM runs").to_pylist()[0]
    assert run["flow"] == "project_parallel" and run["status"] == "ok"
    # the target came tokenized: the run records who tokenized it
    assert json.loads(run["parameters"])["tokenizers"] == {"es": "given:conll"}
    assert {i["name"] for i in run["inputs"]} == {"source", "target"}
    assert all(i["sha256"] for i in run["inputs"])
    assert {o["table"] for o in run["outputs"]} >= {"projected", "outcomes"}
    micro = query(lake, "SELECT f1 FROM evaluations WHERE label = '_micro'").to_pylist()
    assert len(micro) == 1 and 0.5 < micro[0]["f1"] <= 1.0
    # char spans round-trip to the target text
    for row in projected.to_pylist():
        for tok, cs in zip(row["tgt_spans"], row["tgt_char_spans"], strict=True):
            text = row["tgt_text"][cs["start"] : cs["end"]]
            assert text == " ".join(row["tgt_tokens"][tok["start"] : tok["end"]])


def test_flows_project_identical_rerun_reuses_run(lake_root):
    from xproj.flows.project_parallel import project_parallel

    first = project_parallel(_config(lake_root, "de"))
    second = project_parallel(_config(lake_root, "de"))
    assert second.reused and second.run_id == first.run_id
    assert Lake(lake_root).latest_version("projected") == first.versions["projected"]
    forced = project_parallel(_config(lake_root, "de", force=True))
    assert not forced.reused and forced.versions["projected"] == first.versions["projected"] + 1


def test_flows_project_crash_resumes_without_duplicates(lake_root, monkeypatch):
    import xproj.projectors.pipeline as pipeline
    from xproj.flows.project_parallel import project_parallel

    real = pipeline.project_pairs
    calls = []

    def crash_on_third_shard(pairs, aligner, **kw):
        calls.append(len(pairs))
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return real(pairs, aligner, **kw)

    monkeypatch.setattr(pipeline, "project_pairs", crash_on_third_shard)
    cfg = _config(lake_root, "fr", shard_size=10)
    with pytest.raises(RuntimeError, match="simulated crash"):
        project_parallel(cfg)
    lake = Lake(lake_root)
    assert lake.tables() == []  # a failed run leaves no version anywhere
    monkeypatch.setattr(pipeline, "project_pairs", real)
    resumed = project_parallel(cfg)
    projected = lake.read("projected").to_pylist()
    assert len(projected) == 36
    assert len({r["pair_id"] for r in projected}) == 36
    assert {r["run_id"] for r in projected} == {resumed.run_id}
    assert not (Path(lake_root) / "_staging" / resumed.run_key).exists()


def test_flows_project_rejects_are_recorded(tmp_path, lake_root):
    from xproj.flows.project_parallel import project_parallel

    cfg = _written_config(
        tmp_path,
        lake_root,
        "Anna\tB-PER\nsings\tO\n\nBob\tI-PER\nruns\tO\nfast\n\nRome\tB-LOC\n",
        "Anna\tB-PER\ncanta\tO\n\nBob\tB-PER\ncorre\tO\n\nRoma\tB-LOC\n",
        source={"scheme": "iob2"},
        aligner="eflomal.v1",
    )
    project_parallel(cfg)
    lake = Lake(lake_root)
    assert lake.read("projected").num_rows == 2
    rejected = sorted(lake.read("rejected").to_pylist(), key=lambda r: r["code"])
    # the bad source record (one-column line 6), and its counterpart on the target side
    assert [r["code"] for r in rejected] == ["XP101", "XP112"]
    assert rejected[0]["source"].endswith("src.conll") and rejected[0]["locator"] == "line 6"
    assert "Bob\tcorre" not in rejected[1]["raw"] and "Bob corre" in rejected[1]["raw"]


def test_flows_project_lenient_given_links_out_of_range_are_rejected(tmp_path, lake_root):
    from xproj.flows.project_parallel import project_parallel

    cfg = _given_config(
        tmp_path,
        lake_root,
        "0-0 1-1\n0-0 5-9\n",
        "Anna\tB-PER\nsings\tO\n\nRome\tB-LOC\nshines\tO\n",
        "Anna\tB-PER\ncanta\tO\n\nRoma\tB-LOC\nbrilla\tO\n",
        strict=False,
        shard_size=1,
    )
    project_parallel(cfg)
    lake = Lake(lake_root)
    assert lake.read("projected").num_rows == 2  # the pair keeps its other links
    rejected = lake.read("rejected").to_pylist()
    # the link that fits neither sentence is written down once, where it stands in the file
    assert [(r["code"], r["locator"], r["raw"]) for r in rejected] == [("XP107", "line 2", "5-9")]
    assert rejected[0]["source"].endswith("links.align")


@pytest.mark.parametrize("shard_size", [1, 2, 100])
def test_flows_project_given_links_skip_the_lines_of_rejected_pairs(
    tmp_path, lake_root, shard_size
):
    from xproj.flows.project_parallel import project_parallel

    # pair 2 is rejected at read (its "fast" line has no tag); line 3 of the file is pair 3's
    cfg = _given_config(
        tmp_path,
        lake_root,
        "0-0 1-1\n0-0 1-1\n0-1 1-0\n",
        "Anna\tB-PER\nsings\tO\n\nBob\tB-PER\nruns\tO\nfast\n\nRome\tB-LOC\nshines\tO\n",
        "Anna\tB-PER\ncanta\tO\n\nBob\tB-PER\ncorre\tO\n\nbrilla\tO\nRoma\tB-LOC\n",
        shard_size=shard_size,
    )
    project_parallel(cfg)
    projected = sorted(Lake(lake_root).read("projected").to_pylist(), key=lambda r: r["pair_id"])
    spans = [[(s["start"], s["end"], s["label"]) for s in r["tgt_spans"]] for r in projected]
    assert spans == [[(0, 1, "PER")], [(1, 2, "LOC")]]  # Rome -> Roma, not -> brilla


def test_flows_project_line_count_mismatch_is_a_coded_error(tmp_path, lake_root):
    from xproj.flows.project_parallel import project_parallel
    from xproj.schemas.errors import InputFormatError

    cfg = _written_config(tmp_path, lake_root, "Anna\tB-PER\n\nRome\tB-LOC\n", "Anna\tB-PER\n")
    with pytest.raises(InputFormatError) as err:
        project_parallel(cfg)
    assert err.value.code == "XP106" and "src.conll" in str(err.value)
    assert Lake(lake_root).tables() == []


def test_flows_project_given_alignments_same_for_any_shard_size(tmp_path):
    from xproj.flows.project_parallel import project_parallel
    from xproj.io.readers.conll import read_conll

    src = read_conll(SAMPLES / "sample.en.conll", "en")
    tgt = read_conll(SAMPLES / "sample.es.conll", "es")
    links = tmp_path / "diag.align"
    links.write_text(
        "".join(
            " ".join(f"{i}-{i}" for i in range(min(len(s.tokens), len(t.tokens)))) + "\n"
            for s, t in zip(src, tgt, strict=True)
        )
    )
    results = []
    for shard_size, lake in ((36, tmp_path / "a"), (7, tmp_path / "b")):
        cfg = _config(
            lake,
            "es",
            aligner="given.v1",
            aligner_options={"path": str(links)},
            shard_size=shard_size,
        )
        project_parallel(cfg)
        rows = Lake(lake).read("outcomes").to_pylist()
        results.append(
            sorted(
                (r["pair_id"], r["span_index"], r["tgt_start"], r["tgt_end"], r["reason"])
                for r in rows
            )
        )
    assert results[0] == results[1] and len(results[0]) == 65


def test_flows_project_reports_progress_per_shard_in_prefect(lake_root):
    """Under Prefect, a run updates its progress artifact after every shard."""
    from prefect.client.orchestration import get_client

    from xproj.flows.project_parallel import project_parallel

    project_parallel(_config(lake_root, "de", shard_size=12, aligner_priors="off"))
    with get_client(sync_client=True) as client:
        artifacts = [a for a in client.read_artifacts() if a.key == "project-parallel-progress"]
    texts = {a.data for a in artifacts}
    assert any("3 shard(s) done" in t and "36 records read" in t for t in texts), texts
