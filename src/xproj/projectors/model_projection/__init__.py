"""Projection by the translation model itself: markers (``markers.v1``) and CODEC (``codec.v1``).

Both routes take source sentences with character spans and give, per sentence, the target text
and one :class:`SpanResult` per source span: a character span of the target text, or a
:class:`~xproj.schemas.records.DropReason` with a detail. :func:`to_pair_projection` turns that into
word-token outcomes (overlaps resolved as ``align.v1`` does) for the lake's tables.

**Markers** (EasyProject): put ``[ … ]`` around every source span, translate the marked sentence
with a marker-aware model, read the marked spans back (:mod:`xproj.projectors.markers`), give each source
span's label to one of them. One translation call per sentence; the clean target text is the
marked translation without its markers, so translate-train needs no separate plain translation.
Each span is translated on its own only for sentences where labels cannot be given by order
(mixed labels, or counts that differ), and only then. For translate-test (``originals`` given) the
spans found in the marked translation are located in the original text: exact, then ignoring
case, then the best fuzzy window of words.

**CODEC** (constrained decoding): keep the clean translation ``T`` (the template), then, per span,

1. score ``T`` under the source with that span marked and under the unmarked source, in one
   batched call for the whole shard; per-token ``|Δ log p|`` picks the candidate boundaries
   (:func:`xproj.projectors.codec.candidate_positions`: Δ ≥ ``high``, plus Δ ≥ ``low`` within
   ``window`` tokens; the paper's 0.5 / 0.1 / 5);
2. move boundaries that fall inside a word onto that word's edges (a piece that starts a word,
   punctuation, CJK characters count as edges) unless ``boundaries="token"``, and keep the
   insertions of at most ``max_span_tokens`` pieces (default: twice the span's source pieces plus
   four);
3. score every candidate insertion of the marker pair into ``T`` under the marked source, exactly
   (no pruning inside the candidate set), spans of one sentence one after another, all sentences
   of a shard sharing token-batched ``score_batch`` calls (:func:`xproj.projectors.codec.search_sequential_many`);
   span ``k`` is scored under the source with spans ``0 … k`` marked, on the template with the
   best insertions of spans ``0 … k-1`` already in it;
4. re-rank the ``n_best`` by ``forward + reverse_weight · reverse + overlap_weight · overlap``,
   where ``forward`` is the marked template's log-probability, ``reverse`` the log-probability of
   the source span's text given the candidate's text (target → source, when the model translates
   that way) and ``overlap`` the character similarity of candidate and source span text (names,
   numbers and dates copied through).

The model is anything with the :class:`~xproj.translators.ct2.CT2Translator` scoring surface
(``target_pieces``, ``score_tokens``, ``score``, ``language_codes``); tests pass tiny converted
models, never a real one, so nothing here claims translation quality.

The routes live in ``marker_route`` and ``codec_route``; ``common`` holds what they share.
"""

from xproj.projectors.model_projection.codec_route import (
    CodecRoute,
    CodecSettings,
    piece_offsets,
    snap_to,
    word_boundaries,
)
from xproj.projectors.model_projection.common import (
    RouteResult,
    RouteStats,
    SourceMarkerError,
    SpanResult,
    check_markable,
    marked_source,
    marker_pieces,
    to_pair_projection,
)
from xproj.projectors.model_projection.marker_route import (
    VARIANT_SETS,
    MarkerRoute,
    MarkerSettings,
    locate_in_original,
)

__all__ = [
    "CodecRoute",
    "CodecSettings",
    "MarkerRoute",
    "MarkerSettings",
    "RouteResult",
    "RouteStats",
    "SourceMarkerError",
    "SpanResult",
    "VARIANT_SETS",
    "check_markable",
    "locate_in_original",
    "marked_source",
    "marker_pieces",
    "piece_offsets",
    "snap_to",
    "to_pair_projection",
    "word_boundaries",
]
