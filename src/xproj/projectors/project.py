"""Alignment-based span projection (``align.v1``): a pure function over tokens, links and spans.

Each source span becomes exactly one :class:`~xproj.schemas.records.ProjectionOutcome`, in input order:
a target span, or a :class:`~xproj.schemas.records.DropReason` with a ``detail`` that says why. The steps,
with the knobs of :class:`~xproj.projectors.policy.ProjectionPolicy`:

1. **Collect**: the target tokens linked to any token of the span (sure links only), plus
   identical-surface anchors (:mod:`xproj.projectors.anchors`) when ``anchor_identical`` is on.
2. **Punctuation** (:func:`xproj.projectors.punct.is_punct`): ``drop`` ignores aligned punctuation;
   ``trim`` lets it join groups but cuts each group to its first and last aligned word; ``keep``
   treats it like words. A span aligned only to punctuation is ``PUNCTUATION_ONLY``.
3. **Group**: aligned tokens split into contiguous groups; gaps of at most ``gap_fill`` unaligned
   tokens are filled. ``largest`` keeps the longest group (ties: the group linked to more of the
   span's source tokens, then the leftmost); ``extent`` spans from the first to the last group.
4. **Resolve overlaps** across the sentence (``type_then_length``): projections are visited from
   the longest source span to the shortest (ties: earlier first). One that overlaps an accepted
   projection of another type is dropped (``LOST_OVERLAP``); one that overlaps only projections of
   its own type is merged with them into their union, kept under the highest-ranked of them, and the
   others become ``MERGED``. Accepted projections therefore never overlap.

Cost is linear in the sentence lengths plus the links of the span tokens; nothing is quadratic in
the sentence.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence

from xproj.projectors.anchors import AnchorIndex
from xproj.projectors.policy import ProjectionPolicy
from xproj.projectors.punct import is_punct
from xproj.schemas.errors import (
    E_LINK_OUT_OF_RANGE,
    E_SPAN_OUT_OF_TEXT,
    InputFormatError,
)
from xproj.schemas.records import (
    Alignment,
    AnnotatedSentence,
    DropReason,
    ParallelPair,
    ProjectionOutcome,
    TokenSpan,
)

DEFAULT_POLICY = ProjectionPolicy()

_MAX_SHOWN = 60


#: The drop reasons ``align.v1`` gives (the others belong to the model routes).
REASONS: frozenset[DropReason] = frozenset(
    {
        DropReason.NO_ALIGNMENT,
        DropReason.PUNCTUATION_ONLY,
        DropReason.LOST_OVERLAP,
        DropReason.MERGED,
        DropReason.EMPTY_TARGET,
    }
)


def project_spans(
    src_tokens: Sequence[str],
    tgt_tokens: Sequence[str],
    alignment: Alignment | Iterable[tuple[int, int]],
    src_spans: Sequence[TokenSpan],
    *,
    policy: ProjectionPolicy = DEFAULT_POLICY,
) -> list[ProjectionOutcome]:
    """Project labeled source token spans onto the target tokens through a word alignment.

    Args:
        src_tokens: source sentence tokens.
        tgt_tokens: target sentence tokens (may be empty: every span is then ``EMPTY_TARGET``).
        alignment: an :class:`Alignment` (its sure ``links``) or 0-based ``(source, target)`` pairs.
        src_spans: labeled spans over ``src_tokens``; ``source_index`` refers to this order.
        policy: punctuation, gap filling, grouping, overlap and anchoring settings.

    Returns:
        One outcome per span of ``src_spans``, in the same order.

    Raises:
        InputFormatError: a span lies outside the source ([XP105]) or a link outside either
            sentence ([XP107]).

    Example:
        >>> src = ["Anna", "visited", "New", "York", "."]
        >>> tgt = ["Anna", "besuchte", "New", "York", "."]
        >>> links = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
        >>> spans = [TokenSpan(0, 1, "PER"), TokenSpan(2, 4, "LOC")]
        >>> [o.target for o in project_spans(src, tgt, links, spans)]
        [TokenSpan(start=0, end=1, label='PER'), TokenSpan(start=2, end=4, label='LOC')]
    """
    n_src, n_tgt = len(src_tokens), len(tgt_tokens)
    for span in src_spans:
        if span.end > n_src:
            raise InputFormatError(
                f"source span {span.label} [{span.start}, {span.end}) is outside the sentence's "
                f"{n_src} tokens.",
                fix="pass spans over the same tokens as src_tokens (0-based, end exclusive).",
                code=E_SPAN_OUT_OF_TEXT,
            )
    by_src = _links_by_source(alignment, n_src, n_tgt)
    if not src_spans:
        return []
    if n_tgt == 0:
        return [
            ProjectionOutcome(k, s, None, DropReason.EMPTY_TARGET, detail="target has no tokens")
            for k, s in enumerate(src_spans)
        ]

    anchors = AnchorIndex(src_tokens, tgt_tokens) if policy.anchor_identical else None
    placed: list[tuple[int, int, str] | tuple[DropReason, str]] = [
        _place(span, src_tokens, tgt_tokens, by_src, anchors, policy) for span in src_spans
    ]
    if policy.overlap == "keep":
        return [
            _outcome_as_placed(k, s, p)
            for k, (s, p) in enumerate(zip(src_spans, placed, strict=True))
        ]
    return resolve_overlaps(src_spans, placed, n_tgt)


def target_spans(outcomes: Iterable[ProjectionOutcome]) -> list[TokenSpan]:
    """The distinct target spans of the projected outcomes, sorted.

    ``MERGED`` outcomes point at their winner's span, which is listed once through the winner.

    Example:
        >>> target_spans([ProjectionOutcome(0, TokenSpan(0, 1, "PER"), TokenSpan(2, 3, "PER")),
        ...               ProjectionOutcome(1, TokenSpan(3, 4, "PER"), None,
        ...                                 DropReason.NO_ALIGNMENT)])
        [TokenSpan(start=2, end=3, label='PER')]
    """
    return sorted({o.target for o in outcomes if o.projected and o.target is not None})


def target_sentence(
    tgt: AnnotatedSentence, outcomes: Iterable[ProjectionOutcome]
) -> AnnotatedSentence:
    """``tgt`` carrying the projected spans; its ``char_spans`` give them as character offsets.

    Example:
        >>> tgt = AnnotatedSentence("s1", "de", ("Anna", "wohnt", "in", "Rom"), text="Anna wohnt in Rom")
        >>> out = [ProjectionOutcome(0, TokenSpan(3, 4, "LOC"), TokenSpan(3, 4, "LOC"))]
        >>> sent = target_sentence(tgt, out)
        >>> [sent.text[c.start:c.end] for c in sent.char_spans]
        ['Rom']
    """
    return tgt.with_spans(target_spans(outcomes))


def project_pair(
    pair: ParallelPair,
    alignment: Alignment | Iterable[tuple[int, int]],
    *,
    policy: ProjectionPolicy = DEFAULT_POLICY,
) -> tuple[AnnotatedSentence, list[ProjectionOutcome]]:
    """Project ``pair.src.spans`` onto ``pair.tgt``: the labeled target sentence and the outcomes.

    Gold spans already on ``pair.tgt`` are replaced by the projected ones.
    """
    outcomes = project_spans(
        pair.src.tokens, pair.tgt.tokens, alignment, pair.src.spans, policy=policy
    )
    return target_sentence(pair.tgt, outcomes), outcomes


def _links_by_source(
    alignment: Alignment | Iterable[tuple[int, int]], n_src: int, n_tgt: int
) -> dict[int, list[int]]:
    links = alignment.links if isinstance(alignment, Alignment) else alignment
    by_src: dict[int, list[int]] = {}
    for i, j in links:
        if not (0 <= i < n_src and 0 <= j < n_tgt):
            raise InputFormatError(
                f"alignment link {i}-{j} is outside the sentence pair ({n_src} source, "
                f"{n_tgt} target tokens).",
                fix="align the same tokens that are projected (0-based indices).",
                code=E_LINK_OUT_OF_RANGE,
            )
        by_src.setdefault(i, []).append(j)
    return by_src


def _shown(tokens: Sequence[str]) -> str:
    text = " ".join(tokens)
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…")


def _trim(groups: list[tuple[int, int]], words: list[int]) -> list[tuple[int, int]]:
    """Each group cut to its first and last aligned word; groups without a word are left out."""
    out = []
    for start, end in groups:
        lo = bisect_left(words, start)
        hi = bisect_left(words, end)
        if lo < hi:
            out.append((words[lo], words[hi - 1] + 1))
    return out


def _place(
    span: TokenSpan,
    src_tokens: Sequence[str],
    tgt_tokens: Sequence[str],
    by_src: dict[int, list[int]],
    anchors: AnchorIndex | None,
    policy: ProjectionPolicy,
) -> tuple[int, int, str] | tuple[DropReason, str]:
    """The target extent ``(start, end, detail)`` of one span, or ``(reason, detail)``."""
    # per source token: its linked target tokens (anchor included), for group support
    linked: dict[int, list[int]] = {}
    anchored: list[str] = []
    for i in range(span.start, span.end):
        targets = by_src.get(i, [])
        if anchors is not None:
            j = anchors.target_of(i)
            if j is not None and policy.anchor_only and targets != [j]:
                targets = [j]
                anchored.append(f"{src_tokens[i]!r}->{j} only")
            elif j is not None and j not in targets:
                targets = [*targets, j]
                anchored.append(f"{src_tokens[i]!r}->{j}")
        if targets:
            linked[i] = targets
    if not linked:
        return (
            DropReason.NO_ALIGNMENT,
            f"no target token is aligned to {_shown(src_tokens[span.start : span.end])}",
        )

    aligned = sorted({j for targets in linked.values() for j in targets})
    words = (
        aligned
        if policy.punctuation == "keep"
        else [j for j in aligned if not is_punct(tgt_tokens[j])]
    )
    if not words:
        seen = list(dict.fromkeys(tgt_tokens[j] for j in aligned))
        more = f" and {len(seen) - 5} more" if len(seen) > 5 else ""
        return (
            DropReason.PUNCTUATION_ONLY,
            f"aligned only to {' '.join(map(repr, seen[:5]))}{more}",
        )

    if policy.punctuation == "trim":
        groups = _trim(_groups(aligned, policy.gap_fill), words)
    else:
        groups = _groups(words, policy.gap_fill)
    notes = [f"anchored {', '.join(anchored)}"] if anchored else []
    if policy.grouping == "extent":
        start, end = groups[0][0], groups[-1][1]
        if len(groups) > 1:
            notes.append(f"extent over {len(groups)} groups")
    else:
        start, end = _largest(groups, linked)
        if len(groups) > 1:
            notes.append(f"kept [{start}, {end}) of {len(groups)} groups")
    return start, end, "; ".join(notes)


def _groups(positions: list[int], gap_fill: int) -> list[tuple[int, int]]:
    """Contiguous runs of sorted ``positions``, joining runs separated by <= ``gap_fill`` tokens."""
    groups = []
    start = prev = positions[0]
    for j in positions[1:]:
        if j - prev - 1 > gap_fill:
            groups.append((start, prev + 1))
            start = j
        prev = j
    groups.append((start, prev + 1))
    return groups


def _largest(groups: list[tuple[int, int]], linked: dict[int, list[int]]) -> tuple[int, int]:
    longest = max(e - s for s, e in groups)
    tied = [g for g in groups if g[1] - g[0] == longest]
    if len(tied) == 1:
        return tied[0]
    starts = [s for s, _ in tied]
    support = [0] * len(tied)
    for targets in linked.values():
        hit = set()
        for j in targets:
            k = bisect_right(starts, j) - 1
            if k >= 0 and j < tied[k][1]:
                hit.add(k)
        for k in hit:
            support[k] += 1
    best = max(range(len(tied)), key=lambda k: (support[k], -k))
    return tied[best]


def _outcome_as_placed(
    index: int, span: TokenSpan, placed: tuple[int, int, str] | tuple[DropReason, str]
) -> ProjectionOutcome:
    if isinstance(placed[0], DropReason):
        return ProjectionOutcome(index, span, None, placed[0], detail=placed[1])
    start, end, detail = placed
    return ProjectionOutcome(index, span, TokenSpan(start, end, span.label), detail=detail)


def resolve_overlaps(
    src_spans: Sequence[TokenSpan],
    placed: list[tuple[int, int, str] | tuple[DropReason, str]],
    n_tgt: int,
) -> list[ProjectionOutcome]:
    """Step 4 of the module docstring, for any route that places spans on target tokens.

    ``placed[k]`` is source span ``k``'s target ``(start, end, detail)`` in tokens, or
    ``(reason, detail)`` when it has none. Returns one outcome per source span, in order.
    """
    n = len(src_spans)
    extent: list[tuple[int, int] | None] = [
        None if isinstance(p[0], DropReason) else (p[0], p[1]) for p in placed
    ]
    candidates = [k for k in range(n) if extent[k] is not None]
    candidates.sort(key=lambda k: (-len(src_spans[k]), k))
    rank = {k: r for r, k in enumerate(candidates)}

    owner = [-1] * n_tgt  # target token -> accepted projection covering it
    parent = list(range(n))  # merged projection -> the one that absorbed it
    lost: dict[int, str] = {}
    merged_with: dict[int, list[int]] = {}
    for k in candidates:
        start, end = extent[k]
        hits = sorted({owner[j] for j in range(start, end) if owner[j] >= 0}, key=rank.__getitem__)
        if not hits:
            owner[start:end] = [k] * (end - start)
            continue
        label = src_spans[k].label
        rivals = [h for h in hits if src_spans[h].label != label]
        if rivals:
            w = rivals[0]
            why = "longer" if len(src_spans[w]) > len(src_spans[k]) else "same length, earlier"
            lost[k] = (
                f"target [{start}, {end}) overlaps the {src_spans[w].label} projection of source "
                f"span {w} ({why})"
            )
            continue
        root, others = hits[0], [*hits[1:], k]
        new_start = min(start, *(extent[h][0] for h in hits))
        new_end = max(end, *(extent[h][1] for h in hits))
        extent[root] = (new_start, new_end)
        owner[new_start:new_end] = [root] * (new_end - new_start)
        for h in others:
            parent[h] = root
        merged_with.setdefault(root, []).extend(others)

    outcomes = []
    for k, span in enumerate(src_spans):
        p = placed[k]
        if isinstance(p[0], DropReason):
            outcomes.append(ProjectionOutcome(k, span, None, p[0], detail=p[1]))
        elif k in lost:
            outcomes.append(
                ProjectionOutcome(k, span, None, DropReason.LOST_OVERLAP, detail=lost[k])
            )
        elif parent[k] != k:
            root = _find(parent, k)
            target = TokenSpan(*extent[root], span.label)
            outcomes.append(
                ProjectionOutcome(
                    k,
                    span,
                    target,
                    DropReason.MERGED,
                    merged_into=root,
                    detail=f"target [{p[0]}, {p[1]}) merged into the {span.label} projection of "
                    f"source span {root}",
                )
            )
        else:
            notes = [p[2]] if p[2] else []
            if k in merged_with:
                absorbed = sorted(_absorbed(merged_with, k))
                notes.append(f"merged with source span(s) {', '.join(map(str, absorbed))}")
            target = TokenSpan(*extent[k], span.label)
            outcomes.append(ProjectionOutcome(k, span, target, detail="; ".join(notes)))
    return outcomes


def _find(parent: list[int], k: int) -> int:
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def _absorbed(merged_with: dict[int, list[int]], root: int) -> list[int]:
    out, stack = [], list(merged_with.get(root, ()))
    while stack:
        h = stack.pop()
        out.append(h)
        stack.extend(merged_with.get(h, ()))
    return out
