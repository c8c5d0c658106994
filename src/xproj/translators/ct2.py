"""CTranslate2 translation and scoring.

:class:`CT2Translator` loads a converted model (a store id, a store folder or any CTranslate2
folder with its tokenizer), picks the device and compute type, and translates streams of text:

* texts are read lazily in chunks of ``read_ahead × max_batch_size`` tokens; each chunk is
  tokenized in one call and submitted asynchronously to ``Translator.translate_batch``, which
  sorts it by length and cuts it into batches of ``max_batch_size`` tokens spread over the
  ``inter_threads`` workers. The next chunk is tokenized while one is being translated, at most
  two are in flight, and results come back in input order (the streaming of CTranslate2's
  ``translate_iterable``, with the read-ahead made configurable);
* empty or whitespace-only texts are not sent to the model (flag ``empty``);
* a text longer than the model's source limit is split at sentence boundaries
  (:mod:`xproj.translators.segment`), translated piece by piece and joined (flag ``split``); when one
  sentence alone is too long, nothing is translated and the text is flagged ``too_long``. Inputs
  are never truncated (CTranslate2's own ``max_input_length`` truncation is turned off).

Example:
    >>> translator = CT2Translator("facebook--nllb-200-distilled-600M-int8")  # doctest: +SKIP
    >>> [t.text for t in translator.translate(["Hello world."], "en", "de")]  # doctest: +SKIP
    ['Hallo Welt.']
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from xproj.schemas.errors import (
    E_BACKEND_FAILED,
    E_BACKEND_MISSING,
    E_BAD_CONFIG,
    E_MISSING_FIELD,
    E_MODEL_CORRUPT,
    BackendError,
    ConfigError,
    checked_strings,
)
from xproj.schemas.languages import language_script
from xproj.text.sentences import sentence_spans
from xproj.translators import store
from xproj.translators.base import DecodingOptions, Translation, Translator
from xproj.translators.ct2_search import SearchAndScore
from xproj.translators.families import (
    ModelFamily,
    ModelLanguages,
    Prompt,
    declared_pair,
    detect_family,
    get_family,
)
from xproj.translators.segment import joiner, pack

# Texts tokenized per tokenizer call while filling a chunk.
_TOKENIZE_GROUP = 64
# Chunks submitted to CTranslate2 and not yet returned: one translating, one being prepared.
_IN_FLIGHT = 2
# Preferred compute types per device for compute_type="auto", best first.
_AUTO_COMPUTE = {
    "cuda": ("int8_float16", "float16", "int8", "float32"),
    "cpu": ("int8", "int8_float32", "float32"),
}


def pick_device(device: str = "auto") -> str:
    """``cuda`` when ``device`` is ``auto`` and CTranslate2 sees a GPU, else ``cpu``.

    Example:
        >>> pick_device("cpu")
        'cpu'
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(
            f"unknown device {device!r}.", fix="use auto, cpu or cuda.", code=E_BAD_CONFIG
        )
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def supported_compute_types(device: str) -> set[str]:
    """The compute types CTranslate2 supports on ``device`` on this machine."""
    import ctranslate2

    try:
        return set(ctranslate2.get_supported_compute_types(device))
    except (RuntimeError, ValueError):
        return set()


def pick_compute_type(device: str, compute_type: str = "auto") -> str:
    """The compute type to run with: for ``auto``, ``int8_float16`` on CUDA and ``int8`` on CPU
    (the next best supported type where those are not).

    Raises:
        BackendError: XP502 when an explicit type is not supported on the device, listing those
            that are.
    """
    supported = supported_compute_types(device)
    if compute_type == "auto":
        for candidate in _AUTO_COMPUTE.get(device, ()):
            if candidate in supported:
                return candidate
        return "default"
    if compute_type == "default" or compute_type in supported:
        return compute_type
    raise BackendError(
        f"compute type {compute_type!r} is not supported on {device} here.",
        fix=f"use auto or one of: {', '.join(sorted(supported)) or 'default'}.",
        code=E_BACKEND_FAILED,
    )


