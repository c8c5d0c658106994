"""spaCy pipelines, loaded in one place: blank tokenizers per language and named pipelines.

Named pipelines (``en_core_web_sm``, or a folder) are cached per process and fail with one coded
error that says how to install them; xproj ships no spaCy model.
"""

from __future__ import annotations

import functools
from typing import Any

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError


def blank(lang: str, config: dict[str, Any] | None = None) -> Any:
    """``spacy.blank(lang)`` (a tokenizer only; ``config`` overrides spaCy's defaults)."""
    import spacy

    return spacy.blank(lang, config=config or {})


@functools.lru_cache(maxsize=16)
def load(name_or_path: str, *, purpose: str = "") -> Any:
    """A named spaCy pipeline (an installed package or a pipeline folder), loaded once.

    Args:
        name_or_path: the package name or folder.
        purpose: what the pipeline is for, named in the error (``answer candidates``).

    Raises:
        ConfigError: XP301 when it cannot be loaded; the fix says how to install it.
    """
    import spacy

    try:
        return spacy.load(name_or_path)
    except (OSError, ImportError, ValueError) as err:
        what = f" for {purpose}" if purpose else ""
        raise ConfigError(
            f"cannot load the spaCy pipeline {name_or_path!r}{what}: {err}",
            fix=f"install it (python -m spacy download {name_or_path}) if it is a package, or "
            "give the folder of a saved pipeline; xproj ships no model.",
            code=E_BAD_CONFIG,
        ) from None
