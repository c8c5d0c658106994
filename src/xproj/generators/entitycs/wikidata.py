"""Wikidata names for EntityCS: label tables, title → QID indexes and a streaming dump reader.

Three sources, one result type (:class:`~xproj.generators.entitycs.records.NameTable`, here as its
subclass :class:`LoadedNames`, which also carries what reading left out):

* :func:`read_label_tsv` reads ``<lang>.txt`` label tables, one entity per line,
  ``QID<TAB>name<TAB>name…``, with the label and the aliases mixed and in no guaranteed order
  (the X-FACTR files in ``../shared/data/entities/wikidata-labels``). Since the file does not
  say which name is the label, :func:`pick_label` chooses one by a fixed rule (below).
* :func:`read_title_index` reads ``title<TAB>QID`` (and optionally ``from<TAB>to`` redirects)
  into a :class:`TitleIndex`; :func:`title_index_from_dump` builds the same index from the enwiki
  sitelinks of a Wikidata dump.
* :func:`iter_wikidata_dump` streams the Wikidata JSON dump (``.json``, ``.json.gz``,
  ``.json.bz2``; one entity per line inside a JSON array) and yields the names of each entity in
  the requested languages; :func:`load_names_from_dump` collects them into a table.

Nothing here raises for a bad line or record: it becomes a :class:`~xproj.schemas.errors.Reject` with
``file`` and ``line N`` (XP101 for a line that does not parse or breaks the format, XP108 for a
line or entity without a name or id), and every skipped or repaired item is counted by reason in
``counts``. Only a missing input file raises (XP110).

**Label rule** (:func:`pick_label`), applied to the names of one entity in one language:

1. Names are stripped; empty ones and repeats are dropped (counted), the rest keep file order.
2. *Label-like* names contain a letter, are not an all-upper-case abbreviation of at most three
   characters (``US``, ``JPN``) and are not the all-lower-case spelling of another name
   (``ireland`` beside ``Ireland``). Then, if some label-like name has a letter in the file's
   main script (the script of the first letter of most names in the file: ``CYRILLIC`` for
   ``ru.txt``; Chinese characters and kana count as one), only those stay (``Канада``, not
   ``Canada``, in ``ru.txt``). When no name is label-like, all names are candidates.
3. Among the candidates, the label is the one that (a) has no initials (a single letter followed
   by a period: ``F. Engels``, ``U.S.``), then (b) occurs as a whole-word sequence,
   case-insensitively, inside the most other names of the entity (``Earth`` in ``Planet Earth``
   and ``The Earth``; ``Canada`` in ``Dominion of Canada``), then (c) is the shortest, then
   (d) comes first in the file.
4. Every other name (label-like or not) is an alias, in file order.

Apart from the file's main script, the rule only uses the names of that one line, so the same
file always gives the same labels whatever else is read. Scripts that do not separate words
(Chinese, Japanese, Thai) rarely score in (b), so (c) and (d) decide there: the rule is a
heuristic and its labels are sometimes aliases (``Washington`` for George Washington).
``benchmarks/wikidata_dump.py`` reports how often the chosen English label is a mention surface
of the entity in FewRel, for this rule and for the plain "first label-like name" rule.

**Dump reading.** Each line is ``{"type":"item","id":"Q42","labels":{…},"descriptions":{…},
"aliases":{…},"claims":{…},"sitelinks":{…},…}`` followed by a comma. Claims are most of a line
and are not needed, so the reader parses only the part before ``,"claims":`` (closed with ``}``)
and takes the enwiki title from the ``"enwiki":`` sitelink with a pattern. On valid JSON this
gives what a full parse gives: an unescaped ``"claims":`` can only be an object key, the parser
refuses the cut when it is not at the top level, and items have no nested key named ``claims``,
``sitelinks`` or ``enwiki``. The text after the claims is not validated beyond the line ending
in ``}`` (a line cut short is parsed whole, hence rejected). Whenever a line does not have that
shape (no ``claims`` key, labels after claims, an unusual sitelink), the whole line is parsed
instead (counted as ``full parse``; ``fast=False`` forces it). ``orjson``
is used when installed (it comes with Prefect), else the standard ``json`` module. Compressed
dumps are decompressed by a separate process when a tool is on ``PATH`` (``pigz`` or ``gzip``;
``lbzip2``, ``pbzip2`` or ``bzip2``), so decompression and parsing run on two cores (on a quiet
2-core machine a ``gzip`` process reads a ``.json.gz`` 1.6 times as fast as Python's module);
``external=False`` uses Python's ``gzip``/``bz2`` modules instead. bz2 is slow to decompress:
single-threaded libbz2 caps a ``.json.bz2`` read at about 16,000 lines/s of 2.7 KB
(``benchmarks/wikidata_dump.py``), so prefer ``.json.gz`` (Wikidata publishes both) or install
``lbzip2``.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from xproj.generators.entitycs.records import EntityNames, NameTable
from xproj.generators.entitycs.wikitext import normalize_title
from xproj.schemas.errors import (
    E_FILE_NOT_FOUND,
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
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

__all__ = [
    "JSON_BACKEND",
    "LoadedNames",
    "TitleIndex",
    "iter_wikidata_dump",
    "load_names_from_dump",
    "pick_label",
    "read_label_tsv",
    "read_title_index",
    "title_index_from_dump",
]


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


# ------------------------------------------------------------------------------------ label rule

_WORD = re.compile(r"\w+")
_INITIALS = re.compile(r"(?<!\w)\w\.")


def _has_letter(name: str) -> bool:
    return any(ch.isalpha() for ch in name)


# Japanese mixes kanji and both kana; Chinese kanji are the same ideographs: one group.
_SCRIPT_GROUPS = {"CJK": "HAN-KANA", "HIRAGANA": "HAN-KANA", "KATAKANA": "HAN-KANA"}
_SCRIPT_GROUPS["KATAKANA-HIRAGANA"] = "HAN-KANA"
_SCRIPT_CACHE: dict[str, str] = {}


def char_script(ch: str) -> str:
    """The script of a letter as the first word of its Unicode name (``LATIN``, ``CYRILLIC``,
    ``HANGUL`` …), with CJK ideographs and kana grouped as ``HAN-KANA``."""
    script = _SCRIPT_CACHE.get(ch)
    if script is None:
        word = unicodedata.name(ch, "?").split(" ", 1)[0]
        script = _SCRIPT_CACHE[ch] = _SCRIPT_GROUPS.get(word, word)
    return script


def main_script(names: Iterable[str]) -> str | None:
    """The script of the first letter of most names (ties: alphabetical), or None without letters."""
    counts: Counter[str] = Counter()
    for name in names:
        for ch in name:
            if ch.isalpha():
                counts[char_script(ch)] += 1
                break
    if not counts:
        return None
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]


def _in_script(name: str, script: str) -> bool:
    return any(ch.isalpha() and char_script(ch) == script for ch in name)


def pick_label(
    names: Iterable[str], script: str | None = None
) -> tuple[str, tuple[str, ...]] | None:
    """The label and the aliases of one entity in one language, by the module's label rule.

    Args:
        names: the entity's names in file order (label and aliases mixed).
        script: the main script of the language (:func:`main_script`); names without a letter
            in it are not label-like when another name has one.

    Returns:
        ``(label, aliases)`` with the aliases in input order, or None when no name is left after
        stripping.

    Example:
        >>> pick_label(["Blue Planet", "Earth", "Planet Earth", "The Earth", "⊕"])
        ('Earth', ('Blue Planet', 'Planet Earth', 'The Earth', '⊕'))
    """
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        name = name.strip()
        if name and name not in seen:
            seen.add(name)
            unique.append(name)
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0], ()
    cased = {n.casefold() for n in unique if not n.islower()}
    candidates = [
        n
        for n in unique
        if _has_letter(n)
        and not (len(n) <= 3 and n.isupper())
        and not (n.islower() and n.casefold() in cased)
    ] or unique
    if script is not None and len(candidates) > 1:
        candidates = [n for n in candidates if _in_script(n, script)] or candidates
    if len(candidates) == 1:
        label = candidates[0]
        return label, tuple(n for n in unique if n != label)
    # " w1 w2 " strings: a whole-word sequence is contained iff its padded string is a substring
    padded = [" " + " ".join(_WORD.findall(n.casefold())) + " " for n in candidates]

    def rank(index: int) -> tuple[bool, int, int, int]:
        name, mine = candidates[index], padded[index]
        inside = 0
        if mine != "  ":
            for other in padded:
                if mine in other and mine != other:
                    inside += 1
        return (_INITIALS.search(name) is None, inside, -len(name), -index)

    label = candidates[max(range(len(candidates)), key=rank)]
    return label, tuple(n for n in unique if n != label)


# ------------------------------------------------------------------------------- label TSV files


def _language_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def _open_text_binary(path: Path) -> IO[bytes]:
    name = path.name
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return path.open("rb")


def _iter_byte_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(1-based line number, line without its terminator)``; a first-line BOM is dropped."""
    try:
        handle = _open_text_binary(path)
    except FileNotFoundError:
        raise _missing_file(path) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            yield number, raw.rstrip(b"\r\n")


