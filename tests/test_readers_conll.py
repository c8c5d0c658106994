"""CoNLL reader: formats, sentence splitting, every bad-input case, and the shared files."""

from __future__ import annotations

from pathlib import Path

import pytest

from xproj.io.readers.conll import iter_conll, read_conll, write_conll
from xproj.schemas.errors import ConfigError, InputFormatError, LanguageCodeError, Reject
from xproj.schemas.records import AnnotatedSentence, TokenSpan

T = TokenSpan


def _write(tmp_path: Path, text: str, name: str = "data.conll") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


GOOD = [
    # (file text, kwargs, [(tokens, spans)])
    (
        "Anna\tB-PER\nlives\tO\n\nRome\tB-LOC\n",
        {},
        [(("Anna", "lives"), (T(0, 1, "PER"),)), (("Rome",), (T(0, 1, "LOC"),))],
    ),
    # space-separated; extra columns ignored; several blank lines are one separator
    (
        "New B-LOC x\nYork I-LOC y\n\n\n\nok O z\n",
        {},
        [(("New", "York"), (T(0, 2, "LOC"),)), (("ok",), ())],
    ),
    # tab-separated with a third column (the ABSA en2xx layout), CRLF, no final blank line
    (
        "la\tO\t-\r\ncomida\tB-TARGET\tHighQuality\r\n\r\nbien\tO\t-",
        {},
        [(("la", "comida"), (T(1, 2, "TARGET"),)), (("bien",), ())],
    ),
    # -DOCSTART- lines are not records, and end a sentence
    (
        "-DOCSTART- -X- O O\n\nA B-PER\n-DOCSTART-\tO\nB O\n",
        {},
        [(("A",), (T(0, 1, "PER"),)), (("B",), ())],
    ),
    # leading blank lines, whitespace-only separator lines, tokens with spaces in tab mode
    ("\n\nNew York\tB-LOC\n \t \nx\tO\n", {}, [(("New York",), (T(0, 1, "LOC"),)), (("x",), ())]),
    # tag in another column
    ("Anna NNP B-PER\nsings VBZ O\n", {"tag_column": 2}, [(("Anna", "sings"), (T(0, 1, "PER"),))]),
    ("Anna NNP B-PER\nsings VBZ O\n", {"tag_column": -1}, [(("Anna", "sings"), (T(0, 1, "PER"),))]),
    # auto detects the scheme once per file: BIOES, IOB1 (I- starts entities), IOB2
    (
        "A\tB-PER\nB\tE-PER\n\nC\tS-ORG\n",
        {},
        [(("A", "B"), (T(0, 2, "PER"),)), (("C",), (T(0, 1, "ORG"),))],
    ),
    ("C\tI-ORG\nD\tI-ORG\nE\tB-ORG\n", {}, [(("C", "D", "E"), (T(0, 2, "ORG"), T(2, 3, "ORG")))]),
    (
        "A\tB-PER\nB\tI-PER\n\nC\tO\nD\tB-ORG\n",
        {},
        [(("A", "B"), (T(0, 2, "PER"),)), (("C", "D"), (T(1, 2, "ORG"),))],
    ),
    ("O O\nx O\n", {}, [(("O", "x"), ())]),  # a token spelled like a tag
]


@pytest.mark.parametrize(("text", "kwargs", "expected"), GOOD)
def test_conll_iter_conll_reads(tmp_path, text, kwargs, expected):
    path = _write(tmp_path, text)
    items = list(iter_conll(path, "en", **kwargs))
    assert [(s.tokens, s.spans) for s in items] == expected
    assert [s.id for s in items] == [f"data:{n}" for n in range(1, len(expected) + 1)]
    assert all(s.lang == "en" for s in items)


@pytest.mark.parametrize(
    ("text", "rejected_line"),
    [
        # an IOB2 file (entities start with B-): an I- after O is that record's error
        ("A\tB-PER\nB\tI-PER\n\nC\tO\nD\tI-ORG\n\nE\tB-LOC\n", 5),
        # a BIOES file: an IOB sentence in it is that record's error, not read as IOB1
        ("A\tB-PER\nB\tE-PER\n\nC\tI-ORG\nD\tI-ORG\n", 4),
    ],
)
def test_conll_auto_scheme_is_per_file_and_rejects_the_odd_record(tmp_path, text, rejected_line):
    path = _write(tmp_path, text)
    items = list(iter_conll(path, "en", on_error="reject"))
    rejects = [r for r in items if isinstance(r, Reject)]
    assert len(rejects) == 1 and rejects[0].code == "XP104"
    assert rejects[0].locator == f"line {rejected_line}"
    assert all(isinstance(r, Reject) or r.spans for r in items)


