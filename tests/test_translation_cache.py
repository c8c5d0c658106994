"""Translation cache: keys, the memory and lake stores, CachedTranslator, and Lake.append."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from itertools import count, islice
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_tables import sample_rows
from xproj.catalog import Lake, RunRecord, query
from xproj.catalog import files as files_module
from xproj.catalog.translation_cache import TABLE, LakeTranslationCache
from xproj.schemas.errors import E_BACKEND_FAILED, E_UNKNOWN_TABLE, BackendError, CatalogError
from xproj.schemas.tables import TABLES
from xproj.translators.base import DecodingOptions, Translation, Translator
from xproj.translators.cache import (
    CachedTranslator,
    CacheEntry,
    CacheScope,
    MemoryCache,
    TranslationCache,
    cache_key,
)

KEY_ARGS = ("opus-mt-en-de", "int8", "en", "de", "v1:beam_size=1", "Hello world")
# sha256 of the documented encoding of KEY_ARGS; a change here breaks every stored cache.
KEY_OF_ARGS = "2398e0daad64f469086b5f7bb69b2e1a8d8f518f3b64a2b5c268fb5024077508"
SCOPE = CacheScope("toy", "int8", "en", "de", DecodingOptions().key())


class FakeTranslator(Translator):
    """Reverses each text; flags empty and over-long texts; counts every text it is sent.

    ``fail_after``: raise after returning that many results in one call.
    """

    model_id = "toy"
    quantization = "int8"
    family = "toy"

    def __init__(self, fail_after: int | None = None, extra: int = 0) -> None:
        self.calls: list[tuple[list[str], str, str]] = []
        self.fail_after = fail_after
        self.extra = extra

    @property
    def sent(self) -> list[str]:
        return [text for texts, _, _ in self.calls for text in texts]

    def translate(self, texts, src_lang, tgt_lang, *, options=None):
        texts = list(texts)
        self.calls.append((texts, src_lang, tgt_lang))
        for i, text in enumerate(texts):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("model crashed")
            yield _fake(text, tgt_lang)
        for _ in range(self.extra):
            yield Translation("surplus")

    def score(self, sources, targets, src_lang, tgt_lang):
        return [[-1.0] * len(t.split()) for t in targets]


def _fake(text: str, tgt_lang: str) -> Translation:
    if not text.strip():
        return Translation("", segments=0, flag="empty")
    if len(text) > 40:
        return Translation("", segments=0, flag="too_long", detail=f"{len(text)} chars > 40")
    return Translation(f"{tgt_lang}:{text[::-1]}", tokens=len(text.split()), source_tokens=2)


def _memory(lake_root: Path) -> MemoryCache:
    return MemoryCache()


def _lake(lake_root: Path) -> LakeTranslationCache:
    return LakeTranslationCache(Lake(lake_root))


CACHES = [pytest.param(_memory, id="memory"), pytest.param(_lake, id="lake")]

ENTRIES = [
    CacheEntry(SCOPE, "Hello", Translation("Hallo", tokens=1, source_tokens=3)),
    CacheEntry(SCOPE, "   ", Translation("", segments=0, flag="empty")),
    CacheEntry(SCOPE, "x" * 50, Translation("", segments=0, flag="too_long", detail="too long")),
    CacheEntry(SCOPE, "A. B.", Translation("A. B.", tokens=4, segments=2, flag="split")),
    CacheEntry(SCOPE, "Grüße ✓ 東京", Translation("Grüße ✓ 東京", truncated=True), "run-1"),
]


# Keys


def test_translation_cache_key_is_the_documented_constant():
    assert cache_key(*KEY_ARGS) == KEY_OF_ARGS


def test_translation_cache_key_is_stable_across_processes():
    code = f"from xproj.translators.cache import cache_key; print(cache_key(*{KEY_ARGS!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == KEY_OF_ARGS


@pytest.mark.parametrize("position", range(6))
def test_translation_cache_key_changes_with_each_component(position):
    changed = list(KEY_ARGS)
    changed[position] += "x"
    assert cache_key(*changed) != cache_key(*KEY_ARGS)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ab", "c"), ("a", "bc")),  # field boundaries
        (("", "ac"), ("a", "c")),
        (("café",), ("cafe\u0301",)),  # no Unicode normalisation
        (("Hello",), ("Hello ",)),  # no stripping
    ],
)
def test_translation_cache_key_is_unambiguous(a, b):
    def key(tail):
        return cache_key(*KEY_ARGS[: 6 - len(tail)], *tail)

    assert key(a) != key(b)


def test_translation_cache_key_takes_lone_surrogates():
    assert cache_key(*KEY_ARGS[:5], "\udcff") != cache_key(*KEY_ARGS[:5], "\udcfe")


@pytest.mark.parametrize("position", range(6))
def test_translation_cache_key_refuses_non_strings(position):
    args = list(KEY_ARGS)
    args[position] = None
    with pytest.raises(TypeError, match="must be a str"):
        cache_key(*args)


def test_translation_cache_scope_of_translator_treats_none_as_default_options():
    fake = FakeTranslator()
    assert CacheScope.of(fake, "en", "de") == CacheScope.of(fake, "en", "de", DecodingOptions())
    assert CacheScope.of(fake, "en", "de").key("a") == SCOPE.key("a")
    beam = CacheScope.of(fake, "en", "de", DecodingOptions(beam_size=4))
    assert beam.key("a") != SCOPE.key("a")


def test_translation_cache_entry_key_follows_scope_and_source():
    entry = CacheEntry(SCOPE, "Hi", Translation("Hallo"))
    assert entry.key == SCOPE.key("Hi") == cache_key(*SCOPE.fields(), "Hi")


# Stores


@pytest.mark.parametrize("make", CACHES)
def test_translation_cache_store_round_trips_every_field(make, lake_root):
    cache = make(lake_root)
    assert isinstance(cache, TranslationCache)
    keys = [e.key for e in ENTRIES] + [SCOPE.key("absent")]
    cache.put_many(ENTRIES)
    expected = {e.key: e.translation for e in ENTRIES}
    assert cache.get_many(keys, scope=SCOPE) == expected  # before flush
    cache.flush()
    assert cache.get_many(keys, scope=SCOPE) == expected
    assert cache.get_many(keys) == expected  # without the scope hint
    assert cache.get_many([]) == {}


def test_translation_cache_lake_persists_across_lake_instances(lake_root):
    writer = LakeTranslationCache(Lake(lake_root))
    writer.put_many(ENTRIES)
    assert writer.flush() == 0
    assert writer.flush() is None  # nothing new: no version
    reader = LakeTranslationCache(Lake(lake_root))
    assert reader.get_many([e.key for e in ENTRIES], scope=SCOPE) == {
        e.key: e.translation for e in ENTRIES
    }
    rows = Lake(lake_root).read(TABLE).to_pylist()
    assert sorted(r["source"] for r in rows) == sorted(e.source for e in ENTRIES)
    assert {r["run_id"] for r in rows} == {None, "run-1"}
    assert {(r["model_id"], r["tgt_lang"], r["options"]) for r in rows} == {
        ("toy", "de", SCOPE.options)
    }


def test_translation_cache_lake_keeps_unflushed_entries_out_of_the_lake(lake_root):
    cache = LakeTranslationCache(Lake(lake_root))
    cache.put_many(ENTRIES[:2])
    assert cache.pending == 2
    assert LakeTranslationCache(Lake(lake_root)).get_many([ENTRIES[0].key]) == {}
    assert Lake(lake_root).latest_version(TABLE) is None


@pytest.mark.parametrize("make", CACHES)
def test_translation_cache_store_first_write_wins_in_one_store(make, lake_root):
    cache = make(lake_root)
    cache.put_many([CacheEntry(SCOPE, "Hi", Translation("first"))])
    cache.put_many([CacheEntry(SCOPE, "Hi", Translation("second"))])
    cache.flush()
    assert cache.get_many([SCOPE.key("Hi")])[SCOPE.key("Hi")].text == "first"


def test_translation_cache_lake_concurrent_writers_first_wins(lake_root):
    first = LakeTranslationCache(Lake(lake_root))
    second = LakeTranslationCache(Lake(lake_root))
    for cache, text in [(first, "first"), (second, "second")]:
        assert cache.get_many([SCOPE.key("Hi")], scope=SCOPE) == {}  # both miss
        cache.put_many([CacheEntry(SCOPE, "Hi", Translation(text))])
    first.flush()
    second.flush()
    assert Lake(lake_root).read(TABLE).num_rows == 2
    for cache in (first, second, LakeTranslationCache(Lake(lake_root))):
        for scope in (SCOPE, None):
            assert cache.get_many([SCOPE.key("Hi")], scope=scope)[SCOPE.key("Hi")].text == "first"


@pytest.mark.parametrize("scope", [SCOPE, None])
def test_translation_cache_lake_index_follows_own_flushes(scope, lake_root):
    cache = LakeTranslationCache(Lake(lake_root))
    bulk = [CacheEntry(SCOPE, f"bulk {i}", Translation(f"b{i}")) for i in range(20)]
    cache.put_many(bulk)
    cache.flush()
    assert len(cache.get_many([e.key for e in bulk], scope=scope)) == 20
    for i, entry in enumerate(ENTRIES):  # small flushes into a larger index
        cache.put_many([entry])
        cache.flush()
        found = cache.get_many([e.key for e in ENTRIES + bulk], scope=scope)  # from the lake
        assert found == {e.key: e.translation for e in ENTRIES[: i + 1] + bulk}


def test_translation_cache_lake_sees_other_writers_after_refresh(lake_root):
    reader = LakeTranslationCache(Lake(lake_root))
    writer = LakeTranslationCache(Lake(lake_root))
    assert reader.get_many([SCOPE.key("Hi")], scope=SCOPE) == {}
    writer.put_many([CacheEntry(SCOPE, "Hi", Translation("Hallo"))])
    writer.flush()
    assert reader.get_many([SCOPE.key("Hi")], scope=SCOPE) == {}  # not looked again yet
    reader.refresh()
    assert reader.get_many([SCOPE.key("Hi")], scope=SCOPE)[SCOPE.key("Hi")].text == "Hallo"


def test_translation_cache_lake_index_spans_many_flushes_and_scopes(lake_root):
    cache = LakeTranslationCache(Lake(lake_root), max_buffered=8)
    scopes = [SCOPE, CacheScope("toy", "int8", "en", "fr", SCOPE.options)]
    texts = [f"sentence {i}" for i in range(40)]
    for text in texts:  # flushes by itself every 8 entries: 10 versions
        cache.put_many([CacheEntry(s, text, Translation(f"{s.tgt_lang}:{text}")) for s in scopes])
    assert cache.flush() is None
    assert Lake(lake_root).latest_version(TABLE) == 9
    fresh = LakeTranslationCache(Lake(lake_root))
    for scope in scopes:
        found = fresh.get_many([scope.key(t) for t in texts] + [scope.key("none")], scope=scope)
        assert [found[scope.key(t)].text for t in texts] == [f"{scope.tgt_lang}:{t}" for t in texts]
        assert scope.key("none") not in found
    # The fr index holds only fr keys: de keys are misses there, hits with their own scope.
    assert fresh.get_many([SCOPE.key(texts[0])], scope=scopes[1]) == {}


def test_translation_cache_lake_refuses_malformed_keys(lake_root):
    with pytest.raises(ValueError, match="not a translation cache key"):
        LakeTranslationCache(Lake(lake_root)).get_many(["abc"])


def test_translation_cache_lake_context_manager_flushes(lake_root):
    with LakeTranslationCache(Lake(lake_root)) as cache:
        cache.put_many(ENTRIES[:1])
    assert Lake(lake_root).read(TABLE).num_rows == 1


def test_translation_cache_lake_table_is_queryable(lake_root):
    cache = LakeTranslationCache(Lake(lake_root))
    cache.put_many(ENTRIES)
    cache.flush()
    rows = query(
        Lake(lake_root), "SELECT flag, count(*) AS n FROM translation_cache GROUP BY ALL"
    ).to_pylist()
    assert {r["flag"]: r["n"] for r in rows} == {None: 2, "empty": 1, "too_long": 1, "split": 1}


# CachedTranslator


def _run(cached: CachedTranslator, texts: Sequence[str], tgt: str = "de") -> list[Translation]:
    return list(cached.translate(texts, "en", tgt))


@pytest.mark.parametrize("make", CACHES)
def test_translation_cache_translator_rerun_translates_nothing(make, lake_root):
    texts = ["a b", "c", "", "x" * 50, "d e f"]
    fake = FakeTranslator()
    first = _run(CachedTranslator(fake, cache := make(lake_root)), texts)
    cache.flush()
    assert fake.sent == texts
    again = FakeTranslator()
    rerun = CachedTranslator(again, cache if make is _memory else make(lake_root))
    assert _run(rerun, texts) == first == [_fake(t, "de") for t in texts]
    assert again.calls == []
    assert (rerun.stats.hits, rerun.stats.misses, rerun.stats.translated) == (5, 0, 0)


@pytest.mark.parametrize("make", CACHES)
def test_translation_cache_translator_new_language_translates_only_it(make, lake_root):
    texts = ["a", "b", "c"]
    cache = make(lake_root)
    fake = FakeTranslator()
    cached = CachedTranslator(fake, cache)
    for tgt in ("de", "fr"):
        _run(cached, texts, tgt)
    cache.flush()
    fake.calls.clear()
    cached = CachedTranslator(fake, cache if make is _memory else make(lake_root))
    for tgt in ("de", "fr", "es"):
        assert [t.text for t in _run(cached, texts, tgt)] == [f"{tgt}:{t}" for t in texts]
    assert fake.calls == [(texts, "en", "es")]


@pytest.mark.parametrize("window", [1, 2, 4, 100])
def test_translation_cache_translator_translates_repeats_once(window):
    fake = FakeTranslator()
    cached = CachedTranslator(fake, MemoryCache(), window=window)
    texts = ["a", "b", "a", "a", "c", "b"]
    assert [t.text for t in _run(cached, texts)] == [f"de:{t}" for t in texts]
    assert fake.sent == ["a", "b", "c"]
    assert cached.stats.translated == 3 and cached.stats.stored == 3
    assert cached.stats.hits + cached.stats.misses == len(texts)


@pytest.mark.parametrize("window", [1, 3, 5, 64])
@pytest.mark.parametrize("make", CACHES)
def test_translation_cache_translator_keeps_order_with_mixed_hits(make, window, lake_root):
    cache = make(lake_root)
    warm = [f"t{i}" for i in range(0, 30, 3)]
    CachedTranslator(FakeTranslator(), cache).translate_all(warm, "en", "de")
    cache.flush()
    texts = [f"t{i}" for i in range(30)] + ["", "t4", "t3"]
    fake = FakeTranslator()
    cached = CachedTranslator(fake, cache, window=window)
    assert _run(cached, texts) == [_fake(t, "de") for t in texts]
    assert sorted(fake.sent) == sorted({t for t in texts if t not in warm})
    assert cached.stats.hits >= 10 + 1  # the warm texts, and "t3" again


def test_translation_cache_translator_streams_its_input():
    fake = FakeTranslator()
    cached = CachedTranslator(fake, MemoryCache(), window=4)
    endless = (f"s{i}" for i in count())
    assert [t.text for t in islice(cached.translate(endless, "en", "de"), 6)] == [
        f"de:{f's{i}'[::-1]}" for i in range(6)
    ]
    assert [len(texts) for texts, _, _ in fake.calls] == [4, 4]


def test_translation_cache_translator_caches_flags_not_errors():
    cache = MemoryCache()
    texts = ["", "x" * 50, "ok", "boom", "later"]
    failing = FakeTranslator(fail_after=3)
    with pytest.raises(RuntimeError, match="model crashed"):
        _run(CachedTranslator(failing, cache), texts)
    # The three results before the failure are kept, flagged ones included.
    assert len(cache) == 3
    fake = FakeTranslator()
    cached = CachedTranslator(fake, cache)
    assert _run(cached, texts) == [_fake(t, "de") for t in texts]
    assert fake.sent == ["boom", "later"]


@pytest.mark.parametrize(("fail_after", "extra", "got"), [(None, 1, "more"), (2, 0, "only 2")])
def test_translation_cache_translator_refuses_wrong_result_counts(fail_after, extra, got):
    class Short(FakeTranslator):
        def translate(self, texts, src_lang, tgt_lang, *, options=None):
            results = list(super().translate(texts, src_lang, tgt_lang, options=options))
            return iter(results[:fail_after] if fail_after is not None else results)

    translator = Short(extra=extra)
    with pytest.raises(BackendError) as err:
        _run(CachedTranslator(translator, MemoryCache()), ["a", "b", "c"])
    assert err.value.code == E_BACKEND_FAILED and got in str(err.value)


def test_translation_cache_translator_keys_on_options():
    fake = FakeTranslator()
    cached = CachedTranslator(fake, MemoryCache())
    cached.translate_all(["a"], "en", "de")
    cached.translate_all(["a"], "en", "de", options=DecodingOptions(max_batch_size=8))
    assert len(fake.calls) == 1  # batching does not change the output
    cached.translate_all(["a"], "en", "de", options=DecodingOptions(beam_size=4))
    assert len(fake.calls) == 2


def test_translation_cache_translator_delegates_identity_and_score():
    fake = FakeTranslator()
    cached = CachedTranslator(fake, MemoryCache(), run_id="r1")
    assert (cached.model_id, cached.quantization, cached.family) == ("toy", "int8", "toy")
    assert cached.describe() == fake.describe()
    assert cached.score(["a"], ["x y"], "en", "de") == [[-1.0, -1.0]]


def test_translation_cache_translator_crash_after_shard_one_resumes_with_shard_two(lake_root):
    shards = [[f"one {i}" for i in range(5)], [f"two {i}" for i in range(5)]]
    fake = FakeTranslator()
    cached = CachedTranslator(fake, LakeTranslationCache(Lake(lake_root)), run_id="r1")
    cached.translate_all(shards[0], "en", "de")
    cached.flush()
    cached.translate_all(shards[1], "en", "de")
    del cached  # the process dies before shard 2's flush

    fake = FakeTranslator()
    cached = CachedTranslator(fake, LakeTranslationCache(Lake(lake_root)), run_id="r2")
    out = [cached.translate_all(shard, "en", "de") for shard in shards]
    assert out == [[_fake(t, "de") for t in shard] for shard in shards]
    assert fake.sent == shards[1]
    cached.flush()
    rows = Lake(lake_root).read(TABLE).to_pylist()
    assert sorted((r["source"], r["run_id"]) for r in rows) == sorted(
        [(t, "r1") for t in shards[0]] + [(t, "r2") for t in shards[1]]
    )


# Lake.append


def _cache_rows(n: int) -> list[dict]:
    return sample_rows("translation_cache", "r", n)


def test_translation_cache_lake_append_makes_one_version_outside_runs(lake_root):
    lake = Lake(lake_root)
    assert lake.append(TABLE, [_cache_rows(2), [], _cache_rows(3)], writer="test") == 0
    info = lake.versions(TABLE)[0]
    assert (info.run_id, info.rows_added) == (None, 5)
    assert len(list(lake.path(TABLE).glob("*.parquet"))) == 2  # one file per non-empty part
    assert lake.orphan_versions() == []
    assert "runs" not in lake.tables()
    assert lake.append(TABLE, [[]], writer="test") is None
    assert lake.latest_version(TABLE) == 0


@pytest.mark.parametrize("table", ["runs", "projected", "rejected"])
def test_translation_cache_lake_append_refuses_run_tables(table, lake_root):
    lake = Lake(lake_root)
    with pytest.raises(CatalogError) as err:
        lake.append(table, [sample_rows(table, "r", 1)], writer="test")
    assert err.value.code == E_UNKNOWN_TABLE and "Lake.commit" in str(err.value)
    assert not lake.path(table).exists()


def test_translation_cache_lake_append_failure_leaves_no_files(lake_root, monkeypatch):
    lake = Lake(lake_root)
    lake.append(TABLE, [_cache_rows(1)], writer="test")

    def broken(self, item, run, writer=None):
        raise OSError("disk full")

    monkeypatch.setattr(Lake, "_commit_files", broken)
    with pytest.raises(CatalogError, match="disk full"):
        lake.append(TABLE, [_cache_rows(2)], writer="test")
    assert len(list(lake.path(TABLE).glob("*.parquet"))) == 1
    assert lake.latest_version(TABLE) == 0


def test_translation_cache_lake_append_after_losing_the_creation_race(lake_root, monkeypatch):
    lake, other = Lake(lake_root), Lake(lake_root)
    real_create = files_module.create_table_with_add_actions
    raced = []

    def create_after_other(*args, **kwargs):
        if not raced:  # the other writer creates the table just before this one
            raced.append(True)
            other.append(TABLE, [_cache_rows(1)], writer="other")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(files_module, "create_table_with_add_actions", create_after_other)
    assert lake.append(TABLE, [_cache_rows(2)], writer="test") == 1
    assert Lake(lake_root).read(TABLE).num_rows == 3
    assert len(list(lake.path(TABLE).glob("*.parquet"))) == 2


def test_translation_cache_lake_append_versions_mix_with_runs(lake_root):
    lake = Lake(lake_root)
    run = RunRecord.start("translate", {"n": 1})
    lake.commit(run, {TABLE: _cache_rows(1)})
    lake.append(TABLE, [_cache_rows(1)], writer="test")
    assert [v.run_id for v in lake.versions(TABLE)] == [run.run_id, None]
    assert TABLES[TABLE].field("run_id").nullable


def test_translation_cache_lake_under_a_path_with_spaces(tmp_path):
    """Delta lists data files as percent-encoded URIs (``my%20lake``): the cache reads them
    decoded, as the lake's own readers do."""
    root = tmp_path / "my lake"
    writer = LakeTranslationCache(Lake(root))
    writer.put_many(ENTRIES)
    writer.flush()
    reader = LakeTranslationCache(Lake(root))
    assert reader.get_many([e.key for e in ENTRIES], scope=SCOPE) == {
        e.key: e.translation for e in ENTRIES
    }
