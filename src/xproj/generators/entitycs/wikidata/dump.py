"""The streaming Wikidata JSON dump reader (``.json``, ``.gz``, ``.bz2``): names and titles."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from xproj.generators.entitycs.records import EntityNames
from xproj.generators.entitycs.wikidata.common import (
    LoadedNames,
    PathLike,
    _loads,
    _missing_file,
    _reject,
)
from xproj.generators.entitycs.wikidata.labels import _open_text_binary
from xproj.generators.entitycs.wikidata.titles import TitleIndex, _read_redirects
from xproj.schemas.errors import (
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
    InputFormatError,
    Reject,
)

# ------------------------------------------------------------------------------ the JSON dump

#: External decompressors, best (multi-threaded) first.
_EXTERNAL = {
    ".gz": (("pigz", "-dc"), ("gzip", "-dc")),
    ".bz2": (("lbzip2", "-dc"), ("pbzip2", "-dc"), ("bzip2", "-dc")),
}
_QUICK_ID = re.compile(rb'\{\s*(?:"type"\s*:\s*"[a-z]+"\s*,\s*)?"id"\s*:\s*"([A-Z])(\d+)"')
_ENWIKI = re.compile(rb'"enwiki":\{"site":"enwiki","title":"((?:[^"\\]|\\.)*)"')
_ENTITY_ID = re.compile(r"[A-Z]\d+")
_CLAIMS = b',"claims":'
_SITELINKS = b'"sitelinks":'


def _external_command(path: Path, external: bool | None) -> list[str] | None:
    if external is False:
        return None
    for suffix, tools in _EXTERNAL.items():
        if path.name.endswith(suffix):
            for tool, flag in tools:
                exe = shutil.which(tool)
                if exe:
                    return [exe, flag, str(path)]
            if external:
                raise InputFormatError(
                    f"no external decompressor for {suffix} on PATH (tried "
                    f"{', '.join(t for t, _ in tools)}).",
                    fix="install one, or pass external=None / False to use Python's module.",
                    file=str(path),
                    code=E_FILE_NOT_FOUND,
                )
    return None


def _dump_lines(path: Path, external: bool | None) -> Iterator[tuple[int, bytes] | Reject]:
    """Numbered raw lines of a (compressed) dump; a broken stream ends with one Reject."""
    if not path.is_file():
        raise _missing_file(path)
    command = _external_command(path, external)
    number = 0
    if command is None:
        try:
            with _open_text_binary(path) as handle:
                for number, raw in enumerate(handle, 1):  # noqa: B007 - number used below
                    yield number, raw
        except (OSError, EOFError, ValueError) as err:
            yield _reject(
                path,
                number + 1,
                E_MALFORMED_LINE,
                f"the compressed stream is truncated or corrupt after line {number} ({err}). "
                "Fix: download the dump again (check its checksum).",
            )
        return
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, bufsize=1 << 20, close_fds=True
        )
        try:
            assert proc.stdout is not None
            for number, raw in enumerate(proc.stdout, 1):  # noqa: B007 - number used below
                yield number, raw
            proc.stdout.close()
            code = proc.wait()
        finally:
            if proc.poll() is None:  # the consumer stopped early: stop our decompressor
                proc.kill()
                proc.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read(400).decode("utf-8", errors="replace").strip()
            yield _reject(
                path,
                number + 1,
                E_MALFORMED_LINE,
                f"the compressed stream is truncated or corrupt after line {number} "
                f"({Path(command[0]).name} exited {code}: {message}). "
                "Fix: download the dump again (check its checksum).",
            )


def _decode_title(raw: bytes) -> str:
    if b"\\" in raw:
        return _loads(b'"' + raw + b'"')
    return raw.decode("utf-8")


def _parse_entity(
    line: bytes, need_aliases: bool, counts: Counter[str], fast: bool = True
) -> tuple[dict, Any]:
    """``(entity object without claims, enwiki sitelink title or None)``.

    The fast path parses the text before ``,"claims":`` and finds the enwiki title with a
    pattern; anything unexpected falls back to parsing the whole line.
    """
    # a line cut short inside the claims would parse up to them: only whole lines take the path
    cut = line.find(_CLAIMS) if fast and line[-1:] == b"}" else -1
    if cut > 0:
        try:
            head = _loads(line[:cut] + b"}")
        except ValueError:
            head = None
        if (
            isinstance(head, dict)
            and "labels" in head
            and "id" in head
            and (not need_aliases or "aliases" in head)
        ):
            if "sitelinks" in head:
                counts["fast path"] += 1
                return head, _sitelink_title(head)
            at = line.rfind(_SITELINKS, cut)
            if at < 0:
                counts["fast path"] += 1
                return head, None
            key = line.find(b'"enwiki":', at)
            if key < 0:
                counts["fast path"] += 1
                return head, None
            match = _ENWIKI.match(line, key)
            if match is not None:
                counts["fast path"] += 1
                return head, _decode_title(match.group(1))
    counts["full parse"] += 1
    obj = _loads(line)
    if not isinstance(obj, dict):
        raise ValueError("the line is not a JSON object")
    return obj, _sitelink_title(obj)


def _sitelink_title(obj: dict) -> Any:
    sitelinks = obj.get("sitelinks")
    if not isinstance(sitelinks, dict):
        return None
    enwiki = sitelinks.get("enwiki")
    return enwiki.get("title") if isinstance(enwiki, dict) else None


def iter_wikidata_dump(
    path: PathLike,
    languages: Iterable[str] | None,
    *,
    aliases: bool = False,
    properties: bool = False,
    qids: set[str] | frozenset[str] | None = None,
    external: bool | None = None,
    counts: Counter[str] | None = None,
    fast: bool = True,
) -> Iterator[EntityNames | Reject]:
    """Stream the names of the entities of a Wikidata JSON dump, one entity per line.

    Reads ``.json``, ``.json.gz`` or ``.json.bz2`` line by line (the ``[`` and ``]`` lines and the
    comma ending each entity line are skipped); memory does not grow with the dump. Each item
    yields an :class:`EntityNames` with the labels (and, with ``aliases=True``, the aliases) in
    the requested languages, possibly none, and its enwiki sitelink title.

    Skipped and counted, not yielded: properties (``P…``) unless ``properties=True``, other
    entity types (lexemes ``L…``, media ``M…``), ids outside ``qids``. A label or alias entry
    without a string value is counted as ``bad name value`` and left out.

    Rejected (yielded as :class:`Reject` with the line number): a line that is not a JSON object
    (XP101), an entity without an ``id`` or with ``labels`` that is not an object (XP108). A
    truncated or corrupt compressed stream ends the iteration with one XP101 reject.

    Args:
        path: the dump.
        languages: language codes to keep (exact Wikidata codes: ``zh`` does not include
            ``zh-hans``; ``mul`` is a code of its own); None keeps every language.
        aliases: also read aliases.
        properties: also yield properties (``P…``), which have no sitelinks.
        qids: only these ids (the check happens before parsing, so a small set is fast).
        external: None decompresses in a separate process when a tool is on PATH (``pigz``,
            ``gzip``; ``lbzip2``, ``pbzip2``, ``bzip2``), else with Python's module; True
            requires such a tool; False always uses Python's ``gzip``/``bz2``.
        counts: a Counter to add ``lines``, ``entities``, skips and parse paths to.
        fast: skip the claims when parsing (see the module docstring); False parses every
            whole line (same results, slower; for checking and measuring).

    Raises:
        InputFormatError: XP110 when the file does not exist (or ``external=True`` without a
            decompressor).
    """
    src = Path(path)
    counts = counts if counts is not None else Counter()
    wanted = tuple(dict.fromkeys(languages)) if languages is not None else None
    wanted_set = frozenset(wanted) if wanted is not None else None
    for item in _dump_lines(src, external):
        if isinstance(item, Reject):
            counts["rejects"] += 1
            yield item
            return
        number, raw = item
        counts["lines"] += 1
        line = raw.strip()
        if line[:1] == b"[":  # the opening bracket, alone or before the first entity
            line = line[1:].lstrip()
        if line[-1:] == b"]":  # an object ends with "}", so a final "]" closes the array
            line = line[:-1].rstrip()
        if line[-1:] == b",":
            line = line[:-1].rstrip()
        if not line:
            counts["array bracket or blank line"] += 1
            continue
        quick = _QUICK_ID.match(line)
        if quick is not None:
            kind = quick.group(1)
            if kind == b"P" and not properties:
                counts["property skipped"] += 1
                continue
            if kind not in (b"Q", b"P"):
                counts["other entity type skipped"] += 1
                continue
            if qids is not None and (kind + quick.group(2)).decode() not in qids:
                counts["not requested"] += 1
                continue
        try:
            obj, title = _parse_entity(line, aliases, counts, fast)
        except ValueError as err:  # orjson.JSONDecodeError and json.JSONDecodeError both are
            counts["rejects"] += 1
            yield _reject(
                src,
                number,
                E_MALFORMED_LINE,
                f"the line is not a JSON entity ({str(err)[:120]}). Fix: repair or remove the "
                "line (a dump line is one JSON object followed by a comma).",
                line,
            )
            continue
        qid = obj.get("id")
        if not isinstance(qid, str) or not _ENTITY_ID.fullmatch(qid):
            counts["rejects"] += 1
            missing = qid is None
            yield _reject(
                src,
                number,
                E_MISSING_FIELD if missing else E_MALFORMED_LINE,
                (
                    "the entity has no id"
                    if missing
                    else f"the id {str(qid)[:40]!r} is not an entity id"
                )
                + '. Fix: every dump entity needs an "id" like "Q42".',
                line,
            )
            continue
        if quick is None:  # the pattern did not see the id: apply the same filters now
            if qid[:1] == "P" and not properties:
                counts["property skipped"] += 1
                continue
            if qid[:1] not in ("Q", "P"):
                counts["other entity type skipped"] += 1
                continue
            if qids is not None and qid not in qids:
                counts["not requested"] += 1
                continue
        label_obj = obj.get("labels", {})
        if not isinstance(label_obj, dict):
            counts["rejects"] += 1
            yield _reject(
                src,
                number,
                E_MISSING_FIELD,
                f"{qid}: labels is not an object. Fix: write labels as "
                '{"en": {"language": "en", "value": …}}.',
                line,
            )
            continue
        labels = _labels_of(label_obj, wanted, wanted_set, counts)
        alias_map: dict[str, tuple[str, ...]] = {}
        if aliases:
            alias_obj = obj.get("aliases")
            if isinstance(alias_obj, dict):
                alias_map = _pick_languages(alias_obj, wanted, wanted_set, _alias_values, counts)
            elif alias_obj is not None:
                counts["bad name value"] += 1
        if not isinstance(title, str) or not title:
            if title is not None:
                counts["bad name value"] += 1
            title = None
        counts["entities"] += 1
        yield EntityNames(qid, labels, alias_map, title)


def _label_value(entry: Any, counts: Counter[str]) -> str | None:
    if isinstance(entry, dict):
        value = entry.get("value")
        if isinstance(value, str) and value.strip():
            return value
    counts["bad name value"] += 1
    return None


def _labels_of(
    obj: dict,
    wanted: tuple[str, ...] | None,
    wanted_set: frozenset[str] | None,
    counts: Counter[str],
) -> dict[str, str]:
    """``{lang: label}`` for the wanted languages: one comprehension for well-formed entries,
    :func:`_pick_languages` (which counts what it leaves out) when any entry is not."""
    try:
        if wanted is None:
            labels = {k: v["value"] for k, v in obj.items()}
        elif len(obj) < len(wanted):
            labels = {k: v["value"] for k, v in obj.items() if k in wanted_set}  # type: ignore[operator]
        else:
            labels = {k: obj[k]["value"] for k in wanted if k in obj}
        for value in labels.values():
            if type(value) is not str or not value or value.isspace():
                raise TypeError
        return labels
    except (TypeError, KeyError):
        return _pick_languages(obj, wanted, wanted_set, _label_value, counts)


def _alias_values(entry: Any, counts: Counter[str]) -> tuple[str, ...] | None:
    if not isinstance(entry, list):
        counts["bad name value"] += 1
        return None
    values = tuple(v for v in (_label_value(item, counts) for item in entry) if v is not None)
    return values or None


def _pick_languages(
    obj: dict,
    wanted: tuple[str, ...] | None,
    wanted_set: frozenset[str] | None,
    value: Callable[[Any, Counter[str]], Any],
    counts: Counter[str],
) -> dict[str, Any]:
    """``{lang: value(entry)}`` for the wanted languages of ``obj`` (bad entries left out)."""
    if wanted is None:
        items: Iterable[tuple[str, Any]] = obj.items()
    elif len(obj) < len(wanted):
        items = [(k, v) for k, v in obj.items() if k in wanted_set]  # type: ignore[operator]
    else:
        items = [(k, obj[k]) for k in wanted if k in obj]
    out: dict[str, Any] = {}
    for lang, entry in items:
        got = value(entry, counts)
        if got is not None:
            out[lang] = got
    return out


def load_names_from_dump(
    path: PathLike,
    languages: Iterable[str] | None,
    qids: Iterable[str] | None = None,
    *,
    aliases: bool = False,
    keep_unlabelled: bool = False,
    titles: TitleIndex | None = None,
    external: bool | None = None,
) -> LoadedNames:
    """Collect the names of a dump's entities into a table (one streaming pass).

    Args:
        path: the dump (``.json``, ``.json.gz``, ``.json.bz2``).
        languages: languages to keep (None: all).
        qids: only these entities (others are skipped before parsing).
        aliases: also keep aliases.
        keep_unlabelled: also add entities with no label in the requested languages (by
            default they are counted as ``no label in the requested languages`` and left out).
        titles: a :class:`TitleIndex` to add every enwiki sitelink to in the same pass.
        external: see :func:`iter_wikidata_dump`.

    Returns:
        The table, with the dump's rejects and counts.
    """
    wanted = tuple(dict.fromkeys(languages)) if languages is not None else ()
    table = LoadedNames(wanted)
    wanted_qids = frozenset(qids) if qids is not None else None
    for item in iter_wikidata_dump(
        path,
        languages,
        aliases=aliases,
        qids=wanted_qids,
        external=external,
        counts=table.counts,
    ):
        if isinstance(item, Reject):
            table.rejects.append(item)
            continue
        if titles is not None and item.enwiki_title:
            titles._add_counted(item.enwiki_title, item.qid)
        if not item.labels and not keep_unlabelled:
            table.counts["no label in the requested languages"] += 1
            continue
        table.add(item)
    return table


def title_index_from_dump(
    path: PathLike, redirects: PathLike | None = None, *, external: bool | None = None
) -> TitleIndex:
    """A :class:`TitleIndex` of the enwiki sitelinks of a dump, plus an optional redirects file.

    The dump's rejects and counts go to the index's ``rejects`` and ``counts``.
    """
    counts: Counter[str] = Counter()
    index = TitleIndex.from_entities(iter_wikidata_dump(path, (), counts=counts, external=external))
    index.counts.update(counts)
    if redirects is not None:
        _read_redirects(index, redirects)
    return index
