"""Four-direction SQuAD/MLQA export of PAXQA rows: names, grouping, invariant, loading back."""

from __future__ import annotations

import json

import pytest

import xproj.io.exports.paxqa as export_mod
from xproj.io.exports.paxqa import (
    DIRECTIONS,
    check_rows,
    direction_file_names,
    export_directions,
)
from xproj.io.readers.squad import SquadParagraph, iter_squad
from xproj.schemas.errors import ConfigError, InputFormatError, LanguageCodeError


def _answers(context: str, *texts: str | tuple[str, int]) -> dict:
    """Answers found in ``context`` (``(text, k)`` takes the k-th occurrence)."""
    out = {"text": [], "answer_start": []}
    for item in texts:
        text, k = item if isinstance(item, tuple) else (item, 0)
        start = -1
        for _ in range(k + 1):
            start = context.index(text, start + 1)
        out["text"].append(text)
        out["answer_start"].append(start)
    return out


def _row(rid, title, c_en, c_x, q_en, q_x, a_en, a_x, language, **extra) -> dict:
    return {
        "id": rid,
        "source_id": f"src:{title}",
        "title": title,
        "context_en": c_en,
        "context_x": c_x,
        "question_en": q_en,
        "question_x": q_x,
        "answers_en": _answers(c_en, *a_en),
        "answers_x": _answers(c_x, *a_x),
        "language": language,
        "score": 0.5,
        **extra,
    }


EN1 = "Albert Einstein was born in Ulm in 1879. Ulm lies on the Danube."
AR1 = "ولد ألبرت أينشتاين في أولم عام 1879. تقع أولم على نهر الدانوب."
EN2 = "The Danube flows into the Black Sea."
AR2 = "يصب نهر الدانوب في البحر الأسود."

ROWS_AR = [
    _row("ar-1", "Einstein", EN1, AR1, "Where was Einstein born?", "أين ولد أينشتاين؟",
         ["Ulm", "in Ulm"], ["أولم", "في أولم"], "ar"),
    _row("ar-2", "Danube", EN2, AR2, "Where does the Danube flow?", "أين يصب نهر الدانوب؟",
         ["the Black Sea"], ["البحر الأسود"], "ar"),
    # same contexts as ar-1, not consecutive: grouped into ar-1's paragraph
    _row("ar-3", "Einstein", EN1, AR1, "When was Einstein born?", "متى ولد أينشتاين؟",
         ["1879"], ["1879"], "ar"),
    # second occurrence of a repeated word
    _row("ar-4", "Einstein", EN1, AR1, "Which city lies on the Danube?", "أي مدينة تقع على نهر الدانوب؟",
         [("Ulm", 1)], [("أولم", 1)], "ar"),
]  # fmt: skip

EN3 = "The Great Wall is 21,196 km long. 🏯 It was built over many centuries."
ZH3 = "🏯长城全长21196公里，修建了许多个世纪。"
EN4 = "Beijing is the capital of China."
ZH4 = "北京是中国的首都。"

ROWS_ZH = [
    _row("zh-1", "Wall", EN3, ZH3, "How long is the Great Wall?", "长城有多长？",
         ["21,196 km"], ["21196公里"], "zh"),
    _row("zh-2", "Wall", EN3, ZH3, "Over how long was it built?", "修建了多久？",
         ["many centuries"], ["许多个世纪"], "zh"),
    # same English context under another title: its own article and paragraph
    _row("zh-3", "Capital", EN4, ZH4, "What is the capital of China?", "中国的首都是哪里？",
         ["Beijing"], ["北京"], "zh-Hans"),
]  # fmt: skip

CASES = {"ar": ROWS_AR, "zh": ROWS_ZH}

# direction -> (question field, context side)
FIELDS = {
    "en-en": ("question_en", "en"),
    "x-x": ("question_x", "x"),
    "en-x": ("question_en", "x"),
    "x-en": ("question_x", "en"),
}


def _expected(rows: list[dict], direction: str) -> list[tuple]:
    """Every QA of a direction in input order: (id, title, question, context, answers)."""
    q_field, side = FIELDS[direction]
    out = []
    for r in rows:
        ans = tuple(
            zip(r[f"answers_{side}"]["text"], r[f"answers_{side}"]["answer_start"], strict=True)
        )
        out.append((r["id"], r["title"], r[q_field], r[f"context_{side}"], ans))
    return out


