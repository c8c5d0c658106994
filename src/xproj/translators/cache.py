"""A translation cache: translate each (model, languages, options, text) once, ever.

Every translation is stored under a key that hashes everything that decides the output: the
model, its compute type, both languages, the decoding options that change the output, and the
source text (:func:`cache_key`). :class:`CachedTranslator` wraps any
:class:`~xproj.translators.base.Translator`: it looks every input up, sends only the misses to the
model (each distinct text once), stores the new results and yields one
:class:`~xproj.translators.base.Translation` per input, in input order. So a rerun translates
nothing, a run resumed after a crash translates only what was not stored yet, and a new target
language translates only that language.

What is cached: every :class:`~xproj.translators.base.Translation` a translator returns, flagged ones
included (``empty``, ``split``, ``too_long``: the same input gets the same flag again, so
retrying is pointless) and truncated ones (``max_decoding_length`` is part of the key). What is
not: errors. A translator that fails raises, and nothing is stored for the texts it did not
return, so a rerun retries them. Sampled translations (``sampling_topk != 1``) are cached like
any other, so a rerun reproduces the first sample; translate with the inner translator to draw
new ones.

Storage is behind the small :class:`TranslationCache` protocol: :class:`MemoryCache` here (one
process), ``xproj.catalog.translation_cache.LakeTranslationCache`` in the lake (persistent, shared).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol, runtime_checkable

from xproj.schemas.errors import E_BACKEND_FAILED, BackendError
from xproj.translators.base import DecodingOptions, Translation, Translator

#: Version tag hashed into every key; a change of the encoding below must change it.
KEY_SCHEME = "xproj.translation-cache.v1"

#: Texts read, looked up and translated together by :class:`CachedTranslator` by default.
DEFAULT_WINDOW = 4096


def cache_key(
    model_id: str,
    quantization: str,
    src_lang: str,
    tgt_lang: str,
    options_key: str,
    text: str,
) -> str:
    """The cache key of translating ``text`` with a model, languages and decoding options.

    The key is the SHA-256 (lowercase hex, 64 characters) of :data:`KEY_SCHEME` followed by the
    six arguments in this order, each encoded as UTF-8 (lone surrogates passed through) and
    preceded by its byte length as an 8-byte big-endian integer. Length prefixes make the
    encoding unambiguous (``("ab", "c")`` and ``("a", "bc")`` differ), and nothing depends on
    the platform, the process or Python's hash seed, so keys are stable everywhere. Texts are
    hashed as given: no Unicode normalisation or whitespace stripping, because the model sees
    them as given too. Language codes are hashed as given as well, so pass the same spelling
    each time (``en`` and ``eng`` make different keys: a miss, never a wrong hit).

    Args:
        model_id: the translator's ``model_id``.
        quantization: the translator's ``quantization`` (compute type).
        src_lang: source language code.
        tgt_lang: target language code.
        options_key: ``DecodingOptions.key()`` of the options used.
        text: the source text.

    Raises:
        TypeError: when an argument is not a string.

    Example:
        >>> key = cache_key("opus-mt-en-de", "int8", "en", "de", "v1:beam_size=1", "Hello")
        >>> len(key), key == cache_key("opus-mt-en-de", "int8", "en", "de", "v1:beam_size=1",
        ...                            "Hello ")
        (64, False)
    """
    parts = {
        "model_id": model_id,
        "quantization": quantization,
        "src_lang": src_lang,
        "tgt_lang": tgt_lang,
        "options_key": options_key,
        "text": text,
    }
    for name, part in parts.items():
        if not isinstance(part, str):
            raise TypeError(f"cache_key: {name} must be a str, not {type(part).__name__}")
    digest = hashlib.sha256()
    for part in (KEY_SCHEME, *parts.values()):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CacheScope:
    """Everything in a cache key except the text: one model, language pair and option set.

    Example:
        >>> scope = CacheScope("opus-mt-en-de", "int8", "en", "de", DecodingOptions().key())
        >>> scope.key("Hello") == cache_key(*scope.fields(), "Hello")
        True
    """

    model_id: str
    quantization: str
    src_lang: str
    tgt_lang: str
    options: str

    @classmethod
    def of(
        cls,
        translator: Translator,
        src_lang: str,
        tgt_lang: str,
        options: DecodingOptions | None = None,
    ) -> CacheScope:
        """The scope of ``translator`` translating ``src_lang`` → ``tgt_lang`` with ``options``.

        ``None`` options are the defaults, so they share keys with ``DecodingOptions()``.
        """
        return cls(
            translator.model_id,
            translator.quantization,
            src_lang,
            tgt_lang,
            (options or DecodingOptions()).key(),
        )

    def fields(self) -> tuple[str, str, str, str, str]:
        """``(model_id, quantization, src_lang, tgt_lang, options)``."""
        return (self.model_id, self.quantization, self.src_lang, self.tgt_lang, self.options)

    def key(self, text: str) -> str:
        """:func:`cache_key` of ``text`` in this scope."""
        return cache_key(*self.fields(), text)


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One translation to store: its scope, source text, result, and the run that made it.

    ``key`` is computed from ``scope`` and ``source``, so an entry cannot be filed under a
    wrong key.
    """

    scope: CacheScope
    source: str
    translation: Translation
    run_id: str | None = None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.scope.key(self.source))