def test_conll_iter_conll_ids_and_lang(tmp_path):
    path = _write(tmp_path, "a\tO\n\nb\tO\n")
    items = list(iter_conll(path, "eng_Latn", id_prefix="europarl-en"))
    assert [s.id for s in items] == ["europarl-en:1", "europarl-en:2"]
    assert items[0].lang == "en"


BAD = [
    # (file text, scheme, code, bad line, sentence number, needle)
    ("a\tO\nb\n", "auto", "XP101", 2, 1, "one column"),
    ("a O\n\nb O\nc\nd O\n", "auto", "XP101", 4, 2, "one column"),
    ("a\tO\n\tO\n", "auto", "XP101", 2, 1, "empty token"),
    ("a\tO\nb\t\n", "auto", "XP103", 2, 1, "no tag"),
    ("a\tO\nb\tO\n\nc\tO\nd\tI-PER\n", "iob2", "XP104", 5, 2, "'I-PER' at token 1"),
    ("a\tB-PER\nb\tO\nc\tE-PER\n", "auto", "XP104", 2, 1, "'O' at token 1"),
    ("a\tB-PER\nb\tI-PER\n\nc\tS-LOC\n", "bioes", "XP104", 1, 1, "'B-PER' at token 0"),
    ("a\tO\nb\tX-PER\n", "auto", "XP104", 2, 1, "'X-PER'"),
    ("a\tO\nb\tB-\n", "iob2", "XP104", 2, 1, "'B-'"),
]


@pytest.mark.parametrize(("text", "scheme", "code", "line", "sentence", "needle"), BAD)
def test_conll_iter_conll_bad_input_raises(tmp_path, text, scheme, code, line, sentence, needle):
    path = _write(tmp_path, text)
    with pytest.raises(InputFormatError) as info:
        list(iter_conll(path, "en", scheme=scheme))
    err = info.value
    assert err.code == code
    assert f"{path}:{line}" in str(err)
    assert f"record data:{sentence}" in str(err)
    assert needle in str(err)


@pytest.mark.parametrize(("text", "scheme", "code", "line", "sentence", "needle"), BAD)
def test_conll_iter_conll_bad_input_rejects(tmp_path, text, scheme, code, line, sentence, needle):
    path = _write(tmp_path, text)
    items = list(iter_conll(path, "en", scheme=scheme, on_error="reject"))
    n_sentences = len([b for b in text.split("\n\n") if b.strip()])
    assert len(items) == n_sentences  # one item per sentence, bad or not
    rejects = [(n, r) for n, r in enumerate(items, 1) if isinstance(r, Reject)]
    assert len(rejects) == 1
    n, reject = rejects[0]
    assert n == sentence
    assert (reject.code, reject.locator, reject.source, reject.stage) == (
        code,
        f"line {line}",
        str(path),
        "read",
    )
    assert needle in reject.reason
    assert reject.raw  # the sentence's lines, for the rejected table
    assert all(isinstance(i, AnnotatedSentence) for m, i in enumerate(items, 1) if m != n)


def test_conll_iter_conll_rejects_first_problem_only(tmp_path):
    path = _write(tmp_path, "a\tO\nb\nc\nd\tI-X\n\ne\tO\n")
    items = list(iter_conll(path, "en", on_error="reject"))
    assert isinstance(items[0], Reject) and items[0].locator == "line 2"
    assert items[0].raw == "a\tO\nb\nc\nd\tI-X"
    assert isinstance(items[1], AnnotatedSentence) and items[1].id == "data:2"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"scheme": "bilou"}, ConfigError),
        ({"on_error": "skip"}, ConfigError),
        ({"tag_column": 0}, ConfigError),
    ],
)
def test_conll_iter_conll_bad_options(tmp_path, kwargs, error):
    path = _write(tmp_path, "a\tO\n")
    with pytest.raises(error):
        list(iter_conll(path, "en", **kwargs))