def _label_files(
    dir_or_files: PathLike | Iterable[PathLike], languages: Iterable[str] | None
) -> tuple[list[tuple[str, Path]], list[str], int]:
    """``[(language, file)]`` to read, requested languages without a file, files not requested."""
    wanted = list(dict.fromkeys(languages)) if languages is not None else None
    if isinstance(dir_or_files, str | os.PathLike):
        root = Path(dir_or_files)
        if not root.exists():
            raise _missing_file(root)
        if root.is_dir():
            paths = [
                p
                for p in sorted(root.iterdir())
                if p.is_file() and p.name.endswith((".txt", ".tsv", ".txt.gz", ".txt.bz2"))
            ]
        else:
            paths = [root]
    else:
        paths = [Path(p) for p in dir_or_files]
        for p in paths:
            if not p.is_file():
                raise _missing_file(p)
    files = [(_language_of(p), p) for p in paths]
    if wanted is None:
        return files, [], 0
    keep = [(lang, p) for lang, p in files if lang in wanted]
    keep.sort(key=lambda item: wanted.index(item[0]))
    have = {lang for lang, _ in keep}
    return keep, [lang for lang in wanted if lang not in have], len(files) - len(keep)


def read_label_tsv(
    dir_or_files: PathLike | Iterable[PathLike], languages: Iterable[str] | None
) -> LoadedNames:
    """Read ``<lang>.txt`` label tables (``QID<TAB>name<TAB>name…``) into a name table.

    The language of a file is its name up to the first dot (``fr.txt``, ``fr.txt.gz`` → ``fr``).
    For each line, :func:`pick_label` chooses ``labels[lang]``; the other names become
    ``aliases[lang]``. A QID on several lines of one file has its names merged and the label
    picked again (counted as ``duplicate qid``).

    Rejected (XP101) with file and line: a line without a tab, a first field that is not a QID
    (``Q\\d+``), a line that is not UTF-8; (XP108) a line whose names are all empty (counted as
    ``empty label``). Blank lines, empty fields beside other names and repeated names are counted,
    not rejected.

    Args:
        dir_or_files: a folder holding ``<lang>.txt`` files, one file, or a list of files.
        languages: languages to keep (files of other languages are not read; counted as
            ``language not requested``); None reads every file. Requested languages without a
            file are listed in ``missing_languages``.

    Returns:
        The table, with ``rejects``, ``counts`` and ``missing_languages``.

    Raises:
        InputFormatError: XP110 when a named file or the folder does not exist.
    """
    files, missing, skipped = _label_files(dir_or_files, languages)
    table = LoadedNames(
        dict.fromkeys(languages) if languages is not None else [lang for lang, _ in files]
    )
    table.missing_languages = missing
    if skipped:
        table.counts["language not requested"] += skipped
    for lang, path in files:
        _read_one_label_file(table, lang, path)
    return table


