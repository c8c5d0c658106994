"""Word aligners by versioned name. Backends are imported lazily.

Each aligner's settings are declared once, as the keyword arguments of its class (with their
types and defaults); :func:`aligner_options` checks a config's ``aligner_options`` against them
when the config is read, so a typo or a bad value fails before any input is read.

Example:
    >>> "eflomal.v1" in ALIGNERS
    True
    >>> aligner_options("eflomal.v1", {"symmetrization": "union"})
    {'symmetrization': 'union'}
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from xproj.projectors.aligners.base import Aligner, TokenPair
from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
from xproj.schemas.registry import Registry

ALIGNERS: Registry[Aligner] = Registry("aligner")

#: Keyword arguments a flow passes itself (not settings a user writes).
RUNTIME_ARGUMENTS = frozenset({"extra_bitext"})


def _lazy(path: str):
    module, name = path.split(":")

    def factory(**settings: Any) -> Aligner:
        return getattr(importlib.import_module(module), name)(**settings)

    factory.target = path  # type: ignore[attr-defined]
    return factory


ALIGNERS.register("eflomal.v1", aliases=("eflomal",), reads_file=False)(
    _lazy("xproj.projectors.aligners.eflomal:EflomalAligner")
)
ALIGNERS.register("simalign.v1", aliases=("simalign",), reads_file=False)(
    _lazy("xproj.projectors.aligners.simalign:SimAlignAligner")
)
#: ``given.v1`` reads links from a file, line k for pair k: it cannot align text a run makes.
ALIGNERS.register("given.v1", aliases=("given",), reads_file=True)(
    _lazy("xproj.projectors.aligners.given:GivenAligner")
)


def aligner_class(name: str) -> type[Aligner]:
    """The class registered as ``name`` (XP302 with close matches for an unknown name)."""
    module, cls = ALIGNERS.get(name).target.split(":")  # type: ignore[attr-defined]
    return getattr(importlib.import_module(module), cls)


@cache
def _settings_model(name: str):
    """A pydantic model of the aligner's keyword arguments: its settings, typed, declared once."""
    from pydantic import ConfigDict, create_model

    cls = aligner_class(name)
    hints = typing.get_type_hints(cls.__init__)
    fields: dict[str, Any] = {}
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name == "self" or param.name in RUNTIME_ARGUMENTS:
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    return create_model(
        f"{cls.__name__}Settings",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )


def aligner_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``options`` against the settings of aligner ``name``; returns them as given, typed.

    Names and types only: ranges and combinations are the aligner's own checks, made when it is
    built (flows build it once before reading their input). Nothing is loaded here.

    Raises:
        ConfigError: XP302 for an unknown aligner, XP301 for an unknown setting (the known ones
            listed) or a value of the wrong type.
    """
    from pydantic import ValidationError

    model = _settings_model(ALIGNERS.canonical(name))
    try:
        typed = model.model_validate(dict(options))
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(
            f"invalid aligner_options for {name}: {problems}.",
            fix=f"{name} takes: {', '.join(sorted(model.model_fields))}.",
            code=E_BAD_CONFIG,
        ) from None
    return typed.model_dump(exclude_unset=True)


def get_aligner(name: str, **settings: Any) -> Aligner:
    """Build the aligner registered as ``name`` with ``settings``.

    Raises:
        ConfigError: XP302 for an unknown name (with close matches suggested).

    Example:
        >>> get_aligner("eflomal.v1", symmetrization="intersection").name
        'eflomal.v1'
    """
    return ALIGNERS.get(name)(**settings)


__all__ = ["ALIGNERS", "Aligner", "TokenPair", "aligner_class", "aligner_options", "get_aligner"]
