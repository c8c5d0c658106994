"""Training-ready EntityCS export: tag stripping, token → entity indices with tiny fast tokenizers
of three kinds (WordPiece, byte-level BPE, Unigram/Metaspace) trained here, WEP/PEP masks, atomic
writes, and the export of a real entitycs run read back with ``datasets`` and pyarrow."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.entitycs_samples import small_entitycs_config
from xproj.io.exports.entitycs import (
    EntitySpan,
    ExportStats,
    encode,
    load_tokenizer,
    partial_entity_mask,
    strip_tags,
    token_entity_ids,
    whole_entity_mask,
    write_records,
)
from xproj.schemas.errors import BackendError, ConfigError, InputFormatError

# ----------------------------------------------------------------------------- strip_tags

STRIP_OK = [
    # (name, tagged, kwargs, plain, [(surface, language)])
    ("no entity", "Nothing tagged here.", {}, "Nothing tagged here.", []),
    (
        "middle",
        "Anna was born in <de>Paris</de> in 1990.",
        {},
        "Anna was born in Paris in 1990.",
        [("Paris", "de")],
    ),
    (
        "start and end",
        "<fr>Cologne</fr> is on the <fr>Rhin</fr>",
        {},
        "Cologne is on the Rhin",
        [("Cologne", "fr"), ("Rhin", "fr")],
    ),
    (
        "adjacent",
        "<de>Köln</de><de>Bonn</de> and <de>Aachen</de>",
        {},
        "KölnBonn and Aachen",
        [("Köln", "de"), ("Bonn", "de"), ("Aachen", "de")],
    ),
    ("whole sentence", "<en>Paris</en>", {}, "Paris", [("Paris", "en")]),
    (
        "cjk",
        "<ja>東京</ja>は<ja>日本</ja>の首都です。",
        {},
        "東京は日本の首都です。",
        [("東京", "ja"), ("日本", "ja")],
    ),
    (
        "script and region subtags",
        "<zh-Hans>巴黎</zh-Hans> / <sr-Latn>Beograd</sr-Latn> / <pt-BR>São Paulo</pt-BR>",
        {},
        "巴黎 / Beograd / São Paulo",
        [("巴黎", "zh-Hans"), ("Beograd", "sr-Latn"), ("São Paulo", "pt-BR")],
    ),
    (
        "combining marks and emoji",
        "Ha<vi>Nội</vi> 🇻🇳 <hi>दिल्ली</hi>!",
        {},
        "HaNội 🇻🇳 दिल्ली!",
        [("Nội", "vi"), ("दिल्ली", "hi")],
    ),
    (
        "other markup stays text when the language is given",
        "H<sub>2</sub>O near <de>Köln</de>",
        {"language": "de"},
        "H<sub>2</sub>O near Köln",
        [("Köln", "de")],
    ),
    (
        "another language's tag stays text when the language is given",
        "<fr>x</fr> and <de>Köln</de>",
        {"language": "de"},
        "<fr>x</fr> and Köln",
        [("Köln", "de")],
    ),
    (
        "custom templates with the language twice",
        "born in <e lang=de>Paris</e:de>.",
        {"open_tag": "<e lang={lang}>", "close_tag": "</e:{lang}>"},
        "born in Paris.",
        [("Paris", "de")],
    ),
    (
        "identical open and close templates",
        "|de|Paris|de| and |de|Köln|de|",
        {"open_tag": "|{lang}|", "close_tag": "|{lang}|"},
        "Paris and Köln",
        [("Paris", "de"), ("Köln", "de")],
    ),
    (
        "doubled braces are literal braces",
        "in {de}Paris{/de}",
        {"open_tag": "{{{lang}}}", "close_tag": "{{/{lang}}}"},
        "in Paris",
        [("Paris", "de")],
    ),
]


@pytest.mark.parametrize(
    "tagged, kwargs, plain, entities",
    [c[1:] for c in STRIP_OK],
    ids=[c[0] for c in STRIP_OK],
)
def test_strip_tags(tagged, kwargs, plain, entities):
    text, spans = strip_tags(tagged, **kwargs)
    assert text == plain
    assert [(text[s.start : s.end], s.language) for s in spans] == entities
    assert all(isinstance(s, EntitySpan) and s.start < s.end for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


def test_strip_tags_template_without_lang_is_a_config_error():
    with pytest.raises(ConfigError, match="XP301"):
        strip_tags("x", open_tag="[[{lang}:", close_tag="]]")


STRIP_BAD = [
    ("unclosed", "born in <de>Paris", "never closed"),
    ("closing without opening", "born in Paris</de>", "no opening tag"),
    ("nested", "<de>Paris <de>Île</de></de>", "nested"),
    ("other language closes", "<de>Paris</fr>", "opened as 'de'"),
    ("empty entity", "born in <de></de> Paris", "empty entity"),
    ("second entity unclosed", "<de>A</de> and <de>B", "never closed"),
]


@pytest.mark.parametrize(
    "tagged, needle", [c[1:] for c in STRIP_BAD], ids=[c[0] for c in STRIP_BAD]
)
def test_strip_tags_bad_tags_are_coded_errors(tagged, needle):
    with pytest.raises(InputFormatError) as info:
        strip_tags(tagged, record="P1#7")
    err = info.value
    assert err.code == "XP104" and err.record == "P1#7"
    assert needle in err.message
    assert "record P1#7" in str(err) and "Fix:" in str(err)


# ----------------------------------------------------------------------------- tokenizers

CORPUS = [
    "Anna Smith was born in Paris, the capital of France.",
    "The river Rhine flows through Basel and Cologne.",
    "Köln liegt am Rhein, Paris an der Seine.",
    "Cologne est sur le Rhin, près de Bonn.",
]
SPECIAL = {
    "wordpiece": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    "bytebpe": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "unigram": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
}


def build_tokenizer(kind: str, path: Path, model_max_length: int | None = None) -> Path:
    """A tiny fast tokenizer of ``kind`` trained on CORPUS, saved with ``save_pretrained``."""
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    special = SPECIAL[kind]
    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(
            vocab_size=70, special_tokens=special, show_progress=False
        )
        tok.train_from_iterator(CORPUS, trainer=trainer)
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
        )
        names = {"unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
        names |= {"pad_token": "[PAD]", "mask_token": "[MASK]"}
    elif kind == "bytebpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=320,
            special_tokens=special,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(CORPUS, trainer=trainer)
        tok.post_processor = processors.RobertaProcessing(
            ("</s>", tok.token_to_id("</s>")),
            ("<s>", tok.token_to_id("<s>")),
            trim_offsets=True,
            add_prefix_space=False,
        )
        names = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
        names |= {"pad_token": "<pad>", "mask_token": "<mask>"}
    else:
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=90, special_tokens=special, unk_token="<unk>", show_progress=False
        )
        tok.train_from_iterator(CORPUS, trainer=trainer)
        bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
        )
        names = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
        names |= {"pad_token": "<pad>", "mask_token": "<mask>"}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **names)
    if model_max_length is not None:
        fast.model_max_length = model_max_length
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tokenizer_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tokenizers")
    return {kind: build_tokenizer(kind, root / kind) for kind in SPECIAL}


ROWS = [
    {
        "id": "s0",
        "en_sentence": "Anna Smith was born in <en>Paris</en>, the capital of <en>France</en>.",
    },
    {
        "id": "s0",
        "en_sentence": "Anna Smith was born in <en>Paris</en>, the capital of <en>France</en>.",
        "cs_sentence": "Anna Smith was born in <de>Paris</de>, the capital of <de>Frankreich</de>.",
        "language": "de",
    },
    {
        "id": "s1",
        "en_sentence": "The river <en>Rhine</en> flows through Basel and <en>Cologne</en>.",
        "cs_sentence": "The river <fr>Rhin</fr> flows through Basel and <fr>Cologne</fr>.",
        "language": "fr",
    },
    {
        "id": "s1",
        "en_sentence": "The river <en>Rhine</en> flows through Basel and <en>Cologne</en>.",
        "cs_sentence": "The river <ja>ライン川</ja> flows through Basel and <ja>ケルン</ja>.",
        "language": "ja",
    },
    {
        "id": "s2",
        "en_sentence": "<en>Cologne</en> and <en>Bonn</en> lie on the <en>Rhine</en>",
        "cs_sentence": "<zh-Hans>科隆</zh-Hans> and <zh-Hans>波恩</zh-Hans> lie on the "
        "<zh-Hans>莱茵河</zh-Hans>",
        "language": "zh-Hans",
    },
]


def _overlaps(a: int, b: int, span: list[int]) -> bool:
    return a < span[1] and b > span[0]


@pytest.mark.parametrize("kind", list(SPECIAL))
def test_encode_entity_ids_cover_entities(kind, tokenizer_dirs):
    tokenizer = load_tokenizer(tokenizer_dirs[kind])
    stats = ExportStats()
    out = list(encode(ROWS, tokenizer, with_offsets=True, stats=stats))
    assert stats.rows_read == len(ROWS) and stats.rows_written == len(out) == len(ROWS)
    assert [r["language"] for r in out] == ["en", "de", "fr", "ja", "zh-Hans"]
    for row, rec in zip(ROWS, out, strict=True):
        tagged = row.get("cs_sentence") or row["en_sentence"]
        text, spans = strip_tags(tagged)
        assert rec["text"] == text and rec["id"] == row["id"]
        assert rec["entity_spans"] == [[s.start, s.end] for s in spans]
        ref = tokenizer(text, add_special_tokens=True, return_special_tokens_mask=True)
        assert rec["input_ids"] == ref["input_ids"]  # whole sentence, nothing cut
        n = len(rec["input_ids"])
        assert len(rec["entity_ids"]) == len(rec["offsets"]) == n
        assert rec["attention_mask"] == [1] * n
        for i, k in enumerate(rec["entity_ids"]):
            a, b = rec["offsets"][i]
            if ref["special_tokens_mask"][i]:
                assert k == -1
            elif k >= 0:  # every token of entity k overlaps entity k
                assert _overlaps(a, b, rec["entity_spans"][k])
            else:  # a token outside every entity overlaps none
                assert not any(_overlaps(a, b, sp) for sp in rec["entity_spans"])
        for k, (s, e) in enumerate(rec["entity_spans"]):
            mine = [rec["offsets"][i] for i, x in enumerate(rec["entity_ids"]) if x == k]
            assert mine, f"entity {k} has no token"
            # the entity's tokens cover all of its non-space characters
            covered = {c for a, b in mine for c in range(a, b)}
            assert {c for c in range(s, e) if not text[c].isspace()} <= covered
    assert stats.entities == sum(len(r["entity_spans"]) for r in out)
    assert stats.tokens == sum(len(r["input_ids"]) for r in out)
    assert stats.entity_tokens == sum(sum(k >= 0 for k in r["entity_ids"]) for r in out)
    assert dict(stats.languages) == {"en": 1, "de": 1, "fr": 1, "ja": 1, "zh-Hans": 1}


def test_encode_wordpiece_subwords_of_one_entity(tokenizer_dirs):
    tokenizer = load_tokenizer(tokenizer_dirs["wordpiece"])
    (rec,) = encode([ROWS[1]], tokenizer, with_offsets=True)
    tokens = tokenizer.convert_ids_to_tokens(rec["input_ids"])
    for k, surface in enumerate(["Paris", "Frankreich"]):
        idx = [i for i, x in enumerate(rec["entity_ids"]) if x == k]
        assert idx == list(range(idx[0], idx[-1] + 1))  # contiguous subwords
        assert rec["text"][rec["offsets"][idx[0]][0] : rec["offsets"][idx[-1]][1]] == surface
    # the tiny vocabulary splits Paris into subwords; Frankreich has a letter no training text has, so
    # WordPiece makes the whole word one [UNK], which still belongs to entity 1
    paris = [tokens[i] for i, x in enumerate(rec["entity_ids"]) if x == 0]
    assert len(paris) > 1 and "".join(t.removeprefix("##") for t in paris) == "Paris"
    assert [tokens[i] for i, x in enumerate(rec["entity_ids"]) if x == 1] == ["[UNK]"]
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert rec["entity_ids"][0] == rec["entity_ids"][-1] == -1
    assert "offsets" not in next(encode([ROWS[1]], tokenizer))


def test_token_entity_ids_rules():
    spans = [EntitySpan(0, 4, "de"), EntitySpan(4, 6, "de"), EntitySpan(10, 12, "de")]
    offsets = [(0, 0), (0, 3), (3, 5), (5, 7), (7, 10), (9, 11), (12, 12), (0, 0)]
    # (3, 5) touches entity 0 and 1 by one char each: the first; (5, 7) overlaps only entity 1
    assert token_entity_ids(offsets, spans) == [-1, 0, 0, 1, -1, 2, -1, -1]
    special = [1, 0, 0, 0, 0, 0, 0, 1]
    assert token_entity_ids([(0, 4)] * 8, spans, special)[0] == -1
    assert token_entity_ids([(2, 6)], spans) == [0]  # overlaps 0 by 2, 1 by 2: first
    assert token_entity_ids([(3, 6)], spans) == [1]  # overlaps 0 by 1, 1 by 2: the most
    assert token_entity_ids([], spans) == [] and token_entity_ids([(0, 5)], []) == [-1]


@pytest.mark.parametrize("kind", list(SPECIAL))
def test_encode_rejects_too_long_rows_with_a_reason(kind, tokenizer_dirs):
    tokenizer = load_tokenizer(tokenizer_dirs[kind])
    full = list(encode(ROWS, tokenizer))
    lengths = sorted(len(r["input_ids"]) for r in full)
    limit = lengths[len(lengths) // 2]
    stats = ExportStats()
    kept = list(encode(ROWS, tokenizer, max_length=limit, stats=stats))
    too_long = sum(n > limit for n in lengths)
    assert too_long > 0 and dict(stats.rejected) == {"too_long": too_long}
    assert stats.rows_written == len(kept) == len(ROWS) - too_long
    assert all(len(r["input_ids"]) <= limit for r in kept)
    whole = {(r["id"], r["language"]): r["input_ids"] for r in full}
    assert all(r["input_ids"] == whole[r["id"], r["language"]] for r in kept)  # not truncated
    assert {e["reason"] for e in stats.examples} == {"too_long"}


def test_encode_default_limit_is_model_max_length(tmp_path):
    tokenizer = load_tokenizer(build_tokenizer("wordpiece", tmp_path / "t", model_max_length=30))
    stats = ExportStats()
    kept = list(encode(ROWS, tokenizer, stats=stats))
    assert stats.rejected["too_long"] > 0
    assert all(len(r["input_ids"]) <= 30 for r in kept)
    stats = ExportStats()
    assert len(list(encode(ROWS, tokenizer, max_length=10_000, stats=stats))) == len(ROWS)


def test_encode_rejects_entities_without_tokens(tokenizer_dirs):
    rows = [
        # BertNormalizer removes the zero-width space: no token is left for the entity
        {"id": "zw", "cs_sentence": "A <de>\u200b</de> B <de>Paris</de>", "language": "de"},
        {"id": "ok", "cs_sentence": "in <de>Paris</de>", "language": "de"},
    ]
    stats = ExportStats()
    out = list(encode(rows, load_tokenizer(tokenizer_dirs["wordpiece"]), stats=stats))
    assert [r["id"] for r in out] == ["ok"]
    assert dict(stats.rejected) == {"entity_without_tokens": 1}
    # unknown characters fuse into one <unk> token that both touching entities overlap
    rows = [{"id": "cjk", "cs_sentence": "<zh>巴黎</zh><zh>法国</zh>!", "language": "zh"}]
    stats = ExportStats()
    assert list(encode(rows, load_tokenizer(tokenizer_dirs["unigram"]), stats=stats)) == []
    assert stats.examples[0]["reason"] == "entity_without_tokens"
    assert "法国" in stats.examples[0]["detail"]


def test_encode_bad_tags_raise_or_are_rejected(tokenizer_dirs):
    tokenizer = load_tokenizer(tokenizer_dirs["wordpiece"])
    rows = [
        {"id": "bad", "cs_sentence": "<de>Paris in France", "language": "de"},
        {"id": "ok", "cs_sentence": "in <de>Paris</de>", "language": "de"},
    ]
    with pytest.raises(InputFormatError, match=r"record bad") as info:
        list(encode(rows, tokenizer))
    assert info.value.code == "XP104"
    stats = ExportStats()
    out = list(encode(rows, tokenizer, on_error="reject", stats=stats))
    assert [r["id"] for r in out] == ["ok"] and dict(stats.rejected) == {"bad_tags": 1}
    # only the row's own language is a tag: a <fr> in a German row is text
    (rec,) = encode(
        [{"id": "x", "cs_sentence": "<fr>y</fr> <de>Köln</de>", "language": "de"}], tokenizer
    )
    assert rec["text"] == "<fr>y</fr> Köln" and len(rec["entity_spans"]) == 1


def test_encode_row_and_option_errors(tokenizer_dirs):
    tokenizer = load_tokenizer(tokenizer_dirs["wordpiece"])
    with pytest.raises(InputFormatError) as info:
        list(encode([{"id": "x", "sentence": "a"}], tokenizer))
    assert info.value.code == "XP108"
    with pytest.raises(ConfigError):
        list(encode(ROWS, tokenizer, max_length=0))
    with pytest.raises(ConfigError):
        list(encode(ROWS, tokenizer, on_error="skip"))


class _SlowWhitespaceTokenizer:
    """Built lazily: a real slow (Python-backend) transformers tokenizer."""

    @staticmethod
    def make():
        from transformers import PythonBackend

        class Whitespace(PythonBackend):
            def __init__(self, **kwargs):
                self.vocab = {"[UNK]": 0, "Paris": 1}
                super().__init__(unk_token="[UNK]", **kwargs)

            @property
            def vocab_size(self):
                return len(self.vocab)

            def get_vocab(self):
                return dict(self.vocab)

            def _tokenize(self, text):
                return text.split()

            def _convert_token_to_id(self, token):
                return self.vocab.get(token, 0)

            def _convert_id_to_token(self, index):
                return {v: k for k, v in self.vocab.items()}[index]

        return Whitespace()


def test_slow_tokenizer_is_a_config_error():
    slow = _SlowWhitespaceTokenizer.make()
    assert slow.is_fast is False
    with pytest.raises(ConfigError, match="fast") as info:
        list(encode([{"id": "x", "en_sentence": "<en>Paris</en> x"}], slow))
    assert info.value.code == "XP301"


def test_load_tokenizer_errors_and_tokenizer_json(tmp_path, tokenizer_dirs):
    with pytest.raises(BackendError) as info:
        load_tokenizer(tmp_path / "missing")
    assert info.value.code == "XP503"
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackendError) as info:
        load_tokenizer(tmp_path / "empty")
    assert info.value.code == "XP504"
    from_file = load_tokenizer(tokenizer_dirs["wordpiece"] / "tokenizer.json")
    from_dir = load_tokenizer(tokenizer_dirs["wordpiece"])
    assert from_file("Paris")["input_ids"] == from_dir("Paris")["input_ids"]


# ----------------------------------------------------------------------------- masks

ENTITY_IDS = [-1, 0, 0, 0, -1, -1, 1, -1, 2, 2, 2, 2, -1]


@pytest.mark.parametrize("fn", [whole_entity_mask, partial_entity_mask])
def test_masks_deterministic_and_only_inside_entities(fn):
    import numpy as np

    for seed in range(20):
        a = fn(ENTITY_IDS, random.Random(seed), 0.5)
        assert a == fn(ENTITY_IDS, random.Random(seed), 0.5)
        assert fn(ENTITY_IDS, np.random.default_rng(seed), 0.5) == fn(
            ENTITY_IDS, np.random.default_rng(seed), 0.5
        )
        assert len(a) == len(ENTITY_IDS)
        assert not any(m for m, k in zip(a, ENTITY_IDS, strict=True) if k < 0)
    assert fn(ENTITY_IDS, random.Random(0), 0.0) == [False] * len(ENTITY_IDS)
    assert fn(ENTITY_IDS, random.Random(0), 1.0) == [k >= 0 for k in ENTITY_IDS]
    assert fn([-1, -1], random.Random(0), 1.0) == [False, False]
    for bad in (-0.1, 1.5, True):
        with pytest.raises(ConfigError):
            fn(ENTITY_IDS, random.Random(0), bad)


def _by_entity(mask, entity_ids):
    out: dict[int, list[bool]] = {}
    for m, k in zip(mask, entity_ids, strict=True):
        if k >= 0:
            out.setdefault(k, []).append(m)
    return out


def test_whole_entity_mask_takes_entities_whole():
    rng = random.Random(1)
    chosen = total = 0
    for _ in range(2000):
        groups = _by_entity(whole_entity_mask(ENTITY_IDS, rng, 0.3), ENTITY_IDS)
        assert all(len(set(g)) == 1 for g in groups.values())  # all of an entity or none
        chosen += sum(g[0] for g in groups.values())
        total += len(groups)
    assert abs(chosen / total - 0.3) < 0.03


def test_partial_entity_mask_takes_subsets():
    rng = random.Random(2)
    partial = chosen = total = 0
    for _ in range(2000):
        mask = partial_entity_mask(ENTITY_IDS, rng, 0.5)
        groups = _by_entity(mask, ENTITY_IDS)
        partial += sum(len(set(g)) == 2 for g in groups.values())  # some but not all subwords
        chosen += sum(mask)
        total += sum(k >= 0 for k in ENTITY_IDS)
    assert partial > 1000
    assert abs(chosen / total - 0.5) < 0.02


# ----------------------------------------------------------------------------- writing


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_write_records_is_atomic(tmp_path, fmt):
    out = tmp_path / f"x.{fmt}"
    out.write_text("old")

    def failing():
        yield {"id": "a", "language": "de", "text": "t", "input_ids": [1], "attention_mask": [1],
               "entity_ids": [-1], "entity_spans": []}  # fmt: skip
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_records(failing(), out, fmt=fmt)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left
    with pytest.raises(ConfigError):
        write_records([], tmp_path / "x.csv", fmt="csv")
    with pytest.raises(ConfigError):
        write_records([], tmp_path, fmt="jsonl")


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def prefect_backend():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def entitycs_run(prefect_backend, tmp_path_factory):
    """A lake with one small entitycs run (the FewRel-style file of test_flows_entitycs)."""
    from xproj.flows.entitycs import entitycs

    root = tmp_path_factory.mktemp("entitycs")
    result = entitycs(small_entitycs_config(root))
    return root / "lake", result.run_id


@pytest.mark.slow
def test_export_run_end_to_end(entitycs_run, tokenizer_dirs, tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    from xproj.catalog import Lake, query
    from xproj.io.exports.entitycs import export_run

    lake_root, run_id = entitycs_run
    tok_dir = tokenizer_dirs["wordpiece"]
    counts = export_run(Lake(lake_root), run_id, tok_dir, tmp_path / "out.jsonl")
    # 2 English sentences + 5 code-switched ones (see test_flows_entitycs), 2 entities each
    assert counts["rows_read"] == counts["rows_written"] == 7 and counts["rejected"] == {}
    assert counts["languages"] == {"de": 2, "en": 2, "fr": 2, "sw": 1}
    assert counts["entities"] == 14 and counts["max_length"] is None
    assert counts["versions"]["entitycs_cs"] is not None

    ds = datasets.load_dataset(
        "json", data_files=str(tmp_path / "out.jsonl"), split="train", cache_dir=str(tmp_path / "c")
    )
    rows = ds.to_list()
    assert len(rows) == 7 and [r["language"] for r in rows[:2]] == ["en", "en"]
    assert sum(len(r["input_ids"]) for r in rows) == counts["tokens"]

    # the same records as encoding the lake's rows directly
    en = query(
        Lake(lake_root), f"SELECT id, en_sentence FROM entitycs_en WHERE run_id = '{run_id}'"
    )
    cs = query(
        Lake(lake_root),
        f"SELECT id, cs_sentence, language FROM entitycs_cs WHERE run_id = '{run_id}'",
    )
    direct = list(encode(en.to_pylist() + cs.to_pylist(), load_tokenizer(tok_dir)))
    key = lambda r: (r["id"], r["language"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(direct, key=key)
    de = next(r for r in rows if r["language"] == "de" and "Frankreich" in r["text"])
    assert de["text"] == "Anna Smith was born in Paris, the capital of Frankreich."
    assert [de["text"][s:e] for s, e in de["entity_spans"]] == ["Paris", "Frankreich"]

    # parquet: same rows, typed columns, metadata; --no-en and a length limit
    counts_pq = export_run(
        lake_root, run_id, tok_dir, tmp_path / "out.parquet", fmt="parquet", with_offsets=True
    )
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.metadata[b"xproj.run_id"] == run_id.encode()
    assert table.schema.field("input_ids").type.value_type == pa.int32()
    assert table.schema.field("attention_mask").type.value_type == pa.int8()
    pq_rows = table.to_pylist()
    assert [{k: v for k, v in r.items() if k != "offsets"} for r in pq_rows] == rows
    assert counts_pq["rows_written"] == 7 and all(
        len(r["offsets"]) == len(r["input_ids"]) for r in pq_rows
    )
    limit = sorted(len(r["input_ids"]) for r in rows)[3]
    small = export_run(
        lake_root, run_id, tok_dir, tmp_path / "cs.jsonl", include_en=False, max_length=limit
    )
    assert small["rows_read"] == 5 and "en" not in small["languages"]
    assert small["rows_written"] + small["rejected"].get("too_long", 0) == 5
    assert small["rejected"].get("too_long", 0) == sum(
        len(r["input_ids"]) > limit for r in rows if r["language"] != "en"
    )
    lines = (tmp_path / "cs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == small["rows_written"]


@pytest.mark.slow
def test_export_cli_and_unknown_run(entitycs_run, tokenizer_dirs, tmp_path):
    from typer.testing import CliRunner

    from xproj.catalog import Lake
    from xproj.cli import app
    from xproj.io.exports.entitycs import export_run
    from xproj.schemas.errors import CatalogError

    lake_root, run_id = entitycs_run
    out = tmp_path / "cli.parquet"
    res = CliRunner().invoke(
        app,
        ["entitycs-export", "--run", run_id, "--tokenizer", str(tokenizer_dirs["unigram"]),
         "--out", str(out), "--format", "parquet", "--no-en", "--lake", str(lake_root)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"wrote 5 of 5 rows to {out}" in res.output
    assert "rows per language: de 2, fr 2, sw 1" in res.output
    assert out.is_file()
    with pytest.raises(CatalogError, match="no entitycs run"):
        export_run(Lake(lake_root), "nope", tokenizer_dirs["unigram"], tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


class _Scripted:
    """An rng that returns the given values in turn: shows which draw decides which token."""

    def __init__(self, values):
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_mask_draw_order():
    ids = [-1, 0, 0, -1, 1, 2, 2, -1]
    # WEP: one draw per entity in increasing index (0: 0.1 chosen, 1: 0.9 not, 2: 0.2 chosen)
    assert whole_entity_mask(ids, _Scripted([0.1, 0.9, 0.2]), 0.5) == [
        False, True, True, False, False, True, True, False,
    ]  # fmt: skip
    # PEP: one draw per entity token, left to right
    assert partial_entity_mask(ids, _Scripted([0.1, 0.9, 0.9, 0.2, 0.3]), 0.5) == [
        False, True, False, False, False, True, True, False,
    ]  # fmt: skip