def _file_script(path: Path) -> str | None:
    """:func:`main_script` over every name of a label file (a first, cheap pass)."""

    def names() -> Iterator[str]:
        for _, raw in _iter_byte_lines(path):
            fields = raw.decode("utf-8", errors="replace").split("\t")
            yield from fields[1:]

    return main_script(names())


def _read_one_label_file(table: LoadedNames, lang: str, path: Path) -> None:
    counts = table.counts
    script = table.scripts[lang] = _file_script(path)
    seen: set[str] = set()
    for number, raw in _iter_byte_lines(path):
        counts["lines"] += 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            counts["not utf-8"] += 1
            table.rejects.append(
                _reject(
                    path,
                    number,
                    E_MALFORMED_LINE,
                    f"the line is not valid UTF-8 ({err.reason}). Fix: convert the file to UTF-8.",
                    raw,
                )
            )
            continue
        if not line.strip():
            counts["blank line"] += 1
            continue
        if "\t" not in line:
            counts["no tab"] += 1
            table.rejects.append(
                _reject(
                    path,
                    number,
                    E_MALFORMED_LINE,
                    "no tab: expected QID<TAB>name[<TAB>name…]. Fix: separate the fields with tabs.",
                    line,
                )
            )
            continue
        qid, *fields = line.split("\t")
        qid = qid.strip()
        if not QID_RE.fullmatch(qid):
            counts["bad qid"] += 1
            table.rejects.append(
                _reject(
                    path,
                    number,
                    E_MALFORMED_LINE,
                    f"{qid[:40]!r} is not a Wikidata item id (Q followed by digits). "
                    "Fix: put the QID in the first column.",
                    line,
                )
            )
            continue
        names = [f.strip() for f in fields]
        empty = sum(1 for n in names if not n)
        if empty:
            counts["empty name field"] += empty
        names = [n for n in names if n]
        if len(set(names)) < len(names):
            counts["repeated name"] += len(names) - len(set(names))
        if not names:
            counts["empty label"] += 1
            table.rejects.append(
                _reject(
                    path,
                    number,
                    E_MISSING_FIELD,
                    f"{qid} has no name. Fix: give at least one non-empty name after the QID.",
                    line,
                )
            )
            continue
        if qid in seen:
            counts["duplicate qid"] += 1
            old = table.get(qid)
            if old is not None and lang in old.labels:
                names = [old.labels[lang], *old.aliases.get(lang, ()), *names]
        seen.add(qid)
        picked = pick_label(names, script)
        assert picked is not None  # names holds at least one non-empty string
        label, aliases = picked
        counts["entity names"] += 1
        table.add(EntityNames(qid, {lang: label}, {lang: aliases} if aliases else {}))


