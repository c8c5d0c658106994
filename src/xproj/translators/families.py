"""Model families: each family's language codes and prompt convention.

A family says how a language is named to the model and where that name goes:

=========  ========================  ============================  =================  ==========
family     models                    language code                 source side        target
                                                                                      prefix
=========  ========================  ============================  =================  ==========
nllb       NLLB-200                  FLORES-200 ``eng_Latn``       ``[src] … </s>``   ``[tgt]``
m2m100     M2M-100                   ``__en__``                    ``[src] … </s>``   ``[tgt]``
mbart50    mBART-50 many-to-many     ``en_XX``, ``de_DE``          ``[src] … </s>``   ``[tgt]``
madlad     MADLAD-400 (T5)           ``<2de>`` (ISO 639-1/3)       ``<2tgt> … </s>``  none
marian     OPUS-MT (one pair each)   none (``>>fra<<`` for         ``… </s>``         none
                                     multi-target models)
=========  ========================  ============================  =================  ==========

The target prefix is forced as the first decoded token and stripped from the output. User codes
go through :func:`xproj.schemas.languages.normalize_lang` first, so ``de``, ``deu``, ``ger``, ``de-AT``
and ``deu_Latn`` all name German; the family's own codes (``deu_Latn``, ``__de__``, ``<2de>``) are
accepted as they are. A language the family lacks is an ``XP202`` error listing close matches
that it has.

Example:
    >>> nllb = get_family("nllb")
    >>> nllb.lang_code("pt-BR"), nllb.lang_code("zh-TW"), nllb.prompt("eng_Latn", "por_Latn")
    ('por_Latn', 'zho_Hant', Prompt(source_prefix=('eng_Latn',), target_prefix=('por_Latn',)))
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from xproj.schemas.errors import (
    E_UNKNOWN_FAMILY,
    E_UNSUPPORTED_LANGUAGE,
    ConfigError,
    LanguageCodeError,
)
from xproj.schemas.languages import is_known_lang, language_name, language_set, normalize_lang
from xproj.schemas.registry import Registry

Side = Literal["source", "target"]

# The FLORES-200 codes of the NLLB-200 models: 202 codes for 200 languages (Acehnese, Banjar,
# Kashmiri, Central Kanuri and Tamasheq in two scripts each; Chinese in Simplified and
# Traditional script; Santali in Bengali script, as the released models name it).
NLLB_CODES: tuple[str, ...] = language_set("nllb")

# The 100 languages of M2M-100, as the model names them between double underscores. ``ns`` is
# the model's name for Northern Sotho (ISO 639-3 ``nso``; it has no 639-1 code).
M2M100_CODES: tuple[str, ...] = language_set("m2m100")
_M2M100_INTERNAL = {"ns": "nso"}

# The 52 language codes of the mBART-50 tokenizer (the 25 of mBART-25, then the 27 added).
MBART50_CODES: tuple[str, ...] = language_set("mbart50")

# Main MADLAD-400 languages (its ``<2xx>`` tags use ISO 639-1 where one exists, else 639-3).
# The model's own vocabulary is authoritative: when the tokenizer is at hand every ``<2xx>`` tag
# in it whose code we know is accepted, this table only serves without one.
MADLAD_MAIN_CODES: tuple[str, ...] = language_set("madlad_main")

# Languages worth suggesting for one another (never substituted silently): an individual
# language and its macrolanguage, or standards of one language that ISO codes separately.
_RELATED: dict[str, tuple[str, ...]] = {
    "fil": ("tl",),
    "tl": ("fil",),
    "no": ("nb", "nn"),
    "nb": ("no", "nn"),
    "nn": ("no", "nb"),
    "sh": ("sr", "hr", "bs"),
    "sr": ("hr", "bs", "sh"),
    "hr": ("sr", "bs", "sh"),
    "bs": ("hr", "sr", "sh"),
    "ku": ("ckb",),
    "ckb": ("ku",),
    "fa": ("prs",),
    "prs": ("fa",),
    "ms": ("id",),
    "id": ("ms",),
}

_MADLAD_TAG = re.compile(r"^<2([A-Za-z]{2,3}(?:_[A-Za-z]{4})?)>$")
_MARIAN_TAG = re.compile(r"^>>([A-Za-z]{2,3}(?:_[A-Za-z]{4})?)<<$")
# OPUS-MT model names: opus-mt-<src>-<tgt>, opus-mt-tc-big-<src>-<tgt>, …
_OPUS_NAME = re.compile(r"opus-mt-(?:tc-(?:big|base)-)?([A-Za-z_+]+)-([A-Za-z_+]+)$")


@dataclass(frozen=True)
class Prompt:
    """Where the language codes go for one translation direction.

    Attributes:
        source_prefix: tokens put before the source tokens.
        target_prefix: tokens forced at the start of the output and stripped from it.
    """

    source_prefix: tuple[str, ...] = ()
    target_prefix: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelLanguages:
    """What one model says about its languages, beyond its family's table.

    Attributes:
        tokens: the language tokens in the model's vocabulary (see
            :meth:`ModelFamily.language_tokens`); ``None`` when the vocabulary is unknown.
        source: internal codes of a Marian model's source side (empty: unknown).
        target: internal codes of a Marian model's target side (empty: unknown).
    """

    tokens: frozenset[str] | None = None
    source: tuple[str, ...] = ()
    target: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelFamily:
    """A family of translation models sharing a language-code scheme and a prompt convention.

    Attributes:
        name: registry name (``nllb``, ``m2m100``, ``mbart50``, ``madlad``, ``marian``).
        title: human name for messages.
        model_types: Hugging Face ``config.json`` ``model_type`` values of the family.
        tokenizer_classes: tokenizer class names (without ``Fast``) that identify it.
        name_hints: substrings of a model name that identify it.
        default_max_length: most source tokens when neither the model nor its tokenizer says.
        absolute_positions: the model has a position table, which bounds the decoder too
            (every family but the T5-based MADLAD).
        separate_target_tokenizer: target text is tokenized with its own model (the tokenizer's
            ``text_target=`` mode: Marian's ``target.spm``).
    """

    name: str
    title: str
    model_types: tuple[str, ...] = ()
    tokenizer_classes: tuple[str, ...] = ()
    name_hints: tuple[str, ...] = ()
    default_max_length: int = 1024
    absolute_positions: bool = True
    separate_target_tokenizer: bool = False
    _codes: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @cached_property
    def _static(self) -> dict[str, str]:
        return dict(self._codes)

    def table(
        self, side: Side = "target", model: ModelLanguages | None = None
    ) -> dict[str, str] | None:
        """The family codes a model accepts on one side, each with its internal language code.

        With the model's vocabulary known, only codes present in it are kept. ``None`` means the
        side is unconstrained: any known language code is accepted and passed through.
        """
        if model is not None and model.tokens is not None:
            return {code: lang for code, lang in self._static.items() if code in model.tokens}
        return dict(self._static)

    def languages(self, model: ModelLanguages | None = None) -> dict[str, str]:
        """Family code → internal code of every target language (``{}``: unconstrained)."""
        return self.table("target", model) or {}

    def language_tokens(self, vocab: Iterable[str]) -> frozenset[str]:
        """The tokens of a vocabulary that name languages in this family's scheme."""
        return frozenset(token for token in vocab if token in self._static)

    def prompt(self, src_code: str, tgt_code: str) -> Prompt:
        """Source prefix and target prefix for family codes from :meth:`lang_code`."""
        return Prompt(source_prefix=(src_code,), target_prefix=(tgt_code,))

    def lang_code(
        self, code: str, *, side: Side = "target", model: ModelLanguages | None = None
    ) -> str:
        """The family's code for a user language code.

        Args:
            code: ISO 639-1/3, BCP-47, NLLB-style, or the family's own code.
            side: ``source`` or ``target`` (they differ for MADLAD and Marian).
            model: the model's own languages, when known.

        Raises:
            LanguageCodeError: XP201 for a code no one knows, XP202 for a language this family
                (or model) lacks, with close matches it has.
        """
        table = self.table(side, model)
        if table is None:
            return normalize_lang(code)
        if code in table:
            return code
        internal = normalize_lang(code)
        by_lang: dict[str, str] = {}
        for family_code, lang in table.items():
            by_lang.setdefault(lang, family_code)
        if internal in by_lang:
            return by_lang[internal]
        if "-" not in internal:
            # No script asked for and the family has the language in exactly one script (NLLB's
            # Santali is in Bengali script): that is the one meant.
            same = [c for c, lang in table.items() if lang.split("-")[0] == internal]
            if len(same) == 1:
                return same[0]
        raise self._unsupported(code, internal, table, side)

    def _unsupported(
        self, code: str, internal: str, table: dict[str, str], side: Side
    ) -> LanguageCodeError:
        close = close_matches(internal, table)
        hint = f" Close matches it supports: {', '.join(close)}." if close else ""
        return LanguageCodeError(
            f"{self.title} does not support {language_name(internal)} ({code!r}) as a "
            f"{side} language.{hint}",
            fix=f"use one of the {len(table)} languages of this model "
            f"(xproj.translators.families.get_family({self.name!r}).languages() lists them), "
            "or a model family that covers this language.",
            code=E_UNSUPPORTED_LANGUAGE,
        )


@dataclass(frozen=True)
class MadladFamily(ModelFamily):
    """MADLAD-400: a ``<2xx>`` tag before the source names the target; nothing names the source."""

    def table(
        self, side: Side = "target", model: ModelLanguages | None = None
    ) -> dict[str, str] | None:
        if side == "source":
            return None
        if model is not None and model.tokens is not None:
            return _tags_to_langs(model.tokens, _MADLAD_TAG)
        return dict(self._static)

    def language_tokens(self, vocab: Iterable[str]) -> frozenset[str]:
        return frozenset(token for token in vocab if _MADLAD_TAG.match(token))

    def prompt(self, src_code: str, tgt_code: str) -> Prompt:
        return Prompt(source_prefix=(tgt_code,))


@dataclass(frozen=True)
class MarianFamily(ModelFamily):
    """OPUS-MT: one model per language pair, so the codes are only checked, never sent.

    Multi-target models (``opus-mt-en-mul``) have ``>>fra<<``-style tokens in their vocabulary;
    the target's token goes before the source. The pair comes from the tokenizer config or the
    model name; when neither says, any known language code is accepted.
    """

    def table(
        self, side: Side = "target", model: ModelLanguages | None = None
    ) -> dict[str, str] | None:
        if model is None:
            return None
        if side == "target" and model.tokens:
            return _tags_to_langs(model.tokens, _MARIAN_TAG)
        declared = model.source if side == "source" else model.target
        return {lang: lang for lang in declared} if declared else None

    def language_tokens(self, vocab: Iterable[str]) -> frozenset[str]:
        return frozenset(token for token in vocab if _MARIAN_TAG.match(token))

    def prompt(self, src_code: str, tgt_code: str) -> Prompt:
        return Prompt(source_prefix=(tgt_code,) if _MARIAN_TAG.match(tgt_code) else ())


@dataclass(frozen=True)
class TextToTextFamily(ModelFamily):
    """A monolingual text-to-text model (T5 or BART question generation): no language codes.

    Nothing is put before the source or forced at the start of the output; any language code is
    accepted and passed through (it only names the text's language in cache keys).
    """

    def table(
        self, side: Side = "target", model: ModelLanguages | None = None
    ) -> dict[str, str] | None:
        return None

    def language_tokens(self, vocab: Iterable[str]) -> frozenset[str]:
        return frozenset()

    def prompt(self, src_code: str, tgt_code: str) -> Prompt:
        return Prompt()


def _tags_to_langs(tokens: Iterable[str], pattern: re.Pattern[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for token in sorted(tokens):
        match = pattern.match(token)
        if match and is_known_lang(match.group(1)):
            out[token] = normalize_lang(match.group(1))
    return out


def close_matches(internal: str, table: dict[str, str], n: int = 5) -> list[str]:
    """Up to ``n`` entries of ``table`` close to a language, as ``"code (Name)"``.

    The same language in another script comes first, then closely related languages (Filipino →
    Tagalog), languages whose name starts with the same word (Norwegian → Norwegian Bokmål),
    similar names, and similar codes.
    """
    base = internal.split("-")[0]
    names = {code: language_name(lang) for code, lang in table.items()}
    related = _RELATED.get(base, ())
    hits = [code for code, lang in table.items() if lang.split("-")[0] == base]
    hits += [code for code, lang in table.items() if lang.split("-")[0] in related]
    wanted = language_name(internal).lower()
    head = wanted.split(" (")[0].split()[0]
    hits += [code for code, name in names.items() if name.lower().split()[0] == head]
    by_name: dict[str, list[str]] = {}
    for code, name in names.items():
        by_name.setdefault(name.lower(), []).append(code)
    for name in difflib.get_close_matches(wanted, list(by_name), n=n, cutoff=0.6):
        hits += by_name[name]
    by_code = {lang: code for code, lang in table.items()}
    hits += [by_code[c] for c in difflib.get_close_matches(internal, list(by_code), n=n)]
    out: list[str] = []
    for code in hits:
        label = f"{code} ({names[code]})"
        if label not in out:
            out.append(label)
    return out[:n]


FAMILIES: Registry[ModelFamily] = Registry("model family")

_NLLB = ModelFamily(
    name="nllb",
    title="NLLB-200",
    model_types=("m2m_100",),
    tokenizer_classes=("NllbTokenizer",),
    name_hints=("nllb",),
    _codes=tuple((c, normalize_lang(c)) for c in NLLB_CODES),
)
_M2M100 = ModelFamily(
    name="m2m100",
    title="M2M-100",
    model_types=("m2m_100",),
    tokenizer_classes=("M2M100Tokenizer",),
    name_hints=("m2m100", "m2m_100", "m2m-100"),
    _codes=tuple((f"__{c}__", normalize_lang(_M2M100_INTERNAL.get(c, c))) for c in M2M100_CODES),
)
_MBART50 = ModelFamily(
    name="mbart50",
    title="mBART-50",
    model_types=("mbart",),
    tokenizer_classes=("MBart50Tokenizer",),
    name_hints=("mbart-large-50", "mbart50", "mbart-50"),
    _codes=tuple((c, normalize_lang(c.split("_")[0])) for c in MBART50_CODES),
)
_MADLAD = MadladFamily(
    name="madlad",
    title="MADLAD-400",
    model_types=("t5",),
    tokenizer_classes=("T5Tokenizer",),
    name_hints=("madlad",),
    # T5 positions are relative: no hard limit; MADLAD was trained on segments well below this.
    default_max_length=512,
    absolute_positions=False,
    _codes=tuple((f"<2{c}>", normalize_lang(c)) for c in MADLAD_MAIN_CODES),
)
_MARIAN = MarianFamily(
    name="marian",
    title="OPUS-MT (Marian)",
    model_types=("marian",),
    tokenizer_classes=("MarianTokenizer",),
    name_hints=("opus-mt", "marian"),
    default_max_length=512,
    separate_target_tokenizer=True,
)

#: Question generation and other text-to-text models. Never detected from a folder (T5's
#: tokenizer would say MADLAD): name it when converting (``--family text2text``).
_TEXT2TEXT = TextToTextFamily(
    name="text2text",
    title="text-to-text (question generation)",
    default_max_length=512,
    absolute_positions=False,
)

for _family in (_NLLB, _M2M100, _MBART50, _MADLAD, _MARIAN, _TEXT2TEXT):
    FAMILIES.register(_family.name)(lambda family=_family: family)

_ALIASES = {
    "nllb-200": "nllb",
    "nllb200": "nllb",
    "m2m-100": "m2m100",
    "m2m_100": "m2m100",
    "mbart-50": "mbart50",
    "mbart": "mbart50",
    "madlad-400": "madlad",
    "madlad400": "madlad",
    "opus-mt": "marian",
    "opus": "marian",
    "t5": "text2text",
    "qg": "text2text",
}


def get_family(name: str) -> ModelFamily:
    """The family registered under ``name`` (a few spellings such as ``nllb-200`` accepted).

    Raises:
        ConfigError: XP302 for an unknown family, with close names.
    """
    key = name.strip().lower()
    return FAMILIES.get(_ALIASES.get(key, key))()


def family_names() -> list[str]:
    """Registered family names."""
    return FAMILIES.names()


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def detect_family(path: Path, manifest: dict | None = None) -> ModelFamily:
    """The family of a model folder (Hugging Face or converted).

    Looks, in order, at the store manifest's ``family``, ``tokenizer_config.json``'s
    ``tokenizer_class``, ``config.json``'s ``model_type`` (only Hugging Face folders have one),
    then the folder name (``…nllb…``, ``…opus-mt…``).

    Raises:
        ConfigError: XP507 when nothing identifies the family.
    """
    path = Path(path)
    families = [get_family(name) for name in family_names()]
    if manifest and manifest.get("family"):
        return get_family(str(manifest["family"]))
    tokenizer_class = str(_read_json(path / "tokenizer_config.json").get("tokenizer_class", ""))
    tokenizer_class = tokenizer_class.removesuffix("Fast")
    for family in families:
        if tokenizer_class in family.tokenizer_classes:
            return family
    model_type = str(_read_json(path / "config.json").get("model_type", ""))
    by_type = [family for family in families if model_type in family.model_types]
    if len(by_type) == 1:
        return by_type[0]
    hint_name = str((manifest or {}).get("source") or path.name).lower()
    for family in families:
        if any(hint in hint_name for hint in family.name_hints):
            return family
    if by_type:  # m2m_100 without a tokenizer class: NLLB or M2M-100
        return by_type[0]
    raise ConfigError(
        f"cannot tell the model family of {path}: no xproj-model.json, no tokenizer_class in "
        "tokenizer_config.json, no model_type in config.json, and no family in its name.",
        fix=f"name it: family='nllb' (CLI: --family nllb); one of {', '.join(family_names())}.",
        file=str(path),
        code=E_UNKNOWN_FAMILY,
    )


def declared_pair(path: Path, manifest: dict | None = None) -> tuple[tuple[str, ...], ...]:
    """``(source languages, target languages)`` a one-pair model declares (Marian).

    From the manifest, ``tokenizer_config.json`` (``source_lang``/``target_lang``), or an OPUS-MT
    folder or Hub name (``opus-mt-en-de``). Codes that are unknown or name language groups
    (``ROMANCE``, ``mul``) are left out; an empty side means unknown.
    """
    manifest = manifest or {}
    declared = manifest.get("languages") or {}
    if declared.get("source") or declared.get("target"):
        return tuple(declared.get("source") or ()), tuple(declared.get("target") or ())
    config = _read_json(Path(path) / "tokenizer_config.json")
    source, target = config.get("source_lang"), config.get("target_lang")
    if not (source and target):
        match = _OPUS_NAME.search(str(manifest.get("source") or Path(path).name).rstrip("/"))
        if match:
            source, target = match.groups()
    return _langs(source), _langs(target)


def _langs(value: object) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    codes = [c for c in re.split(r"[+,\s]+", value) if c]
    return tuple(dict.fromkeys(normalize_lang(c) for c in codes if is_known_lang(c)))
