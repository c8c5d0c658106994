"""Pairing two sides: formats, rejects that keep positions, count mismatches."""

from __future__ import annotations

import json

import pytest

from xproj.flows.config import InputSpec
from xproj.io.inputs import read_parallel
from xproj.io.readers.plain import iter_text_lines
from xproj.schemas.errors import InputFormatError
from xproj.text.simple import simple_tokenize


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_flows_inputs_jsonl_source_text_target(tmp_path):
    src = _jsonl(
        tmp_path / "s.jsonl",
        [
            {
                "id": "a1",
                "text": "Angela Merkel visited Paris.",
                "spans": [
                    {"start": 0, "end": 13, "label": "PER"},
                    {"start": 22, "end": 27, "label": "LOC"},
                ],
            },
            {"id": "a2", "text": "Hello.", "spans": []},
        ],
    )
    tgt = tmp_path / "t.txt"
    tgt.write_text("Angela Merkel a visité Paris.\nBonjour.\n")
    data = read_parallel(
        InputSpec(path=str(src), lang="en", format="jsonl"),
        InputSpec(path=str(tgt), lang="fr", format="text"),
    )
    assert not data.rejects
    first = data.pairs[0]
    assert [first.src.span_text(s) for s in first.src.spans] == ["Angela Merkel", "Paris"]
    assert first.tgt.tokens == ("Angela", "Merkel", "a", "visité", "Paris", ".")
    assert first.tgt.text == "Angela Merkel a visité Paris."


def _read_conll_and_text(tmp_path, conll: str, text: str, **kw):
    """``read_parallel`` over an English ``s.conll`` and a Spanish plain-text ``t.txt``."""
    src = tmp_path / "s.conll"
    src.write_text(conll)
    tgt = tmp_path / "t.txt"
    tgt.write_text(text)
    return read_parallel(
        InputSpec(path=str(src), lang="en"),
        InputSpec(path=str(tgt), lang="es", format="text"),
        **kw,
    )


def test_flows_inputs_blank_target_line_rejects_the_pair(tmp_path):
    data = _read_conll_and_text(
        tmp_path, "Anna\tB-PER\n\nRome\tB-LOC\n\nOslo\tB-LOC\n", "Anna\n\nOslo\n"
    )
    assert [p.src.tokens for p in data.pairs] == [("Anna",), ("Oslo",)]
    assert [(r.code, r.locator) for r in data.rejects] == [
        ("XP102", "line 2"),
        ("XP112", "record s:2"),
    ]


def test_flows_inputs_count_mismatch_names_both_files(tmp_path):
    src = tmp_path / "s.conll"
    src.write_text("Anna\tB-PER\n\nRome\tB-LOC\n")
    tgt = tmp_path / "t.txt"
    tgt.write_text("Anna\n")
    with pytest.raises(InputFormatError) as err:
        read_parallel(
            InputSpec(path=str(src), lang="en"), InputSpec(path=str(tgt), lang="es", format="text")
        )
    assert err.value.code == "XP106"
    assert "s.conll" in str(err.value) and "t.txt" in str(err.value)


@pytest.mark.parametrize(("on_error", "expect"), [("reject", "reject"), ("raise", "raise")])
def test_readers_plain_blank_line(tmp_path, on_error, expect):
    path = tmp_path / "t.txt"
    path.write_text("one\n   \nthree\n")
    if expect == "raise":
        with pytest.raises(InputFormatError) as err:
            list(iter_text_lines(path, "en", simple_tokenize, on_error=on_error))
        assert err.value.line == 2 and err.value.code == "XP102"
    else:
        items = list(iter_text_lines(path, "en", simple_tokenize, on_error=on_error))
        assert len(items) == 3 and items[1].code == "XP102" and items[2].id == "t:3"


def test_flows_inputs_io_module_imports_no_flow_code():
    """xproj.io sits below the flows: reading inputs must not import them (nor Prefect)."""
    import subprocess
    import sys

    code = (
        "import sys, xproj.io.inputs; "
        "print(sorted(m for m in sys.modules if m.startswith(('xproj.flows', 'prefect'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_flows_inputs_limit_counts_records_not_rejects(tmp_path):
    # --limit 3 uses the first three records; a rejected pair is one of them, not two
    data = _read_conll_and_text(
        tmp_path,
        "Anna\tB-PER\n\nRome\tB-LOC\n\nOslo\tB-LOC\n\nLima\tB-LOC\n",
        "Anna\n\nOslo\nLima\n",
        limit=3,
    )
    assert [p.src.tokens for p in data.pairs] == [("Anna",), ("Oslo",)]
    assert [p.position for p in data.pairs] == [0, 2]
    assert [r.code for r in data.rejects] == ["XP102", "XP112"]
    assert len(data.items) == 4
