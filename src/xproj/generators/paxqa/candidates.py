"""Answer candidates on the English side of a PAXQA-style QA pair: which spans to ask about.

A candidate is a character span of an English context, ``context[start:start + len(text)] ==
text`` always, with a ``kind`` (stable strings, in priority order):

``entity``
    A spaCy entity (``doc.ents``) when a pipeline is given; ``label`` keeps the spaCy label
    (``PERSON``, ``GPE`` …). Any pipeline that sets entities works: a trained one, or a blank one
    with an ``entity_ruler``.
``date``
    Rule-based, works without a model: ``March 3, 1998``, ``Jan. 5``, ``3 March 1998``, ``3rd of
    March``, ``March 1998``, ISO ``1998-03-03``, decades ``1990s``/``'90s``/``1800s``, centuries
    ``19th century``/``nineteenth century`` (optionally ``BC``/``AD``), eras ``500 BC``/``AD
    1066``, year ranges ``1914–18``, and standalone years 1000–2099 (a four-digit number that is
    not part of a larger number and is not followed by a unit, scale word or ``%``).
``number``
    Rule-based: integers, decimals with ``.`` or ``,`` (``3.5``, ``3,5``), grouped thousands
    (``1,000``, ``1.000.000``), ordinals (``3rd``), percentages (``12%``, ``12 percent``), and
    numbers with a currency prefix (``$5``, ``US$ 2``, ``€3``), a scale word (``5 million``) and/or
    a unit (``1,000 km``, ``5 kg``, ``20 years``, ``30 dollars``). Negative signs, spelled-out
    numbers and ranges are not numbers here. A digit run glued to letters (``A4``, ``COVID-19``)
    is not a number. Numbers that lie inside a date match are pieces of the date, not
    candidates of their own (only while ``date`` is on).
``capitalised``
    Rule-based: runs of capitalised words (``University of Notre Dame``, ``Johnson & Johnson``,
    ``U.S. President Barack Obama``) separated by spaces only, with lowercase connectors
    inside (``of the de del della der den des di da du la le van von y and
    for al bin ibn &``) but never at the edges; two in a row only as preposition + article (``of the``,
    ``van der``); a possessive ``'s`` ends the run and is cut. At the start
    of a sentence, a first word that is a common English word (``The``, ``However``, ``In``,
    ``After`` …) is dropped from the run, and a run that is then a single sentence-initial word
    is kept only when it is all capitals (``NASA``) or the same word also appears capitalised
    mid-sentence elsewhere in the context. ``I`` is never a capitalised word, and a lone capital
    letter (``vitamin C``) is no span. Spans inside a date
    match (``March`` of ``March 1998``) are left to the date (only while ``date`` is on).
``noun_chunk``
    spaCy ``doc.noun_chunks`` when the pipeline has a dependency parse (blank pipelines have
    none and are skipped silently): leading determiners and possessive pronouns are dropped
    (``the old man`` → ``old man``), chunks that are only pronouns are dropped.

Every candidate is trimmed of surrounding whitespace, quotes and edge punctuation (a trailing
``.`` stays on abbreviations such as ``U.S.`` or ``Inc.``; brackets stay when balanced).

**Selection** (:func:`select_candidates`), per context, in this order:

1. keep the kinds that are on and the spans within the word and character length limits;
2. **dedupe** identical ``(start, end)`` spans, keeping the most specific kind
   (entity > date > number > capitalised > noun_chunk);
3. unless ``allow_overlap``, drop overlapping spans greedily: by kind priority, then longer
   first, then leftmost first;
4. **limit** to ``max_per_context``: kinds are taken whole in priority order while they fit; the
   first kind that does not fit fills the remaining ``k`` slots with candidates spread evenly
   over its position-sorted list (index ``floor((i + 0.5) * n / k)`` for ``i < k``), so they
   come from all over the context, not only its start;
5. sort the result by ``start`` (then ``end``, then kind priority).

The whole procedure is deterministic: same text, pipeline and settings → same candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import PlainSerializer

from xproj.schemas.errors import (
    E_BAD_CONFIG,
    E_MALFORMED_LINE,
    FORBID_EXTRA,
    ConfigError,
    InputFormatError,
    checked_strings,
)

#: Candidate kinds, most specific first: the order used for dedupe, overlaps and limits.
KINDS: tuple[str, ...] = ("entity", "date", "number", "capitalised", "noun_chunk")
KIND_PRIORITY: dict[str, int] = {kind: rank for rank, kind in enumerate(KINDS)}
#: Kinds that need a spaCy pipeline; the others are rule-based.
SPACY_KINDS = frozenset({"entity", "noun_chunk"})
RULE_KINDS = frozenset({"date", "number", "capitalised"})


@dataclass(frozen=True, slots=True)
class AnswerCandidate:
    """One answer candidate: a span of the English context.

    Attributes:
        text: the span's text, ``context[start:start + len(text)] == text``.
        start: character offset of the span in the context.
        kind: one of :data:`KINDS`.
        label: the spaCy entity label for ``entity`` candidates, else ``None``.
    """

    text: str
    start: int
    kind: str
    label: str | None = None

    @property
    def end(self) -> int:
        """Character offset just after the span."""
        return self.start + len(self.text)


@dataclass(frozen=True)
class CandidateSettings:
    """What candidates to produce per context.

    Attributes:
        max_per_context: keep at most this many candidates per context (``None``: no limit).
        kinds: the kinds that are on (any of :data:`KINDS`); given as any iterable, stored as a
            frozenset.
        min_words / max_words: length limits in whitespace-separated words.
        min_chars / max_chars: length limits in characters.
        allow_overlap: keep overlapping (e.g. nested) candidates; off by default, since one
            context's answers should not share text.
    """

    __pydantic_config__ = FORBID_EXTRA

    max_per_context: int | None = 8
    # written out in KINDS order, so a printed or recorded config reads the same every time
    kinds: Annotated[frozenset[str], PlainSerializer(lambda on: [k for k in KINDS if k in on])] = (
        field(default_factory=lambda: frozenset(KINDS))
    )
    min_words: int = 1
    max_words: int = 10
    min_chars: int = 1
    max_chars: int = 100
    allow_overlap: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.kinds, str):
            _bad(
                f"kinds must be a collection of kinds, not the string {self.kinds!r}",
                f"give a list, e.g. kinds=[{self.kinds!r}].",
            )
        try:
            kinds = frozenset(self.kinds)
        except TypeError:
            _bad(
                f"kinds must be a collection of kinds, got {self.kinds!r}",
                f"give a subset of {list(KINDS)}.",
            )
        unknown = sorted(str(k) for k in kinds - set(KINDS))
        if unknown:
            _bad(f"unknown candidate kind(s) {unknown}", f"use a subset of {list(KINDS)}.")
        if not kinds:
            _bad("no candidate kind is on", f"turn on at least one of {list(KINDS)}.")
        object.__setattr__(self, "kinds", kinds)
        if self.max_per_context is not None and (
            not _is_int(self.max_per_context) or self.max_per_context < 1
        ):
            _bad(
                f"max_per_context must be a positive integer or None, got {self.max_per_context!r}",
                "set max_per_context to 1 or more, or None for no limit.",
            )
        for name in ("min_words", "max_words", "min_chars", "max_chars"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                _bad(
                    f"{name} must be a positive integer, got {value!r}", f"set {name} to 1 or more."
                )
        if self.min_words > self.max_words:
            _bad(
                f"min_words ({self.min_words}) is larger than max_words ({self.max_words})",
                "make min_words <= max_words.",
            )
        if self.min_chars > self.max_chars:
            _bad(
                f"min_chars ({self.min_chars}) is larger than max_chars ({self.max_chars})",
                "make min_chars <= max_chars.",
            )
        if not isinstance(self.allow_overlap, bool):
            _bad(
                f"allow_overlap must be true or false, got {self.allow_overlap!r}",
                "set allow_overlap to a boolean.",
            )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(message: str, fix: str) -> None:
    raise ConfigError(f"candidate settings: {message}", fix=fix, code=E_BAD_CONFIG)


# --------------------------------------------------------------------------- patterns

_MONTHS_FULL = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_MONTHS_ABBR = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_MONTH = rf"(?:{_MONTHS_FULL}|{_MONTHS_ABBR})"
_YEAR = r"(?:1\d{3}|20\d{2})"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_ORDINAL_WORDS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    "thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
    "twenty-first|twenty-second"
)
_ERA = r"(?:BCE|BC|AD|CE)"
_SCALE = r"(?:thousand|million|billion|trillion)"
_UNITS = (
    r"%|percent|per\s?cent|"
    r"square\s(?:kilometres|kilometers|kilometre|kilometer|miles|mile|metres|meters|feet)|"
    r"sq\.?\s?(?:km|mi|ft|m)|km²|km2|m²|m2|km/h|"
    r"kilometres|kilometers|kilometre|kilometer|km|metres|meters|metre|meter|cm|mm|m|"
    r"miles|mile|mi|mph|feet|foot|ft|inches|inch|"
    r"kilograms|kilogram|kg|grams|gram|g|tonnes|tonne|tons|ton|lbs|lb|pounds|"
    r"acres|acre|hectares|hectare|ha|litres|liters|litre|liter|gallons|gallon|"
    r"°C|°F|°|degrees|"
    r"years|year|months|month|weeks|week|days|day|hours|hour|minutes|minute|seconds|second|"
    r"dollars|dollar|euros|euro|yen|rupees|USD|EUR|GBP|"
    r"people|inhabitants|residents|students|members|times"
)
_CURRENCY = r"(?:US\$|A\$|C\$|HK\$|[$€£¥₹])"

#: A digit run that is not glued to a word, a number or a hyphenated word (``COVID-19``).
_NUM_START = r"(?<![\w.,])(?<![^\W\d_]-)"
_NUMBER_CORE = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?|\d+(?:[.,]\d+)?)"

NUMBER_RE = re.compile(
    rf"""{_NUM_START}(?<![$€£¥₹])
    (?:{_CURRENCY}\s?)?
    {_NUMBER_CORE}
    (?:(?:st|nd|rd|th)
      |(?:\s?{_SCALE})?(?:\s?(?:{_UNITS}))?
    )
    (?!\w)""",
    re.VERBOSE,
)

DATE_RE = re.compile(
    rf"""
    (?:\b{_MONTH}\s(?:the\s)?{_DAY}(?:,?\s{_YEAR})?(?!\w)          # March 3, 1998 / March 3
      |{_NUM_START}{_DAY}\s(?:of\s)?{_MONTH}(?:,?\s{_YEAR})?(?!\w)  # 3 March 1998 / 3rd of March
      |\b{_MONTH},?\s{_YEAR}(?!\w)                                # March 1998
      |{_NUM_START}{_YEAR}-[01]\d-[0-3]\d(?!\w)                  # 1998-03-03
      |(?:\b(?:{_ORDINAL_WORDS})|{_NUM_START}\d{{1,2}}(?:st|nd|rd|th))
        [\s-]centur(?:y|ies)(?:\s{_ERA})?(?!\w)                   # 19th century
      |{_NUM_START}(?:1\d|20)\d0(?:'|’)?s(?!\w)                   # 1990s, 1800s
      |(?<![\w'’])['’]\d0s(?!\w)                                  # '90s
      |{_NUM_START}\d{{1,4}}\s?{_ERA}(?!\w)                       # 500 BC
      |\b(?:AD|CE)\s?\d{{1,4}}(?![\w.,]\d|\w)                     # AD 1066
      |{_NUM_START}{_YEAR}\s?[–-]\s?(?:{_YEAR}|\d{{2}})(?![\w.,]\d|\w)  # 1914–18
      |{_NUM_START}(?<![$€£¥₹]){_YEAR}(?![.,]\d|\w|\s?(?:{_SCALE}|{_UNITS})(?!\w))  # 1998
    )""",
    re.VERBOSE,
)

_TITLE_ABBREVIATIONS = (
    "Mr|Mrs|Ms|Dr|St|Prof|Jr|Sr|Mt|Ft|Gen|Col|Lt|Capt|Sgt|Rev|Gov|Sen|Rep|Hon|Inc|Ltd|Co|Corp"
)
#: Word tokens for the capitalised rule: initialisms (``U.S.``), title abbreviations with their
#: dot (``Mr.``), initials before a capitalised word (``J. K.``), ``&`` and plain words.
WORD_RE = re.compile(
    rf"(?:[^\W\d_]\.){{2,}}|\b(?:{_TITLE_ABBREVIATIONS})\.|\b[A-Z]\.(?=\s*[A-Z])|&"
    r"|\w+(?:['’\-&]\w+)*"
)

#: Lowercase words allowed inside (never at the edges of) a capitalised span.
CONNECTORS = frozenset(
    "of the de del della der den des di da du la le van von y and for al bin ibn &".split()
)

#: Two connectors in a row must be a preposition and an article (``of the``, ``van der``).
_PREPOSITIONS = frozenset("of de di da du van von for al".split())
_ARTICLES = frozenset("the la le der den des".split())

#: Sentence-initial words that are not names: dropped from the start of a capitalised run.
COMMON_WORDS = frozenset(
    """a an the this that these those it its he she they we you i his her their our my your there
    here in on at by for from to of with without within after before during since until till
    while when where whereas whether what which who whom whose why how however although though
    because if unless as also but and or nor so yet then thus therefore hence moreover
    furthermore meanwhile nevertheless nonetheless instead indeed still later earlier today
    yesterday tomorrow now once some many most much more few several all both each every either
    neither no not none one two three four five six seven eight nine ten other another such only
    even just about above below between among amongst against through throughout over under upon
    into onto toward towards around across along despite following according unlike like near
    beyond besides is are was were be been being has have had do does did can could may might
    must shall should will would let first second third finally eventually initially originally
    currently recently similarly additionally consequently subsequently overall generally usually
    often sometimes perhaps whilst whatever whichever whenever wherever yes thereafter afterwards
    again already always never ever almost nearly approximately around since prior due based
    given unlike while whereby upon outside inside beside""".split()
)

_ABBREVIATION_END = re.compile(
    rf"(?:^|[\s(])(?:(?:[^\W\d_]\.)+|(?:{_TITLE_ABBREVIATIONS}|etc|vs|No)\.)$"
)
_EDGE_PUNCT = set("\"'“”‘’«»„,.;:!?/–—-_*")
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_DETERMINERS = frozenset(
    "a an the this that these those some any each every no another either neither such what "
    "which whose my your his her its our their all both half".split()
)
_PRONOUNS = frozenset(
    "i me you he him she her it we us they them myself yourself himself herself itself "
    "ourselves yourselves themselves this that these those who whom what which one ones "
    "someone somebody something anyone anybody anything everyone everybody everything "
    "nobody nothing mine yours hers ours theirs".split()
)


# --------------------------------------------------------------------------- helpers


def _trim(text: str, start: int) -> tuple[str, int] | None:
    """``(text, start)`` with edge whitespace and punctuation removed, or ``None`` if empty."""
    lo, hi = 0, len(text)
    changed = True
    while changed and lo < hi:
        changed = False
        while lo < hi and text[lo].isspace():
            lo += 1
        while lo < hi and text[hi - 1].isspace():
            hi -= 1
        if lo >= hi:
            break
        head, tail, inner = text[lo], text[hi - 1], text[lo:hi]
        if head in "'’" and inner[1:2].isdigit():
            pass  # '90s
        elif head in _EDGE_PUNCT:
            lo, changed = lo + 1, True
        elif head in _PAIRS and inner.count(head) > inner.count(_PAIRS[head]):
            lo, changed = lo + 1, True
        elif tail == "." and _ABBREVIATION_END.search(inner):
            pass
        elif tail in _EDGE_PUNCT:
            hi, changed = hi - 1, True
        elif tail in _PAIRS.values():
            opener = next(o for o, c in _PAIRS.items() if c == tail)
            if inner.count(tail) > inner.count(opener):
                hi, changed = hi - 1, True
    if lo >= hi:
        return None
    return text[lo:hi], start + lo


def _make(
    context: str, start: int, end: int, kind: str, label: str | None = None
) -> AnswerCandidate | None:
    trimmed = _trim(context[start:end], start)
    if trimmed is None:
        return None
    text, new_start = trimmed
    return AnswerCandidate(text, new_start, kind, label)


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


# --------------------------------------------------------------------------- rules


def date_candidates(context: str) -> list[AnswerCandidate]:
    """Rule-based ``date`` candidates of one context, in text order (see the module docs)."""
    out = []
    for m in DATE_RE.finditer(context):
        cand = _make(context, m.start(), m.end(), "date")
        if cand is not None:
            out.append(cand)
    return out


def number_candidates(
    context: str, dates: list[AnswerCandidate] | None = None
) -> list[AnswerCandidate]:
    """Rule-based ``number`` candidates of one context, in text order.

    Args:
        context: the English context.
        dates: date candidates of the same context; numbers inside one of them are skipped.
    """
    date_spans = [(d.start, d.end) for d in dates or ()]
    out = []
    for m in NUMBER_RE.finditer(context):
        if _inside(m.start(), m.end(), date_spans):
            continue
        cand = _make(context, m.start(), m.end(), "number")
        if cand is not None:
            out.append(cand)
    return out


def _is_capitalised(word: str) -> bool:
    if word == "I" or word.startswith(("I'", "I’")):
        return False
    return word[:1].isupper()


def capitalised_candidates(
    context: str, dates: list[AnswerCandidate] | None = None
) -> list[AnswerCandidate]:
    """Rule-based ``capitalised`` candidates of one context, in text order.

    Args:
        context: the English context.
        dates: date candidates of the same context; spans inside one of them are skipped.
    """
    tokens = [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(context)]
    if not tokens:
        return []
    initial = []
    for i, (word, start, _) in enumerate(tokens):
        if i == 0:
            initial.append(True)
            continue
        prev_word, _, prev_end = tokens[i - 1]
        gap = context[prev_end:start]
        boundary = bool(re.search(r"[.!?\n]", gap)) or (
            prev_word.endswith(".")
            and not gap.strip()
            and _is_capitalised(word)
            and word.lower() in COMMON_WORDS
        )
        initial.append(boundary)
    mid_sentence_caps = {
        w
        for (w, _, _), first in zip(tokens, initial, strict=True)
        if not first and _is_capitalised(w)
    }
    date_spans = [(d.start, d.end) for d in dates or ()]

    out: list[AnswerCandidate] = []
    i = 0
    while i < len(tokens):
        if not _is_capitalised(tokens[i][0]):
            i += 1
            continue
        run = [i]
        j = i + 1
        pending: list[int] = []
        while j < len(tokens):
            if tokens[j - 1][0].endswith(("'s", "’s")):
                break  # a possessive ends the name: "Denver's Executive" → "Denver"
            gap = context[tokens[j - 1][2] : tokens[j][1]]
            if not re.fullmatch(r"[ \t\u00a0]+", gap) or initial[j]:
                break
            word = tokens[j][0]
            if _is_capitalised(word):
                run.extend(pending)
                pending = []
                run.append(j)
            elif word in CONNECTORS and (
                not pending
                or (
                    len(pending) == 1
                    and tokens[pending[0]][0] in _PREPOSITIONS
                    and word in _ARTICLES
                )
            ):
                pending.append(j)
            else:
                break
            j += 1
        next_i = run[-1] + 1
        if initial[run[0]] and tokens[run[0]][0].lower() in COMMON_WORDS:
            run = run[1:]
        # capitalised connectors ("The", "Of") are not allowed at the start either
        while run and tokens[run[0]][0].lower() in CONNECTORS and initial[run[0]]:
            run = run[1:]
        if run:
            first_word = tokens[run[0]][0]
            single_initial = len(run) == 1 and initial[run[0]]
            if single_initial and not (
                (first_word.isupper() and len(first_word) >= 2) or first_word in mid_sentence_caps
            ):
                run = []
        if len(run) == 1 and len(tokens[run[0]][0]) == 1:
            run = []  # a lone capital letter (vitamin C, °C) is not a name
        if run:
            start = tokens[run[0]][1]
            end = tokens[run[-1]][2]
            last = tokens[run[-1]][0]
            if last.endswith(("'s", "’s")) and len(last) > 2:
                end -= 2
            if not _inside(start, end, date_spans):
                cand = _make(context, start, end, "capitalised")
                if cand is not None:
                    out.append(cand)
        i = next_i
    return out


def rule_candidates(context: str, kinds: Iterable[str] = RULE_KINDS) -> list[AnswerCandidate]:
    """All rule-based candidates of one context for the given kinds (unselected, in kind order).

    Numbers and capitalised spans inside a date are left out only while ``date`` is among
    ``kinds``.
    """
    kinds = frozenset(kinds)
    dates = date_candidates(context) if "date" in kinds else []
    out = list(dates)
    if "number" in kinds:
        out.extend(number_candidates(context, dates))
    if "capitalised" in kinds:
        out.extend(capitalised_candidates(context, dates))
    return out


# --------------------------------------------------------------------------- spaCy


def spacy_candidates(doc: Any, kinds: Iterable[str] = SPACY_KINDS) -> list[AnswerCandidate]:
    """``entity`` and ``noun_chunk`` candidates of a spaCy ``Doc`` (offsets into ``doc.text``).

    Noun chunks are read only when the document has a dependency parse (``doc.has_annotation
    ("DEP")``) and the language defines them; otherwise they are skipped.
    """
    kinds = frozenset(kinds)
    text = doc.text
    out: list[AnswerCandidate] = []
    if "entity" in kinds:
        for ent in doc.ents:
            cand = _make(text, ent.start_char, ent.end_char, "entity", ent.label_ or None)
            if cand is not None:
                out.append(cand)
    if "noun_chunk" in kinds and doc.has_annotation("DEP"):
        try:
            chunks = list(doc.noun_chunks)
        except (ValueError, NotImplementedError):
            chunks = []
        for chunk in chunks:
            tokens = list(chunk)
            while tokens and (
                tokens[0].pos_ == "DET"
                or tokens[0].tag_ in ("DT", "PDT", "WDT", "PRP$", "WP$")
                or tokens[0].lower_ in _DETERMINERS
            ):
                tokens = tokens[1:]
            if not tokens or all(t.pos_ == "PRON" or t.lower_ in _PRONOUNS for t in tokens):
                continue
            start = tokens[0].idx
            end = tokens[-1].idx + len(tokens[-1].text)
            cand = _make(text, start, end, "noun_chunk")
            if cand is not None:
                out.append(cand)
    return out


# --------------------------------------------------------------------------- selection


def _spread(group: list[AnswerCandidate], k: int) -> list[AnswerCandidate]:
    n = len(group)
    return [group[((2 * i + 1) * n) // (2 * k)] for i in range(k)]


def select_candidates(
    candidates: Iterable[AnswerCandidate], settings: CandidateSettings | None = None
) -> list[AnswerCandidate]:
    """Filter, dedupe, de-overlap and limit one context's candidates (see the module docs).

    Returns:
        The chosen candidates sorted by ``start``.
    """
    settings = settings or CandidateSettings()
    kept = []
    for c in candidates:
        words = len(c.text.split())
        if (
            c.kind in settings.kinds
            and settings.min_words <= words <= settings.max_words
            and settings.min_chars <= len(c.text) <= settings.max_chars
        ):
            kept.append(c)
    best: dict[tuple[int, int], AnswerCandidate] = {}
    for c in kept:
        key = (c.start, c.end)
        if key not in best or KIND_PRIORITY[c.kind] < KIND_PRIORITY[best[key].kind]:
            best[key] = c
    pool = sorted(best.values(), key=lambda c: (KIND_PRIORITY[c.kind], -len(c.text), c.start))
    if not settings.allow_overlap:
        accepted: list[AnswerCandidate] = []
        for c in pool:
            if all(c.end <= a.start or a.end <= c.start for a in accepted):
                accepted.append(c)
        pool = accepted
    limit = settings.max_per_context
    if limit is not None and len(pool) > limit:
        chosen: list[AnswerCandidate] = []
        for kind in KINDS:
            room = limit - len(chosen)
            if room <= 0:
                break
            group = sorted((c for c in pool if c.kind == kind), key=lambda c: (c.start, c.end))
            chosen.extend(group if len(group) <= room else _spread(group, room))
        pool = chosen
    return sorted(pool, key=lambda c: (c.start, c.end, KIND_PRIORITY[c.kind]))


def candidates_for(
    context: str, doc: Any = None, settings: CandidateSettings | None = None
) -> list[AnswerCandidate]:
    """The selected candidates of one context: rules, plus spaCy ones when ``doc`` is given.

    Args:
        context: the English context.
        doc: a spaCy ``Doc`` of exactly ``context`` (or ``None``).
        settings: selection settings (default :class:`CandidateSettings`).
    """
    settings = settings or CandidateSettings()
    found = rule_candidates(context, settings.kinds & RULE_KINDS)
    if doc is not None:
        if doc.text != context:
            raise InputFormatError(
                "the spaCy Doc's text differs from the context it should describe",
                fix="parse exactly the context string (no normalisation before nlp()).",
                code=E_MALFORMED_LINE,
            )
        found.extend(spacy_candidates(doc, settings.kinds & SPACY_KINDS))
    return select_candidates(found, settings)


def find_candidates(
    texts: Iterable[str],
    nlp: Any = None,
    settings: CandidateSettings | None = None,
    batch_size: int = 64,
) -> Iterator[list[AnswerCandidate]]:
    """Answer candidates for many contexts, lazily, one list per context in input order.

    Args:
        texts: English contexts.
        nlp: a spaCy ``Language`` (see :func:`load_pipeline`) or ``None`` for rules only. It
            is run with ``nlp.pipe`` only when ``entity`` or ``noun_chunk`` is on.
        settings: selection settings (default :class:`CandidateSettings`).
        batch_size: contexts per ``nlp.pipe`` batch.

    Yields:
        The selected candidates of each context, sorted by ``start``.

    Raises:
        ConfigError: ``batch_size`` below 1.
        InputFormatError: a context that is not a string.
    """
    settings = settings or CandidateSettings()
    if not _is_int(batch_size) or batch_size < 1:
        raise ConfigError(
            f"batch_size must be a positive integer, got {batch_size!r}",
            fix="set batch_size to 1 or more (e.g. 64).",
            code=E_BAD_CONFIG,
        )

    checked = checked_strings(
        texts, "context", fix="give the English contexts as strings.", code=E_MALFORMED_LINE
    )
    if nlp is None or not (settings.kinds & SPACY_KINDS):
        for text in checked:
            yield candidates_for(text, None, settings)
        return
    for doc in nlp.pipe(checked, batch_size=batch_size):
        yield candidates_for(doc.text, doc, settings)


def load_pipeline(name_or_path: str | None) -> Any:
    """A spaCy pipeline for :func:`find_candidates`.

    Args:
        name_or_path: ``None`` (rules only), ``"blank"`` (``spacy.blank("en")``: tokenizer only,
            no entities or noun chunks — the rules still run), or an installed package name
            (``en_core_web_sm``) or pipeline folder.

    Returns:
        The loaded ``Language``, or ``None``.

    Raises:
        ConfigError: the pipeline cannot be loaded; the fix says how to install it.
    """
    from xproj.text import pipelines

    if name_or_path is None:
        return None
    if name_or_path == "blank":
        return pipelines.blank("en")
    return pipelines.load(name_or_path, purpose="answer candidates")
