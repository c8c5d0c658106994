"""Turn an ``InputSpec`` into records, and two sides into sentence pairs (nothing vanishes)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xproj.io.readers._common import raise_or_reject
from xproj.schemas.errors import (
    E_BITEXT_LINE_COUNT,
    E_COUNTERPART_REJECTED,
    E_UNKNOWN_LABEL,
    InputFormatError,
    Reject,
)
from xproj.schemas.records import AnnotatedSentence, ParallelPair

if TYPE_CHECKING:  # the specs are read by attribute; io does not import the flows above it
    from xproj.flows.config import BitextSpec, InputSpec

Item = AnnotatedSentence | Reject


def iter_side(
    spec: InputSpec, *, on_error: str = "reject", labels: Sequence[str] | None = None
) -> Iterator[Item]:
    """Records of one side, one item (sentence or reject) per input record, in input order.

    With ``labels``, a record holding a span of another label is rejected (XP121) with the
    labels it has that the set lacks.
    """
    items = _iter_side(spec, on_error=on_error)
    return items if labels is None else _check_labels(items, frozenset(labels), spec.path, on_error)


def _check_labels(items: Iterator[Item], labels: frozenset[str], path: str, on_error: str):
    for item in items:
        if isinstance(item, AnnotatedSentence):
            unknown = sorted({s.label for s in item.spans} - labels)
            if unknown:
                err = InputFormatError(
                    f"label(s) {', '.join(unknown)} are not in the label set "
                    f"({', '.join(sorted(labels))}).",
                    fix="add them to labels: (--labels), map them in the data, or drop the "
                    "label set.",
                    file=path,
                    record=item.id,
                    code=E_UNKNOWN_LABEL,
                )
                item = raise_or_reject(err, on_error, item.text[:500])
        yield item


def _iter_side(spec: InputSpec, *, on_error: str) -> Iterator[Item]:
    from xproj.schemas.languages import normalize_lang

    lang = normalize_lang(spec.lang)
    if spec.format == "conll":
        from xproj.io.readers.conll import iter_conll

        return iter_conll(spec.path, lang, scheme=spec.scheme, on_error=on_error)
    if spec.format in ("jsonl", "parquet"):
        from xproj.io.readers.spans import SpanFields, iter_spans

        fields = SpanFields(
            id=spec.id_column,
            text=spec.text_column,
            spans=spec.spans_column,
            tokens=spec.tokens_column,
        )
        return iter_spans(spec.path, lang, fmt=spec.format, on_error=on_error, fields=fields)
    if spec.format == "hf":
        from xproj.io.readers.hf import iter_hf_tokens

        return iter_hf_tokens(
            spec.path,
            config=spec.hf_config,
            split=spec.split,
            lang=lang,
            tokens_column=spec.tokens_column,
            tags_column=spec.tags_column,
            scheme=spec.scheme,
            on_error=on_error,
            revision=spec.revision,
        )
    from xproj.io.readers.plain import iter_text_lines
    from xproj.text.words import tokenizer_for

    return iter_text_lines(spec.path, lang, tokenizer_for(lang).tokenize, on_error=on_error)


@dataclass
class ParallelInput:
    """Sentence pairs plus a reject for every pair that could not be formed.

    ``items`` holds both in input order (a pair, or the rejects of one position).
    """

    items: list[ParallelPair | Reject] = field(default_factory=list)

    @property
    def pairs(self) -> list[ParallelPair]:
        return [item for item in self.items if isinstance(item, ParallelPair)]

    @property
    def rejects(self) -> list[Reject]:
        return [item for item in self.items if isinstance(item, Reject)]


def read_parallel(
    source: InputSpec,
    target: InputSpec,
    *,
    on_error: str = "reject",
    limit: int | None = None,
    labels: Sequence[str] | None = None,
) -> ParallelInput:
    """Zip two sides by position. Different record counts are an error, checked on the whole input.

    A record rejected on either side rejects the pair; the reject names both sides.
    """
    src_items = list(iter_side(source, on_error=on_error, labels=labels))
    tgt_items = list(iter_side(target, on_error=on_error, labels=labels))
    if len(src_items) != len(tgt_items):
        raise InputFormatError(
            f"the source has {len(src_items)} records but the target has {len(tgt_items)} "
            f"({target.path}).",
            fix="give line-aligned sides: record k of the target must translate record k of "
            "the source.",
            file=source.path,
            code=E_BITEXT_LINE_COUNT,
        )
    out = ParallelInput()
    for k, (s, t) in enumerate(zip(src_items, tgt_items, strict=True)):
        if limit is not None and k >= limit:  # the first ``limit`` records, rejected ones too
            break
        if isinstance(s, Reject) or isinstance(t, Reject):
            out.items += [side for side in (s, t) if isinstance(side, Reject)]
            other, path = (t, target.path) if isinstance(s, Reject) else (s, source.path)
            if not isinstance(other, Reject):
                bad = s if isinstance(s, Reject) else t
                out.items.append(
                    Reject(
                        "read",
                        path,
                        f"record {other.id}",
                        E_COUNTERPART_REJECTED,
                        f"pair {k + 1}: its counterpart was rejected ({bad.code} at {bad.source} "
                        f"{bad.locator}).",
                        other.text[:500],
                    )
                )
            continue
        out.items.append(ParallelPair(f"{s.id}|{t.id}", s, t, position=k))
    return out


def read_bitext_tokens(
    spec: BitextSpec, src_lang: str, tgt_lang: str, rejects: list[Reject]
) -> list[tuple[list[str], list[str]]]:
    """Extra bitext for statistical aligners, word-tokenized like the data it helps align."""
    from xproj.io.readers.bitext import iter_bitext
    from xproj.text.words import tokenizer_for

    stok, ttok = tokenizer_for(src_lang), tokenizer_for(tgt_lang)
    out = []
    for item in iter_bitext(spec.path, fmt=spec.format, tgt_path=spec.tgt_path, on_error="reject"):
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        _, src, tgt = item
        out.append(([t for t, _, _ in stok.tokenize(src)], [t for t, _, _ in ttok.tokenize(tgt)]))
        if spec.limit is not None and len(out) >= spec.limit:
            break
    return out
