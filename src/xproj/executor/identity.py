"""Run identity from content: which config fields are inputs, which only say where things run.

A run's key must not depend on how a path is spelled (relative, absolute, from another folder):
config fields that name an input are marked :data:`INPUT` and enter the key as the content
fingerprint of what they point at (:class:`~xproj.catalog.lineage.InputRef`); fields that change where
or how fast a run goes but not what it produces (the lake, ``force``, thread counts) are marked
:data:`LOCAL` and stay out of the key. Everything else is a parameter of the key as it is.

Example:
    >>> from typing import Annotated
    >>> from pydantic import BaseModel
    >>> class Cfg(BaseModel):
    ...     path: Annotated[str, INPUT]
    ...     k: int = 1
    ...     lake: Annotated[str | None, LOCAL] = None
    >>> params, inputs = key_of(Cfg(path="no/such/dataset", lake="/tmp/l"))
    >>> params, [(i.name, i.ref) for i in inputs]
    ({'k': 1}, [('path', 'no/such/dataset')])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Input:
    """Marks a config field that names an input (a file, folder or dataset).

    On a ``dict`` field, every value that is an existing local path is an input (e.g. the
    ``path`` of the ``given.v1`` aligner or a local SimAlign model folder), the rest are
    parameters.
    """


@dataclass(frozen=True, slots=True)
class Local:
    """Marks a config field that does not change what a run produces (kept out of its key)."""


INPUT = Input()
LOCAL = Local()


def key_of(config: BaseModel) -> tuple[dict[str, Any], list[Any]]:
    """The parameters and inputs that identify a run of ``config``.

    Input fields become :class:`~xproj.catalog.lineage.InputRef`\\ s, named by their dotted place in
    the config (a field called ``path`` takes its parent's name: ``source.path`` → ``source``).
    A model that knows how to fingerprint one of its inputs (a Hugging Face dataset) defines
    ``input_ref(field, name)``; otherwise a file or folder is hashed, and anything else (a Hub
    id) is identified by its text.

    Returns:
        ``(parameters, inputs)``: parameters without input and local fields, and the inputs.
    """
    inputs: list[Any] = []
    return _walk(config, "", inputs), inputs


def recorded(config: BaseModel) -> dict[str, Any]:
    """The config as ``runs.parameters`` records it: every field but the local ones, paths as
    given (for lineage; the run key uses :func:`key_of`)."""
    out: dict[str, Any] = {}
    for name, info in type(config).model_fields.items():
        if any(isinstance(m, Local) for m in info.metadata):
            continue
        value = getattr(config, name)
        out[name] = _recorded_value(value)
    return out


def _recorded_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return recorded(value)
    if isinstance(value, list | tuple):
        return [_recorded_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _recorded_value(v) for k, v in value.items()}
    return value


def _walk(model: BaseModel, where: str, inputs: list[Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        marks = info.metadata
        dotted = f"{where}.{name}" if where else name
        if any(isinstance(m, Local) for m in marks):
            continue
        if any(isinstance(m, Input) for m in marks):
            rest = _input(model, name, value, dotted, where, inputs)
            if rest is not None:
                params[name] = rest
            continue
        params[name] = _value(value, dotted, inputs)
    return params


def _value(value: Any, dotted: str, inputs: list[Any]) -> Any:
    if isinstance(value, BaseModel):
        return _walk(value, dotted, inputs)
    if isinstance(value, list | tuple) and any(isinstance(v, BaseModel) for v in value):
        return [_value(v, f"{dotted}[{k}]", inputs) for k, v in enumerate(value)]
    if isinstance(value, dict) and any(
        isinstance(v, BaseModel | list | tuple | dict) for v in value.values()
    ):
        return {k: _value(v, f"{dotted}.{k}", inputs) for k, v in sorted(value.items())}
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def _input(
    model: BaseModel, field: str, value: Any, dotted: str, parent: str, inputs: list[Any]
) -> Any:
    """Record the input(s) of one marked field; returns what stays a parameter (or None)."""
    from xproj.catalog.lineage import path_ref

    if value is None:
        return None
    if isinstance(value, dict):
        rest = {}
        for key, item in sorted(value.items()):
            if isinstance(item, str) and item and Path(item).exists():
                inputs.append(path_ref(f"{dotted}.{key}", item))
            else:
                rest[key] = item
        return rest
    name = parent if field == "path" and parent else dotted
    own = getattr(model, "input_ref", None)
    inputs.append(own(field, name) if callable(own) else path_ref(name, value))
    return None
