"""Word aligners by versioned name. Factories import their backends lazily.

Example:
    >>> "eflomal.v1" in ALIGNERS
    True
"""

from __future__ import annotations

from typing import Any

from projectors.aligners.base import Aligner, TokenPair
from schemas.registry import Registry

ALIGNERS: Registry[Aligner] = Registry("aligner")


@ALIGNERS.register("eflomal.v1")
def _eflomal(**settings: Any) -> Aligner:
    from projectors.aligners.eflomal import EflomalAligner

    return EflomalAligner(**settings)


@ALIGNERS.register("simalign.v1")
def _simalign(**settings: Any) -> Aligner:
    from projectors.aligners.simalign import SimAlignAligner

    return SimAlignAligner(**settings)


@ALIGNERS.register("given.v1")
def _given(**settings: Any) -> Aligner:
    from projectors.aligners.given import GivenAligner

    return GivenAligner(**settings)


def get_aligner(name: str, **settings: Any) -> Aligner:
    """Build the aligner registered as ``name`` with ``settings``.

    Raises:
        ConfigError: XP302 for an unknown name (with close matches suggested).

    Example:
        >>> get_aligner("eflomal.v1", symmetrization="intersection").name
        'eflomal.v1'
    """
    return ALIGNERS.get(name)(**settings)


__all__ = ["ALIGNERS", "Aligner", "TokenPair", "get_aligner"]
