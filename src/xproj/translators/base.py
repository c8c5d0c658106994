"""The translator interface: decoding options, the per-text result, and the ``Translator`` ABC.

A translator turns a stream of texts into a stream of :class:`Translation` records, one per input
and in input order, and scores given translations token by token. Backends (CTranslate2 in
:mod:`xproj.translators.ct2`) implement it; flows and generators only see this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Literal

from xproj.schemas.errors import E_BAD_CONFIG, FORBID_EXTRA, ConfigError, check_settings

#: Why a :class:`Translation` is not a plain one-segment translation.
#: ``split``: the input was longer than the model's limit and was translated sentence group by
#: sentence group; ``empty``: the input was empty or whitespace, nothing was sent to the model;
#: ``too_long``: one sentence alone exceeds the model's limit, nothing was translated.
TranslationFlag = Literal["split", "empty", "too_long"]

# Options that change what the model outputs, in the order they appear in ``key()``. Options not
# listed here (batching, read-ahead) only change speed. A field added later joins the key only
# when it differs from its default, so keys written before stay valid.
_OUTPUT_FIELDS = (
    "beam_size",
    "max_decoding_length",
    "min_decoding_length",
    "length_penalty",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "disable_unk",
    "use_vmap",
)
_SAMPLING_FIELDS = ("sampling_topk", "sampling_topp", "sampling_temperature")


@dataclass(frozen=True)
class DecodingOptions:
    """How to decode: search, length limits, penalties, batching.

    Lengths count output tokens, not the target-language prefix that some families force
    (NLLB's ``deu_Latn``): the backend adds the prefix length itself.

    Attributes:
        beam_size: 1 is greedy search (the default, fastest); more is beam search.
        max_decoding_length: most output tokens per segment. A translation that reaches it is
            marked ``truncated``.
        min_decoding_length: fewest output tokens per segment.
        length_penalty: exponent of the length normalisation in beam search.
        repetition_penalty: > 1 penalises tokens already generated.
        no_repeat_ngram_size: forbid repeating n-grams of this size (0: off).
        disable_unk: never generate the unknown token.
        sampling_topk: 1 turns sampling off (argmax); > 1 samples from the top k.
        sampling_topp: nucleus sampling threshold (only when sampling).
        sampling_temperature: sampling temperature (only when sampling).
        max_batch_size: batch size, counted in ``batch_type`` units.
        batch_type: ``"tokens"`` (batches of similar total length) or ``"examples"``.
        read_ahead: how many batches of input are read, length-sorted and submitted together.
        use_vmap: restrict the output vocabulary with the model's ``vmap.txt``.

    Example:
        >>> key = DecodingOptions(beam_size=4, max_batch_size=512).key()
        >>> key.split(";")[:2], key == DecodingOptions(beam_size=4).key()
        (['v1:beam_size=4', 'max_decoding_length=256'], True)
    """

    __pydantic_config__ = FORBID_EXTRA

    beam_size: int = 1
    max_decoding_length: int = 256
    min_decoding_length: int = 0
    length_penalty: float = 1.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    disable_unk: bool = False
    sampling_topk: int = 1
    sampling_topp: float = 1.0
    sampling_temperature: float = 1.0
    max_batch_size: int = 4096
    batch_type: Literal["tokens", "examples"] = "tokens"
    read_ahead: int = 16
    use_vmap: bool = False

    def __post_init__(self) -> None:
        checks = [
            (self.beam_size >= 1, "beam_size must be >= 1"),
            (self.max_decoding_length >= 1, "max_decoding_length must be >= 1"),
            (
                0 <= self.min_decoding_length <= self.max_decoding_length,
                "min_decoding_length must be between 0 and max_decoding_length",
            ),
            (self.repetition_penalty > 0, "repetition_penalty must be > 0"),
            (self.no_repeat_ngram_size >= 0, "no_repeat_ngram_size must be >= 0"),
            (self.sampling_topk >= 0, "sampling_topk must be >= 0 (0: whole vocabulary)"),
            (0 < self.sampling_topp <= 1, "sampling_topp must be in (0, 1]"),
            (self.sampling_temperature > 0, "sampling_temperature must be > 0"),
            (self.max_batch_size >= 1, "max_batch_size must be >= 1"),
            (self.batch_type in ("tokens", "examples"), "batch_type must be tokens or examples"),
            (self.read_ahead >= 1, "read_ahead must be >= 1"),
        ]
        check_settings("decoding", checks, fix="correct the value in the decoding options.")

    @property
    def sampling(self) -> bool:
        """Whether decoding samples (``sampling_topk`` is not 1), i.e. is not deterministic."""
        return self.sampling_topk != 1

    def key(self) -> str:
        """A stable string of the options that change the output, for cache keys.

        Batching and read-ahead options are left out. Sampling parameters appear only when
        sampling is on.
        """
        parts = [f"{name}={_fmt(getattr(self, name))}" for name in _OUTPUT_FIELDS]
        if self.sampling:
            parts += [f"{name}={_fmt(getattr(self, name))}" for name in _SAMPLING_FIELDS]
        else:
            parts.append("sampling=off")
        return "v1:" + ";".join(parts)

    def to_dict(self) -> dict[str, object]:
        """All options as a plain dict (for lineage records and configs)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DecodingOptions:
        """Options from a dict; unknown keys are a coded error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown decoding option(s): {', '.join(unknown)}.",
                fix=f"use only: {', '.join(sorted(known))}.",
                code=E_BAD_CONFIG,
            )
        return cls(**data)  # type: ignore[arg-type]


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Translation:
    """The translation of one input text.

    Attributes:
        text: the translation; ``""`` when ``flag`` is ``empty`` or ``too_long``.
        tokens: output tokens generated (target-language prefix excluded), over all segments.
        source_tokens: tokens sent to the model (language tags and end token included).
        segments: model calls this text took: 1 normally, more when split, 0 when nothing was
            sent to the model.
        flag: ``None`` for an ordinary translation, else why not (see :data:`TranslationFlag`).
        truncated: some segment stopped at ``max_decoding_length`` instead of at its end token.
        detail: a human-readable reason for a ``too_long`` flag, else ``""``.
    """

    text: str
    tokens: int = 0
    source_tokens: int = 0
    segments: int = 1
    flag: TranslationFlag | None = None
    truncated: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the text was translated (or was empty): every flag but ``too_long``."""
        return self.flag != "too_long"


class Translator(ABC):
    """A machine translation model behind two operations: translate and score.

    Attributes:
        model_id: stable identifier of the weights (Hub id with revision, or folder name with a
            fingerprint); part of cache keys.
        quantization: the compute type the model runs with (``int8``, ``int8_float16`` …);
            numerics differ between compute types, so it is part of cache keys too.
        family: model family name (``nllb``, ``m2m100``, ``marian``, ``madlad``, ``mbart50``).
    """

    model_id: str
    quantization: str
    family: str

    @abstractmethod
    def translate(
        self,
        texts: Iterable[str],
        src_lang: str,
        tgt_lang: str,
        *,
        options: DecodingOptions | None = None,
    ) -> Iterator[Translation]:
        """Translate a stream of texts, yielding one :class:`Translation` per text in order.

        The input is consumed lazily; memory stays bounded whatever its length.

        Args:
            texts: source texts (any iterable; a generator is fine).
            src_lang: source language (ISO 639-1/3, BCP-47 or the family's own code).
            tgt_lang: target language.
            options: decoding options; :class:`DecodingOptions` defaults when ``None``.
        """

    @abstractmethod
    def score(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        src_lang: str,
        tgt_lang: str,
    ) -> list[list[float]]:
        """Per-token log-probabilities of each target given its source.

        Returns:
            One list per pair: the log-probability of each target token (any forced
            target-language prefix excluded), followed by that of the end token.
        """

    def translate_all(
        self,
        texts: Iterable[str],
        src_lang: str,
        tgt_lang: str,
        *,
        options: DecodingOptions | None = None,
    ) -> list[Translation]:
        """:meth:`translate`, collected into a list."""
        return list(self.translate(texts, src_lang, tgt_lang, options=options))

    def describe(self) -> dict[str, object]:
        """What made the translations, for lineage records (JSON-serialisable)."""
        return {"model_id": self.model_id, "quantization": self.quantization, "family": self.family}
