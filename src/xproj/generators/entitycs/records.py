"""Typed records of the EntityCS builder: linked text in, code-switched sentences out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Link:
    """A link in a text: ``text[start:end]`` is its surface.

    ``target`` is the linked page title as written (``New_York_City``) for wikitext, or empty when
    the source links to QIDs directly; ``qid`` is set when the source gives it (entity-linked
    sentences) or once the title has been mapped.
    """

    start: int
    end: int
    target: str = ""
    qid: str | None = None

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"empty or negative link [{self.start}, {self.end})")


@dataclass(frozen=True, slots=True)
class LinkedText:
    """A text with its links, in order and non-overlapping.

    ``id`` is stable across runs (article title + paragraph number, or the dataset's record id);
    ``source`` names the file and, where there is one, the line, so rejects can point at it.
    ``markup`` counts what the wikitext reader removed or reduced, per kind, for statistics.
    """

    id: str
    text: str
    links: tuple[Link, ...]
    source: str = ""
    markup: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        prev = 0
        for link in self.links:
            if link.start < prev or link.end > len(self.text):
                raise ValueError(f"link [{link.start}, {link.end}) overlaps or leaves the text")
            prev = link.end


@dataclass(frozen=True, slots=True)
class EntityNames:
    """Names of one Wikidata entity: per language, its label and (optionally) its aliases.

    From a label table that does not say which name is the label (the shared TSVs mix them), the
    reader picks one by a fixed rule (``xproj.generators.entitycs.wikidata.pick_label``) and the other
    names become aliases.
    """

    qid: str
    labels: dict[str, str]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    enwiki_title: str | None = None


class NameTable:
    """QID → :class:`EntityNames`, the lookup the switcher uses (readers in ``wikidata.py``).

    A plain in-memory implementation; readers fill it with only the requested languages.
    """

    def __init__(self, languages: tuple[str, ...] = ()) -> None:
        self.languages = tuple(languages)
        self._names: dict[str, EntityNames] = {}

    def add(self, names: EntityNames) -> None:
        """Add or merge the names of one entity (later languages extend earlier ones)."""
        old = self._names.get(names.qid)
        if old is None:
            self._names[names.qid] = names
            return
        self._names[names.qid] = EntityNames(
            names.qid,
            {**old.labels, **names.labels},
            {**old.aliases, **names.aliases},
            names.enwiki_title or old.enwiki_title,
        )

    def get(self, qid: str) -> EntityNames | None:
        return self._names.get(qid)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, qid: object) -> bool:
        return qid in self._names