@runtime_checkable
class TranslationCache(Protocol):
    """Where cached translations live.

    Implementations agree on: keys are :func:`cache_key` strings; the first entry stored under
    a key wins (a later ``put`` of the same key changes nothing a reader sees); entries put
    are visible to ``get_many`` at once, and durable after ``flush``.
    """

    def get_many(
        self, keys: Sequence[str], *, scope: CacheScope | None = None
    ) -> dict[str, Translation]:
        """The cached translation of each of ``keys`` that has one (absent keys are left out).

        ``scope``, when given, is the scope every key belongs to: a hint that lets a store
        look in that scope only.
        """
        ...

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        """Store ``entries`` (keys already present keep their first entry)."""
        ...

    def flush(self) -> int | None:
        """Make every entry put so far durable; returns the store's new version, if it has any."""
        ...


class MemoryCache:
    """A :class:`TranslationCache` in a dict, for one process (tests, short scripts).

    Example:
        >>> cache = MemoryCache()
        >>> scope = CacheScope("m", "int8", "en", "de", "v1")
        >>> cache.put_many([CacheEntry(scope, "Hi", Translation("Hallo"))])
        >>> cache.get_many([scope.key("Hi"), scope.key("Bye")])[scope.key("Hi")].text
        'Hallo'
    """

    def __init__(self) -> None:
        self._entries: dict[str, CacheEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get_many(
        self, keys: Sequence[str], *, scope: CacheScope | None = None
    ) -> dict[str, Translation]:
        """See :meth:`TranslationCache.get_many`; ``scope`` is not needed here."""
        found = {}
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None:
                found[key] = entry.translation
        return found

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        """See :meth:`TranslationCache.put_many`."""
        for entry in entries:
            self._entries.setdefault(entry.key, entry)

    def flush(self) -> None:
        """Nothing to do: a memory cache is not durable."""
        return None


@dataclass(slots=True)
class CacheStats:
    """What a :class:`CachedTranslator` did, counted over all its ``translate`` calls.

    Attributes:
        hits: input texts answered from the cache.
        misses: input texts the cache did not have (``hits + misses`` = texts yielded).
        translated: texts sent to the inner translator: the misses without repeats within a
            window (a text repeated in a later window is a hit by then).
        stored: entries handed to the cache.
    """

    hits: int = 0
    misses: int = 0
    translated: int = 0
    stored: int = 0


class CachedTranslator(Translator):
    """A :class:`~xproj.translators.base.Translator` that translates only what its cache lacks.

    ``translate`` reads its input in windows of ``window`` texts (so memory stays flat), looks
    each window up in the cache in one ``get_many``, sends the distinct missing texts to the
    inner translator in one ``translate`` call (large enough for its batching and length
    sorting), stores the new translations with ``put_many`` and yields every window's results
    in input order. It does not flush the cache: the caller flushes when its work is safe to
    keep (e.g. after each shard), or lets the cache flush when its buffer fills. ``score`` is
    not cached and goes to the inner translator.

    Args:
        inner: the translator that does the work.
        cache: where translations are looked up and stored.
        window: texts read per step.
        run_id: recorded with every stored entry (the run that translated it).

    Example:
        >>> from xproj.translators.base import Translation, Translator
        >>> class Upper(Translator):
        ...     model_id, quantization, family = "upper", "none", "toy"
        ...     def translate(self, texts, src_lang, tgt_lang, *, options=None):
        ...         return (Translation(t.upper()) for t in texts)
        ...     def score(self, sources, targets, src_lang, tgt_lang):
        ...         return [[0.0] for _ in sources]
        >>> cached = CachedTranslator(Upper(), MemoryCache())
        >>> [t.text for t in cached.translate(["a", "b", "a"], "en", "de")]
        ['A', 'B', 'A']
        >>> [t.text for t in cached.translate(["b", "c"], "en", "de")]
        ['B', 'C']
        >>> cached.stats
        CacheStats(hits=1, misses=4, translated=3, stored=3)
    """

    def __init__(
        self,
        inner: Translator,
        cache: TranslationCache,
        *,
        window: int = DEFAULT_WINDOW,
        run_id: str | None = None,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.inner = inner
        self.cache = cache
        self.window = window
        self.run_id = run_id
        self.stats = CacheStats()
        self.model_id = inner.model_id
        self.quantization = inner.quantization
        self.family = inner.family

    def __repr__(self) -> str:
        return f"CachedTranslator({self.inner!r}, {self.cache!r})"

    def translate(
        self,
        texts: Iterable[str],
        src_lang: str,
        tgt_lang: str,
        *,
        options: DecodingOptions | None = None,
    ) -> Iterator[Translation]:
        """Translate ``texts`` like the inner translator, taking what the cache has from it."""
        scope = CacheScope.of(self.inner, src_lang, tgt_lang, options)
        stream = iter(texts)
        while window := list(islice(stream, self.window)):
            yield from self._translate_window(window, scope, options)

    def _translate_window(
        self, texts: list[str], scope: CacheScope, options: DecodingOptions | None
    ) -> list[Translation]:
        keys = [scope.key(text) for text in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)), scope=scope)
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        hits = sum(key in found for key in keys)
        self.stats.hits += hits
        self.stats.misses += len(keys) - hits
        if missing:
            found.update(self._translate_missing(missing, scope, options))
        return [found[key] for key in keys]

    def _translate_missing(
        self, missing: dict[str, str], scope: CacheScope, options: DecodingOptions | None
    ) -> dict[str, Translation]:
        """Translate ``missing`` (key → text) and store the results, even those before a failure."""
        todo = list(missing.items())
        done: dict[str, Translation] = {}
        entries: list[CacheEntry] = []
        results = self.inner.translate(
            [text for _, text in todo], scope.src_lang, scope.tgt_lang, options=options
        )
        try:
            for translation in results:
                if len(done) == len(todo):
                    raise self._count_error(len(todo), "more")
                key, text = todo[len(done)]
                done[key] = translation
                entries.append(CacheEntry(scope, text, translation, self.run_id))
        finally:
            self.stats.translated += len(done)
            if entries:
                self.cache.put_many(entries)
                self.stats.stored += len(entries)
        if len(done) < len(todo):
            raise self._count_error(len(todo), f"only {len(done)}")
        return done

    def _count_error(self, asked: int, got: str) -> BackendError:
        return BackendError(
            f"translator {self.inner.model_id!r} returned {got} results for {asked} texts.",
            fix="a translator must yield exactly one Translation per input text.",
            code=E_BACKEND_FAILED,
        )

    def score(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        src_lang: str,
        tgt_lang: str,
    ) -> list[list[float]]:
        """The inner translator's ``score`` (not cached)."""
        return self.inner.score(sources, targets, src_lang, tgt_lang)

    def flush(self) -> int | None:
        """Flush the cache (see :meth:`TranslationCache.flush`)."""
        return self.cache.flush()

    def describe(self) -> dict[str, object]:
        """The inner translator's description (the cache does not change the translations)."""
        return self.inner.describe()
