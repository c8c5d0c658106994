"""Flow configs: shared fields, validation at the edge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from xproj.flows.config import ProjectParallelConfig, TranslateTrainConfig

SRC = {"path": "a.conll", "lang": "en"}


@pytest.mark.parametrize(
    "make",
    [
        lambda src: ProjectParallelConfig(source=src, target={"path": "b.txt", "lang": "es"}),
        lambda src: TranslateTrainConfig(source=src, target_langs=["de"], model="m"),
    ],
)
def test_flows_config_source_needs_labels(make):
    with pytest.raises(ValidationError, match="needs labels"):
        make({**SRC, "format": "text"})
    assert make(SRC).source.lang == "en"


def test_flows_config_translate_train_refuses_given_alignments():
    with pytest.raises(ValidationError, match="given.v1 reads links from a file"):
        TranslateTrainConfig(source=SRC, target_langs=["de"], model="m", aligner="given.v1")


def test_flows_config_translate_train_refuses_repeated_languages():
    with pytest.raises(ValidationError, match="repeat"):
        TranslateTrainConfig(source=SRC, target_langs=["de", "deu"], model="m")


def test_flows_config_override_below_a_scalar_is_a_coded_error(tmp_path):
    from xproj.flows.config import load_config
    from xproj.schemas.errors import ConfigError

    cfg = tmp_path / "run.yaml"
    cfg.write_text("source: a.conll\ntarget: {path: b.conll, lang: es}\n")
    with pytest.raises(ConfigError) as err:
        load_config(ProjectParallelConfig, cfg, {"source.lang": "en"})
    assert err.value.code == "XP301" and err.value.file == str(cfg)
    assert "source is 'a.conll'" in err.value.message


def test_flows_config_entitycs_switch_settings_at_the_top_level():
    from xproj.flows.entitycs import EntityCSConfig

    sides = {"source": {"path": "a.json"}, "names": {"path": "labels"}}
    cfg = EntityCSConfig(**sides, seed=3, languages=None, switch={"seed": 5, "max_languages": 2})
    assert (cfg.switch.seed, cfg.switch.max_languages) == (5, 2)  # the block wins
    assert len(cfg.switch.languages) == 92  # languages: null keeps the default
    assert EntityCSConfig(**sides, seed=3).switch.seed == 3


def test_flows_config_entitycs_writes_the_title_files_rejects(tmp_path):
    """Lines of the title and redirect files that were not used are rejected rows, as the
    names' are: nothing read vanishes."""
    from xproj.executor.summary import RunSummary
    from xproj.flows.entitycs import EntityCS, EntityCSConfig
    from xproj.generators.entitycs.wikidata import read_title_index

    titles = tmp_path / "titles.tsv"
    titles.write_text("Paris\tQ90\nno tab here\nBerlin\tQ64\n")
    plan = EntityCS(EntityCSConfig(source={"path": "a.json"}, names={"path": "labels"}))
    plan.names = type("Names", (dict,), {"rejects": []})()
    plan.titles = read_title_index(titles)
    out = plan.finish(RunSummary("entitycs", "t", "r", "k"))
    assert [(r.source, r.locator, r.code) for r in out["rejected"]] == [
        (str(titles), "line 2", "XP101")
    ]


@pytest.mark.parametrize("spelled", ["spa", "es-ES", "ES"])
def test_config_language_spellings_make_one_run(tmp_path, spelled):
    from xproj.catalog.lineage import make_run_key
    from xproj.executor.identity import key_of

    src, tgt = tmp_path / "a.en.conll", tmp_path / "a.es.conll"
    src.write_text("Anna\tB-PER\n")
    tgt.write_text("Ana\tB-PER\n")

    def key(lang):
        cfg = ProjectParallelConfig(
            source={"path": str(src), "lang": "eng"}, target={"path": str(tgt), "lang": lang}
        )
        assert (cfg.source.lang, cfg.target.lang) == ("en", "es")
        return make_run_key("project_parallel", *key_of(cfg))

    assert key(spelled) == key("es")
    langs = TranslateTrainConfig(
        source={"path": str(src), "lang": "en"}, target_langs=[spelled], model="m"
    )
    assert langs.target_langs == ["es"]


@pytest.mark.parametrize(
    "change, hint",
    [
        (
            {"polcy": {"gap_fill": 1}},
            "polcy: Extra inputs are not permitted (did you mean policy?)",
        ),
        (
            {"policy": {"gap_fil": 2}},
            "policy.gap_fil: Unexpected keyword argument (did you mean gap_fill?)",
        ),
        (
            {"source": {"path": "a.conll", "lang": "en", "pth": "b"}},
            "source.pth: Extra inputs are not permitted (did you mean path?)",
        ),
    ],
)
def test_config_unknown_keys_suggest_close_names(tmp_path, change, hint):
    import yaml

    from xproj.flows.config import load_config
    from xproj.schemas.errors import ConfigError

    config = {
        "source": {"path": "a.conll", "lang": "en"},
        "target": {"path": "b.conll", "lang": "es"},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**config, **change}))
    with pytest.raises(ConfigError) as err:
        load_config(ProjectParallelConfig, path, {}, command="project")
    assert err.value.code == "XP301" and hint in str(err.value)


def test_flows_config_aligner_priors_off_reads_as_the_word():
    """``--aligner_priors off`` arrives as YAML's false: it means off, not an error."""
    from xproj.flows.config import ProjectParallelConfig

    sides = {
        "source": {"path": "a.conll", "lang": "en"},
        "target": {"path": "b.conll", "lang": "es"},
    }
    assert ProjectParallelConfig(**sides, aligner_priors=False).aligner_priors == "off"
    assert ProjectParallelConfig(**sides, aligner_priors=True).aligner_priors == "auto"
    assert ProjectParallelConfig(**sides).aligner_priors == "auto"
