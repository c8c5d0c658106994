"""The local model store: Hugging Face translation models converted to CTranslate2.

Each converted model is a folder ``<root>/<name>-<quantization>/`` holding CTranslate2's
``model.bin``, ``config.json`` and ``shared_vocabulary.json``, the tokenizer files copied from
the source, and ``xproj-model.json``, a manifest saying where the model came from and how it was
converted. The root is ``$XPROJ_MODELS``, else ``$XDG_CACHE_HOME/xproj/models``, else
``~/.cache/xproj/models``.

Conversion is atomic: it writes into a hidden temporary folder under the root and renames it
into place, so a failed or interrupted conversion leaves no model folder behind.

Hub ids work offline (``HF_HUB_OFFLINE=1``) when the Hugging Face cache holds the model.

Example:
    >>> path = convert("Helsinki-NLP/opus-mt-en-de", quantization="int8")  # doctest: +SKIP
    >>> resolve("Helsinki-NLP/opus-mt-en-de") == path  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xproj.schemas.errors import (
    E_CONVERSION_FAILED,
    E_MODEL_CORRUPT,
    E_MODEL_NOT_FOUND,
    E_UNKNOWN_STRATEGY,
    BackendError,
    ConfigError,
    XprojError,
)
from xproj.translators.families import declared_pair, detect_family, get_family

logger = logging.getLogger(__name__)

MANIFEST = "xproj-model.json"
MANIFEST_FORMAT = 1

#: Weight types ``convert`` accepts (CTranslate2's quantization names).
QUANTIZATIONS = (
    "int8",
    "int8_float16",
    "int8_float32",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)

# Files of a Hugging Face folder that belong to the tokenizer and travel with a converted model.
_TOKENIZER_NAMES = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "vocab.txt",
        "merges.txt",
        "sentencepiece.bpe.model",
        "spiece.model",
        "source.spm",
        "target.spm",
        "target_vocab.json",
    }
)
_TOKENIZER_SUFFIXES = (".spm",)
_MODEL_FILES = ("model.bin", "config.json")
# What the Hub download skips: other frameworks' weights and exports.
_HUB_IGNORE = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "onnx/*", "tf_model*", "flax_model*", "rust*"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class ModelInfo:
    """One model of the store, as :func:`list_models` reports it.

    Attributes:
        id: the folder name, usable with :func:`resolve` and ``CT2Translator``.
        path: the folder.
        source: Hub id or source folder it was converted from (``""`` without a manifest).
        revision: Hub commit (or the revision asked for), else ``None``.
        family: model family name, else ``None``.
        quantization: weight type, else ``None``.
        created_at: ISO timestamp of the conversion, else ``None``.
        size_bytes: total size of the folder's files.
        problem: why the folder is unusable (missing files), or ``None`` when it is complete.
    """

    id: str
    path: Path
    source: str
    revision: str | None
    family: str | None
    quantization: str | None
    created_at: str | None
    size_bytes: int
    problem: str | None = None


def default_root() -> Path:
    """``$XPROJ_MODELS``, else ``$XDG_CACHE_HOME/xproj/models``, else ``~/.cache/xproj/models``."""
    if os.environ.get("XPROJ_MODELS"):
        return Path(os.environ["XPROJ_MODELS"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "xproj" / "models"


def store_id(source: str, quantization: str) -> str:
    """The store folder name for a source and weight type.

    Example:
        >>> store_id("facebook/nllb-200-distilled-600M", "int8")
        'facebook--nllb-200-distilled-600M-int8'
    """
    name = source.rstrip("/\\").replace("/", "--")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    return f"{name}-{quantization}"


def source_of(store_id_or_source: str) -> tuple[str, str | None]:
    """The Hub id and weight type a store id was made from (:func:`store_id` undone), or the
    text itself and None when it is no store id.

    Example:
        >>> source_of("facebook--nllb-200-distilled-600M-int8")
        ('facebook/nllb-200-distilled-600M', 'int8')
        >>> source_of("facebook/nllb-200-distilled-600M")
        ('facebook/nllb-200-distilled-600M', None)
    """
    for quantization in sorted(QUANTIZATIONS, key=len, reverse=True):
        suffix = f"-{quantization}"
        if store_id_or_source.endswith(suffix) and len(store_id_or_source) > len(suffix):
            name = store_id_or_source[: -len(suffix)]
            return name.replace("--", "/", 1), quantization
    return store_id_or_source, None


def convert_command(source: str, quantization: str | None = None, *, force: bool = False) -> str:
    """The CLI command that (re)creates a store model, for error messages."""
    command = f"xproj models convert {source}"
    if quantization:
        command += f" --quantization {quantization}"
    return command + (" --force" if force else "")


def read_manifest(path: Path) -> dict | None:
    """The folder's ``xproj-model.json``, or ``None`` when it has none or it is unreadable."""
    try:
        data = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tokenizer_files(folder: Path) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and (p.name in _TOKENIZER_NAMES or p.name.endswith(_TOKENIZER_SUFFIXES))
    )


