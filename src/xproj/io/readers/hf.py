"""Hugging Face datasets with a token-list column and a tag column (``ner_tags``-style).

Tags may be class ids (mapped through the column's ``ClassLabel`` names, or ``tag_names``) or tag
strings. ``datasets`` is imported only when a dataset is read; remote code is never trusted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from xproj.io.readers._common import (
    OnError,
    check_on_error,
    check_scheme,
    locate,
    raise_or_reject,
    tagged_sentence,
)
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_FILE_NOT_FOUND,
    E_INVALID_TAG_SEQUENCE,
    E_MISSING_FIELD,
    ConfigError,
    InputFormatError,
    Reject,
)
from xproj.schemas.languages import normalize_lang
from xproj.schemas.records import AnnotatedSentence
from xproj.schemas.tags import TagScheme, detect_file_scheme


def _load(
    path_or_name: str | os.PathLike[str],
    config: str | None,
    split: str,
    data_files: Any,
    revision: str | None,
    source: str,
) -> Any:
    import datasets

    local = Path(path_or_name)
    saved = local.is_dir() and any(
        (local / marker).exists() for marker in ("dataset_dict.json", "state.json")
    )
    try:
        if saved:  # a folder written by save_to_disk
            loaded = datasets.load_from_disk(str(local))
            if isinstance(loaded, datasets.DatasetDict):
                if split not in loaded:
                    raise ConfigError(
                        f"split {split!r} is not in {path_or_name} (splits: {list(loaded)}).",
                        fix="pass one of the dataset's splits as split=.",
                        code=E_BAD_CONFIG,
                    )
                loaded = loaded[split]
            return loaded
        return datasets.load_dataset(
            str(path_or_name), config, split=split, data_files=data_files, revision=revision
        )
    except ConfigError:
        raise
    except Exception as err:  # loaders fail in many ways; each becomes one coded, located error
        raise InputFormatError(
            f"could not load the dataset: {type(err).__name__}: {err}",
            fix="check the name or path, config, split and data_files; Hub datasets need network "
            "access (or a local copy and HF_HUB_OFFLINE=1).",
            file=source,
            code=E_FILE_NOT_FOUND,
        ) from err


def _class_names(dataset: Any, column: str) -> list[str] | None:
    feature = dataset.features.get(column)
    inner = getattr(feature, "feature", None)
    names = getattr(inner, "names", None)
    return list(names) if names else None


def _id_prefix(path_or_name: str | os.PathLike[str], split: str, data_files: Any) -> str:
    if isinstance(data_files, str | os.PathLike):
        return Path(data_files).stem
    return f"{Path(str(path_or_name)).name}.{split}"


def iter_hf_tokens(
    path_or_name: str | os.PathLike[str],
    *,
    lang: str,
    config: str | None = None,
    split: str = "train",
    data_files: str | Sequence[str] | dict[str, Any] | None = None,
    tokens_column: str = "tokens",
    tags_column: str = "ner_tags",
    scheme: TagScheme = "auto",
    on_error: OnError = "raise",
    revision: str | None = None,
    tag_names: Sequence[str] | None = None,
    id_column: str | None = None,
    id_prefix: str | None = None,
) -> Iterator[AnnotatedSentence | Reject]:
    """Yield one ``AnnotatedSentence`` (or ``Reject``) per row of a token-classification dataset.

    Args:
        path_or_name: Hub id (``"conll2003"``), a builder with ``data_files`` (``"json"``,
            ``"parquet"``), a local dataset folder, or a folder written by ``save_to_disk``.
        lang: language of the tokens (any code :func:`~xproj.schemas.languages.normalize_lang` accepts).
        config: dataset configuration (e.g. a WikiANN language).
        split: split to read.
        data_files: passed to ``datasets.load_dataset``.
        tokens_column: column holding the list of tokens.
        tags_column: column holding one tag per token (class ids or strings).
        scheme: tag scheme of the tag names, see :mod:`xproj.schemas.tags`.
        on_error: ``raise`` stops at the first bad row; ``reject`` yields a ``Reject`` for it.
        revision: Hub revision (commit, tag or branch) to pin.
        tag_names: names of the class ids when the column has no ``ClassLabel`` feature.
        id_column: column with sentence ids; default ``<id_prefix>:<row number>``.
        id_prefix: prefix of default ids; default the data file stem when one file is given,
            else ``<dataset name>.<split>``.

    Raises:
        InputFormatError: XP110 when the dataset cannot be loaded, XP108 for a missing column,
            XP104 for integer tags without names; bad rows (XP102 no tokens, XP103 token/tag
            count mismatch, XP104 invalid tags) with ``on_error="raise"``, located by dataset and
            record id.
        LanguageCodeError: XP201 for an unknown ``lang``.

    Example:
        >>> rows = iter_hf_tokens("json", data_files="ner.jsonl", lang="en")  # doctest: +SKIP
    """
    lang = normalize_lang(lang)
    check_on_error(on_error)
    check_scheme(scheme)
    source = str(path_or_name) if data_files is None else f"{path_or_name}:{data_files}"
    dataset = _load(path_or_name, config, split, data_files, revision, source)
    columns = list(dataset.column_names)
    wanted = [tokens_column, tags_column] + ([id_column] if id_column else [])
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputFormatError(
            f"columns {missing} are missing (columns: {columns}).",
            fix="pass tokens_column=, tags_column= (and id_column=) naming the dataset's columns.",
            file=source,
            code=E_MISSING_FIELD,
        )
    names = list(tag_names) if tag_names is not None else _class_names(dataset, tags_column)
    inner = getattr(dataset.features.get(tags_column), "feature", None)
    if names is None and str(getattr(inner, "dtype", "")).startswith(("int", "uint")):
        raise InputFormatError(
            f"column {tags_column!r} holds class ids but has no ClassLabel names.",
            fix="pass tag_names=[...] in class-id order.",
            file=source,
            code=E_INVALID_TAG_SEQUENCE,
        )
    prefix = id_prefix if id_prefix is not None else _id_prefix(path_or_name, split, data_files)
    if scheme == "auto":  # decided once for the dataset, as for a file
        scheme = detect_file_scheme(_all_tags(dataset, tags_column, names))  # type: ignore[assignment]
    for number, row in enumerate(dataset, 1):
        sid = f"{prefix}:{number}" if id_column is None else str(row[id_column])
        tokens = row[tokens_column] or []
        raw_tags = row[tags_column] or []
        try:
            tags = _tag_strings(raw_tags, names)
            sentence = tagged_sentence(sid, lang, tokens, tags, scheme)
        except InputFormatError as err:
            placed = locate(err, file=source, record=sid)
            yield raise_or_reject(placed, on_error, f"{tokens!r} {raw_tags!r}")
        else:
            yield sentence


def _all_tags(dataset: Any, column: str, names: Sequence[str] | None) -> Iterator[list[str]]:
    """Every row's tags as strings (rows whose tags cannot be read are skipped here)."""
    for batch in dataset.select_columns([column]).iter(batch_size=1000):
        for raw in batch[column]:
            try:
                yield _tag_strings(raw or [], names)
            except InputFormatError:
                continue


