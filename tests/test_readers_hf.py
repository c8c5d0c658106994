"""Hugging Face token-classification datasets, built locally (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xproj.io.readers.hf import iter_hf_tokens
from xproj.schemas.errors import ConfigError, InputFormatError, Reject
from xproj.schemas.records import AnnotatedSentence, TokenSpan

datasets = pytest.importorskip("datasets")

T = TokenSpan
NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]

ROWS = {
    "id": ["a", "b", "c", "d", "e"],
    "tokens": [["Anna", "met", "Bob"], [], ["x", "y"], ["in", "New", "York"], ["p", "q"]],
    "ner_tags": [[1, 0, 1], [], [0], [0, 3, 4], [0, 2]],
}
# row b has no tokens, row c has 2 tokens but 1 tag, row e has I-PER after O (bad in iob2, and
# the dataset is IOB2: its entities start with B-, which `auto` decides once for the dataset)
EXPECTED_SPANS = {1: (T(0, 1, "PER"), T(2, 3, "PER")), 4: (T(1, 3, "LOC"),)}


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=NAMES)),
        }
    )
    folder = tmp_path_factory.mktemp("hf")
    dataset = datasets.Dataset.from_dict(ROWS, features=features)
    datasets.DatasetDict({"train": dataset, "test": dataset.select([0])}).save_to_disk(
        folder / "dict"
    )
    dataset.save_to_disk(folder / "single")
    return folder


@pytest.mark.parametrize("folder", ["dict", "single"])
def test_hf_iter_hf_tokens_saved_dataset(saved, folder):
    items = list(iter_hf_tokens(saved / folder, lang="en", on_error="reject"))
    assert len(items) == len(ROWS["id"])  # one item per row
    kinds = ["ok", "XP102", "XP103", "ok", "XP104"]
    for n, (item, kind) in enumerate(zip(items, kinds, strict=True), 1):
        if kind == "ok":
            assert isinstance(item, AnnotatedSentence)
            assert item.spans == EXPECTED_SPANS[n]
            assert item.id == f"{folder}.train:{n}"
        else:
            assert isinstance(item, Reject)
            assert (item.code, item.locator, item.source) == (
                kind,
                f"{folder}.train:{n}",
                str(saved / folder),
            )


@pytest.mark.parametrize(
    ("scheme", "code", "row", "needle"),
    [("auto", "XP102", 2, "no tokens"), ("iob2", "XP102", 2, "no tokens")],
)
def test_hf_iter_hf_tokens_raises_with_record(saved, scheme, code, row, needle):
    with pytest.raises(InputFormatError) as info:
        list(iter_hf_tokens(saved / "dict", lang="en", scheme=scheme))
    assert info.value.code == code
    assert f"record dict.train:{row}" in str(info.value) and str(saved / "dict") in str(info.value)
    assert needle in str(info.value)


def test_hf_iter_hf_tokens_invalid_sequence_iob2(saved):
    items = list(iter_hf_tokens(saved / "dict", lang="en", scheme="iob2", on_error="reject"))
    assert isinstance(items[4], Reject) and items[4].code == "XP104"
    assert "'I-PER' at token 1" in items[4].reason
    # read as IOB1, the same row is an entity that starts with I-
    items = list(iter_hf_tokens(saved / "dict", lang="en", scheme="iob1", on_error="reject"))
    assert items[4].spans == (T(1, 2, "PER"),)


def test_hf_iter_hf_tokens_split_and_id_column(saved):
    items = list(iter_hf_tokens(saved / "dict", lang="en", split="test", id_column="id"))
    assert [i.id for i in items] == ["a"]
    with pytest.raises(ConfigError) as info:
        list(iter_hf_tokens(saved / "dict", lang="en", split="validation"))
    assert (
        info.value.code == "XP301"
        and "validation" in str(info.value)
        and "train" in str(info.value)
    )


def _json_files(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "wiki.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_hf_iter_hf_tokens_json_string_tags(tmp_path):
    path = _json_files(
        tmp_path,
        [
            {"words": ["Rome", "is"], "tags": ["U-LOC", "O"]},
            {"words": ["a"], "tags": ["B-PER", "O"]},
        ],
    )
    items = list(
        iter_hf_tokens(
            "json",
            data_files=str(path),
            lang="it",
            tokens_column="words",
            tags_column="tags",
            on_error="reject",
        )
    )
    assert items[0].spans == (T(0, 1, "LOC"),) and items[0].id == "wiki:1"
    assert isinstance(items[1], Reject) and items[1].code == "XP103"


def test_hf_iter_hf_tokens_int_tags_need_names(tmp_path):
    path = _json_files(tmp_path, [{"tokens": ["Anna", "x"], "ner_tags": [1, 0]}])
    with pytest.raises(InputFormatError) as info:
        list(iter_hf_tokens("json", data_files=str(path), lang="en", on_error="reject"))
    assert info.value.code == "XP104" and "tag_names" in str(info.value)
    (item,) = iter_hf_tokens("json", data_files=str(path), lang="en", tag_names=NAMES)
    assert item.spans == (T(0, 1, "PER"),)


def test_hf_iter_hf_tokens_class_id_out_of_range(tmp_path):
    path = _json_files(tmp_path, [{"tokens": ["Anna"], "ner_tags": [9]}])
    with pytest.raises(InputFormatError) as info:
        list(iter_hf_tokens("json", data_files=str(path), lang="en", tag_names=NAMES))
    assert info.value.code == "XP104" and "record wiki:1" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"tokens_column": "words"}, "XP108"), ({"tags_column": "pos"}, "XP108")],
)
def test_hf_iter_hf_tokens_missing_column(saved, kwargs, code):
    with pytest.raises(InputFormatError) as info:
        list(iter_hf_tokens(saved / "dict", lang="en", **kwargs))
    assert info.value.code == code and "columns" in str(info.value)


def test_hf_iter_hf_tokens_missing_data(tmp_path):
    with pytest.raises(InputFormatError) as info:
        list(iter_hf_tokens("json", data_files=str(tmp_path / "none.jsonl"), lang="en"))
    assert info.value.code == "XP110" and "none.jsonl" in str(info.value)
