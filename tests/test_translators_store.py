"""The local model store: conversion, listing, resolving, and clear errors for broken folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from xproj.schemas.errors import (
    E_CONVERSION_FAILED,
    E_MODEL_CORRUPT,
    E_MODEL_NOT_FOUND,
    E_UNKNOWN_STRATEGY,
    BackendError,
    ConfigError,
)
from xproj.translators import CT2Translator, store

HUB_ID = "tiny-org/opus-mt-en-de"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("source", "quantization", "expected"),
    [
        ("facebook/nllb-200-distilled-600M", "int8", "facebook--nllb-200-distilled-600M-int8"),
        ("Helsinki-NLP/opus-mt-en-de", "float16", "Helsinki-NLP--opus-mt-en-de-float16"),
        ("my model (v2)/", "int8", "my_model_v2-int8"),
        ("/abs/path/marian-hf", "int8", "--abs--path--marian-hf-int8"),
    ],
)
def test_store_id(source, quantization, expected):
    assert store.store_id(source, quantization) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XPROJ_MODELS": "/models"}, Path("/models")),
        ({"XDG_CACHE_HOME": "/cache"}, Path("/cache/xproj/models")),
        ({"HOME": "/home/u"}, Path("/home/u/.cache/xproj/models")),
    ],
)
def test_store_default_root(monkeypatch, env, expected):
    for name in ("XPROJ_MODELS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert store.default_root() == expected


@pytest.mark.parametrize(
    ("tie", "scale", "expected"),
    [(True, False, False), (True, True, True), (False, False, False), (True, None, True)],
)
def test_store_t5_output_scaling_follows_saved_flag(tie, scale, expected):
    config = SimpleNamespace(tie_word_embeddings=tie)
    if scale is not None:
        config.scale_decoder_outputs = scale
    store._fix_output_scaling(config)
    assert config.tie_word_embeddings is expected


def test_store_missing_folder_names_path_and_command(tmp_path):
    missing = tmp_path / "no-such-model"
    for call in (lambda: store.resolve(missing), lambda: store.check_model_dir(missing)):
        with pytest.raises(BackendError) as info:
            call()
        assert info.value.code == E_MODEL_NOT_FOUND
        assert str(missing) in str(info.value) and "xproj models convert" in info.value.fix


def test_store_unknown_id_names_convert_command(tmp_path):
    with pytest.raises(BackendError) as info:
        store.resolve("facebook/nllb-200-distilled-600M", root=tmp_path)
    err = info.value
    assert err.code == E_MODEL_NOT_FOUND and str(tmp_path) in err.message
    assert "xproj models convert facebook/nllb-200-distilled-600M --quantization int8" in err.fix


@pytest.fixture(scope="module")
def marian_store(tiny_mt_models, tmp_path_factory):
    """The tiny Marian model converted into a fresh store."""
    root = tmp_path_factory.mktemp("store")
    messages: list[str] = []
    path = store.convert(tiny_mt_models["marian"]["hf"], root=root, log=messages.append)
    return SimpleNamespace(root=root, path=path, messages=messages)


@pytest.mark.slow
def test_store_convert_local_folder(marian_store, tiny_mt_models):
    path, hf = marian_store.path, tiny_mt_models["marian"]["hf"]
    assert path == marian_store.root / "marian-hf-int8"
    manifest = store.read_manifest(path)
    assert manifest["source"] == str(hf.resolve()) and manifest["source_kind"] == "local"
    assert manifest["family"] == "marian" and manifest["quantization"] == "int8"
    assert manifest["tokenizer_class"] == "MarianTokenizer" and manifest["max_source_length"] == 64
    assert manifest["languages"] == {"source": ["en"], "target": ["de"]}
    assert {"source.spm", "target.spm", "vocab.json"} <= set(manifest["tokenizer_files"])
    assert all((path / name).is_file() for name in manifest["tokenizer_files"])
    assert store.problems(path) == []
    assert any("Converting" in m for m in marian_store.messages)
    assert any("Converted" in m for m in marian_store.messages)
    assert [p.name for p in marian_store.root.iterdir()] == ["marian-hf-int8"]  # no leftovers


@pytest.mark.slow
def test_store_list_and_resolve(marian_store, tiny_mt_models):
    root, path = marian_store.root, marian_store.path
    [info] = store.list_models(root)
    assert (info.id, info.family, info.quantization, info.problem) == (
        "marian-hf-int8",
        "marian",
        "int8",
        None,
    )
    assert info.size_bytes > 0
    hf = tiny_mt_models["marian"]["hf"]
    for name in ("marian-hf-int8", str(path), str(hf.resolve())):
        assert store.resolve(name, root=root) == path.resolve()
    with pytest.raises(ConfigError):  # several conversions of one source: ask which
        shutil.copytree(path, root / "marian-hf-copy")
        manifest = store.read_manifest(root / "marian-hf-copy")
        try:
            store.resolve(manifest["source"], root=root)
        finally:
            shutil.rmtree(root / "marian-hf-copy")


@pytest.mark.slow
def test_store_translator_loads_store_id(marian_store):
    translator = CT2Translator("marian-hf-int8", root=marian_store.root, device="cpu")
    assert translator.family == "marian" and translator.path == marian_store.path
    assert translator.model_id.startswith("marian-hf#")
    assert translator.describe()["weights"] == "int8"
    assert translator.language_codes("en", "de") == ("en", "de")


@pytest.mark.slow
def test_store_convert_again_is_a_no_op_unless_forced(marian_store, tiny_mt_models):
    hf, root = tiny_mt_models["marian"]["hf"], marian_store.root
    before = (marian_store.path / "model.bin").stat().st_mtime_ns
    messages: list[str] = []
    assert store.convert(hf, root=root, log=messages.append) == marian_store.path
    assert (marian_store.path / "model.bin").stat().st_mtime_ns == before
    assert "already in the store" in messages[0]
    store.convert(hf, root=root, force=True, log=messages.append)
    assert (marian_store.path / "model.bin").stat().st_mtime_ns != before
    assert [p.name for p in root.iterdir()] == ["marian-hf-int8"]


@pytest.mark.slow
def test_store_failed_conversion_leaves_nothing(tiny_mt_models, tmp_path, monkeypatch):
    class Broken:
        def convert(self, output_dir, **kwargs):
            Path(output_dir).mkdir(parents=True)
            (Path(output_dir) / "model.bin").write_bytes(b"half")
            raise RuntimeError("disk full")

    monkeypatch.setattr(store, "converter", lambda folder, files: Broken())
    with pytest.raises(BackendError) as info:
        store.convert(tiny_mt_models["nllb"]["hf"], root=tmp_path)
    assert info.value.code == E_CONVERSION_FAILED and "disk full" in info.value.message
    assert list(tmp_path.iterdir()) == []
    assert store.list_models(tmp_path) == []


def test_store_unknown_quantization(tmp_path):
    with pytest.raises(ConfigError) as info:
        store.convert(tmp_path, quantization="int4", root=tmp_path)
    assert info.value.code == E_UNKNOWN_STRATEGY and "int8" in info.value.fix


# (what to break in a copy of a converted model, text the error must contain)
CORRUPT_CASES = [
    ("model.bin", "model.bin"),
    ("config.json", "config.json"),
    ("source.spm", "source.spm"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("remove", "named"), CORRUPT_CASES)
def test_store_corrupt_folder_names_path_and_command(marian_store, tmp_path, remove, named):
    broken = tmp_path / "broken"
    shutil.copytree(marian_store.path, broken)
    (broken / remove).unlink()
    for call in (lambda: store.resolve(broken), lambda: CT2Translator(broken, device="cpu")):
        with pytest.raises(BackendError) as info:
            call()
        err = info.value
        assert err.code == E_MODEL_CORRUPT
        assert str(broken) in str(err) and named in err.message
        source = store.read_manifest(broken)["source"]
        assert f"xproj models convert {source} --quantization int8 --force" in err.fix
    [listed] = store.list_models(tmp_path)
    assert listed.problem is not None and named in listed.problem


@pytest.mark.slow
def test_store_foreign_folder_without_tokenizer(tiny_mt_models, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("model.bin", "config.json", "shared_vocabulary.json"):
        shutil.copy(tiny_mt_models["nllb"]["ct2"] / name, bare / name)
    with pytest.raises(BackendError) as info:
        store.resolve(bare)
    assert info.value.code == E_MODEL_CORRUPT and "tokenizer" in info.value.message
    assert "xproj models convert <hub id or model folder>" in info.value.fix


@pytest.mark.slow
def test_store_garbage_weights(marian_store, tmp_path):
    broken = tmp_path / "garbage"
    shutil.copytree(marian_store.path, broken)
    (broken / "model.bin").write_bytes(b"\x00" * 64)
    with pytest.raises(BackendError) as info:
        CT2Translator(broken, device="cpu")
    assert info.value.code == E_MODEL_CORRUPT and str(broken) in str(info.value)
    assert "--force" in info.value.fix


@pytest.mark.slow
def test_store_hugging_face_folder_is_not_a_converted_model(tiny_mt_models):
    hf = tiny_mt_models["nllb"]["hf"]
    with pytest.raises(BackendError) as info:
        CT2Translator(hf, device="cpu")
    assert info.value.code == E_MODEL_CORRUPT and "Hugging Face model folder" in info.value.message
    assert info.value.fix == f"convert it: xproj models convert {hf} --quantization int8"


def _fake_hub_cache(cache: Path, hf_folder: Path) -> Path:
    """A Hugging Face cache holding ``hf_folder`` as ``HUB_ID`` at ``COMMIT`` (as downloads do)."""
    repo = cache / f"models--{HUB_ID.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    shutil.copytree(hf_folder, repo / "snapshots" / COMMIT)
    return cache


@pytest.mark.slow
def test_store_hub_id_offline_from_cache(tiny_mt_models, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = _fake_hub_cache(tmp_path / "hf-cache", tiny_mt_models["marian"]["hf"])
    root = tmp_path / "store"
    path = store.convert(HUB_ID, root=root, cache_dir=cache, log=lambda message: None)
    assert path.name == "tiny-org--opus-mt-en-de-int8"
    manifest = store.read_manifest(path)
    assert manifest["source"] == HUB_ID and manifest["source_kind"] == "hub"
    assert manifest["revision"] == COMMIT
    assert store.resolve(HUB_ID, root=root) == path
    translator = CT2Translator(HUB_ID, root=root, device="cpu")
    assert translator.model_id == f"{HUB_ID}@{COMMIT}"
    assert translator.translate_all(["Thank you."], "en", "de")[0].tokens > 0


def test_store_hub_id_offline_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackendError) as info:
        store.convert("nobody/not-cached-model", root=tmp_path, cache_dir=tmp_path / "empty")
    err = info.value
    assert err.code == E_MODEL_NOT_FOUND and "HF_HUB_OFFLINE" in err.message
    assert "not-cached-model" in err.message and list(tmp_path.iterdir()) == []


def test_store_missing_local_source(tmp_path):
    with pytest.raises(BackendError) as info:
        store.convert(str(tmp_path / "nope"), root=tmp_path / "store")
    assert info.value.code == E_MODEL_NOT_FOUND and str(tmp_path / "nope") in str(info.value)


def test_store_model_id_forms(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"weights")
    hub = {"source": "org/m", "source_kind": "hub", "revision": "abc"}
    assert store.model_id(tmp_path, hub) == "org/m@abc"
    local = store.model_id(tmp_path, {"source": "/data/my-model", "source_kind": "local"})
    assert local == f"my-model#{store.fingerprint(tmp_path)}"
    (tmp_path / "model.bin").write_bytes(b"other weights")
    assert store.model_id(tmp_path, None) != local.replace("my-model", tmp_path.name)
    assert json.dumps(store.model_id(tmp_path, None))  # a plain string


def test_store_convert_takes_the_tokenizer_from_elsewhere(tiny_mt_models, tmp_path):
    """A checkpoint published without its tokenizer (as EasyProject's NLLB) converts with
    ``tokenizer=`` pointing at a folder that has one; without it, a coded error says so."""
    import shutil

    from xproj.schemas.errors import BackendError
    from xproj.translators.ct2 import CT2Translator

    hf = tiny_mt_models["nllb"]["hf"]
    bare = tmp_path / "nllb-no-tokenizer"
    bare.mkdir()
    for f in hf.iterdir():
        if f.is_file() and not f.name.startswith(("tokenizer", "sentencepiece", "special_tokens")):
            shutil.copy2(f, bare / f.name)
    root = tmp_path / "store"
    with pytest.raises(BackendError) as err:
        store.convert(bare, root=root, log=lambda m: None)
    assert err.value.code == "XP505" and "tokenizer" in str(err.value)
    path = store.convert(bare, root=root, tokenizer=hf, log=lambda m: None)
    manifest = store.read_manifest(path)
    assert manifest["tokenizer_source"] == str(hf) and manifest["source"] == str(bare.resolve())
    assert not any(p.name.startswith(".tok-") for p in root.iterdir())  # scratch folder removed
    translator = CT2Translator(path, device="cpu")
    assert translator.target_pieces(["[ Berlin ]"])[0][0] == "▁["


@pytest.mark.parametrize("family", ["nllb", "marian"])
def test_store_tokenizer_by_its_named_class_without_pytorch(tiny_mt_models, family):
    """A folder without an xproj manifest: the tokenizer is of the class its
    tokenizer_config.json names, the one AutoTokenizer picks, and loading it imports no PyTorch
    (AutoTokenizer's import does: seconds in every process and Ray actor)."""
    import subprocess
    import sys

    folder = tiny_mt_models[family]["ct2"]
    assert store.read_manifest(folder) is None
    script = (
        "import sys, transformers\n"
        "from xproj.translators.store import load_tokenizer\n"
        "mine = type(load_tokenizer(__import__('pathlib').Path(sys.argv[1]))).__name__\n"
        "torch = 'torch' in sys.modules\n"
        "auto = type(transformers.AutoTokenizer.from_pretrained(sys.argv[1])).__name__\n"
        "print(mine, auto, torch)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(folder)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    mine, auto, torch = run.stdout.split()
    assert (mine, torch) == (auto, "False")
