"""SQuAD-format reader: nested v1.1/v2.0 JSON and flat HF rows, every reject reason, writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from xproj.io.readers.squad import (
    SquadAnswer,
    SquadParagraph,
    SquadQuestion,
    answer_mismatch,
    iter_squad,
)
from xproj.io.writers.squad import squad_rows, write_squad
from xproj.schemas.errors import ConfigError, InputFormatError, Reject

CTX = "Albert Einstein was born in Ulm in 1879."
CTX_AR = "ولد ألبرت أينشتاين في أولم عام 1879."


def _qa(qid: str, question: str, *answers: tuple[str, int], **extra) -> dict:
    return {
        "id": qid,
        "question": question,
        "answers": [{"text": t, "answer_start": s} for t, s in answers],
        **extra,
    }


def _nested(tmp_path: Path, articles: list, name: str = "dev.json", version="1.1") -> Path:
    path = tmp_path / name
    path.write_text(
        json.dumps({"version": version, "data": articles}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return path


def _jsonl(tmp_path: Path, rows: list, name: str = "dev.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(qid: str, question: str, context: str, texts: list, starts: list, title="T") -> dict:
    return {
        "id": qid,
        "title": title,
        "context": context,
        "question": question,
        "answers": {"text": texts, "answer_start": starts},
    }


def _split(items: list) -> tuple[list[SquadParagraph], list[Reject]]:
    paras = [i for i in items if isinstance(i, SquadParagraph)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(paras) + len(rejects) == len(items)
    return paras, rejects


# -- good input ---------------------------------------------------------------------------------


def test_nested_v11_paragraphs_questions_and_source_ids(tmp_path):
    path = _nested(
        tmp_path,
        [
            {
                "title": "Einstein",
                "paragraphs": [
                    {
                        "context": CTX,
                        "qas": [
                            _qa("q1", "Where was Einstein born?", ("Ulm", 28), ("in Ulm", 25)),
                            _qa("q2", "When was Einstein born?", ("1879", 35)),
                        ],
                    },
                    {"context": CTX_AR, "qas": [_qa("q3", "أين ولد أينشتاين؟", ("أولم", 22))]},
                ],
            },
            {"paragraphs": [{"context": "No title here.", "qas": []}]},
        ],
    )
    paras, rejects = _split(list(iter_squad(path)))
    assert rejects == []
    assert [p.source_id for p in paras] == ["dev:0:0", "dev:0:1", "dev:1:0"]
    assert [p.title for p in paras] == ["Einstein", "Einstein", ""]
    assert paras[0].questions == (
        SquadQuestion(
            "q1", "Where was Einstein born?", (SquadAnswer("Ulm", 28), SquadAnswer("in Ulm", 25))
        ),
        SquadQuestion("q2", "When was Einstein born?", (SquadAnswer("1879", 35),)),
    )
    assert paras[1].questions[0].answers == (SquadAnswer("أولم", 22),)
    assert paras[2].questions == ()
    for p in paras:
        for q in p.questions:
            for a in q.answers:
                assert p.context[a.start : a.end] == a.text
    paras2, _ = _split(list(iter_squad(path, id_prefix="xq")))
    assert [p.source_id for p in paras2] == ["xq:0:0", "xq:0:1", "xq:1:0"]


def test_flat_rows_grouped_by_consecutive_title_and_context(tmp_path):
    rows = [
        _row("a", "Where?", CTX, ["Ulm"], [28]),
        _row("b", "When?", CTX, ["1879", "in 1879"], [35, 32]),
        "",  # blank lines are not rows
        _row("c", "أين؟", CTX_AR, ["أولم"], [22]),
        _row("d", "Where again?", CTX, ["Ulm"], [28]),  # not consecutive: a new paragraph
        _row("e", "Where, other title?", CTX, ["Ulm"], [28], title="U"),
    ]
    paras, rejects = _split(list(iter_squad(_jsonl(tmp_path, rows))))
    assert rejects == []
    assert [(p.source_id, p.title, [q.id for q in p.questions]) for p in paras] == [
        ("dev:1", "T", ["a", "b"]),
        ("dev:4", "T", ["c"]),
        ("dev:5", "T", ["d"]),
        ("dev:6", "U", ["e"]),
    ]
    assert paras[0].questions[1].answers == (SquadAnswer("1879", 35), SquadAnswer("in 1879", 32))


def test_flat_accepts_answer_object_lists_and_missing_title(tmp_path):
    row = {
        "id": "x",
        "context": CTX,
        "question": "Where?",
        "answers": [{"text": "Ulm", "answer_start": 28}],
    }
    (para,) = iter_squad(_jsonl(tmp_path, [row]), on_error="raise")
    assert para.title == "" and para.questions[0].answers == (SquadAnswer("Ulm", 28),)


def test_format_detection_and_forcing(tmp_path):
    # flat rows in a *.json file are recognised by their first line
    flat = _jsonl(tmp_path, [_row("a", "Where?", CTX, ["Ulm"], [28])], name="rows.json")
    (para,) = iter_squad(flat)
    assert para.source_id == "rows:1"
    nested = _nested(tmp_path, [{"title": "t", "paragraphs": [{"context": CTX, "qas": []}]}])
    # forcing the wrong layout gives a clear error rather than wrong data
    items = list(iter_squad(nested, fmt="jsonl"))
    assert all(isinstance(i, Reject) and i.code == "XP101" for i in items) and items
    with pytest.raises(ConfigError, match="fmt="):
        list(iter_squad(nested, fmt="xml"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="on_error"):
        list(iter_squad(nested, on_error="skip"))  # type: ignore[arg-type]


def test_v2_document_keeps_answerable_and_rejects_impossible(tmp_path):
    path = _nested(
        tmp_path,
        [
            {
                "title": "E",
                "paragraphs": [
                    {
                        "context": CTX,
                        "qas": [
                            _qa("ok", "Where?", ("Ulm", 28), is_impossible=False),
                            {
                                "id": "imp",
                                "question": "Where did he die?",
                                "answers": [],
                                "plausible_answers": [{"text": "Ulm", "answer_start": 28}],
                                "is_impossible": True,
                            },
                        ],
                    }
                ],
            }
        ],
        version="v2.0",
    )
    paras, rejects = _split(list(iter_squad(path)))
    assert [q.id for q in paras[0].questions] == ["ok"]
    (rej,) = rejects
    assert rej.code == "XP118" and "'imp'" in rej.reason and "unanswerable" in rej.reason


# -- rejects ------------------------------------------------------------------------------------

BAD_QUESTIONS = [
    # (qas entry, code, words in the reason)
    (_qa("q", "Where?", ("Ulm", 27)), "XP118", ["'q'", "' Ul' at 27", "occurs at 28"]),
    (_qa("q", "Where?", ("Munich", 28)), "XP118", ["does not occur"]),
    (_qa("q", "Where?", ("Ulm", 400)), "XP118", ["outside the context"]),
    (_qa("q", "Where?", ("", 3)), "XP118", ["empty"]),
    (_qa("q", "Where?"), "XP118", ["no answer"]),
    (_qa("q", "   "), "XP119", ["'q'", "empty"]),
    (_qa("q", ""), "XP119", ["empty"]),
    ({"question": "Where?", "answers": [{"text": "Ulm", "answer_start": 28}]}, "XP108", ["'id'"]),
    ({"id": "q", "answers": [{"text": "Ulm", "answer_start": 28}]}, "XP108", ["'question'"]),
    ({"id": "q", "question": "Where?"}, "XP108", ["'answers'"]),
    ({"id": "q", "question": "Where?", "answers": [{"text": "Ulm"}]}, "XP108", ["answer_start"]),
    ({"id": "q", "question": "Where?", "answers": [{"answer_start": 28}]}, "XP108", ["'text'"]),
    ({"id": "q", "question": 3, "answers": []}, "XP101", ["not a string"]),
    (
        {"id": "q", "question": "W?", "answers": [{"text": "Ulm", "answer_start": "28"}]},
        "XP101",
        ["integer"],
    ),
    ({"id": "q", "question": "W?", "answers": "Ulm"}, "XP101", ["not a list"]),
    ("not an object", "XP101", ["not an object"]),
]


@pytest.mark.parametrize(("qa", "code", "words"), BAD_QUESTIONS)
def test_nested_bad_question_rejected_alone(tmp_path, qa, code, words):
    good = _qa("good", "When?", ("1879", 35))
    path = _nested(tmp_path, [{"title": "E", "paragraphs": [{"context": CTX, "qas": [good, qa]}]}])
    paras, rejects = _split(list(iter_squad(path)))
    # the paragraph keeps its good question
    assert [q.id for q in paras[0].questions] == ["good"]
    (rej,) = rejects
    assert rej.code == code and rej.stage == "read" and rej.source == str(path)
    assert rej.locator.startswith("data[0].paragraphs[0].qas[1]")
    for word in words:
        assert word in rej.reason
    with pytest.raises(InputFormatError) as info:
        list(iter_squad(path, on_error="raise"))
    assert info.value.code == code and str(path) in str(info.value)
    assert "data[0].paragraphs[0].qas[1]" in str(info.value)


def test_answer_outside_context_message_names_file_place_id_and_found_text(tmp_path):
    path = _nested(
        tmp_path,
        [
            {
                "title": "E",
                "paragraphs": [{"context": CTX, "qas": [_qa("q7", "Where?", ("Ulm", 26))]}],
            }
        ],
    )
    with pytest.raises(InputFormatError) as info:
        list(iter_squad(path, on_error="raise"))
    text = str(info.value)
    assert text.startswith(f"[XP118] {path} record data[0].paragraphs[0].qas[0] (id 'q7'):")
    assert "'n U' at 26" in text and "occurs at 28" in text and "Fix:" in text


def test_utf8_byte_offsets_are_rejected_with_the_right_offset(tmp_path):
    # a common mistake: answer_start in UTF-8 bytes instead of code points
    start_bytes = len(CTX_AR[: CTX_AR.index("أولم")].encode("utf-8"))
    path = _nested(
        tmp_path,
        [
            {
                "title": "A",
                "paragraphs": [
                    {"context": CTX_AR, "qas": [_qa("q", "أين؟", ("أولم", start_bytes))]}
                ],
            }
        ],
    )
    (rej, _) = list(iter_squad(path))
    assert rej.code == "XP118" and f"occurs at {CTX_AR.index('أولم')}" in rej.reason


@pytest.mark.parametrize(
    ("paragraph", "code"),
    [
        ({"context": "   ", "qas": [_qa("q", "W?", ("x", 0))]}, "XP102"),
        ({"qas": []}, "XP108"),
        ({"context": CTX}, "XP108"),
        ({"context": 5, "qas": []}, "XP101"),
        (["not", "a", "paragraph"], "XP101"),
    ],
)
def test_nested_bad_paragraph_rejected(tmp_path, paragraph, code):
    ok = {"context": CTX, "qas": [_qa("q2", "W?", ("Ulm", 28))]}
    path = _nested(tmp_path, [{"title": "E", "paragraphs": [paragraph, ok]}])
    paras, rejects = _split(list(iter_squad(path)))
    assert [p.source_id for p in paras] == ["dev:0:1"]
    (rej,) = rejects
    assert rej.code == code and rej.locator == "data[0].paragraphs[0]"


def test_empty_context_reject_says_how_many_questions_were_lost(tmp_path):
    path = _nested(
        tmp_path,
        [
            {
                "paragraphs": [
                    {"context": "", "qas": [_qa("a", "W?", ("x", 0)), _qa("b", "W?", ("y", 0))]}
                ]
            }
        ],
    )
    (rej,) = list(iter_squad(path))
    assert rej.code == "XP102" and "2 questions" in rej.reason


def test_nested_bad_article_rejected(tmp_path):
    ok = {"title": "E", "paragraphs": [{"context": CTX, "qas": [_qa("q", "W?", ("Ulm", 28))]}]}
    path = _nested(tmp_path, [{"title": "no paragraphs"}, {"title": 3, "paragraphs": []}, ok])
    paras, rejects = _split(list(iter_squad(path)))
    assert [p.source_id for p in paras] == ["dev:2:0"]
    assert [(r.code, r.locator) for r in rejects] == [("XP108", "data[0]"), ("XP101", "data[1]")]


def test_flat_rejects_per_line(tmp_path):
    rows = [
        _row("a", "Where?", CTX, ["Ulm"], [28]),
        '{"id": "broken", "context": ',  # line 2: not JSON
        _row("b", "When?", CTX, ["1897"], [35]),  # line 3: answer not there
        _row("c", " ", CTX, ["Ulm"], [28]),  # line 4: empty question
        {
            "id": "d",
            "title": "T",
            "question": "Where?",
            "answers": {"text": [], "answer_start": []},
        },
        _row("e", "When?", CTX, ["1879"], [35]),  # line 6: same paragraph as a
        _row("f", "Where?", CTX, [], []),  # line 7: unanswerable (HF squad_v2 style)
        _row("g", "Where?", CTX, ["Ulm", "in Ulm"], [28]),  # line 8: lists of unequal length
        "[1, 2]",  # line 9: not an object
    ]
    path = _jsonl(tmp_path, rows)
    items = list(iter_squad(path))
    paras, rejects = _split(items)
    # the bad rows between a and e do not split the paragraph
    assert [(p.source_id, [q.id for q in p.questions]) for p in paras] == [("dev:1", ["a", "e"])]
    assert [(r.locator, r.code) for r in rejects] == [
        ("line 2", "XP101"),
        ("line 3", "XP118"),
        ("line 4", "XP119"),
        ("line 5", "XP108"),
        ("line 7", "XP118"),
        ("line 8", "XP101"),
        ("line 9", "XP101"),
    ]
    assert all(r.source == str(path) for r in rejects)
    assert "'b'" in rejects[1].reason and "'1879' at 35" in rejects[1].reason
    assert rejects[0].raw.startswith('{"id": "broken"')
    with pytest.raises(InputFormatError) as info:
        list(iter_squad(path, on_error="raise"))
    assert info.value.code == "XP101" and info.value.line == 2
    assert str(info.value).startswith(f"[XP101] {path}:2")


def test_file_level_errors(tmp_path):
    for name in ("missing.json", "missing.jsonl"):
        with pytest.raises(InputFormatError) as info:
            list(iter_squad(tmp_path / name))
        assert info.value.code == "XP110"
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "version": "1.1",\n  "data": [\n    {"title": "x",,}\n  ]\n}\n')
    with pytest.raises(InputFormatError) as info:
        list(iter_squad(bad))  # a broken nested file cannot be read in part: always raised
    assert info.value.code == "XP101" and info.value.line == 4
    nodata = tmp_path / "nodata.json"
    nodata.write_text('{"version": "1.1", "articles": []}')
    with pytest.raises(InputFormatError) as info:
        list(iter_squad(nodata))
    assert info.value.code == "XP108" and "'data'" in info.value.message


# -- helpers and writing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "text", "start", "expected"),
    [
        (CTX, "Ulm", 28, None),
        (CTX, "Ulm", 29, "the context has 'lm ' at 29, not 'Ulm' (the text occurs at 28)"),
        (
            "a a a a a a",
            "a",
            1,
            "the context has ' ' at 1, not 'a' (the text occurs at 0, 2, 4, 6, …)",
        ),
        (
            CTX,
            "Ulm",
            -1,
            "answer_start -1 is outside the context of 40 characters (the text occurs at 28)",
        ),
        (CTX, "", 0, "the answer text is empty"),
    ],
)
def test_answer_mismatch(context, text, start, expected):
    assert answer_mismatch(context, text, start) == expected


@pytest.mark.parametrize("layout", ["nested", "jsonl"])
def test_write_squad_round_trip(tmp_path, layout):
    paras = [
        SquadParagraph(
            "s:0", "E", CTX, (SquadQuestion("q1", "Where?", (SquadAnswer("Ulm", 28),)),)
        ),
        SquadParagraph(
            "s:1", "A", CTX_AR, (SquadQuestion("q2", "أين؟", (SquadAnswer("أولم", 22),)),)
        ),
        SquadParagraph(
            "s:2", "E", "长城很长。", (SquadQuestion("q3", "什么?", (SquadAnswer("长城", 0),)),)
        ),
    ]
    path = write_squad(
        paras, tmp_path / f"out.{'json' if layout == 'nested' else 'jsonl'}", layout=layout
    )
    assert not list(tmp_path.glob(".*.tmp"))
    back = [p for p in iter_squad(path, on_error="raise")]
    strip = [(p.title, p.context, p.questions) for p in back]
    if layout == "nested":  # articles by title: the second "E" paragraph joins the first article
        assert strip == [(p.title, p.context, p.questions) for p in (paras[0], paras[2], paras[1])]
        assert "长城" in path.read_text(encoding="utf-8")  # non-ASCII kept as is
    else:
        assert strip == [(p.title, p.context, p.questions) for p in paras]
    assert len(list(squad_rows(paras))) == 3
    with pytest.raises(ConfigError):
        write_squad(paras, tmp_path / "x.json", layout="xml")  # type: ignore[arg-type]


# -- XQuAD (shared data) ------------------------------------------------------------------------

XQUAD = shared_data_dir() / "xquad"


@pytest.mark.shared_data
@pytest.mark.parametrize("lang", ["en", "ar", "de", "el", "es", "ro", "ru", "zh"])
def test_xquad_reads_completely(lang):
    path = XQUAD / f"xquad.{lang}.json"
    if not path.is_file():
        pytest.skip(f"{path} not found (set XPROJ_SHARED_DATA)")
    raw = json.loads(path.read_text(encoding="utf-8"))
    n_paragraphs = sum(len(a["paragraphs"]) for a in raw["data"])
    n_questions = sum(len(p["qas"]) for a in raw["data"] for p in a["paragraphs"])
    paras, rejects = _split(list(iter_squad(path)))
    assert rejects == []
    assert len(paras) == n_paragraphs
    assert sum(len(p.questions) for p in paras) == n_questions
    ids = [q.id for p in paras for q in p.questions]
    assert len(set(ids)) == len(ids)
    for p in paras:
        for q in p.questions:
            for a in q.answers:
                assert p.context[a.start : a.end] == a.text
