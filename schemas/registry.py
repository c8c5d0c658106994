"""Registries of versioned strategy names (``"eflomal.v1"``, ``"align.v1"`` …).

A behaviour change gets a new name, so data made with an older strategy stays reproducible.
Entries are factories; registering a taken name is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Generic, TypeVar

from schemas.errors import E_DUPLICATE_STRATEGY, E_UNKNOWN_STRATEGY, ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → factory map that refuses duplicates and suggests close names on a miss.

    Example:
        >>> aligners = Registry("aligner")
        >>> @aligners.register("null.v1")
        ... def make_null():
        ...     return None
        >>> aligners.get("null.v1") is make_null
        True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ConfigError(
                    f"{self.kind} {name!r} is already registered.",
                    fix="give the new behaviour a new versioned name (e.g. '.v2').",
                    code=E_DUPLICATE_STRATEGY,
                )
            self._entries[name] = factory
            return factory

        return deco

    def get(self, name: str) -> Callable[..., T]:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3, cutoff=0.4)
            hint = f"did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"unknown {self.kind} {name!r}. {hint}".strip(),
                fix=f"use one of: {', '.join(sorted(self._entries))}.",
                code=E_UNKNOWN_STRATEGY,
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
