"""Versioned projection strategies: name -> callable with the ``project_spans`` signature.

``PROJECTORS.get("align.v1")(src_tokens, tgt_tokens, alignment, src_spans, policy=...)`` returns
one :class:`~schemas.records.ProjectionOutcome` per source span. A change of behaviour gets a new
name, so rows made by an older strategy stay reproducible.
"""

from __future__ import annotations

from projectors.project import project_spans
from schemas.records import ProjectionOutcome
from schemas.registry import Registry

PROJECTORS: Registry[list[ProjectionOutcome]] = Registry("projection strategy")

PROJECTORS.register("align.v1")(project_spans)
