"""Which label stands for an entity in a language (the script rule), and label TSV files."""

from __future__ import annotations

import bz2
import gzip
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from xproj.generators.entitycs.records import EntityNames
from xproj.generators.entitycs.wikidata.common import (
    QID_RE,
    LoadedNames,
    PathLike,
    _missing_file,
    _reject,
)
from xproj.schemas.errors import (
    E_MALFORMED_LINE,
    E_MISSING_FIELD,
)

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