def _qas_of(paragraphs: list[SquadParagraph]) -> list[tuple]:
    return [
        (q.id, p.title, q.question, p.context, tuple((a.text, a.start) for a in q.answers))
        for p in paragraphs
        for q in p.questions
    ]


@pytest.fixture(params=sorted(CASES))
def exported(request, tmp_path):
    lang = request.param
    summary = export_directions(CASES[lang], tmp_path / "out", language=lang, split="dev")
    return lang, CASES[lang], summary


def test_file_names_and_summary(exported, tmp_path):
    lang, rows, summary = exported
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    expected = sorted(
        f"dev-context-{c}-question-{q}.{ext}"
        for q, c in (("en", "en"), (lang, lang), ("en", lang), (lang, "en"))
        for ext in ("json", "jsonl")
    )
    assert names == expected  # and no temporary files left behind
    assert summary.examples == len(rows) and summary.language == lang
    assert [(f.direction, f.layout) for f in summary.files] == [
        (d, lay) for d in DIRECTIONS for lay in ("nested", "jsonl")
    ]
    for f in summary.files:
        assert f.path.name == direction_file_names(f.direction, lang, "dev")[f.layout == "jsonl"]
        assert f.questions == len(rows)
        assert f.answers == sum(
            len(r["answers_en" if f.context_lang == "en" else "answers_x"]["text"]) for r in rows
        )
    d = summary.as_dict()
    assert json.loads(json.dumps(d)) == d and len(d["files"]) == 8