@dataclass(slots=True)
class _Plan:
    """How one input text goes through the model: its segments and their pending results."""

    flag: str | None
    segments: list[list[str]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    detail: str = ""


class CT2Translator(SearchAndScore, Translator):
    """A CTranslate2 translation model with its tokenizer and family conventions.

    Args:
        model: store id, Hub id or source of a store model, or a converted model folder.
        family: model family (``nllb``, ``m2m100``, ``marian``, ``madlad``, ``mbart50``);
            detected from the folder when ``None``.
        device: ``auto`` (CUDA when CTranslate2 sees a GPU), ``cuda`` or ``cpu``.
        compute_type: ``auto`` (``int8_float16`` on CUDA, ``int8`` on CPU) or any CTranslate2
            compute type supported on the device.
        device_index: GPU id, or a list of ids to run one replica on each.
        inter_threads: translations run in parallel (replicas per device).
        intra_threads: threads per translation (0: CTranslate2's default).
        max_queued_batches: CTranslate2's queue bound (0: automatic).
        max_source_length: most source tokens per model call; the model's own limit when
            ``None`` (manifest, then tokenizer, then the family's default).
        root: store root for store ids; the default store when ``None``.

    Raises:
        BackendError: XP503/XP504 for a missing or incomplete model folder (with the command to
            fix it), XP502 for an unsupported compute type.
    """

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        family: str | None = None,
        device: str = "auto",
        compute_type: str = "auto",
        device_index: int | Sequence[int] = 0,
        inter_threads: int = 1,
        intra_threads: int = 0,
        max_queued_batches: int = 0,
        max_source_length: int | None = None,
        root: Path | None = None,
    ) -> None:
        try:
            import ctranslate2
        except ImportError as err:
            raise BackendError(
                "ctranslate2 is not installed.",
                fix="pip install 'ctranslate2>=4.8'.",
                code=E_BACKEND_MISSING,
            ) from err
        self.path = store.resolve(model, root=root)
        self.manifest = store.read_manifest(self.path) or {}
        self._family: ModelFamily = (
            get_family(family) if family else detect_family(self.path, self.manifest)
        )
        self.family = self._family.name
        self.device = pick_device(device)
        self.device_index = (
            list(device_index) if not isinstance(device_index, int) else device_index
        )
        requested = pick_compute_type(self.device, compute_type)
        self._tokenizer = _load_tokenizer(self.path, self.manifest)
        try:
            self._ct2 = ctranslate2.Translator(
                str(self.path),
                device=self.device,
                device_index=self.device_index,
                compute_type=requested,
                inter_threads=inter_threads,
                intra_threads=intra_threads,
                max_queued_batches=max_queued_batches,
            )
        except Exception as err:  # CTranslate2 raises RuntimeError, ValueError, IndexError …
            source = self.manifest.get("source") or "<hub id or model folder>"
            raise BackendError(
                f"CTranslate2 cannot load {self.path}: {err}",
                fix="convert the model again: "
                f"{store.convert_command(source, self.manifest.get('quantization'), force=True)}",
                file=str(self.path),
                code=E_MODEL_CORRUPT,
            ) from err
        self.quantization = str(self._ct2.compute_type)
        self.model_id = store.model_id(self.path, self.manifest)
        self.model_max_length = self._model_limit()
        self.max_source_length = int(max_source_length or self.model_max_length)
        if self._family.absolute_positions and self.max_source_length > self.model_max_length:
            raise ConfigError(
                f"max_source_length {self.max_source_length} exceeds the {self.model_max_length} "
                f"positions of {self.path}.",
                fix=f"use at most {self.model_max_length} (or leave it unset).",
                code=E_BAD_CONFIG,
            )
        source, target = declared_pair(self.path, self.manifest)
        vocab = self._tokenizer.get_vocab()
        self.model_languages = ModelLanguages(
            tokens=self._family.language_tokens(vocab), source=source, target=target
        )
        self._eos = self._tokenizer.eos_token or "</s>"
        #: the piece the tokenizer writes for text its vocabulary cannot spell
        self.unk_token = self._tokenizer.unk_token or "<unk>"

    # -- languages ---------------------------------------------------------------------------

    def language_codes(self, src_lang: str, tgt_lang: str) -> tuple[str, str]:
        """The model's codes for a language pair (``("eng_Latn", "deu_Latn")`` for NLLB).

        Raises:
            LanguageCodeError: XP201/XP202 for an unknown or unsupported language.
        """
        return (
            self._family.lang_code(src_lang, side="source", model=self.model_languages),
            self._family.lang_code(tgt_lang, side="target", model=self.model_languages),
        )

    def languages(self) -> dict[str, str]:
        """Model code → internal code of every target language (``{}``: any, unchecked)."""
        return self._family.languages(self.model_languages)

    def prompt(self, src_lang: str, tgt_lang: str) -> Prompt:
        """The source and target prefixes for a language pair."""
        return self._family.prompt(*self.language_codes(src_lang, tgt_lang))

    # -- tokens ------------------------------------------------------------------------------

    def source_tokens(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[list[str]]:
        """The exact token sequences the model receives for ``texts`` (prefix and end token)."""
        prompt = self.prompt(src_lang, tgt_lang)
        return [self._wrap(pieces, prompt) for pieces in self._source_pieces(texts)]

    def target_tokens(self, texts: Sequence[str]) -> list[list[str]]:
        """Target-side tokens of ``texts`` plus the end token: what :meth:`score` scores."""
        return [[*pieces, self._eos] for pieces in self._target_pieces(texts)]

    def target_pieces(self, texts: Sequence[str]) -> list[list[str]]:
        """Target-side subword pieces of ``texts`` (no prefix, no end token)."""
        return self._target_pieces(list(texts))

    def _source_pieces(self, texts: Sequence[str]) -> list[list[str]]:
        if not texts:
            return []
        ids = self._tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [self._tokenizer.convert_ids_to_tokens(row) for row in ids]

    def _target_pieces(self, texts: Sequence[str]) -> list[list[str]]:
        if not texts:
            return []
        if not self._family.separate_target_tokenizer:
            return self._source_pieces(texts)
        ids = self._tokenizer(text_target=list(texts), add_special_tokens=False, verbose=False)[
            "input_ids"
        ]
        return [self._tokenizer.convert_ids_to_tokens(row) for row in ids]

    def _wrap(self, pieces: list[str], prompt: Prompt) -> list[str]:
        return [*prompt.source_prefix, *pieces, self._eos]

    def _model_limit(self) -> int:
        limit = self.manifest.get("max_source_length")
        if isinstance(limit, int) and limit > 0:
            return limit
        limit = getattr(self._tokenizer, "model_max_length", None)
        if isinstance(limit, int) and 0 < limit < 1_000_000:
            return limit
        return self._family.default_max_length

    # -- translation -------------------------------------------------------------------------

    def translate(
        self,
        texts: Iterable[str],
        src_lang: str,
        tgt_lang: str,
        *,
        options: DecodingOptions | None = None,
    ) -> Iterator[Translation]:
        """Translate a stream of texts; one :class:`Translation` per text, in input order.

        Languages and options are checked before anything is read, so a bad language code fails
        at the call, not at the first item.

        Example:
            >>> out = translator.translate(["", "Hi."], "en", "fr")  # doctest: +SKIP
            >>> [(t.flag, t.segments) for t in out]  # doctest: +SKIP
            [('empty', 0), (None, 1)]
        """
        options = options or DecodingOptions()
        src_code, tgt_code = self.language_codes(src_lang, tgt_lang)
        prompt = self._family.prompt(src_code, tgt_code)
        if options.use_vmap and not (self.path / "vmap.txt").is_file():
            raise ConfigError(
                f"use_vmap is set but {self.path} has no vmap.txt.",
                fix="convert the model with a vocabulary map (convert(..., vmap=...)) or turn "
                "use_vmap off.",
                code=E_BAD_CONFIG,
            )
        table = self._family.table("target", self.model_languages)
        script = language_script(table[tgt_code] if table else tgt_code)
        return self._stream(iter(texts), prompt, joiner(script), options)

    def _decode_kwargs(self, options: DecodingOptions, prompt: Prompt) -> dict[str, Any]:
        prefix = len(prompt.target_prefix)
        longest = options.max_decoding_length + prefix
        if self._family.absolute_positions:
            # The decoder cannot go past the position table; hitting it marks the output truncated.
            longest = min(longest, self.model_max_length)
        return {
            "max_batch_size": options.max_batch_size,
            "batch_type": options.batch_type,
            "beam_size": options.beam_size,
            "num_hypotheses": 1,
            "length_penalty": options.length_penalty,
            "repetition_penalty": options.repetition_penalty,
            "no_repeat_ngram_size": options.no_repeat_ngram_size,
            "disable_unk": options.disable_unk,
            # CTranslate2's lengths include the forced prefix; ours count output tokens.
            "max_decoding_length": longest,
            "min_decoding_length": min(options.min_decoding_length + prefix, longest),
            # Inputs were checked against the model's limit; never let CTranslate2 cut them.
            "max_input_length": 0,
            "use_vmap": options.use_vmap,
            "sampling_topk": options.sampling_topk,
            "sampling_topp": options.sampling_topp,
            "sampling_temperature": options.sampling_temperature,
        }

    def _stream(
        self, texts: Iterator[str], prompt: Prompt, sep: str, options: DecodingOptions
    ) -> Iterator[Translation]:
        kwargs = self._decode_kwargs(options, prompt)
        in_flight: deque[list[_Plan]] = deque()
        for chunk in self._chunks(texts, prompt, options):
            self._submit(chunk, prompt, kwargs)
            in_flight.append(chunk)
            while in_flight and (len(in_flight) >= _IN_FLIGHT or _done(in_flight[0])):
                yield from self._finish(in_flight.popleft(), prompt, sep, kwargs)
        while in_flight:
            yield from self._finish(in_flight.popleft(), prompt, sep, kwargs)

    def _chunks(
        self, texts: Iterator[str], prompt: Prompt, options: DecodingOptions
    ) -> Iterator[list[_Plan]]:
        """Plans in chunks of about ``read_ahead × max_batch_size`` tokens (or examples)."""
        budget = options.read_ahead * options.max_batch_size
        by_tokens = options.batch_type == "tokens"
        chunk: list[_Plan] = []
        size = 0
        index = 0
        while group := list(islice(texts, _TOKENIZE_GROUP)):
            for plan in self._plan_group(group, index, prompt):
                chunk.append(plan)
                size += sum(map(len, plan.segments)) if by_tokens else len(plan.segments)
            index += len(group)
            if size >= budget:
                yield chunk
                chunk, size = [], 0
        if chunk:
            yield chunk

    def _plan_group(self, texts: list[str], first: int, prompt: Prompt) -> list[_Plan]:
        fix = "give one string per record (use '' for a missing text)."
        texts = list(checked_strings(texts, "text", fix=fix, code=E_MISSING_FIELD, first=first))
        plans: list[_Plan | None] = [None] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        overhead = len(prompt.source_prefix) + 1
        for i, pieces in zip(todo, self._source_pieces([texts[i] for i in todo]), strict=True):
            if len(pieces) + overhead <= self.max_source_length:
                plans[i] = _Plan(None, [self._wrap(pieces, prompt)])
            else:
                plans[i] = self._split(texts[i], prompt)
        return [plan or _Plan("empty") for plan in plans]

    def _split(self, text: str, prompt: Prompt) -> _Plan:
        """Segments of a text over the limit: packed runs of whole sentences."""
        overhead = len(prompt.source_prefix) + 1
        budget = self.max_source_length - overhead
        spans = sentence_spans(text)
        pieces = self._source_pieces([text[start:end] for start, end in spans])
        lengths = [len(p) for p in pieces]
        for number, length in enumerate(lengths, 1):
            if length > budget:
                return _Plan(
                    "too_long",
                    detail=f"sentence {number} of {len(spans)} has {length + overhead} tokens; "
                    f"the model accepts at most {self.max_source_length}",
                )
        runs = pack(lengths, budget)
        joined = self._source_pieces([text[spans[r[0]][0] : spans[r[-1]][1]] for r in runs])
        segments: list[list[str]] = []
        for run, run_pieces in zip(runs, joined, strict=True):
            if len(run_pieces) <= budget:
                segments.append(self._wrap(run_pieces, prompt))
            else:  # joining changed the tokenization at a boundary: send the sentences alone
                segments.extend(self._wrap(pieces[k], prompt) for k in run)
        return _Plan("split" if len(segments) > 1 else None, segments)

    def _submit(self, chunk: list[_Plan], prompt: Prompt, kwargs: dict[str, Any]) -> None:
        sources = [segment for plan in chunk for segment in plan.segments]
        if not sources:
            return
        prefixes = [list(prompt.target_prefix)] * len(sources) if prompt.target_prefix else None
        results = iter(
            self._ct2.translate_batch(sources, target_prefix=prefixes, asynchronous=True, **kwargs)
        )
        for plan in chunk:
            plan.results = [next(results) for _ in plan.segments]

    def _finish(
        self, chunk: list[_Plan], prompt: Prompt, sep: str, kwargs: dict[str, Any]
    ) -> Iterator[Translation]:
        prefix = list(prompt.target_prefix)
        limit = kwargs["max_decoding_length"]
        hypotheses = [r.result().hypotheses[0] for plan in chunk for r in plan.results]
        outputs = [h[len(prefix) :] if h[: len(prefix)] == prefix else h for h in hypotheses]
        texts = self._tokenizer.batch_decode(
            [self._tokenizer.convert_tokens_to_ids(tokens) for tokens in outputs],
            skip_special_tokens=True,
        )
        position = 0
        for plan in chunk:
            if plan.flag in ("empty", "too_long"):
                yield Translation("", segments=0, flag=plan.flag, detail=plan.detail)  # type: ignore[arg-type]
                continue
            stop = position + len(plan.segments)
            parts = [text.strip() for text in texts[position:stop]]
            yield Translation(
                text=sep.join(part for part in parts if part),
                tokens=sum(len(tokens) for tokens in outputs[position:stop]),
                source_tokens=sum(map(len, plan.segments)),
                segments=len(plan.segments),
                flag=plan.flag,  # type: ignore[arg-type]
                truncated=any(len(h) >= limit for h in hypotheses[position:stop]),
            )
            position = stop

    # -- lineage -----------------------------------------------------------------------------

    def describe(self) -> dict[str, object]:
        """Model, weights, device and settings, for lineage records."""
        import ctranslate2

        return {
            "backend": "ctranslate2",
            "ctranslate2_version": ctranslate2.__version__,
            "model_id": self.model_id,
            "model_path": str(self.path),
            "source": self.manifest.get("source"),
            "revision": self.manifest.get("revision"),
            "family": self.family,
            "quantization": self.quantization,
            "weights": self.manifest.get("quantization"),
            "device": self.device,
            "device_index": self.device_index,
            "tokenizer": type(self._tokenizer).__name__,
            "max_source_length": self.max_source_length,
        }

    def __repr__(self) -> str:
        return (
            f"CT2Translator({self.model_id!r}, family={self.family!r}, device={self.device!r}, "
            f"compute_type={self.quantization!r})"
        )


def _done(chunk: list[_Plan]) -> bool:
    return all(result.done() for plan in chunk for result in plan.results)


def _load_tokenizer(path: Path, manifest: dict) -> Any:
    """The tokenizer stored with a converted model (by the class the manifest names, if any)."""
    name = manifest.get("tokenizer_class")
    try:
        return store.load_tokenizer(path, name if isinstance(name, str) else None)
    except Exception as err:  # transformers raises OSError, ValueError, TypeError, ImportError
        source = manifest.get("source") or "<hub id or model folder>"
        raise BackendError(
            f"cannot load the tokenizer stored in {path}: {type(err).__name__}: {err}",
            fix="convert the model again so its tokenizer files are copied: "
            f"{store.convert_command(source, manifest.get('quantization'), force=True)}",
            file=str(path),
            code=E_MODEL_CORRUPT,
        ) from err
