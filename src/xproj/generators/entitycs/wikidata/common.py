"""What the Wikidata readers share: the JSON backend, the name table they fill, rejects."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from xproj.generators.entitycs.records import NameTable
from xproj.schemas.errors import (
    InputFormatError,
    Reject,
)

try:  # orjson ships with Prefect; the standard module is the fallback
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
    JSON_BACKEND = "orjson"
except ImportError:  # pragma: no cover - exercised only where orjson is absent
    _loads = json.loads
    JSON_BACKEND = "json"

PathLike = str | os.PathLike[str]

QID_RE = re.compile(r"Q\d+")
STAGE = "read"
#: Redirect hops :meth:`TitleIndex.resolve` follows before giving up.
MAX_REDIRECT_HOPS = 32


class LoadedNames(NameTable):
    """A :class:`NameTable` plus what reading it left out.

    Attributes:
        rejects: one :class:`Reject` per line or entity that was not used (file, ``line N``).
        counts: lines, entities and every skipped or repaired item, by reason.
        missing_languages: requested languages that had no input (no ``<lang>.txt`` file).
        scripts: the main script found for each label file's language (:func:`main_script`).
    """

    def __init__(self, languages: Iterable[str] = ()) -> None:
        super().__init__(tuple(languages))
        self.rejects: list[Reject] = []
        self.counts: Counter[str] = Counter()
        self.missing_languages: list[str] = []
        self.scripts: dict[str, str | None] = {}


def _reject(source: PathLike, line: int, code: str, reason: str, raw: str | bytes = "") -> Reject:
    if isinstance(raw, bytes):
        raw = raw[:600].decode("utf-8", errors="replace")
    return Reject(STAGE, str(source), f"line {line}", code, reason, raw[:500])


def _missing_file(path: PathLike) -> InputFormatError:
    from xproj.io.readers._common import file_not_found

    return file_not_found(path)
