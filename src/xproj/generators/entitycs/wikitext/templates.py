"""Templates that stand for running text (``convert``, ``lang``, dates …), reduced to that text."""

from __future__ import annotations

import re

from xproj.generators.entitycs.wikitext.markup import _top_split

# --------------------------------------------------------------------------------------------
# Templates reduced to text

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_RANGE_WORDS = {"to", "-", "–", "and", "or", "by", "x", "×", "+", "to(-)", "+/-", "±", "and(-)"}
_UNITS = {"km2": "km²", "m2": "m²", "sqmi": "sq mi", "sqft": "sq ft", "kph": "km/h", "C": "°C"}
_UNITS.update({"F": "°F", "acre": "acres", "ha": "ha", "cm2": "cm²", "km/h": "km/h"})
_CONSTANT_TEMPLATES = {
    "'": "'", "ndash": "–", "mdash": "—", "snd": " – ", "spaced ndash": " – ", "spnd": " – ",
    "nbsp": " ", "spaces": " ", "thinsp": " ", "en dash": "–", "em dash": "—", "okina": "ʻ",
    "=": "=", "·": " · ", "dot": " · ", "middot": " · ", "sndash": " – ", "nbhyph": "-",
}  # fmt: skip
_WRAPPERS = {
    "nowrap", "nobr", "nobreak", "small", "smaller", "big", "larger", "midsize", "em",
    "strong", "var", "abbr", "sup", "sub", "not a typo", "proper name", "avoid wrap",
    "nowrap begin", "resize", "serif", "sans-serif", "bold", "italic", "linktext", "wikt-lang",
}  # fmt: skip
_DATE_TEMPLATES = {
    "birth date", "death date", "birth date and age", "start date", "end date",
    "start date and age", "end date and age", "birth year", "death year", "dob", "bda",
}  # fmt: skip
_NAME_SPACE = re.compile(r"[\s_]+")


def _params(src: str, start: int, end: int) -> tuple[str, list[str], dict[str, str]]:
    parts = _top_split(src, start, end)
    name = src[parts[0][0] : parts[0][1]]
    positional: list[str] = []
    named: dict[str, str] = {}
    for s, e in parts[1:]:
        value = src[s:e]
        key, eq, rest = value.partition("=")
        if eq and "{{" not in key and "[[" not in key and key.strip():
            named[key.strip().lower()] = rest.strip()
        else:
            positional.append(value.strip())
    return name, positional, named


def _date_text(y: str, m: str = "", d: str = "", *, dmy: bool) -> str | None:
    try:
        year = int(y)
        month = int(m) if m else 0
        day = int(d) if d else 0
    except ValueError:
        return None
    if not 1 <= month <= 12:
        return str(year) if not m else None
    name = _MONTHS[month - 1]
    if not day:
        return f"{name} {year}"
    if not 1 <= day <= 31:
        return None
    return f"{day} {name} {year}" if dmy else f"{name} {day}, {year}"


def _reduce_template(src: str, start: int, end: int) -> str | None:
    """Wikitext that stands for the template ``{{src[start:end]}}``, or None to remove it."""
    head_end = end
    for ch in "|:":
        i = src.find(ch, start, end)
        if 0 <= i < head_end:
            head_end = i
    head = _NAME_SPACE.sub(" ", src[start:head_end]).strip().lower()
    for prefix in ("subst:", "safesubst:", "msubst:", "template:"):
        if head.startswith(prefix):
            head = head[len(prefix) :]
    if head.startswith("#"):
        return None
    if head in _CONSTANT_TEMPLATES:
        return _CONSTANT_TEMPLATES[head]
    if head == "formatnum":
        value = src[head_end + 1 : end].split("|", 1)[0].strip()
        try:
            return f"{int(value):,}"
        except ValueError:
            return value
    is_lang = head.startswith("lang-") or head in ("lang", "transl", "transliteration")
    known = head in ("convert", "cvt", "ill", "frac", "fraction", "circa", "c.", "us$", "as of")
    if not (
        known
        or is_lang
        or head in _WRAPPERS
        or head in _DATE_TEMPLATES
        or head == "death date and age"
    ):
        return None
    _, pos, named = _params(src, start, end)
    if head.startswith("lang-"):
        return pos[0] if pos else None
    if head == "lang":
        return pos[1] if len(pos) > 1 else None
    if head in ("transl", "transliteration"):
        return pos[-1] if len(pos) > 1 else None
    if head in _WRAPPERS:
        return pos[0] if pos else None
    if head in ("convert", "cvt"):
        return _convert_text(pos)
    if head == "ill":
        if not pos or not pos[0]:
            return None
        label = named.get("lt") or pos[0]
        return f"[[{pos[0]}|{label}]]"
    if head in ("frac", "fraction"):
        if len(pos) == 1:
            return f"1/{pos[0]}"
        if len(pos) == 2:
            return f"{pos[0]}/{pos[1]}"
        if len(pos) >= 3:
            return f"{pos[0]} {pos[1]}/{pos[2]}"
        return None
    if head in ("circa", "c."):
        dates = [p for p in pos if p]
        return " – ".join(f"c. {d}" for d in dates[:2]) if dates else "c."
    if head == "us$":
        return f"US${pos[0]}" if pos else "US$"
    if head == "as of":
        if not pos:
            return None
        when = _date_text(pos[0], pos[1] if len(pos) > 1 else "", "", dmy=False) or pos[0]
        lead = "as of" if named.get("lc", "").lower() in ("y", "yes", "true", "1") else "As of"
        return f"{lead} {when}"
    dmy = named.get("df", "").lower() in ("y", "yes", "true", "1")
    nums = [p for p in pos if p]
    if head in ("birth year", "death year"):
        return nums[0] if nums else None
    if not nums:
        return None
    date = _date_text(*nums[:3], dmy=dmy)
    if date is None:
        return None
    if head == "death date and age" and len(nums) >= 6:
        try:
            y, m, d, by, bm, bd = (int(x) for x in nums[:6])
            age = y - by - ((m, d) < (bm, bd))
        except ValueError:
            return date
        return f"{date} (aged {age})"
    return date


def _convert_text(pos: list[str]) -> str | None:
    if not pos or not pos[0]:
        return None
    words = [pos[0]]
    i = 1
    while i + 1 < len(pos) and pos[i] in _RANGE_WORDS:
        words += [pos[i], pos[i + 1]]
        i += 2
    if i < len(pos) and pos[i]:
        words.append(_UNITS.get(pos[i], pos[i]))
    return " ".join(words)