def problems(path: Path) -> list[str]:
    """What a converted model folder lacks (empty when it looks complete).

    Checks for ``model.bin``, a readable CTranslate2 ``config.json``, tokenizer files, and
    every tokenizer file the manifest lists.
    """
    path = Path(path)
    if not path.is_dir():
        return [f"{path} is not a folder"]
    missing = [name for name in _MODEL_FILES if not (path / name).is_file()]
    if "config.json" not in missing:
        try:
            json.loads((path / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append("a readable config.json")
    manifest = read_manifest(path)
    listed = (manifest or {}).get("tokenizer_files") or []
    missing += [name for name in listed if not (path / name).is_file()]
    if not listed and not _tokenizer_files(path):
        missing.append("tokenizer files (tokenizer.json or tokenizer_config.json with its vocab)")
    return missing


def check_model_dir(path: Path) -> Path:
    """Raise a coded error unless ``path`` is a complete converted model; return it.

    Raises:
        BackendError: XP503 when the folder does not exist, XP504 when it is incomplete or is an
            unconverted Hugging Face folder; the message names the path and the command to fix it.
    """
    path = Path(path)
    if not path.is_dir():
        raise BackendError(
            f"model folder {path} does not exist.",
            fix="convert the model first: "
            f"{convert_command('<hub id or model folder>', 'int8')}, or give an existing folder.",
            file=str(path),
            code=E_MODEL_NOT_FOUND,
        )
    missing = problems(path)
    if not missing:
        return path
    manifest = read_manifest(path)
    if manifest is None and _is_hf_folder(path):
        raise BackendError(
            f"{path} is a Hugging Face model folder, not a converted CTranslate2 model.",
            fix=f"convert it: {convert_command(str(path), 'int8')}",
            file=str(path),
            code=E_MODEL_CORRUPT,
        )
    source = str((manifest or {}).get("source") or "<hub id or model folder>")
    quantization = (manifest or {}).get("quantization") or "int8"
    raise BackendError(
        f"{path} is not a complete CTranslate2 model: missing {', '.join(missing)}.",
        fix=f"convert it again: {convert_command(source, quantization, force=True)}",
        file=str(path),
        code=E_MODEL_CORRUPT,
    )


def _is_hf_folder(path: Path) -> bool:
    config = path / "config.json"
    if not config.is_file():
        return False
    try:
        return "model_type" in json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _looks_like_path(name: str) -> bool:
    """Whether a name can only be a path (a Hub id is ``name`` or ``org/name``)."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def resolve(
    name_or_path: str | os.PathLike, *, root: Path | None = None, quantization: str | None = None
) -> Path:
    """The folder of a converted model: a folder path, a store id, or a source it was made from.

    Args:
        name_or_path: a CTranslate2 model folder (store or not), a store id
            (``facebook--nllb-200-distilled-600M-int8``), or the Hub id / Hugging Face folder a
            store model was converted from.
        root: store root; :func:`default_root` when ``None``.
        quantization: when a source has several store models, the weight type to pick.

    Raises:
        BackendError: XP503 when nothing matches (with the convert command), XP504 when the
            folder is incomplete.
    """
    root = Path(root) if root is not None else default_root()
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir() and (path / "model.bin").is_file():
        return check_model_dir(path).resolve()
    if text and not path.is_dir() and (root / text).is_dir():
        return check_model_dir(root / text)
    sources = {text, str(path.resolve())} if path.is_dir() else {text}
    matches = [info for info in list_models(root) if info.source in sources]
    if quantization is not None:
        matches = [info for info in matches if info.quantization == quantization]
    if len(matches) == 1:
        return check_model_dir(matches[0].path)
    if not matches and path.is_dir():  # a folder that is not a converted model, nor converted
        return check_model_dir(path)
    if len(matches) > 1:
        raise ConfigError(
            f"{text!r} has {len(matches)} converted models in {root}: "
            f"{', '.join(info.id for info in matches)}.",
            fix="name one of them by its id, or give the quantization.",
            code=E_UNKNOWN_STRATEGY,
        )
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(text):
        raise BackendError(
            f"model folder {path} does not exist.",
            fix=f"convert a model into the store: {convert_command('<hub id or model folder>')}, "
            "or give the folder of a converted model.",
            file=str(path),
            code=E_MODEL_NOT_FOUND,
        )
    source, stored_as = source_of(text)
    raise BackendError(
        f"no converted model {text!r}: not a folder, and the store at {root} has no model with "
        "this id or source.",
        fix=f"convert it first: {convert_command(source, quantization or stored_as or 'int8')} "
        "(or set XPROJ_MODELS to the store that has it; workers need it in their environment "
        "too).",
        code=E_MODEL_NOT_FOUND,
    )


def list_models(root: Path | None = None) -> list[ModelInfo]:
    """The models in the store, sorted by id; incomplete folders are listed with their problem."""
    root = Path(root) if root is not None else default_root()
    if not root.is_dir():
        return []
    infos = []
    for path in sorted(root.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        manifest = read_manifest(path) or {}
        missing = problems(path)
        infos.append(
            ModelInfo(
                id=path.name,
                path=path,
                source=str(manifest.get("source") or ""),
                revision=manifest.get("revision"),
                family=manifest.get("family"),
                quantization=manifest.get("quantization"),
                created_at=manifest.get("created_at"),
                size_bytes=sum(p.stat().st_size for p in path.rglob("*") if p.is_file()),
                problem=f"missing {', '.join(missing)}" if missing else None,
            )
        )
    return infos


def fingerprint(path: Path) -> str:
    """A cheap identity of a model's weights: SHA-256 of ``model.bin``'s size and its first and
    last MiB (hex, 16 characters)."""
    weights = Path(path) / "model.bin"
    digest = hashlib.sha256()
    size = weights.stat().st_size
    digest.update(str(size).encode())
    with weights.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        if size > 2 << 20:
            handle.seek(-(1 << 20), os.SEEK_END)
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def model_id(path: Path, manifest: dict | None = None) -> str:
    """A stable id of the weights: ``hub/id@commit`` for Hub models, else ``<folder>#<fingerprint>``.

    Example:
        >>> model_id(Path("/m"), {"source": "org/m", "source_kind": "hub", "revision": "abc"})
        'org/m@abc'
    """
    manifest = manifest or {}
    if manifest.get("source_kind") == "hub":
        revision = manifest.get("revision")
        return f"{manifest['source']}@{revision}" if revision else str(manifest["source"])
    name = Path(str(manifest.get("source") or path)).name
    return f"{name}#{manifest.get('fingerprint') or fingerprint(path)}"


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` is set: Hugging Face files come from the local cache only,
    and nothing is sent to the Hub."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _locate(
    source: str, revision: str | None, cache_dir: Path | None, say: Log
) -> tuple[Path, str, str | None]:
    """``(local folder, "local"|"hub", revision)`` of a conversion source."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path.resolve(), "local", revision
    if _looks_like_path(source) or path.exists():
        raise BackendError(
            f"model folder {path} does not exist (or is not a folder).",
            fix="give an existing Hugging Face model folder or a Hub id (org/name).",
            file=str(path),
            code=E_MODEL_NOT_FOUND,
        )
    from huggingface_hub import snapshot_download

    offline = hub_offline()
    say(f"Fetching {source} from the Hugging Face {'cache' if offline else 'Hub'} …")
    try:
        folder = snapshot_download(
            source,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=offline,
            ignore_patterns=_HUB_IGNORE,
        )
    except Exception as err:  # the Hub client raises many types; all mean "not available"
        where = "in the local Hugging Face cache (HF_HUB_OFFLINE is set)" if offline else ""
        raise BackendError(
            f"cannot get {source!r}{' ' + where if where else ''}: "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
            fix="check the Hub id; on an offline machine download it elsewhere into the Hugging "
            "Face cache (huggingface-cli download) or give a local model folder.",
            code=E_MODEL_NOT_FOUND,
        ) from err
    folder = Path(folder)
    # The snapshot folder is named after the commit: record it so the model id pins the weights.
    return folder, "hub", folder.name if re.fullmatch(r"[0-9a-f]{40}", folder.name) else revision


def load_tokenizer(folder: Path, class_name: str | None = None) -> Any:
    """The Hugging Face tokenizer saved in ``folder``.

    Of class ``class_name`` when given (a converted folder's ``config.json`` is CTranslate2's,
    so ``AutoTokenizer`` cannot rely on it), else of the class ``tokenizer_config.json`` names,
    else whatever ``AutoTokenizer`` finds. Naming the class spares ``AutoTokenizer``'s import of
    PyTorch (seconds, in every process and Ray actor that opens a translator). Only local files
    are read, so it works offline.
    """
    import transformers

    if not class_name:
        try:
            config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
        name = config.get("tokenizer_class") if isinstance(config, dict) else None
        class_name = name if isinstance(name, str) else None
    cls = getattr(transformers, class_name, None) if class_name else None
    with warnings.catch_warnings():
        # MarianTokenizer recommends sacremoses for a text normalisation it does not need here.
        warnings.filterwarnings("ignore", message=".*sacremoses.*")
        return (cls or transformers.AutoTokenizer).from_pretrained(str(folder))


def _source_info(folder: Path, family_name: str) -> dict:
    """Tokenizer class, languages and length limit of a Hugging Face folder."""
    config: dict = {}
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BackendError(
            f"{folder} has no readable config.json: not a Hugging Face model folder.",
            fix="give the folder that holds config.json and the weights.",
            file=str(folder),
            code=E_CONVERSION_FAILED,
        ) from err
    try:
        tokenizer = load_tokenizer(folder)
    except Exception as err:  # transformers raises OSError, ValueError, ImportError …
        raise BackendError(
            f"cannot load the tokenizer of {folder}: {type(err).__name__}: {err}",
            fix="make sure the folder holds the tokenizer files of the model.",
            file=str(folder),
            code=E_CONVERSION_FAILED,
        ) from err
    family = get_family(family_name)
    limits = [config.get("max_position_embeddings"), tokenizer.model_max_length]
    limits = [int(x) for x in limits if isinstance(x, int | float) and 0 < x < 1_000_000]
    return {
        "model_type": config.get("model_type"),
        "tokenizer_class": type(tokenizer).__name__,
        "max_source_length": min(limits) if limits else family.default_max_length,
    }


def _fix_output_scaling(config: object) -> None:
    """Restore the flag CTranslate2 reads to decide whether T5 decoder outputs are scaled.

    transformers 5 forces ``tie_word_embeddings=True`` on every T5 config and keeps the saved
    value's meaning in ``scale_decoder_outputs``; CTranslate2 4.x still reads
    ``tie_word_embeddings`` and would scale the logits of T5 v1.1 / mT5 / MADLAD models (which
    must not be scaled) by ``d_model ** -0.5``: greedy output survives, scores and beam search
    do not.
    """
    scale = getattr(config, "scale_decoder_outputs", None)
    if isinstance(scale, bool) and getattr(config, "tie_word_embeddings", scale) != scale:
        config.tie_word_embeddings = scale


def converter(folder: Path, tokenizer_files: list[str]) -> object:
    """A ``TransformersConverter`` for a local model folder that copies ``tokenizer_files`` along
    and reads T5 output scaling the transformers 5 way (see :func:`_fix_output_scaling`)."""
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            _fix_output_scaling(model.config)
            return model

    return Converter(str(folder), copy_files=tokenizer_files, low_cpu_mem_usage=True)


def convert(
    source: str | os.PathLike,
    *,
    quantization: str = "int8",
    family: str | None = None,
    revision: str | None = None,
    force: bool = False,
    root: Path | None = None,
    vmap: str | os.PathLike | None = None,
    cache_dir: Path | None = None,
    log: Log | None = None,
    tokenizer: str | os.PathLike | None = None,
) -> Path:
    """Convert a Hugging Face translation model to CTranslate2 into the store.

    Args:
        source: Hub id (``facebook/nllb-200-distilled-600M``) or local Hugging Face folder.
        quantization: weight type, one of :data:`QUANTIZATIONS`.
        family: model family; detected from the folder when ``None``.
        revision: Hub revision (branch, tag or commit).
        force: convert again even if the store has the model.
        root: store root; :func:`default_root` when ``None``.
        vmap: a vocabulary map file to ship with the model (used with ``use_vmap``).
        cache_dir: Hugging Face cache to read Hub models from (its default when ``None``).
        log: receives progress messages (the CLI passes its printer); logging when ``None``.
        tokenizer: Hub id or folder to take the tokenizer from, for checkpoints published
            without one (EasyProject's fine-tuned NLLB uses ``facebook/nllb-200-distilled-600M``'s).

    Returns:
        The model folder ``<root>/<name>-<quantization>``.

    Raises:
        BackendError: XP503 when the source cannot be found (offline and not cached), XP505 when
            conversion fails; nothing is left in the store then.
        ConfigError: an unknown quantization or family.

    Example:
        >>> convert("Helsinki-NLP/opus-mt-en-de", root=tmp_path)  # doctest: +SKIP
        PosixPath('.../Helsinki-NLP--opus-mt-en-de-int8')
    """
    say = log or logger.info
    if quantization not in QUANTIZATIONS:
        raise ConfigError(
            f"unknown quantization {quantization!r}.",
            fix=f"use one of: {', '.join(QUANTIZATIONS)}.",
            code=E_UNKNOWN_STRATEGY,
        )
    root = Path(root) if root is not None else default_root()
    text = os.fspath(source)
    folder, kind, revision = _locate(text, revision, cache_dir, say)
    name = store_id(text if kind == "hub" else folder.name, quantization)
    merged = None
    if tokenizer is not None:
        tok_folder, _, _ = _locate(os.fspath(tokenizer), None, cache_dir, say)
        merged = _with_tokenizer(folder, tok_folder, root if root is not None else default_root())
        say(f"Using the tokenizer of {tokenizer} ({tok_folder})")
        folder = merged
    try:
        return _convert_located(
            folder,
            text,
            kind,
            revision,
            name,
            family=family,
            quantization=quantization,
            force=force,
            root=Path(root) if root is not None else default_root(),
            vmap=vmap,
            say=say,
            tokenizer_source=None if tokenizer is None else os.fspath(tokenizer),
        )
    finally:
        if merged is not None:
            shutil.rmtree(merged, ignore_errors=True)


def _require_tokenizer_files(folder: Path, *, fix: str, consequence: str = "") -> list[str]:
    """The tokenizer files in ``folder``, or XP505 when it has none (``consequence``, appended to
    the message: why that matters; ``fix``: what to do)."""
    files = _tokenizer_files(folder)
    if not files:
        raise BackendError(
            f"{folder} has no tokenizer files{consequence}.",
            fix=fix,
            file=str(folder),
            code=E_CONVERSION_FAILED,
        )
    return files


def _with_tokenizer(folder: Path, tok_folder: Path, root: Path) -> Path:
    """A scratch folder with the model files of ``folder`` (linked) and the tokenizer files of
    ``tok_folder`` (copied): for checkpoints published without their tokenizer."""
    files = _require_tokenizer_files(
        tok_folder, fix="give --tokenizer a model folder or Hub id that includes the tokenizer."
    )
    root.mkdir(parents=True, exist_ok=True)
    merged = Path(tempfile.mkdtemp(prefix=".tok-", dir=root))
    for item in folder.iterdir():
        if item.name not in files:
            (merged / item.name).symlink_to(item.resolve())
    for f in files:
        shutil.copy2(tok_folder / f, merged / f)
    return merged


def _convert_located(
    folder: Path,
    text: str,
    kind: str,
    revision: str | None,
    name: str,
    *,
    family: str | None,
    quantization: str,
    force: bool,
    root: Path,
    vmap,
    say,
    tokenizer_source: str | None,
) -> Path:
    fam = get_family(family) if family else detect_family(folder)
    dest = root / name
    if dest.exists() and not force:
        if not problems(dest):
            say(f"{name} is already in the store at {dest} (use --force to convert again).")
            return dest
        check_model_dir(dest)
    tokenizer_files = _require_tokenizer_files(
        folder,
        consequence=", so the converted model could not tokenize",
        fix="convert from a folder (or Hub id) that includes the tokenizer.",
    )
    info = _source_info(folder, fam.name)
    source_langs, target_langs = declared_pair(folder, {"source": text})
    say(f"Converting {text} ({fam.title}) to CTranslate2 {quantization} → {dest}")
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    old: Path | None = None
    try:
        import ctranslate2
        import transformers

        out = work / name
        conv = converter(folder, tokenizer_files)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*sacremoses.*")
            conv.convert(
                str(out),
                vmap=os.fspath(vmap) if vmap else None,
                quantization=quantization,
                force=True,
            )
        manifest = {
            "format": MANIFEST_FORMAT,
            "source": text if kind == "hub" else str(Path(text).resolve()),
            "source_kind": kind,
            "revision": revision,
            "family": fam.name,
            "quantization": quantization,
            "model_type": info["model_type"],
            "tokenizer_class": info["tokenizer_class"],
            "tokenizer_files": tokenizer_files,
            "tokenizer_source": tokenizer_source,
            "max_source_length": info["max_source_length"],
            "languages": {"source": list(source_langs), "target": list(target_langs)},
            "vmap": bool(vmap),
            "converter": "ctranslate2.converters.TransformersConverter",
            "ctranslate2_version": ctranslate2.__version__,
            "transformers_version": transformers.__version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "fingerprint": fingerprint(out),
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        check_model_dir(out)
        if dest.exists():
            old = root / f".old-{name}-{uuid.uuid4().hex[:8]}"
            dest.rename(old)
        out.rename(dest)
    except XprojError:
        raise
    except Exception as err:  # the converter raises anything from torch, transformers, I/O
        raise BackendError(
            f"converting {text} failed: {type(err).__name__}: {err}",
            fix="check that it is a supported seq2seq translation model (Marian, M2M-100/NLLB, "
            "mBART, T5) and that there is disk space; nothing was written to the store.",
            code=E_CONVERSION_FAILED,
        ) from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    say(f"Converted {name} in {time.monotonic() - started:.1f} s ({size / 1e6:.1f} MB).")
    return dest


__all__ = [
    "MANIFEST",
    "QUANTIZATIONS",
    "ModelInfo",
    "check_model_dir",
    "convert",
    "convert_command",
    "default_root",
    "fingerprint",
    "list_models",
    "load_tokenizer",
    "model_id",
    "problems",
    "read_manifest",
    "resolve",
    "store_id",
]