def test_conll_iter_conll_unknown_language(tmp_path):
    path = _write(tmp_path, "a\tO\n")
    with pytest.raises(LanguageCodeError) as info:
        list(iter_conll(path, "englsh"))
    assert info.value.code == "XP201" and "englsh" in str(info.value)


def test_conll_iter_conll_missing_file(tmp_path):
    with pytest.raises(InputFormatError) as info:
        list(iter_conll(tmp_path / "none.conll", "en"))
    assert info.value.code == "XP110" and "none.conll" in str(info.value)


def test_conll_iter_conll_not_utf8(tmp_path):
    path = tmp_path / "latin1.conll"
    path.write_bytes("caf\xe9\tO\n".encode("latin-1"))
    with pytest.raises(InputFormatError) as info:
        list(iter_conll(path, "fr"))
    assert info.value.code == "XP101" and str(path) in str(info.value)


@pytest.mark.parametrize("scheme", ["iob2", "iob1", "bioes"])
def test_conll_write_conll_round_trip(tmp_path, scheme):
    sentences = [
        AnnotatedSentence("s:1", "en", ("New", "York", "is", "big"), (T(0, 2, "LOC"),)),
        AnnotatedSentence("s:2", "en", ("Anna", "Bob", "Carl"), (T(0, 1, "PER"), T(1, 3, "PER"))),
    ]
    path = tmp_path / "s.conll"
    write_conll(path, sentences, scheme=scheme)
    back = list(iter_conll(path, "en", scheme=scheme))
    assert [(s.tokens, s.spans) for s in back] == [(s.tokens, s.spans) for s in sentences]


def test_conll_write_conll_rejects_tab_in_token(tmp_path):
    path = tmp_path / "s.conll"
    with pytest.raises(InputFormatError) as info:
        write_conll(path, [AnnotatedSentence("s:1", "en", ("a\tb",))])
    assert info.value.code == "XP101" and "record s:1" in str(info.value)


SHARED = [
    # (relative path, lang, sentences, spans)
    ("ner-europarl/en-europarl.test.conll02", "en", 799, 702),
    ("ner-europarl/es-europarl.test.conll02", "es", 799, 697),
    ("absa-projection/en/en.absa.train.tsv", "en", 2000, 1743),
    ("absa-projection/en2es/DeepL.Iker.train.tsv", "es", 2000, 1724),
    ("absa-projection/en2fr/Nayla.DeepL.train.tsv", "fr", 2000, 1720),
    ("absa-projection/en2ru/Olia.DeepL.train.tsv", "ru", 2000, 1734),
    ("absa-projection/en2tr/Suna.m2m100.train.tsv", "tr", 2000, 1620),
]


@pytest.mark.parametrize(("rel", "lang", "n_sentences", "n_spans"), SHARED)
def test_conll_iter_conll_shared_files(shared_data, rel, lang, n_sentences, n_spans):
    items = list(iter_conll(shared_data / rel, lang, scheme="iob2", on_error="reject"))
    assert [i for i in items if isinstance(i, Reject)] == []
    assert len(items) == n_sentences
    assert sum(len(s.spans) for s in items) == n_spans


def test_conll_read_conll_europarl_parallel(shared_data):
    folder = shared_data / "ner-europarl"
    en = read_conll(folder / "en-europarl.test.conll02", "en")
    es = read_conll(folder / "es-europarl.test.conll02", "es")
    assert len(en) == len(es)
    first = en[11]
    assert first.id == "en-europarl.test:12"
    assert all(first.span_text(s) for s in first.spans)


def test_conll_bad_utf8_byte_is_reported_on_its_own_line(tmp_path):
    """Lines are decoded one by one: a bad byte deep in a file is placed on its line, not on
    the line where a read-ahead buffer happened to start."""
    path = tmp_path / "big.conll"
    good = b"word\tO\n\n" * 2500  # 5,000 lines
    path.write_bytes(good + b"caf\xe9\tO\n" + b"word\tO\n\n" * 500)
    with pytest.raises(InputFormatError) as err:
        list(iter_conll(path, "en"))
    assert err.value.code == "XP101" and err.value.line == 5001
    assert "not valid UTF-8" in str(err.value)
