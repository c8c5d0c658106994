"""Training-ready export of an EntityCS run: tags removed, token ids, and entity token indices.

A user trains on the export without parsing tags again: each row holds the plain sentence, its
token ids from a local Hugging Face fast tokenizer, and for every token the index of the entity it
belongs to, which is all that whole-entity (WEP) and partial-entity (PEP) masking need.

Format (``entitycs-export/1``), one record per sentence, the same fields in JSON Lines and Parquet:

========================  ===============================  =========================================
field                     type                             meaning
========================  ===============================  =========================================
``id``                    string                           sentence id (shared by an English
                                                           sentence and its code-switched versions)
``language``              string                           ``en`` for English rows (entities in
                                                           English), else the switched language
``text``                  string                           the sentence with every tag removed
``input_ids``             list of int32                    token ids, special tokens included
                                                           (``add_special_tokens=True``), unpadded
                                                           and never truncated
``attention_mask``        list of int8                     all 1 (rows are unpadded); pad at
                                                           collate time
``entity_ids``            list of int32                    per token: index (0-based, in text
                                                           order) of the entity the token belongs
                                                           to, or -1 (special and non-entity tokens)
``entity_spans``          list of [start, end] int32       character span of entity k in ``text``
``offsets`` (optional)    list of [start, end] int32       character span of each token in ``text``
                                                           (``[0, 0]`` for special tokens); written
                                                           with ``with_offsets=True`` / ``--offsets``
========================  ===============================  =========================================

Rules:

* **Tags.** ``strip_tags`` removes the tags of :class:`~xproj.generators.entitycs.switch.SwitchSettings`
  (``<xx>…</xx>`` by default; other templates via ``open_tag``/``close_tag``). For a row only the
  tags of its own language are tags (``<en>`` in English rows, ``<de>`` in German ones), so text
  that merely looks like markup (``<sub>``) stays text. Unbalanced, nested, mismatched or empty
  tags are an :class:`~xproj.schemas.errors.InputFormatError` (XP104) naming the record.
* **Tokens to entities.** A token belongs to entity *k* when its character span overlaps entity
  *k*'s span by at least one character (a token overlapping two entities, which only happens when
  two entities touch without a space, goes to the one it overlaps most, the first on a tie).
  Special tokens and empty-span tokens are -1. So ``[i for i, k in enumerate(entity_ids) if k ==
  j]`` are the subwords of entity *j*, and every one of them overlaps it.
* **Rejected rows** are counted by reason, never silently cut: ``too_long`` (more tokens than
  ``max_length``, special tokens included; the default limit is the tokenizer's
  ``model_max_length`` when it sets one), ``entity_without_tokens`` (an entity no token overlaps,
  e.g. all of its characters are dropped by the tokenizer's normalizer), and with
  ``on_error="reject"`` ``bad_tags``. Every written row has every entity on at least one token.
* **Order.** :func:`export_run` writes the run's English rows (``include_en``) then its
  code-switched rows, each in the order the run committed them; the file is written to a temporary
  name beside the target and renamed, so readers never see half a file. Parquet files carry
  ``xproj.format``, ``xproj.run_id``, ``xproj.tokenizer`` and ``xproj.max_length`` in the schema
  metadata.

Masking at collate time: :func:`whole_entity_mask` (WEP: each entity is chosen with probability
``prob`` and all its tokens become targets) and :func:`partial_entity_mask` (PEP: each entity
token is chosen on its own with probability ``prob``, so a chosen subset of an entity's subwords)
return one boolean per token; replacing the targets (``[MASK]``, random token, or unchanged, e.g.
EntityCS's 80/20 split) is up to the collator. Example::

    import random
    rng = random.Random(0)
    targets = whole_entity_mask(row["entity_ids"], rng, 0.5)
    labels = [t if m else -100 for t, m in zip(row["input_ids"], targets)]
    inputs = [tokenizer.mask_token_id if m else t for t, m in zip(row["input_ids"], targets)]
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from xproj.io.writers.atomic import atomic_path
from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_INVALID_TAG_SEQUENCE,
    E_MISSING_FIELD,
    E_MODEL_CORRUPT,
    E_MODEL_NOT_FOUND,
    BackendError,
    ConfigError,
    InputFormatError,
    check_choice,
)
from xproj.schemas.tables import CS_CLOSE_TAG, CS_OPEN_TAG

#: Name and version of the record layout (the module docstring describes it).
FORMAT = "entitycs-export/1"
#: Output formats of :func:`export_run`.
FORMATS: tuple[str, ...] = ("jsonl", "parquet")
#: Reasons a row is not written.
REJECT_REASONS: tuple[str, ...] = ("bad_tags", "too_long", "entity_without_tokens")
#: What a language code inside a tag may look like when the language is not given: ``de``,
#: ``ceb``, ``zh-Hans``, ``sr_Latn``, ``pt-BR``.
LANG_IN_TAG = r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*"
#: ``model_max_length`` values at or above this mean "no limit" (transformers' sentinel is 1e30).
_NO_LIMIT = 1_000_000


class RandomLike(Protocol):
    """Anything with ``random() -> float`` in [0, 1): ``random.Random``, ``numpy.random.Generator``."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """An entity in a plain sentence: ``text[start:end]``, tagged with ``language``."""

    start: int
    end: int
    language: str


# ----------------------------------------------------------------------------- tags


def _literal(part: str) -> str:
    # tag templates are str.format templates: doubled braces are literal braces
    return re.escape(part.replace("{{", "{").replace("}}", "}"))


@lru_cache(maxsize=256)
def _tag_regex(template: str, language: str | None) -> re.Pattern[str]:
    parts = template.split("{lang}")
    if len(parts) < 2:
        raise ConfigError(
            f"tag template {template!r} has no '{{lang}}'.",
            fix="use templates such as '<{lang}>' and '</{lang}>' (SwitchSettings.open_tag).",
            code=E_BAD_CONFIG,
        )
    lang = re.escape(language) if language else LANG_IN_TAG
    pattern = _literal(parts[0])
    for i, part in enumerate(parts[1:]):
        pattern += f"(?P<lang>{lang})" if i == 0 else "(?P=lang)"
        pattern += _literal(part)
    return re.compile(pattern)


def _tag_error(message: str, tagged: str, at: int, record: str | None) -> InputFormatError:
    lo, hi = max(0, at - 30), min(len(tagged), at + 30)
    excerpt = ("…" if lo else "") + tagged[lo:hi] + ("…" if hi < len(tagged) else "")
    return InputFormatError(
        f"{message} in {excerpt!r}.",
        fix="tags must come in non-nested, non-empty pairs of the same language "
        "(<xx>name</xx>); check the tag templates (open_tag/close_tag) and the row's language.",
        record=record,
        code=E_INVALID_TAG_SEQUENCE,
    )


def switch_tags(parameters: Mapping[str, Any]) -> tuple[str, str]:
    """The opening and closing tag templates of an EntityCS run (its ``switch.open_tag`` and
    ``close_tag`` parameters, else the defaults)."""
    switch = parameters.get("switch") or {}
    return switch.get("open_tag") or CS_OPEN_TAG, switch.get("close_tag") or CS_CLOSE_TAG


def strip_tags(
    tagged: str,
    *,
    language: str | None = None,
    open_tag: str = CS_OPEN_TAG,
    close_tag: str = CS_CLOSE_TAG,
    record: str | None = None,
) -> tuple[str, list[EntitySpan]]:
    """The plain sentence and the span of each tagged entity in it.

    Args:
        tagged: a sentence with tagged entities (``entitycs_en.en_sentence``,
            ``entitycs_cs.cs_sentence``).
        language: only tags of this language are tags; None accepts any code that looks like a
            language tag (:data:`LANG_IN_TAG`).
        open_tag: opening tag template (``{lang}`` is the language), as in ``SwitchSettings``.
        close_tag: closing tag template.
        record: the row's id, named in errors.

    Returns:
        ``(text, spans)``: the text without tags, and one :class:`EntitySpan` per tagged entity in
        text order, its offsets into ``text``.

    Raises:
        InputFormatError: XP104 for a closing tag without an opening one, a closing tag of another
            language, a tag opened inside an entity (nesting), an entity never closed, or an empty
            entity.

    Example:
        >>> strip_tags("<de>Köln</de> liegt am <de>Rhein</de>.")
        ('Köln liegt am Rhein.', [EntitySpan(start=0, end=4, language='de'), EntitySpan(start=14, end=19, language='de')])
    """  # noqa: E501
    open_re = _tag_regex(open_tag, language)
    close_re = _tag_regex(close_tag, language)
    pieces: list[str] = []
    spans: list[EntitySpan] = []
    size = 0  # length of the plain text so far
    pos = 0
    current: tuple[str, int, int] | None = None  # (language, plain start, tag position)
    while True:
        mo = open_re.search(tagged, pos)
        mc = close_re.search(tagged, pos)
        if mo is None and mc is None:
            break
        # identical open/close templates are told apart by state: inside an entity, close first
        is_close = mc is not None and (
            mo is None
            or mc.start() < mo.start()
            or (mc.start() == mo.start() and current is not None)
        )
        m = mc if is_close else mo
        assert m is not None
        pieces.append(tagged[pos : m.start()])
        size += m.start() - pos
        lang = m.group("lang")
        if not is_close:
            if current is not None:
                raise _tag_error(
                    f"tag {m.group(0)!r} at character {m.start()} opens an entity inside the "
                    f"entity opened at character {current[2]} (nested tags)",
                    tagged,
                    m.start(),
                    record,
                )
            current = (lang, size, m.start())
        else:
            if current is None:
                raise _tag_error(
                    f"closing tag {m.group(0)!r} at character {m.start()} has no opening tag",
                    tagged,
                    m.start(),
                    record,
                )
            if lang != current[0]:
                raise _tag_error(
                    f"closing tag {m.group(0)!r} at character {m.start()} closes an entity "
                    f"opened as {current[0]!r} at character {current[2]}",
                    tagged,
                    m.start(),
                    record,
                )
            if size == current[1]:
                raise _tag_error(
                    f"empty entity at character {current[2]}", tagged, current[2], record
                )
            spans.append(EntitySpan(current[1], size, lang))
            current = None
        pos = m.end()
    if current is not None:
        raise _tag_error(
            f"tag opened at character {current[2]} is never closed", tagged, current[2], record
        )
    pieces.append(tagged[pos:])
    return "".join(pieces), spans


# ----------------------------------------------------------------------------- tokens


def token_entity_ids(
    offsets: Sequence[Sequence[int]],
    spans: Sequence[EntitySpan],
    special: Sequence[int] | None = None,
) -> list[int]:
    """Per token, the index of the entity it overlaps (the most, first on a tie), or -1.

    Args:
        offsets: ``(start, end)`` character span of each token (a fast tokenizer's
            ``offset_mapping``).
        spans: the entities, in text order and not overlapping (as :func:`strip_tags` gives).
        special: optional special-tokens mask (1 = special token, always -1).

    Returns:
        One entity index or -1 per token.

    Example:
        >>> token_entity_ids([(0, 0), (0, 3), (3, 5), (6, 8), (0, 0)], [EntitySpan(0, 5, "de")])
        [-1, 0, 0, -1, -1]
    """
    ends = [s.end for s in spans]
    out: list[int] = []
    for i, (a, b) in enumerate(offsets):
        best, overlap = -1, 0
        if b > a and not (special is not None and special[i]):
            j = bisect.bisect_right(ends, a)  # first entity ending after the token starts
            while j < len(spans) and spans[j].start < b:
                got = min(b, spans[j].end) - max(a, spans[j].start)
                if got > overlap:
                    best, overlap = j, got
                j += 1
        out.append(best)
    return out


def require_fast(tokenizer: Any, name: str | None = None) -> None:
    """Raise a ConfigError (XP301) unless ``tokenizer`` is a fast (Rust-backed) HF tokenizer."""
    if getattr(tokenizer, "is_fast", False):
        return
    label = name or getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
    raise ConfigError(
        f"tokenizer {label!r} ({type(tokenizer).__name__}) is a slow tokenizer; the export needs "
        "a fast one, because only fast tokenizers return the character offsets "
        "(return_offsets_mapping) that map tokens to entities.",
        fix="give a folder with a tokenizer.json: load the slow tokenizer with "
        "AutoTokenizer.from_pretrained(path) (it converts most slow tokenizers when the "
        "tokenizers, sentencepiece and protobuf packages are installed) and save_pretrained() it.",
        code=E_BAD_CONFIG,
    )


def load_tokenizer(path: str | os.PathLike[str]) -> Any:
    """A local fast Hugging Face tokenizer: a folder ``AutoTokenizer`` reads, or a tokenizer.json.

    Raises:
        BackendError: XP503 when the path does not exist, XP504 when it cannot be loaded.
        ConfigError: XP301 when it loads as a slow tokenizer.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise BackendError(
            f"tokenizer {str(path)!r} not found.",
            fix="give a local tokenizer folder (save_pretrained) or a tokenizer.json file; "
            "download Hub tokenizers first (e.g. huggingface-cli download NAME).",
            code=E_MODEL_NOT_FOUND,
        )
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    try:
        if p.is_file():
            tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(p))
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackendError(
            f"cannot load a tokenizer from {str(p)!r}: {exc}",
            fix="check that the folder holds tokenizer files (tokenizer.json or the files of a "
            "slow tokenizer with tokenizer_config.json).",
            code=E_MODEL_CORRUPT,
        ) from exc
    require_fast(tokenizer, str(p))
    return tokenizer


