"""Title → QID indexes with redirects (from TSV files or a dump's enwiki sitelinks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from xproj.generators.entitycs.records import EntityNames, NameTable
from xproj.generators.entitycs.wikidata.common import MAX_REDIRECT_HOPS, QID_RE, PathLike, _reject
from xproj.generators.entitycs.wikidata.labels import _iter_byte_lines
from xproj.generators.entitycs.wikitext import normalize_title
from xproj.schemas.errors import (
    E_MALFORMED_LINE,
    Reject,
)

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
            fix = "write title<TAB>QID, one per line"
            _bad_line(index, "bad title line", path, number, why, fix, line, raw)
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


def _bad_line(
    index: TitleIndex,
    counter: str,
    path: PathLike,
    number: int,
    why: str,
    fix: str,
    line: str | None,
    raw: bytes,
) -> None:
    """Count a malformed line under ``counter`` and reject it (XP101, file and line), saying
    ``why`` it is malformed and the ``fix``; the decoded ``line``, or ``raw`` when not UTF-8."""
    index.counts[counter] += 1
    text = line if line is not None else raw
    index.rejects.append(_reject(path, number, E_MALFORMED_LINE, f"{why}. Fix: {fix}.", text))


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
            fix = "write from<TAB>to, one redirect per line"
            _bad_line(index, "bad redirect line", path, number, why, fix, line, raw)
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
