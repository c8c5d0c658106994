"""What both model routes share: their results, their work counts, marked sources, the marker pieces of a model, and the step from character spans to word-token outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from xproj.projectors.codec import Markers
from xproj.projectors.markers import insert_markers
from xproj.projectors.pipeline import PairProjection, pair_projection, tokenized_target
from xproj.projectors.project import resolve_overlaps
from xproj.schemas.records import (
    AnnotatedSentence,
    CharSpan,
    DropReason,
    ParallelPair,
    char_span_to_token,
)


@dataclass(frozen=True, slots=True)
class SpanResult:
    """One source span's result: a target character span, or why there is none."""

    target: CharSpan | None
    reason: DropReason | None = None
    score: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RouteResult:
    """One sentence: its target text, one :class:`SpanResult` per source span, and the marked
    target text the spans were read from (the model's output for markers, the template with the
    chosen insertions for CODEC)."""

    source: AnnotatedSentence
    target_text: str
    spans: tuple[SpanResult, ...]
    marked: str = ""
    translation: Any = None
    """markers: the :class:`~xproj.translators.base.Translation` of the marked source (its flag says
    whether the model could translate it)."""


@dataclass
class RouteStats:
    """Model work done by a route: calls, sequences and tokens, for artifacts and benchmarks."""

    calls: Counter = field(default_factory=Counter)
    sequences: Counter = field(default_factory=Counter)
    candidates: int = 0
    notes: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "sequences": dict(self.sequences),
            "candidates": self.candidates,
            "notes": sorted(self.notes),
        }


class SourceMarkerError(ValueError):
    """A source sentence that cannot be marked (it contains a marker, or its spans overlap)."""


def marked_source(
    sentence: AnnotatedSentence,
    which: Sequence[int],
    markers: tuple[str, str],
    *,
    check_text: bool = True,
) -> str:
    """``sentence.text`` with the marker pair around the spans ``which``."""
    spans = sentence.char_spans
    try:
        return insert_markers(
            sentence.text, [spans[k] for k in which], markers=markers, check_text=check_text
        )
    except ValueError as err:
        raise SourceMarkerError(str(err)) from None


def marker_pieces(model, markers: tuple[str, str]) -> Markers:
    """The marker pair as the model's target pieces.

    Raises:
        ConfigError: XP301 when the vocabulary cannot spell a marker (it becomes the unknown
            piece): the model never saw markers, so neither route can work with it.
    """
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError

    pieces = model.target_pieces(list(markers))
    unk = getattr(model, "unk_token", None)
    for text, got in zip(markers, pieces, strict=True):
        if not got or (unk is not None and unk in got):
            raise ConfigError(
                f"the vocabulary of {getattr(model, 'model_id', 'the model')} has no piece for "
                f"the marker {text!r} (it tokenizes to {got}).",
                fix="use a marker-aware model such as EasyProject's fine-tuned NLLB (see "
                "docs/projection.md), or markers the vocabulary holds.",
                code=E_BAD_CONFIG,
            )
    return Markers(tuple(pieces[0]), tuple(pieces[1]))


# -- to word tokens ------------------------------------------------------------------------------


def to_pair_projection(
    result: RouteResult,
    pair_id: str,
    target_id: str,
    tgt_lang: str,
    tokenizer,
    *,
    target: AnnotatedSentence | None = None,
) -> PairProjection | None:
    """Word-token outcomes for one sentence: char spans → token spans, overlaps resolved.

    ``target`` is the already tokenized target sentence when there is one (translate-test keeps
    the input's own tokens, so scores against its gold line up); its text must be the route's
    target text. Otherwise the target text is split with ``tokenizer``. Returns ``None`` when the
    target text holds no token (the caller records a reject).
    """
    if target is not None:
        if target.text != result.target_text:
            raise ValueError(f"target {target.id} text differs from the route's target text")
        tgt = replace(target, spans=())
    else:
        tgt = tokenized_target(target_id, tgt_lang, result.target_text, tokenizer)
        if tgt is None:
            return None
    src = result.source
    placed: list = []
    for r in result.spans:
        if r.target is None:
            placed.append((r.reason or DropReason.UNMATCHED, r.detail))
            continue
        span, exact = char_span_to_token(r.target, tgt.offsets)
        if span is None:
            placed.append((DropReason.EMPTY_TARGET, f"{r.detail}; no word token in {r.target}"))
            continue
        note = r.detail if exact else f"{r.detail}; widened to whole words"
        placed.append((span.start, span.end, note))
    outcomes = resolve_overlaps(src.spans, placed, len(tgt))
    chars = _char_targets(outcomes, [r.target for r in result.spans])
    outcomes = [
        replace(o, score=r.score, char_target=chars.get(o.source_index))
        for o, r in zip(outcomes, result.spans, strict=True)
    ]
    return pair_projection(ParallelPair(pair_id, src, tgt), None, outcomes)


def _char_targets(outcomes, chars: Sequence[CharSpan | None]) -> dict[int, CharSpan]:
    """Each placed outcome's target in characters: the route's own span (canonical: the token
    span only rounds it to whole words); a projection that absorbed others covers all of theirs,
    and a merged one points at that union."""
    groups: dict[int, list[int]] = {}
    for o in outcomes:
        if o.target is not None:
            root = o.source_index if o.merged_into is None else o.merged_into
            groups.setdefault(root, []).append(o.source_index)
    out = {}
    for root, members in groups.items():
        got = [chars[k] for k in members if chars[k] is not None]
        union = CharSpan(
            min(c.start for c in got), max(c.end for c in got), outcomes[root].source.label
        )
        out.update(dict.fromkeys(members, union))
    return out


def project_result(task, r: RouteResult, tgt_lang: str, tokenizer, translation=None):
    """The :class:`~xproj.projectors.projector.ProjectionResult` of a task a route ran: its
    outcomes on the task's own target tokens when it has them, else on ``tokenizer``'s."""
    from xproj.projectors.projector import ProjectionResult, no_token

    given = task.target if isinstance(task.target, AnnotatedSentence) else None
    p = to_pair_projection(r, task.pair_id, task.target_id, tgt_lang, tokenizer, target=given)
    return ProjectionResult(task, p, None if p else no_token(tgt_lang), translation, r.marked)


def _text(target) -> str:
    return target.text if isinstance(target, AnnotatedSentence) else target


def _markable(tasks, markers: tuple[str, str]):
    """A result slot per task (filled with the problem of each source that cannot be marked)
    and the positions of the tasks that can go through a marker route."""
    from xproj.projectors.projector import ProjectionResult, unmarkable

    results: list = [None] * len(tasks)
    markable = []
    for k, task in enumerate(tasks):
        why = check_markable(task.source, markers)
        if why is None:
            markable.append(k)
        else:
            results[k] = ProjectionResult(task, problem=unmarkable(why))
    return results, markable


def check_markable(sentence: AnnotatedSentence, markers: tuple[str, str]) -> str | None:
    """Why ``sentence`` cannot be marked, or ``None`` when it can."""
    if not sentence.spans:
        return None
    try:
        marked_source(sentence, range(len(sentence.spans)), markers)
    except SourceMarkerError as err:
        return str(err)
    return None