# ------------------------------------------------------------------------------------ title index


class TitleIndex:
    """English Wikipedia title → QID, with redirects.

    Titles are stored normalised by the wikitext reader's
    :func:`~xproj.generators.entitycs.wikitext.normalize_title` (so link targets and sitelink titles
    meet in one form); a redirect maps a normalised title to
    another. :meth:`qid` resolves redirects first: it returns the QID of the last title of the
    redirect chain, or, when that one has none (a redirect to an unknown page, a cycle), the QID of
    the nearest earlier title on the chain that has one (Wikidata links some redirects directly).

    Attributes:
        rejects: lines that were not used (file, ``line N``).
        counts: lines read and skipped, and redirect cycles met in lookups, by reason.
    """

    def __init__(self) -> None:
        self._qids: dict[str, str] = {}
        self._redirects: dict[str, str] = {}
        self.rejects: list[Reject] = []
        self.counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._qids)

    def __contains__(self, title: object) -> bool:
        return isinstance(title, str) and self.qid(title) is not None

    @property
    def redirect_count(self) -> int:
        return len(self._redirects)

    def add(self, title: str, qid: str) -> str | None:
        """Map ``title`` to ``qid``; returns the QID it already had when that differs (kept)."""
        key = normalize_title(title)
        old = self._qids.setdefault(key, qid)
        return old if old != qid else None

    def add_redirect(self, source: str, target: str) -> None:
        """Record that ``source`` redirects to ``target`` (a ``#section`` is dropped)."""
        self._redirects[normalize_title(source)] = normalize_title(target.split("#", 1)[0])

    def chain(self, title: str) -> list[str]:
        """The normalised title and the titles it redirects to, in order, without repeats.

        Stops at a title that redirects nowhere, at a cycle (counted as ``redirect cycle``) or
        after :data:`MAX_REDIRECT_HOPS` hops (counted as ``redirect chain too long``).
        """
        current = normalize_title(title.split("#", 1)[0])
        out = [current]
        seen = {current}
        for _ in range(MAX_REDIRECT_HOPS):
            nxt = self._redirects.get(current)
            if nxt is None:
                return out
            if nxt in seen:
                self.counts["redirect cycle"] += 1
                return out
            out.append(nxt)
            seen.add(nxt)
            current = nxt
        if current in self._redirects:
            self.counts["redirect chain too long"] += 1
        return out

    def resolve(self, title: str) -> str:
        """The title a link to ``title`` ends on after following redirects."""
        return self.chain(title)[-1]

    def qid(self, title: str) -> str | None:
        """The QID of a link target (``New_York_City``, ``NYC#History``), or None when unknown."""
        if not title or not title.split("#", 1)[0].strip():
            return None
        for name in reversed(self.chain(title)):
            qid = self._qids.get(name)
            if qid is not None:
                return qid
        return None

    @classmethod
    def from_entities(cls, entities: Iterable[EntityNames | Reject]) -> TitleIndex:
        """An index of the ``enwiki_title`` of each entity (rejects are kept in ``rejects``)."""
        index = cls()
        for item in entities:
            if isinstance(item, Reject):
                index.rejects.append(item)
            elif item.enwiki_title:
                index._add_counted(item.enwiki_title, item.qid)
        return index

    @classmethod
    def from_names(cls, names: NameTable | Iterable[EntityNames], lang: str = "en") -> TitleIndex:
        """A stand-in index when no sitelink table is at hand: every name in ``lang`` as a title.

        Each entity's label in ``lang``, then its aliases, are taken as page titles of that
        language's Wikipedia (English labels standing in for enwiki titles). A label is often the
        title, but not always (titles disambiguate, ``Paris, Texas``; labels repeat), so this is a
        proxy, good enough to exercise the pipeline, not a substitute for real sitelinks. Names
        are normalised with :func:`~xproj.generators.entitycs.wikitext.normalize_title`; a title that
        several entities share keeps the first entity's QID, in the order of ``names`` (a label
        table keeps file order).

        Args:
            names: a name table (for instance from :func:`read_label_tsv`) or its entities.
            lang: the language whose names become titles.

        Returns:
            The index; ``counts`` holds ``names`` (non-blank names read), ``titles`` (distinct
            titles), ``repeated name`` (a title the same entity already gave, e.g. ``ireland``
            beside ``Ireland``), ``conflicting title`` (a title another entity already had; the
            first QID is kept) and ``entities without a name`` in ``lang``.
        """
        # NameTable has no public iteration yet: read its entries directly (same package).
        entities = names._names.values() if isinstance(names, NameTable) else names
        index = cls()
        counts = index.counts
        for entity in entities:
            given = [entity.labels.get(lang) or "", *entity.aliases.get(lang, ())]
            titles = [t for t in (normalize_title(n) for n in given) if t]
            if not titles:
                counts["entities without a name"] += 1
                continue
            for title in titles:
                counts["names"] += 1
                old = index._qids.get(title)
                if old is None:  # already normalised: stored as add() would store it
                    index._qids[title] = entity.qid
                    counts["titles"] += 1
                elif old == entity.qid:
                    counts["repeated name"] += 1
                else:
                    counts["conflicting title"] += 1
        return index

    def _add_counted(self, title: str, qid: str) -> str | None:
        old = self.add(title, qid)
        if old is not None:
            self.counts["conflicting title"] += 1
        else:
            self.counts["titles"] += 1
        return old