def effective_max_length(tokenizer: Any, max_length: int | None) -> int | None:
    """``max_length``, else the tokenizer's ``model_max_length`` when it sets one, else None."""
    if max_length is not None:
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise ConfigError(
                f"max_length must be a positive integer, got {max_length!r}.",
                fix="give the model's maximum sequence length, e.g. 512, or leave it out.",
                code=E_BAD_CONFIG,
            )
        return max_length
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _NO_LIMIT:
        return limit
    return None


@dataclass
class ExportStats:
    """Counts of one :func:`encode` pass (rows in = written + rejected)."""

    rows_read: int = 0
    rows_written: int = 0
    rejected: Counter = field(default_factory=Counter)
    entities: int = 0
    tokens: int = 0
    entity_tokens: int = 0
    languages: Counter = field(default_factory=Counter)
    examples: list[dict[str, str]] = field(default_factory=list)
    max_examples: int = 10

    def reject(self, reason: str, row_id: str, language: str, detail: str) -> None:
        self.rejected[reason] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(
                {"id": row_id, "language": language, "reason": reason, "detail": detail}
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts (keys sorted where they are data)."""
        return {
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rejected": dict(sorted(self.rejected.items())),
            "entities": self.entities,
            "tokens": self.tokens,
            "entity_tokens": self.entity_tokens,
            "languages": dict(sorted(self.languages.items())),
            "rejected_examples": list(self.examples),
        }


@dataclass(slots=True)
class _Pending:
    id: str
    language: str
    text: str
    spans: list[EntitySpan]


def _row_fields(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(id, language, tagged text)`` of an ``entitycs_cs`` or ``entitycs_en`` row."""
    row_id = row.get("id")
    if row_id is None:
        raise InputFormatError(
            f"row without an id (fields: {sorted(row)}).",
            fix="give rows of entitycs_cs (id, cs_sentence, language) or entitycs_en "
            "(id, en_sentence).",
            code=E_MISSING_FIELD,
        )
    if row.get("cs_sentence") is not None:
        language = row.get("language")
        if not language:
            raise InputFormatError(
                "code-switched row without a language.",
                fix="give the row's language column (entitycs_cs.language).",
                record=str(row_id),
                code=E_MISSING_FIELD,
            )
        return str(row_id), str(language), row["cs_sentence"]
    if row.get("en_sentence") is not None:
        return str(row_id), str(row.get("language") or "en"), row["en_sentence"]
    raise InputFormatError(
        f"row has neither cs_sentence nor en_sentence (fields: {sorted(row)}).",
        fix="give rows of entitycs_cs or entitycs_en.",
        record=str(row_id),
        code=E_MISSING_FIELD,
    )


def encode(
    rows: Iterable[Mapping[str, Any]],
    tokenizer: Any,
    *,
    max_length: int | None = None,
    with_offsets: bool = False,
    on_error: Literal["raise", "reject"] = "raise",
    open_tag: str = CS_OPEN_TAG,
    close_tag: str = CS_CLOSE_TAG,
    batch_size: int = 1000,
    stats: ExportStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Tokenize tagged rows into training records (see the module docstring for the fields).

    Args:
        rows: ``entitycs_cs`` rows (``id``, ``cs_sentence``, ``language``; the cs sentence is
            used) and/or ``entitycs_en`` rows (``id``, ``en_sentence``; language ``en`` unless the
            row has a ``language``).
        tokenizer: a fast Hugging Face tokenizer (:func:`load_tokenizer`).
        max_length: reject rows with more tokens than this (special tokens included); None uses
            the tokenizer's ``model_max_length`` when it sets one, else no limit.
        with_offsets: add each token's character span (``offsets``).
        on_error: ``raise`` stops at the first row with bad tags; ``reject`` counts it as
            ``bad_tags`` and goes on.
        open_tag: opening tag template of the run (``SwitchSettings.open_tag``).
        close_tag: closing tag template of the run.
        batch_size: rows tokenized per tokenizer call.
        stats: counts to update (rows read, written, rejected by reason, entities, tokens).

    Yields:
        One record per written row, in input order.

    Raises:
        ConfigError: XP301 for a slow tokenizer or a bad ``max_length``/``on_error``.
        InputFormatError: XP104 for bad tags (with ``on_error="raise"``), XP108 for a row without
            the fields above.
    """
    require_fast(tokenizer)
    limit = effective_max_length(tokenizer, max_length)
    if on_error not in ("raise", "reject"):
        raise ConfigError(
            f"on_error must be 'raise' or 'reject', got {on_error!r}.",
            fix="use on_error='raise' or 'reject'.",
            code=E_BAD_CONFIG,
        )
    stats = stats if stats is not None else ExportStats()
    pending: list[_Pending] = []
    for row in rows:
        row_id, language, tagged = _row_fields(row)
        stats.rows_read += 1
        try:
            text, spans = strip_tags(
                tagged, language=language, open_tag=open_tag, close_tag=close_tag, record=row_id
            )
        except InputFormatError as err:
            if on_error == "raise":
                raise
            stats.reject("bad_tags", row_id, language, err.message)
            continue
        pending.append(_Pending(row_id, language, text, spans))
        if len(pending) >= batch_size:
            yield from _encode_batch(pending, tokenizer, limit, with_offsets, stats)
            pending = []
    if pending:
        yield from _encode_batch(pending, tokenizer, limit, with_offsets, stats)


def _encode_batch(
    pending: list[_Pending],
    tokenizer: Any,
    limit: int | None,
    with_offsets: bool,
    stats: ExportStats,
) -> Iterator[dict[str, Any]]:
    enc = tokenizer(
        [p.text for p in pending],
        add_special_tokens=True,
        padding=False,
        truncation=False,
        return_attention_mask=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_token_type_ids=False,
        verbose=False,
    )
    for k, item in enumerate(pending):
        ids = [int(t) for t in enc["input_ids"][k]]
        if limit is not None and len(ids) > limit:
            stats.reject("too_long", item.id, item.language, f"{len(ids)} tokens > {limit}")
            continue
        offsets = [(int(a), int(b)) for a, b in enc["offset_mapping"][k]]
        entity_ids = token_entity_ids(offsets, item.spans, enc["special_tokens_mask"][k])
        missing = sorted(set(range(len(item.spans))) - set(entity_ids))
        if missing:
            shown = ", ".join(
                repr(item.text[item.spans[j].start : item.spans[j].end]) for j in missing
            )
            stats.reject(
                "entity_without_tokens", item.id, item.language, f"no token overlaps {shown}"
            )
            continue
        record: dict[str, Any] = {
            "id": item.id,
            "language": item.language,
            "text": item.text,
            "input_ids": ids,
            "attention_mask": [int(m) for m in enc["attention_mask"][k]],
            "entity_ids": entity_ids,
            "entity_spans": [[s.start, s.end] for s in item.spans],
        }
        if with_offsets:
            record["offsets"] = [[a, b] for a, b in offsets]
        stats.rows_written += 1
        stats.languages[item.language] += 1
        stats.entities += len(item.spans)
        stats.tokens += len(ids)
        stats.entity_tokens += sum(1 for e in entity_ids if e >= 0)
        yield record


# ----------------------------------------------------------------------------- masking


def _check_prob(prob: float) -> None:
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0.0 <= prob <= 1.0:
        raise ConfigError(
            f"masking probability must be in [0, 1], got {prob!r}.",
            fix="use e.g. 1.0 (entity prediction alone) or 0.5 (together with MLM).",
            code=E_BAD_CONFIG,
        )


def whole_entity_mask(entity_ids: Sequence[int], rng: RandomLike, prob: float) -> list[bool]:
    """Whole-entity prediction (WEP) targets: all tokens of each chosen entity.

    Each entity present in ``entity_ids`` is chosen with probability ``prob``, one ``rng.random()``
    draw per entity in increasing entity index, so a seeded ``rng`` gives the same mask.

    Args:
        entity_ids: a record's ``entity_ids`` (-1 for tokens outside entities).
        rng: ``random.Random(seed)`` or ``numpy.random.default_rng(seed)``.
        prob: probability that an entity is chosen.

    Returns:
        One bool per token: True for every token of a chosen entity, False elsewhere.

    Example:
        >>> import random
        >>> whole_entity_mask([-1, 0, 0, -1, 1, -1], random.Random(3), 1.0)
        [False, True, True, False, True, False]
    """
    _check_prob(prob)
    present = sorted({int(k) for k in entity_ids if k >= 0})
    chosen = {k for k in present if rng.random() < prob}
    return [int(k) in chosen for k in entity_ids]


def partial_entity_mask(entity_ids: Sequence[int], rng: RandomLike, prob: float) -> list[bool]:
    """Partial-entity prediction (PEP) targets: a random subset of each entity's subwords.

    Every token inside an entity is chosen on its own with probability ``prob`` (one
    ``rng.random()`` draw per entity token, left to right), so an entity may end up wholly, partly
    or not at all masked; tokens outside entities are never chosen.

    Args:
        entity_ids: a record's ``entity_ids``.
        rng: ``random.Random(seed)`` or ``numpy.random.default_rng(seed)``.
        prob: probability that an entity token is chosen.

    Returns:
        One bool per token.
    """
    _check_prob(prob)
    return [k >= 0 and rng.random() < prob for k in entity_ids]


# ----------------------------------------------------------------------------- export


def _export_schema(with_offsets: bool, metadata: Mapping[str, str]):
    import pyarrow as pa

    span = pa.list_(pa.int32(), 2)
    fields = [
        pa.field("id", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("input_ids", pa.list_(pa.int32()), nullable=False),
        pa.field("attention_mask", pa.list_(pa.int8()), nullable=False),
        pa.field("entity_ids", pa.list_(pa.int32()), nullable=False),
        pa.field("entity_spans", pa.list_(span), nullable=False),
    ]
    if with_offsets:
        fields.append(pa.field("offsets", pa.list_(span), nullable=False))
    return pa.schema(fields, metadata={k: str(v) for k, v in metadata.items()})


def _write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _write_parquet(
    records: Iterable[dict[str, Any]],
    path: Path,
    *,
    with_offsets: bool,
    metadata: Mapping[str, str],
    chunk: int,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _export_schema(with_offsets, metadata)
    with pq.ParquetWriter(path, schema) as writer:
        buf: list[dict[str, Any]] = []
        for record in records:
            buf.append(record)
            if len(buf) >= chunk:
                writer.write_table(pa.Table.from_pylist(buf, schema=schema))
                buf = []
        if buf:
            writer.write_table(pa.Table.from_pylist(buf, schema=schema))
    with path.open("rb") as f:
        os.fsync(f.fileno())


def write_records(
    records: Iterable[dict[str, Any]],
    out_path: str | os.PathLike[str],
    *,
    fmt: str = "jsonl",
    with_offsets: bool = False,
    metadata: Mapping[str, str] | None = None,
    chunk: int = 10_000,
) -> Path:
    """Write records atomically: into a temporary file beside ``out_path``, then renamed onto it.

    Returns:
        The written path. On any error the temporary file is removed and ``out_path`` is untouched.
    """
    check_choice("export format", fmt, FORMATS)
    out = Path(out_path).expanduser()
    if out.is_dir():
        raise ConfigError(
            f"output path {str(out)!r} is a folder.",
            fix="give a file name, e.g. entitycs.jsonl or entitycs.parquet.",
            code=E_BAD_CONFIG,
        )
    with atomic_path(out) as tmp:
        if fmt == "jsonl":
            _write_jsonl(records, tmp)
        else:
            _write_parquet(
                records, tmp, with_offsets=with_offsets, metadata=metadata or {}, chunk=chunk
            )
    return out


def iter_run_rows(
    lake: Any,
    run_id: str,
    *,
    include_en: bool = True,
    versions: Mapping[str, int | None] | None = None,
    batch_rows: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """The run's ``entitycs_en`` rows (when ``include_en``) then its ``entitycs_cs`` rows, streamed.

    Rows come in the order the run committed them; ``versions`` pins table versions (latest by
    default).
    """
    import pyarrow.compute as pc

    versions = dict(versions or {})
    tables = [("entitycs_en", ["id", "en_sentence"])] if include_en else []
    tables.append(("entitycs_cs", ["id", "cs_sentence", "language"]))
    for table, columns in tables:
        dataset = lake.dataset(table, versions.get(table))
        for batch in dataset.to_batches(
            columns=columns,
            filter=pc.field("run_id") == run_id,
            batch_size=batch_rows,
            use_threads=False,  # a threaded scan of a delta-rs dataset can abort at exit
        ):
            yield from batch.to_pylist()


def export_run(
    lake: Any,
    run_id: str,
    tokenizer_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    include_en: bool = True,
    max_length: int | None = None,
    fmt: str = "jsonl",
    with_offsets: bool = False,
    on_error: Literal["raise", "reject"] = "raise",
    batch_size: int = 1000,
) -> dict[str, Any]:
    """Export one entitycs run as training records (format in the module docstring).

    Args:
        lake: a :class:`catalog.Lake` or its root folder (None: ``$XPROJ_LAKE`` or ./data/lake).
        run_id: the entitycs run (``xproj entitycs`` prints it).
        tokenizer_path: local fast tokenizer folder or tokenizer.json.
        out_path: file to write (replaced atomically).
        include_en: also export the English sentences, as language ``en``.
        max_length: reject rows with more tokens (default: the tokenizer's ``model_max_length``).
        fmt: ``jsonl`` or ``parquet``.
        with_offsets: add each token's character span.
        on_error: ``raise`` at the first row with bad tags, or ``reject`` (counted as ``bad_tags``).
        batch_size: rows per tokenizer call.

    Returns:
        Counts: ``rows_read``, ``rows_written``, ``rejected`` (by reason), ``entities``,
        ``tokens``, ``entity_tokens``, ``languages`` (rows per language), ``rejected_examples``,
        and ``run_id``, ``out``, ``format``, ``tokenizer``, ``max_length`` (the limit applied),
        ``versions`` (table versions read).

    Raises:
        CatalogError: the lake has no entitycs run ``run_id``.
        BackendError, ConfigError: the tokenizer cannot be loaded or is slow; a bad option.
        InputFormatError: a row with bad tags (``on_error="raise"``).
    """
    from xproj.catalog import Lake

    check_choice("export format", fmt, FORMATS)
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    tokenizer = load_tokenizer(tokenizer_path)
    limit = effective_max_length(tokenizer, max_length)
    from xproj.catalog.lineage import check_flow_run

    check_flow_run(lake, run_id, "entitycs")
    tables = (["entitycs_en"] if include_en else []) + ["entitycs_cs"]
    versions = {t: lake.latest_version(t) for t in tables}
    stats = ExportStats()
    records = encode(
        iter_run_rows(lake, run_id, include_en=include_en, versions=versions),
        tokenizer,
        max_length=limit,
        with_offsets=with_offsets,
        on_error=on_error,
        batch_size=batch_size,
        stats=stats,
    )
    metadata = {
        "xproj.format": FORMAT,
        "xproj.run_id": run_id,
        "xproj.tokenizer": str(tokenizer_path),
        "xproj.max_length": "" if limit is None else str(limit),
    }
    out = write_records(records, out_path, fmt=fmt, with_offsets=with_offsets, metadata=metadata)
    return {
        "run_id": run_id,
        "out": str(out),
        "format": fmt,
        "tokenizer": str(tokenizer_path),
        "max_length": limit,
        "versions": versions,
        **stats.as_dict(),
    }