def hub_input_ref(name: str, dataset: str, config: str | None, split: str, revision: str | None):
    """Lineage of a Hub dataset: its ``datasets`` fingerprint and revision (loads it once).

    The fingerprint changes when the data changes, whatever the dataset is called on this
    machine; the revision pins what was asked for.
    """
    from xproj.catalog.lineage import InputRef

    loaded = _load(dataset, config, split, None, revision, dataset)
    fingerprint = getattr(loaded, "_fingerprint", None) or "unknown"
    return InputRef(name, dataset, None, f"hf:{fingerprint}@{revision or 'default'}")


def _tag_strings(raw_tags: Sequence[Any], names: Sequence[str] | None) -> list[str]:
    tags = []
    for index, tag in enumerate(raw_tags):
        if isinstance(tag, str):
            tags.append(tag)
            continue
        if names is None:
            raise InputFormatError(
                f"tag {tag!r} at token {index} is a class id but the column has no tag names.",
                fix="pass tag_names=[...] in class-id order, or use a dataset whose tag column "
                "is a ClassLabel sequence.",
                code=E_INVALID_TAG_SEQUENCE,
            )
        if not isinstance(tag, int) or isinstance(tag, bool) or not 0 <= tag < len(names):
            raise InputFormatError(
                f"tag {tag!r} at token {index} is not a class id of the {len(names)} tag names.",
                fix="check the tag column and tag_names.",
                code=E_INVALID_TAG_SEQUENCE,
            )
        tags.append(names[tag])
    return tags