def _read_pairs(
    path: PathLike, counts: Counter[str]
) -> Iterator[tuple[int, str | None, list[str], bytes]]:
    """``(line number, decoded line or None when not UTF-8, tab fields, raw)`` per non-blank line
    (blank lines are counted)."""
    for number, raw in _iter_byte_lines(Path(path)):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None, [], raw
            continue
        if line.strip():
            yield number, line, line.split("\t"), raw
        else:
            counts["blank line"] += 1


def read_title_index(path: PathLike, redirects: PathLike | None = None) -> TitleIndex:
    """Read a ``title<TAB>QID`` file and optionally a ``from<TAB>to`` redirects file.

    Titles are normalised (``New_York_City`` and ``new York City`` are one title). A title mapped
    again to another QID keeps the first (the later line is rejected, XP101). Redirect cycles are
    found when the redirects are read: every redirect of a cycle is rejected and removed, so the
    titles of a cycle map to their own QIDs only. Either file may be ``.gz`` or ``.bz2``.

    Rejected with file and line (XP101): not exactly two tab-separated fields, an empty title or
    target, a QID that is not ``Q\\d+``, a line that is not UTF-8, a redirect to itself.

    Raises:
        InputFormatError: XP110 when a file does not exist.
    """
    index = TitleIndex()
    counts = index.counts
    for number, line, fields, raw in _read_pairs(path, counts):
        counts["title lines"] += 1
        why = _pair_problem(line, fields)
        if why is None and not QID_RE.fullmatch(fields[1].strip()):
            why = f"{fields[1].strip()[:40]!r} is not a Wikidata item id (Q followed by digits)"
        if why is not None:
            counts["bad title line"] += 1
            index.rejects.append(
                _reject(
                    path,
                    number,
                    E_MALFORMED_LINE,
                    f"{why}. Fix: write title<TAB>QID, one per line.",
                    line if line is not None else raw,
                )
            )
            continue
        title, qid = fields[0], fields[1].strip()
        old = index._add_counted(title, qid)
        if old is not None:
            index.rejects.append(
                _reject(
                    path,
                    number,
                    E_MALFORMED_LINE,
                    f"{normalize_title(title)!r} is already mapped to {old}; kept {old}, not "
                    f"{qid}. Fix: map each title once.",
                    line or "",
                )
            )
    if redirects is not None:
        _read_redirects(index, redirects)
    return index