def test_grouping_repeated_contexts_and_titles(tmp_path):
    summary = export_directions(ROWS_AR, tmp_path, language="ar")
    doc = json.loads((tmp_path / "train-context-ar-question-en.json").read_text(encoding="utf-8"))
    assert doc["version"] == "1.1"
    assert [a["title"] for a in doc["data"]] == ["Einstein", "Danube"]
    (p1,) = doc["data"][0]["paragraphs"]
    assert p1["context"] == AR1
    assert [q["id"] for q in p1["qas"]] == ["ar-1", "ar-3", "ar-4"]
    assert [q["question"] for q in p1["qas"]][0] == "Where was Einstein born?"
    assert p1["qas"][0]["answers"] == [
        {"text": "أولم", "answer_start": AR1.index("أولم")},
        {"text": "في أولم", "answer_start": AR1.index("في أولم")},
    ]
    assert p1["qas"][2]["answers"][0]["answer_start"] == AR1.rindex("أولم")
    counts = {
        (f.direction, f.layout): (f.articles, f.paragraphs, f.questions, f.answers)
        for f in summary.files
    }
    assert counts[("en-x", "nested")] == (2, 2, 4, 5)
    # flat rows come in the same grouped order
    flat = [
        json.loads(x)
        for x in (tmp_path / "train-context-ar-question-en.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert [r["id"] for r in flat] == ["ar-1", "ar-3", "ar-4", "ar-2"]
    assert list(flat[0]) == ["id", "title", "context", "question", "answers"]
    zh = export_directions(ROWS_ZH, tmp_path / "zh", language="zh")
    counts = {(f.direction, f.layout): (f.articles, f.paragraphs) for f in zh.files}
    assert counts[("x-en", "nested")] == (2, 2)


def test_every_exported_answer_satisfies_the_substring_invariant(exported, tmp_path):
    """Reads back every file as plain JSON and checks every answer of every QA."""
    _, _, summary = exported
    checked = 0
    for f in summary.files:
        text = f.path.read_text(encoding="utf-8")
        if f.layout == "nested":
            qas = [
                (p["context"], a["text"], a["answer_start"])
                for art in json.loads(text)["data"]
                for p in art["paragraphs"]
                for q in p["qas"]
                for a in q["answers"]
            ]
        else:
            qas = [
                (r["context"], t, s)
                for r in map(json.loads, text.splitlines())
                for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"], strict=True)
            ]
        assert len(qas) == f.answers
        for context, answer, start in qas:
            assert answer and context[start : start + len(answer)] == answer
        checked += len(qas)
    assert checked > 0


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_iter_squad_reads_back_every_file(exported, direction):
    lang, rows, summary = exported
    expected = _expected(rows, direction)
    for f in summary.files:
        if f.direction != direction:
            continue
        items = list(iter_squad(f.path, on_error="raise"))
        assert all(isinstance(i, SquadParagraph) for i in items)
        assert len(items) == f.paragraphs
        got = _qas_of(items)
        # grouped order: compare as sets of QA and check ids are unique within the file
        assert sorted(got) == sorted(expected)
        assert len({g[0] for g in got}) == len(got)
    nested, flat = (
        [(p.title, p.context, p.questions) for p in iter_squad(f.path)]
        for f in summary.files
        if f.direction == direction
    )
    assert nested == flat


def test_direction_fields(tmp_path):
    row = ROWS_AR[1]
    summary = export_directions([row], tmp_path, language="ar", directions=DIRECTIONS)
    for f in summary.files:
        if f.layout != "jsonl":
            continue
        (got,) = [json.loads(x) for x in f.path.read_text(encoding="utf-8").splitlines()]
        q_field, side = FIELDS[f.direction]
        assert got["question"] == row[q_field]
        assert got["context"] == row[f"context_{side}"]
        assert got["answers"] == row[f"answers_{side}"]
        assert (f.question_lang, f.context_lang) == (
            "en" if q_field.endswith("en") else "ar",
            "en" if side == "en" else "ar",
        )


def test_datasets_loads_nested_and_flat(exported, tmp_path):
    datasets = pytest.importorskip("datasets")
    lang, rows, summary = exported
    for f in summary.files:
        if f.layout == "nested":
            ds = datasets.load_dataset(
                "json",
                data_files=str(f.path),
                field="data",
                split="train",
                cache_dir=str(tmp_path / "hf"),
            )
            assert ds.num_rows == f.articles
            assert (
                sum(len(q) for art in ds["paragraphs"] for q in (p["qas"] for p in art))
                == f.questions
            )
        else:
            ds = datasets.load_dataset(
                "json", data_files=str(f.path), split="train", cache_dir=str(tmp_path / "hf")
            )
            assert ds.num_rows == f.questions
            assert ds.column_names == ["id", "title", "context", "question", "answers"]
            for r in ds:
                for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"], strict=True):
                    assert r["context"][s : s + len(t)] == t


def test_export_is_deterministic(tmp_path):
    a = export_directions(ROWS_ZH, tmp_path / "a", language="zh")
    b = export_directions(ROWS_ZH, tmp_path / "b", language="zh")
    for fa, fb in zip(a.files, b.files, strict=True):
        assert fa.path.read_bytes() == fb.path.read_bytes()


def test_directions_subset_checks_only_the_sides_used(tmp_path):
    row = dict(ROWS_AR[0], answers_x={"text": ["nowhere"], "answer_start": [0]})
    summary = export_directions([row], tmp_path, language="ar", directions=("en-en",))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "train-context-en-question-en.json",
        "train-context-en-question-en.jsonl",
    ]
    assert summary.files[0].questions == 1
    with pytest.raises(InputFormatError) as info:
        export_directions([row], tmp_path / "x", language="ar", directions=("x-en", "en-x"))
    assert info.value.code == "XP118"


def _bad(row: dict, **changes) -> dict:
    out = dict(row)
    for key, value in changes.items():
        if value is ...:
            out.pop(key)
        else:
            out[key] = value
    return out


BAD_ROWS = [
    # (changes to ROWS_AR[1], code, words in the message)
    ({"answers_x": {"text": ["البحر"], "answer_start": [3]}}, "XP118", ["answers_x[0]", "context_x", "occurs at"]),
    ({"answers_en": {"text": ["Black Sea"], "answer_start": [3]}}, "XP118", ["answers_en[0]"]),
    ({"answers_en": {"text": ["Red Sea"], "answer_start": [26]}}, "XP118", ["does not occur"]),
    ({"answers_en": {"text": [], "answer_start": []}}, "XP118", ["no answer"]),
    ({"answers_en": {"text": [""], "answer_start": [0]}}, "XP118", ["empty"]),
    ({"question_x": "  "}, "XP119", ["question_x"]),
    ({"question_en": ""}, "XP119", ["question_en"]),
    ({"context_x": " "}, "XP102", ["context_x"]),
    ({"question_en": ...}, "XP108", ["question_en"]),
    ({"answers_x": ...}, "XP108", ["answers_x"]),
    ({"context_en": ...}, "XP108", ["context_en"]),
    ({"answers_x": {"text": ["البحر الأسود"]}}, "XP108", ["answers_x"]),
    ({"answers_x": {"text": ["البحر الأسود"], "answer_start": [1, 2]}}, "XP101", ["one length"]),
    ({"answers_en": {"text": ["the Black Sea"], "answer_start": ["23"]}}, "XP101", ["integer"]),
    ({"question_en": 7}, "XP101", ["not a string"]),
    ({"language": "de"}, "XP202", ["'de'"]),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "code", "words"), BAD_ROWS)
