"""Registries of versioned strategy names (``"eflomal.v1"``, ``"align.v1"`` …).

A behaviour change gets a new name, so data made with an older strategy stays reproducible.
Entries are factories; registering a taken name is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from xproj.schemas.errors import E_DUPLICATE_STRATEGY, E_UNKNOWN_STRATEGY, ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → factory map that refuses duplicates and suggests close names on a miss.

    An entry may carry facts about itself (``info``: what it needs, what it can do), so callers
    ask the registry instead of comparing names, and short ``aliases`` that :meth:`canonical`
    turns into the versioned name (``"codec"`` → ``"codec.v1"``).

    Example:
        >>> aligners = Registry("aligner")
        >>> @aligners.register("null.v1", aliases=("null",), reads_file=False)
        ... def make_null():
        ...     return None
        >>> aligners.get("null.v1") is make_null, aligners.canonical("null")
        (True, 'null.v1')
        >>> aligners.info("null.v1")["reads_file"]
        False
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}
        self._info: dict[str, dict[str, Any]] = {}
        self._aliases: dict[str, str] = {}

    def register(
        self, name: str, *, aliases: tuple[str, ...] = (), **info: Any
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            for taken in (name, *aliases):  # an alias may not shadow a name or another alias
                if taken in self._entries or taken in self._aliases:
                    raise ConfigError(
                        f"{self.kind} {taken!r} is already registered.",
                        fix="give the new behaviour a new versioned name (e.g. '.v2') and "
                        "aliases of its own.",
                        code=E_DUPLICATE_STRATEGY,
                    )
            self._entries[name] = factory
            self._info[name] = dict(info)
            for alias in aliases:
                self._aliases[alias] = name
            return factory

        return deco

    def canonical(self, name: str) -> str:
        """The registered name ``name`` stands for (itself, or what its alias points at).

        Raises:
            ConfigError: XP302 for a name that is neither, with close matches suggested.
        """
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = [*self._entries, *self._aliases]
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.4)
        hint = f"Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"unknown {self.kind} {name!r}. {hint}".strip(),
            fix=f"use one of: {', '.join(sorted(self._entries))}.",
            code=E_UNKNOWN_STRATEGY,
        )

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name`` (or its alias); XP302 for an unknown name."""
        return self._entries[self.canonical(name)]

    def info(self, name: str) -> dict[str, Any]:
        """What the entry ``name`` declared about itself when it was registered."""
        return self._info[self.canonical(name)]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