def _pair_problem(line: str | None, fields: list[str]) -> str | None:
    if line is None:
        return "the line is not valid UTF-8"
    if len(fields) != 2:
        return f"expected 2 tab-separated fields, found {len(fields)}"
    if not normalize_title(fields[0]) or not fields[1].strip():
        return "an empty field"
    return None


def _read_redirects(index: TitleIndex, path: PathLike) -> None:
    counts = index.counts
    where: dict[str, tuple[int, str]] = {}
    for number, line, fields, raw in _read_pairs(path, counts):
        counts["redirect lines"] += 1
        why = _pair_problem(line, fields)
        if why is None and not normalize_title(fields[1].split("#", 1)[0]):
            why = "the target is only a #section"
        if why is None:
            source = normalize_title(fields[0])
            target = normalize_title(fields[1].split("#", 1)[0])
            if source == target:
                why = f"{source!r} redirects to itself"
        if why is not None:
            counts["bad redirect line"] += 1
            index.rejects.append(
                _reject(
                    path,
                    number,
                    E_MALFORMED_LINE,
                    f"{why}. Fix: write from<TAB>to, one redirect per line.",
                    line if line is not None else raw,
                )
            )
            continue
        if source in index._redirects:
            counts["redirect replaced"] += 1
        index.add_redirect(source, target)
        where[source] = (number, line or "")
    # Cycles: each title has at most one outgoing redirect, so follow each chain once.
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    for start in list(index._redirects):
        walk: list[str] = []
        node: str | None = start
        while node is not None and node in index._redirects and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = index._redirects[node]
        if node is not None and state.get(node) == 1:
            cycle = walk[walk.index(node) :]
            for member in cycle:
                number, line = where[member]
                index.rejects.append(
                    _reject(
                        path,
                        number,
                        E_MALFORMED_LINE,
                        f"redirect cycle: {' → '.join([*cycle, cycle[0]])}. Fix: point one of "
                        "them at the article.",
                        line,
                    )
                )
                counts["redirect in a cycle"] += 1
            for member in cycle:
                del index._redirects[member]
        for member in walk:
            state[member] = 2


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
