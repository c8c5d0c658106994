"""Entity code-switching (EntityCS): switch the linked entities of English sentences to other languages.

One :meth:`Switcher.process` call per input :class:`LinkedText` (a wikitext paragraph or an
already-split sentence) returns every row that record yields and updates a :class:`SwitchStats`.
The steps, with the published EntityCS parameters as the defaults of :class:`SwitchSettings`:

1. **Sentences.** With ``segment=True`` the text is split by a spaCy pipeline (``spacy.blank(lang)``
   plus ``sentencizer`` by default) and any two sentences that a link crosses are merged, so no link
   is ever cut. Sentence ids are ``"{record id}#{k}"`` (k counts non-blank sentences from 0).
   With ``segment=False`` (FewRel and other sentence-level sources) the record is one sentence and
   keeps its id. A segmentation language spaCy cannot load drops the *record* with reason
   ``segmenter_unavailable`` (counted in ``documents_dropped``), it does not raise; so does a
   blank text (``empty_text``).
2. **Filters** (the first that applies is the sentence's reason, in this order):
   ``table_or_list_markup`` (a line starting with ``* # : ; | !``, a ``{|``/``|}`` table
   delimiter, or a record flagged ``list``/``table_row`` in ``markup`` by the wikitext reader), ``file_or_image`` (a ``File:``/``Image:`` line, link or ``|thumb|`` caption markup),
   ``tag_in_text`` (the text already contains one of our tags, e.g. ``<br>`` is Breton's tag),
   ``too_short`` (``len(text) <= min_chars``), ``too_long`` (more than ``max_words``
   whitespace-separated words), ``too_few_links`` / ``too_many_links`` (all links, mapped or not),
   ``single_link_too_long`` (one link covering more than ``max_single_link_share`` of the text).
3. **Mapping.** A link's QID is ``link.qid`` when set, else ``title_index.qid(link.target)`` (the
   index is duck-typed and must normalize titles and resolve redirects itself). Links that cannot
   be switched stay English, untagged, and count one entity reason each: ``unmapped_title`` (no
   QID), ``qid_not_in_label_table``, ``empty_label`` (the QID is in the table but has no non-blank
   name in any configured language). A sentence with no switchable entity: ``no_mapped_entity``.
4. **Languages.** Candidates = the configured languages (in their configured order) in which
   *every* switchable entity has a label (or, with ``use_aliases``, a label or alias). None:
   ``no_common_language``. Up to ``max_languages`` are sampled with a RNG seeded by
   ``(seed, sentence id)`` only, so the choice does not depend on input order or sharding; output
   rows follow the configured language order.
5. **Rows.** ``{id, en_sentence}`` with ``<en>…</en>`` around every switchable entity (unmapped
   links are not tagged, so the English row and every switched row tag the same entities); per
   sampled language ``{id, en_sentence, cs_sentence, language}`` where *all* tagged entities are
   replaced by ``<xx>name</xx>``; and per switched entity ``{id, language, qid, en_surface,
   switched_surface}``. The name is the entity's label in that language; with ``use_aliases`` one
   of label and aliases, chosen by a RNG seeded by ``(seed, sentence id, language, qid)``.

Guarantees (tested): outside the tagged spans a switched sentence is character-identical to its
English sentence; every switched surface is the chosen name of its QID in that language; every
kept sentence passes the filters; the same inputs, settings and seed give the same rows.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from xproj.generators.entitycs.records import EntityNames, Link, LinkedText, NameTable
from xproj.generators.entitycs.wikitext.markup import FLAG_KEYS, RESIDUE_MARKERS
from xproj.schemas.errors import E_BAD_CONFIG, FORBID_EXTRA, ConfigError
from xproj.schemas.languages import is_known_lang, language_set
from xproj.schemas.tables import (
    CS_CLOSE_TAG,
    CS_OPEN_TAG,
    EntityCSDroppedRow,
    EntityCSEnRow,
    EntityCSEntityRow,
    EntityCSRow,
)

# The 100 languages of XLM-R's pre-training data (CC-100; Conneau et al., ACL 2020, Table 6) as
# 93 distinct codes: the paper's romanized Bengali/Hindi/Tamil/Telugu/Urdu, Burmese in Zawgyi and
# Traditional Chinese are the same languages as bn/hi/ta/te/ur/my/zh here. ISO 639-1 codes; ``no``
# is Norwegian as in the paper (Wikidata labels it mostly as ``nb``: map it in the label reader).
XLMR_LANGUAGES: tuple[str, ...] = language_set("xlmr")
#: XLM-R's languages without English: the default switch targets (92).
XLMR_TARGET_LANGUAGES: tuple[str, ...] = tuple(c for c in XLMR_LANGUAGES if c != "en")

#: Reasons a sentence is dropped, in the order the checks run.
SENTENCE_REASONS: tuple[str, ...] = (
    "table_or_list_markup",
    "file_or_image",
    "markup_residue",
    "tag_in_text",
    "too_short",
    "too_long",
    "too_few_links",
    "too_many_links",
    "single_link_too_long",
    "no_mapped_entity",
    "no_common_language",
)
#: Reasons a whole input record is dropped before it is split into sentences.
DOCUMENT_REASONS: tuple[str, ...] = ("empty_text", "segmenter_unavailable")
#: Reasons a link stays English.
ENTITY_REASONS: tuple[str, ...] = ("unmapped_title", "qid_not_in_label_table", "empty_label")


class TitleLookup(Protocol):
    """Anything that maps a linked page title to its Wikidata QID."""

    def qid(self, title: str) -> str | None: ...


def _bad(message: str, fix: str) -> ConfigError:
    return ConfigError(message, fix=fix, code=E_BAD_CONFIG)


@dataclass(frozen=True)
class SwitchSettings:
    """Parameters of the switcher; the defaults are the published EntityCS ones.

    Attributes:
        languages: languages to switch into (default: XLM-R's 92 non-English languages).
        max_languages: at most this many switched sentences per English sentence.
        seed: seed of the per-sentence language (and alias) sampling.
        min_links: keep sentences with at least this many links.
        max_links: keep sentences with at most this many links.
        min_chars: keep sentences *longer* than this many characters.
        max_words: keep sentences with at most this many whitespace-separated words.
        max_single_link_share: drop a one-link sentence whose link covers more than this share
            of the sentence's characters.
        use_aliases: also switch to aliases (EntityCS uses labels only).
        open_tag: tag before an entity, ``{lang}`` replaced by its language code.
        close_tag: tag after an entity.
        source_language: language of the input text (its tag in the English rows).
        segment: split records into sentences (off for sentence-level sources such as FewRel).
            None (the default): the ``entitycs`` flow decides by the source's format; the
            switcher itself then splits.
        segment_language: language of the spaCy pipeline that splits records.
        spacy_pipeline: ``"sentencizer"`` for ``spacy.blank(segment_language)`` + sentencizer, or
            the name or path of an installed spaCy pipeline (a sentencizer is added when it has no
            parser/senter).
        markup_flags: keys of ``LinkedText.markup`` that mark a record as a list item or table
            row (the wikitext reader strips the markers and sets these flags instead); every
            sentence of a flagged record is dropped as ``table_or_list_markup``.
    """

    __pydantic_config__ = FORBID_EXTRA

    languages: tuple[str, ...] = XLMR_TARGET_LANGUAGES
    max_languages: int = 5
    seed: int = 0
    min_links: int = 1
    max_links: int = 10
    min_chars: int = 20
    max_words: int = 128
    max_single_link_share: float = 0.5
    use_aliases: bool = False
    open_tag: str = CS_OPEN_TAG
    close_tag: str = CS_CLOSE_TAG
    source_language: str = "en"
    segment: bool | None = None
    segment_language: str = "en"
    spacy_pipeline: str = "sentencizer"
    markup_flags: tuple[str, ...] = FLAG_KEYS

    def __post_init__(self) -> None:
        langs = tuple(self.languages)
        object.__setattr__(self, "languages", langs)
        object.__setattr__(self, "markup_flags", tuple(self.markup_flags))
        if not langs:
            raise _bad("no languages to switch into.", "give at least one language code.")
        if len(set(langs)) != len(langs):
            raise _bad("languages are listed twice.", "list each language once.")
        unknown = [c for c in (*langs, self.source_language) if not is_known_lang(c)]
        if unknown:
            raise _bad(f"unknown language codes {unknown}.", "use ISO 639-1/-3 codes.")
        if self.source_language in langs:
            raise _bad(
                f"the source language {self.source_language!r} is among the targets.",
                "remove it from languages.",
            )
        if self.max_languages < 1:
            raise _bad("max_languages must be at least 1.", "set max_languages >= 1.")
        if not 0 <= self.min_links <= self.max_links:
            raise _bad("need 0 <= min_links <= max_links.", "fix min_links / max_links.")
        if self.min_chars < 0 or self.max_words < 1:
            raise _bad("need min_chars >= 0 and max_words >= 1.", "fix the length limits.")
        if not 0 < self.max_single_link_share <= 1:
            raise _bad("max_single_link_share must be in (0, 1].", "use a share such as 0.5.")
        for name in ("open_tag", "close_tag"):
            tag = getattr(self, name)
            if "{lang}" not in tag or not tag.replace("{lang}", "").strip():
                raise _bad(
                    f"{name} {tag!r} must contain '{{lang}}' and some markup.",
                    "use e.g. '<{lang}>' and '</{lang}>'.",
                )
            try:
                tag.format(lang="xx")
            except (KeyError, IndexError, ValueError):
                raise _bad(f"{name} {tag!r} is not a valid template.", "escape braces.") from None

    def tags(self, lang: str) -> tuple[str, str]:
        """The opening and closing tag of ``lang``."""
        return self.open_tag.format(lang=lang), self.close_tag.format(lang=lang)


# ----------------------------------------------------------------------------- statistics


@dataclass
class SwitchStats:
    """Counts over one or more :meth:`Switcher.process` calls; shards combine with :meth:`merge`.

    ``sentences_read == sentences_kept + sum(sentences_dropped.values())``; records dropped whole
    (``documents_dropped``) contribute no sentences. Entity reasons and ``links`` count the links
    of sentences that passed the filters of step 2 (those whose links were looked up).
    """

    documents: int = 0
    documents_dropped: Counter = field(default_factory=Counter)
    sentences_read: int = 0
    sentences_kept: int = 0
    sentences_dropped: Counter = field(default_factory=Counter)
    links: int = 0
    entities_mapped: int = 0
    entity_reasons: Counter = field(default_factory=Counter)
    input_markup: Counter = field(default_factory=Counter)
    cs_sentences: int = 0
    entities_switched: int = 0
    language_sentences: Counter = field(default_factory=Counter)
    language_entities: Counter = field(default_factory=Counter)

    def merge(self, other: SwitchStats) -> None:
        """Add ``other``'s counts to these."""
        for name in ("documents", "sentences_read", "sentences_kept", "links"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("entities_mapped", "cs_sentences", "entities_switched"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in (
            "documents_dropped",
            "sentences_dropped",
            "entity_reasons",
            "input_markup",
            "language_sentences",
            "language_entities",
        ):
            getattr(self, name).update(getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary with sorted keys (languages in code order)."""
        langs = sorted(set(self.language_sentences) | set(self.language_entities))
        return {
            "documents": self.documents,
            "documents_dropped": dict(sorted(self.documents_dropped.items())),
            "sentences_read": self.sentences_read,
            "sentences_kept": self.sentences_kept,
            "sentences_dropped": dict(sorted(self.sentences_dropped.items())),
            "links": self.links,
            "entities_mapped": self.entities_mapped,
            "entity_reasons": dict(sorted(self.entity_reasons.items())),
            "input_markup": dict(sorted(self.input_markup.items())),
            "cs_sentences": self.cs_sentences,
            "entities_switched": self.entities_switched,
            "per_language": {
                lang: {
                    "sentences": self.language_sentences[lang],
                    "entities": self.language_entities[lang],
                }
                for lang in langs
            },
        }


@dataclass
class SwitchOutput:
    """The rows one input record produced, as records of the EntityCS tables.

    Attributes:
        en_rows: ``entitycs_en``, one per kept sentence.
        cs_rows: ``entitycs_cs``, one per kept sentence and language.
        entity_rows: ``entitycs_entities``, one per switched entity.
        dropped: ``entitycs_dropped``, one per dropped sentence (or record, for document reasons).
    """

    en_rows: list[EntityCSEnRow] = field(default_factory=list)
    cs_rows: list[EntityCSRow] = field(default_factory=list)
    entity_rows: list[EntityCSEntityRow] = field(default_factory=list)
    dropped: list[EntityCSDroppedRow] = field(default_factory=list)


# ----------------------------------------------------------------------------- segmentation


class SegmenterUnavailable(Exception):
    """spaCy cannot build the requested sentence splitter (missing language module or package)."""


#: (language, pipeline) → loaded spaCy pipeline, or the reason it cannot be loaded (a string).
_PIPELINES: dict[tuple[str, str], Any] = {}


def _load_spacy(language: str, pipeline: str) -> Any:
    key = (language, pipeline)
    if key not in _PIPELINES:
        from xproj.text import pipelines  # lazy: spaCy is only needed when records are split

        try:
            nlp = (
                pipelines.blank(language)
                if pipeline == "sentencizer"
                else pipelines.load(pipeline, purpose="sentence segmentation")
            )
        except (ImportError, OSError, ValueError, KeyError, ConfigError) as err:
            _PIPELINES[key] = f"{language}/{pipeline}: {err}"
        else:
            if not any(n in nlp.pipe_names for n in ("parser", "senter", "sentencizer")):
                nlp.add_pipe("sentencizer")
            _PIPELINES[key] = nlp
    got = _PIPELINES[key]
    if isinstance(got, str):
        raise SegmenterUnavailable(got)
    return got


def spacy_sentence_starts(
    text: str, language: str = "en", pipeline: str = "sentencizer"
) -> list[int]:
    """Character offsets where spaCy starts a new sentence, the first sentence excluded.

    Raises:
        SegmenterUnavailable: spaCy has no such language module or pipeline package.
    """
    nlp = _load_spacy(language, pipeline)
    return [sent.start_char for sent in nlp(text).sents][1:]


def split_linked(doc: LinkedText, starts: Iterable[int]) -> list[LinkedText]:
    """Split ``doc`` at sentence starts that fall outside every link; trim blank edges.

    A cut strictly inside a link is skipped, which merges the two sentences the link crosses.
    Whitespace at a sentence's edges is trimmed unless it belongs to a link. Blank pieces are not
    sentences and are skipped. Pieces get ids ``"{doc.id}#{k}"`` and links shifted to them.

    Args:
        doc: the record.
        starts: offsets where a segmenter starts sentences (any order; 0 and the end are ignored).

    Returns:
        The sentences, in text order.
    """
    text = doc.text
    inside = [c for c in set(starts) if 0 < c < len(text)]
    cuts = sorted(c for c in inside if not any(x.start < c < x.end for x in doc.links))
    bounds = [0, *cuts, len(text)]
    out: list[LinkedText] = []
    li = 0
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        links: list[Link] = []
        while li < len(doc.links) and doc.links[li].start < hi:
            links.append(doc.links[li])
            li += 1
        piece = text[lo:hi]
        a = lo + len(piece) - len(piece.lstrip())
        b = lo + len(piece.rstrip())
        if links:
            a, b = min(a, links[0].start), max(b, links[-1].end)
        if a >= b:
            continue
        shifted = tuple(Link(x.start - a, x.end - a, x.target, x.qid) for x in links)
        out.append(LinkedText(f"{doc.id}#{len(out)}", text[a:b], shifted, source=doc.source))
    return out


# ----------------------------------------------------------------------------- filters

_LIST_START = frozenset("*#:;|!")
# Wiki markup that must never reach a kept sentence is what the wikitext reader counts as residue
# (RESIDUE_MARKERS); a reader that left some (broken source markup) gets the sentence dropped with
# ``markup_residue`` rather than passed on.
_FILE_LINE = re.compile(r"^\s*\[*\s*:?\s*(?:file|image)\s*:", re.IGNORECASE | re.MULTILINE)
_FILE_TARGET = re.compile(r"^\s*:?\s*(?:file|image)\s*:", re.IGNORECASE)
_THUMB = re.compile(r"\|\s*(?:thumb|thumbnail|frameless|upright)\s*(?:\||\]\]|$)", re.IGNORECASE)


def _tag_pattern(settings: SwitchSettings) -> re.Pattern[str]:
    tags = {
        t for lang in (settings.source_language, *settings.languages) for t in settings.tags(lang)
    }
    return re.compile("|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True)))


def filter_reason(
    sent: LinkedText, settings: SwitchSettings, tag_re: re.Pattern[str]
) -> str | None:
    """The first structural filter ``sent`` fails (step 2 of the module docstring), or None."""
    text = sent.text
    if (
        "{|" in text
        or "|}" in text
        or any(line.lstrip()[:1] in _LIST_START for line in text.split("\n") if line.strip())
    ):
        return "table_or_list_markup"
    if (
        _FILE_LINE.search(text)
        or _THUMB.search(text)
        or any(_FILE_TARGET.match(link.target) for link in sent.links)
    ):
        return "file_or_image"
    if any(marker in text for marker in RESIDUE_MARKERS):
        return "markup_residue"
    if tag_re.search(text):
        return "tag_in_text"
    if len(text) <= settings.min_chars:
        return "too_short"
    if len(text.split()) > settings.max_words:
        return "too_long"
    if len(sent.links) < settings.min_links:
        return "too_few_links"
    if len(sent.links) > settings.max_links:
        return "too_many_links"
    if len(sent.links) == 1:
        link = sent.links[0]
        if (link.end - link.start) / len(text) > settings.max_single_link_share:
            return "single_link_too_long"
    return None


# ----------------------------------------------------------------------------- mapping, languages


@dataclass(frozen=True)
class MappedEntity:
    """A link that can be switched: its QID and, per configured language, the names to pick from."""

    link: Link
    qid: str
    names: dict[str, tuple[str, ...]]


def entity_names(
    names: EntityNames, settings: SwitchSettings, tag_re: re.Pattern[str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Per configured language, the names an entity may switch to (label first, no blanks).

    Without ``use_aliases`` only the label counts; with it, label then aliases, duplicates
    removed. Names containing one of our tags are left out (they would break the tagging).
    """
    out: dict[str, tuple[str, ...]] = {}
    for lang in settings.languages:
        cands = [names.labels.get(lang, "")]
        if settings.use_aliases:
            cands.extend(names.aliases.get(lang, ()))
        seen: dict[str, None] = {}
        for name in cands:
            name = (name or "").strip()
            if name and (tag_re is None or not tag_re.search(name)):
                seen.setdefault(name, None)
        if seen:
            out[lang] = tuple(seen)
    return out


def map_links(
    sent: LinkedText,
    names: NameTable,
    title_index: TitleLookup | None,
    settings: SwitchSettings,
    tag_re: re.Pattern[str] | None = None,
) -> tuple[list[MappedEntity], list[tuple[Link, str]]]:
    """Split a sentence's links into switchable entities and ``(link, entity reason)`` pairs."""
    mapped: list[MappedEntity] = []
    failed: list[tuple[Link, str]] = []
    for link in sent.links:
        qid = link.qid
        if not qid and link.target and title_index is not None:
            qid = title_index.qid(link.target)
        if not qid:
            failed.append((link, "unmapped_title"))
            continue
        entry = names.get(qid)
        if entry is None:
            failed.append((link, "qid_not_in_label_table"))
            continue
        per_lang = entity_names(entry, settings, tag_re)
        if not per_lang:
            failed.append((link, "empty_label"))
            continue
        mapped.append(MappedEntity(link, qid, per_lang))
    return mapped, failed


def candidate_languages(
    entities: Sequence[MappedEntity], settings: SwitchSettings
) -> tuple[str, ...]:
    """Configured languages (in configured order) in which every entity has a name."""
    if not entities:
        return ()
    return tuple(lang for lang in settings.languages if all(lang in e.names for e in entities))


def _rng(seed: int, *parts: str) -> random.Random:
    key = "\x1f".join((str(seed), *parts)).encode("utf-8")
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def sample_languages(
    candidates: Sequence[str], sentence_id: str, settings: SwitchSettings
) -> tuple[str, ...]:
    """Up to ``max_languages`` of ``candidates``, drawn by a RNG seeded by (seed, sentence id).

    Returns them in the order of ``candidates`` (the configured order).
    """
    k = min(settings.max_languages, len(candidates))
    chosen = set(_rng(settings.seed, "languages", sentence_id).sample(list(candidates), k))
    return tuple(c for c in candidates if c in chosen)


def choose_name(entity: MappedEntity, lang: str, sentence_id: str, settings: SwitchSettings) -> str:
    """The name an entity switches to: its label, or a seeded pick among label and aliases."""
    options = entity.names[lang]
    if len(options) == 1:
        return options[0]
    return _rng(settings.seed, "name", sentence_id, lang, entity.qid).choice(options)


def render(text: str, spans: Sequence[tuple[int, int, str]], open_tag: str, close_tag: str) -> str:
    """``text`` with each ``(start, end, replacement)`` span replaced by the tagged replacement."""
    parts: list[str] = []
    pos = 0
    for start, end, repl in spans:
        parts += [text[pos:start], open_tag, repl, close_tag]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


# ----------------------------------------------------------------------------- the switcher


class Switcher:
    """Turns linked records into EntityCS rows, one :meth:`process` call per record.

    Args:
        names: QID → names, with the configured languages loaded.
        title_index: maps link titles to QIDs for links without ``qid`` (optional).
        settings: the parameters (published EntityCS defaults).
        stats: counts to update (a new :class:`SwitchStats` by default), also at ``.stats``.
    """

    def __init__(
        self,
        names: NameTable,
        title_index: TitleLookup | None = None,
        settings: SwitchSettings | None = None,
        stats: SwitchStats | None = None,
    ) -> None:
        self.names = names
        self.title_index = title_index
        self.settings = settings or SwitchSettings()
        self.stats = stats if stats is not None else SwitchStats()
        self._tag_re = _tag_pattern(self.settings)

    def sentences(self, doc: LinkedText) -> list[LinkedText]:
        """The sentences of a record (see step 1).

        Raises:
            SegmenterUnavailable: segmentation is on and spaCy cannot load its pipeline.
        """
        s = self.settings
        if s.segment is False:
            return split_linked(doc, ()) if doc.text.strip() else []
        starts = spacy_sentence_starts(doc.text, s.segment_language, s.spacy_pipeline)
        return split_linked(doc, starts)

    def process(self, doc: LinkedText) -> SwitchOutput:
        """All rows of one record; updates ``self.stats``."""
        s, st = self.settings, self.stats
        out = SwitchOutput()
        st.documents += 1
        st.input_markup.update({k: v for k, v in doc.markup.items() if v})
        try:
            sentences = self.sentences(doc)
        except SegmenterUnavailable:
            st.documents_dropped["segmenter_unavailable"] += 1
            out.dropped.append(EntityCSDroppedRow(doc.id, "segmenter_unavailable"))
            return out
        if not sentences:
            st.documents_dropped["empty_text"] += 1
            out.dropped.append(EntityCSDroppedRow(doc.id, "empty_text"))
            return out
        if s.segment is False:  # a sentence-level record keeps its own id
            only = sentences[0]
            sentences = [LinkedText(doc.id, only.text, only.links, source=doc.source)]
        flagged = any(doc.markup.get(key) for key in s.markup_flags)
        for sent in sentences:
            st.sentences_read += 1
            reason = self._switch(sent, out, flagged)
            if reason is None:
                st.sentences_kept += 1
            else:
                st.sentences_dropped[reason] += 1
                out.dropped.append(EntityCSDroppedRow(sent.id, reason))
        return out

    def _switch(self, sent: LinkedText, out: SwitchOutput, flagged: bool) -> str | None:
        s, st = self.settings, self.stats
        reason = "table_or_list_markup" if flagged else filter_reason(sent, s, self._tag_re)
        if reason is not None:
            return reason
        mapped, failed = map_links(sent, self.names, self.title_index, s, self._tag_re)
        st.links += len(sent.links)
        st.entities_mapped += len(mapped)
        st.entity_reasons.update(r for _, r in failed)
        if not mapped:
            return "no_mapped_entity"
        candidates = candidate_languages(mapped, s)
        if not candidates:
            return "no_common_language"

        text = sent.text
        en_open, en_close = s.tags(s.source_language)
        en_spans = [(e.link.start, e.link.end, text[e.link.start : e.link.end]) for e in mapped]
        en_sentence = render(text, en_spans, en_open, en_close)
        out.en_rows.append(EntityCSEnRow(sent.id, en_sentence))
        for lang in sample_languages(candidates, sent.id, s):
            spans = []
            for e in mapped:
                name = choose_name(e, lang, sent.id, s)
                spans.append((e.link.start, e.link.end, name))
                out.entity_rows.append(
                    EntityCSEntityRow(sent.id, lang, e.qid, text[e.link.start : e.link.end], name)
                )
            cs_open, cs_close = s.tags(lang)
            out.cs_rows.append(
                EntityCSRow(sent.id, en_sentence, render(text, spans, cs_open, cs_close), lang)
            )
            st.cs_sentences += 1
            st.entities_switched += len(mapped)
            st.language_sentences[lang] += 1
            st.language_entities[lang] += len(mapped)
        return None