def test_bad_row_is_a_coded_error_naming_the_example(tmp_path, changes, code, words):
    rows = [ROWS_AR[0], _bad(ROWS_AR[1], **changes), ROWS_AR[2]]
    with pytest.raises((InputFormatError, LanguageCodeError)) as info:
        export_directions(rows, tmp_path / "out", language="ar")
    err = info.value
    assert err.code == code and err.record == "ar-2" and "'ar-2'" in str(err)
    for word in words:
        assert word in err.message
    assert not (tmp_path / "out").exists()  # nothing written


def test_all_bad_rows_are_counted(tmp_path):
    bad = {"text": ["x"], "answer_start": [0]}
    rows = [_bad(r, answers_x=bad) for r in ROWS_AR]
    with pytest.raises(InputFormatError) as info:
        check_rows(rows, language="ar")
    assert info.value.record == "ar-1"
    assert "3 more rows have problems: ar-2, ar-3, ar-4" in info.value.message


def test_repeated_ids_and_missing_id(tmp_path):
    with pytest.raises(InputFormatError) as info:
        export_directions([ROWS_AR[0], ROWS_AR[1], ROWS_AR[0]], tmp_path, language="ar")
    assert info.value.code == "XP101" and "rows 0 and 2" in info.value.message
    with pytest.raises(InputFormatError) as info:
        export_directions([_bad(ROWS_AR[0], id=...)], tmp_path, language="ar")
    assert info.value.code == "XP108" and info.value.record == "row 0"
    with pytest.raises(InputFormatError) as info:
        export_directions(["not a row"], tmp_path, language="ar")  # type: ignore[list-item]
    assert info.value.code == "XP101"


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"language": "en"}, LanguageCodeError, "XP202"),
        ({"language": "xx-nonsense"}, LanguageCodeError, "XP201"),
        ({"language": "ar", "directions": ("en-fr",)}, ConfigError, "XP301"),
        ({"language": "ar", "directions": ()}, ConfigError, "XP301"),
        ({"language": "ar", "directions": ("en-en", "en-en")}, ConfigError, "XP301"),
        ({"language": "ar", "split": "../train"}, ConfigError, "XP301"),
    ],
)
def test_bad_options(tmp_path, kwargs, error, code):
    with pytest.raises(error) as info:
        export_directions(ROWS_AR, tmp_path / "out", **kwargs)
    assert info.value.code == code
    assert not (tmp_path / "out").exists()


def test_language_is_normalised_and_rows_without_language_accepted(tmp_path):
    rows = [_bad(r, language=...) for r in ROWS_ZH]
    summary = export_directions(rows, tmp_path, language="zho", directions=("x-x",))
    assert summary.language == "zh"
    assert summary.files[0].path.name == "train-context-zh-question-zh.json"


def test_writing_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = export_directions(ROWS_AR, out, language="ar")
    before = {f.path: f.path.read_bytes() for f in first.files}
    calls = []

    def failing(paragraphs, handle):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(paragraphs, handle)

    original = export_mod.dump_squad_jsonl
    monkeypatch.setattr(export_mod, "dump_squad_jsonl", failing)
    with pytest.raises(OSError, match="disk full"):
        export_directions(ROWS_AR[:2], out, language="ar")
    # the earlier export is intact and no temporary file is left
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(out.iterdir()) == sorted(before)
