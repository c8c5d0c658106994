"""Language codes: one internal code per language, from ISO 639-1/-2/-3, BCP-47 or NLLB tags.

The internal code is the ISO 639-1 code where the language has one, else its ISO 639-3 code,
followed by a script subtag only when the text is not in the language's usual script:
``pt-BR`` → ``pt``, ``zho_Hant`` → ``zh-Hant``, ``sr-Latn-RS`` → ``sr-Latn``, ``eng_Latn`` → ``en``.

Rules, in order:

1. The tag is split on ``-`` or ``_``; case does not matter. Extension, variant and private-use
   subtags are ignored, regions are dropped.
2. The language subtag may be ISO 639-1, ISO 639-3 (= 639-2/T), ISO 639-2/B (``fre``, ``ger``,
   ``chi``), or an individual language that the NLLB-200 and Tatoeba data use for a macrolanguage
   with a 639-1 code (``arb`` → ``ar``, ``cmn`` → ``zh``, ``zsm`` → ``ms``, ``pes`` → ``fa``,
   ``kmr`` → ``ku``…). Retired 639-1 codes ``iw``, ``in``, ``ji``, ``jw``, ``mo`` are accepted.
3. Without a script subtag, a few regions imply a script (``zh-TW`` → ``zh-Hant``, ``pa-PK`` →
   ``pa-Arab``); otherwise the default script applies and no subtag is kept.

Filipino (``fil``) and Tagalog (``tl``) are separate ISO languages and stay separate; so do
Cantonese (``yue``) and Chinese (``zh``), and Central Kurdish (``ckb``) and Kurdish (``ku``).
"""

from __future__ import annotations

import difflib
import tomllib
from functools import cache
from importlib import resources

from xproj.schemas.errors import E_UNKNOWN_LANGUAGE, LanguageCodeError


@cache
def _language_sets() -> dict[str, list[str]]:
    text = resources.files("xproj.schemas").joinpath("language_sets.toml").read_text("utf-8")
    return tomllib.loads(text)


def language_set(name: str) -> tuple[str, ...]:
    """The language codes of a model or corpus, as it names them (``nllb``, ``m2m100``,
    ``mbart50``, ``madlad_main``, ``xlmr``), from ``language_sets.toml`` beside this module.

    Example:
        >>> len(language_set("nllb")), language_set("mbart50")[:2]
        (202, ('ar_AR', 'cs_CZ'))
    """
    sets = _language_sets()
    if name not in sets:
        raise KeyError(f"no language set {name!r} in language_sets.toml; it has {', '.join(sets)}")
    return tuple(sets[name])


# ISO 639-1 code: (ISO 639-3 code, English name, default script). The 639-3 code of a
# macrolanguage is the macrolanguage code (ar → ara, zh → zho). Besides the 184 codes in the ISO
# 639-3 tables (``sh`` included), the withdrawn collective code ``bh`` (Bihari) is kept for old
# datasets; it has no 639-3 equivalent, so its 639-2 code ``bih`` is given.
ISO639_1: dict[str, tuple[str, str, str]] = {
    "aa": ("aar", "Afar", "Latn"),
    "ab": ("abk", "Abkhazian", "Cyrl"),
    "ae": ("ave", "Avestan", "Avst"),
    "af": ("afr", "Afrikaans", "Latn"),
    "ak": ("aka", "Akan", "Latn"),
    "am": ("amh", "Amharic", "Ethi"),
    "an": ("arg", "Aragonese", "Latn"),
    "ar": ("ara", "Arabic", "Arab"),
    "as": ("asm", "Assamese", "Beng"),
    "av": ("ava", "Avaric", "Cyrl"),
    "ay": ("aym", "Aymara", "Latn"),
    "az": ("aze", "Azerbaijani", "Latn"),
    "ba": ("bak", "Bashkir", "Cyrl"),
    "be": ("bel", "Belarusian", "Cyrl"),
    "bg": ("bul", "Bulgarian", "Cyrl"),
    "bh": ("bih", "Bihari languages", "Deva"),
    "bi": ("bis", "Bislama", "Latn"),
    "bm": ("bam", "Bambara", "Latn"),
    "bn": ("ben", "Bengali", "Beng"),
    "bo": ("bod", "Tibetan", "Tibt"),
    "br": ("bre", "Breton", "Latn"),
    "bs": ("bos", "Bosnian", "Latn"),
    "ca": ("cat", "Catalan", "Latn"),
    "ce": ("che", "Chechen", "Cyrl"),
    "ch": ("cha", "Chamorro", "Latn"),
    "co": ("cos", "Corsican", "Latn"),
    "cr": ("cre", "Cree", "Cans"),
    "cs": ("ces", "Czech", "Latn"),
    "cu": ("chu", "Church Slavic", "Cyrl"),
    "cv": ("chv", "Chuvash", "Cyrl"),
    "cy": ("cym", "Welsh", "Latn"),
    "da": ("dan", "Danish", "Latn"),
    "de": ("deu", "German", "Latn"),
    "dv": ("div", "Dhivehi", "Thaa"),
    "dz": ("dzo", "Dzongkha", "Tibt"),
    "ee": ("ewe", "Ewe", "Latn"),
    "el": ("ell", "Greek", "Grek"),
    "en": ("eng", "English", "Latn"),
    "eo": ("epo", "Esperanto", "Latn"),
    "es": ("spa", "Spanish", "Latn"),
    "et": ("est", "Estonian", "Latn"),
    "eu": ("eus", "Basque", "Latn"),
    "fa": ("fas", "Persian", "Arab"),
    "ff": ("ful", "Fulah", "Latn"),
    "fi": ("fin", "Finnish", "Latn"),
    "fj": ("fij", "Fijian", "Latn"),
    "fo": ("fao", "Faroese", "Latn"),
    "fr": ("fra", "French", "Latn"),
    "fy": ("fry", "Western Frisian", "Latn"),
    "ga": ("gle", "Irish", "Latn"),
    "gd": ("gla", "Scottish Gaelic", "Latn"),
    "gl": ("glg", "Galician", "Latn"),
    "gn": ("grn", "Guarani", "Latn"),
    "gu": ("guj", "Gujarati", "Gujr"),
    "gv": ("glv", "Manx", "Latn"),
    "ha": ("hau", "Hausa", "Latn"),
    "he": ("heb", "Hebrew", "Hebr"),
    "hi": ("hin", "Hindi", "Deva"),
    "ho": ("hmo", "Hiri Motu", "Latn"),
    "hr": ("hrv", "Croatian", "Latn"),
    "ht": ("hat", "Haitian Creole", "Latn"),
    "hu": ("hun", "Hungarian", "Latn"),
    "hy": ("hye", "Armenian", "Armn"),
    "hz": ("her", "Herero", "Latn"),
    "ia": ("ina", "Interlingua", "Latn"),
    "id": ("ind", "Indonesian", "Latn"),
    "ie": ("ile", "Interlingue", "Latn"),
    "ig": ("ibo", "Igbo", "Latn"),
    "ii": ("iii", "Sichuan Yi", "Yiii"),
    "ik": ("ipk", "Inupiaq", "Latn"),
    "io": ("ido", "Ido", "Latn"),
    "is": ("isl", "Icelandic", "Latn"),
    "it": ("ita", "Italian", "Latn"),
    "iu": ("iku", "Inuktitut", "Cans"),
    "ja": ("jpn", "Japanese", "Jpan"),
    "jv": ("jav", "Javanese", "Latn"),
    "ka": ("kat", "Georgian", "Geor"),
    "kg": ("kon", "Kongo", "Latn"),
    "ki": ("kik", "Kikuyu", "Latn"),
    "kj": ("kua", "Kuanyama", "Latn"),
    "kk": ("kaz", "Kazakh", "Cyrl"),
    "kl": ("kal", "Kalaallisut", "Latn"),
    "km": ("khm", "Khmer", "Khmr"),
    "kn": ("kan", "Kannada", "Knda"),
    "ko": ("kor", "Korean", "Kore"),
    "kr": ("kau", "Kanuri", "Latn"),
    "ks": ("kas", "Kashmiri", "Arab"),
    "ku": ("kur", "Kurdish", "Latn"),
    "kv": ("kom", "Komi", "Cyrl"),
    "kw": ("cor", "Cornish", "Latn"),
    "ky": ("kir", "Kyrgyz", "Cyrl"),
    "la": ("lat", "Latin", "Latn"),
    "lb": ("ltz", "Luxembourgish", "Latn"),
    "lg": ("lug", "Ganda", "Latn"),
    "li": ("lim", "Limburgish", "Latn"),
    "ln": ("lin", "Lingala", "Latn"),
    "lo": ("lao", "Lao", "Laoo"),
    "lt": ("lit", "Lithuanian", "Latn"),
    "lu": ("lub", "Luba-Katanga", "Latn"),
    "lv": ("lav", "Latvian", "Latn"),
    "mg": ("mlg", "Malagasy", "Latn"),
    "mh": ("mah", "Marshallese", "Latn"),
    "mi": ("mri", "Maori", "Latn"),
    "mk": ("mkd", "Macedonian", "Cyrl"),
    "ml": ("mal", "Malayalam", "Mlym"),
    "mn": ("mon", "Mongolian", "Cyrl"),
    "mr": ("mar", "Marathi", "Deva"),
    "ms": ("msa", "Malay", "Latn"),
    "mt": ("mlt", "Maltese", "Latn"),
    "my": ("mya", "Burmese", "Mymr"),
    "na": ("nau", "Nauru", "Latn"),
    "nb": ("nob", "Norwegian Bokmål", "Latn"),
    "nd": ("nde", "North Ndebele", "Latn"),
    "ne": ("nep", "Nepali", "Deva"),
    "ng": ("ndo", "Ndonga", "Latn"),
    "nl": ("nld", "Dutch", "Latn"),
    "nn": ("nno", "Norwegian Nynorsk", "Latn"),
    "no": ("nor", "Norwegian", "Latn"),
    "nr": ("nbl", "South Ndebele", "Latn"),
    "nv": ("nav", "Navajo", "Latn"),
    "ny": ("nya", "Nyanja", "Latn"),
    "oc": ("oci", "Occitan", "Latn"),
    "oj": ("oji", "Ojibwa", "Cans"),
    "om": ("orm", "Oromo", "Latn"),
    "or": ("ori", "Odia", "Orya"),
    "os": ("oss", "Ossetian", "Cyrl"),
    "pa": ("pan", "Punjabi", "Guru"),
    "pi": ("pli", "Pali", "Deva"),
    "pl": ("pol", "Polish", "Latn"),
    "ps": ("pus", "Pashto", "Arab"),
    "pt": ("por", "Portuguese", "Latn"),
    "qu": ("que", "Quechua", "Latn"),
    "rm": ("roh", "Romansh", "Latn"),
    "rn": ("run", "Rundi", "Latn"),
    "ro": ("ron", "Romanian", "Latn"),
    "ru": ("rus", "Russian", "Cyrl"),
    "rw": ("kin", "Kinyarwanda", "Latn"),
    "sa": ("san", "Sanskrit", "Deva"),
    "sc": ("srd", "Sardinian", "Latn"),
    "sd": ("snd", "Sindhi", "Arab"),
    "se": ("sme", "Northern Sami", "Latn"),
    "sg": ("sag", "Sango", "Latn"),
    "sh": ("hbs", "Serbo-Croatian", "Latn"),
    "si": ("sin", "Sinhala", "Sinh"),
    "sk": ("slk", "Slovak", "Latn"),
    "sl": ("slv", "Slovenian", "Latn"),
    "sm": ("smo", "Samoan", "Latn"),
    "sn": ("sna", "Shona", "Latn"),
    "so": ("som", "Somali", "Latn"),
    "sq": ("sqi", "Albanian", "Latn"),
    "sr": ("srp", "Serbian", "Cyrl"),
    "ss": ("ssw", "Swati", "Latn"),
    "st": ("sot", "Southern Sotho", "Latn"),
    "su": ("sun", "Sundanese", "Latn"),
    "sv": ("swe", "Swedish", "Latn"),
    "sw": ("swa", "Swahili", "Latn"),
    "ta": ("tam", "Tamil", "Taml"),
    "te": ("tel", "Telugu", "Telu"),
    "tg": ("tgk", "Tajik", "Cyrl"),
    "th": ("tha", "Thai", "Thai"),
    "ti": ("tir", "Tigrinya", "Ethi"),
    "tk": ("tuk", "Turkmen", "Latn"),
    "tl": ("tgl", "Tagalog", "Latn"),
    "tn": ("tsn", "Tswana", "Latn"),
    "to": ("ton", "Tongan", "Latn"),
    "tr": ("tur", "Turkish", "Latn"),
    "ts": ("tso", "Tsonga", "Latn"),
    "tt": ("tat", "Tatar", "Cyrl"),
    "tw": ("twi", "Twi", "Latn"),
    "ty": ("tah", "Tahitian", "Latn"),
    "ug": ("uig", "Uyghur", "Arab"),
    "uk": ("ukr", "Ukrainian", "Cyrl"),
    "ur": ("urd", "Urdu", "Arab"),
    "uz": ("uzb", "Uzbek", "Latn"),
    "ve": ("ven", "Venda", "Latn"),
    "vi": ("vie", "Vietnamese", "Latn"),
    "vo": ("vol", "Volapük", "Latn"),
    "wa": ("wln", "Walloon", "Latn"),
    "wo": ("wol", "Wolof", "Latn"),
    "xh": ("xho", "Xhosa", "Latn"),
    "yi": ("yid", "Yiddish", "Hebr"),
    "yo": ("yor", "Yoruba", "Latn"),
    "za": ("zha", "Zhuang", "Latn"),
    "zh": ("zho", "Chinese", "Hans"),
    "zu": ("zul", "Zulu", "Latn"),
}

# ISO 639-3 languages without a 639-1 code: (English name, default script). Covers those of
# NLLB-200, M2M-100, mBERT and XLM-R, and a few more that multilingual corpora often carry.
ISO639_3_ONLY: dict[str, tuple[str, str]] = {
    "ace": ("Acehnese", "Latn"),
    "acm": ("Mesopotamian Arabic", "Arab"),
    "acq": ("Ta'izzi-Adeni Arabic", "Arab"),
    "aeb": ("Tunisian Arabic", "Arab"),
    # retired from ISO 639-3 in 2023 (merged into apc) but a separate language in NLLB-200
    "ajp": ("South Levantine Arabic", "Arab"),
    "apc": ("Levantine Arabic", "Arab"),
    "ars": ("Najdi Arabic", "Arab"),
    "ary": ("Moroccan Arabic", "Arab"),
    "arz": ("Egyptian Arabic", "Arab"),
    "ast": ("Asturian", "Latn"),
    "awa": ("Awadhi", "Deva"),
    "azb": ("South Azerbaijani", "Arab"),
    "ban": ("Balinese", "Latn"),
    "bar": ("Bavarian", "Latn"),
    "bem": ("Bemba", "Latn"),
    "bho": ("Bhojpuri", "Deva"),
    "bjn": ("Banjar", "Latn"),
    "bpy": ("Bishnupriya", "Beng"),
    "brx": ("Bodo", "Deva"),
    "bug": ("Buginese", "Latn"),
    "ceb": ("Cebuano", "Latn"),
    "chr": ("Cherokee", "Cher"),
    "cjk": ("Chokwe", "Latn"),
    "ckb": ("Central Kurdish", "Arab"),
    "crh": ("Crimean Tatar", "Latn"),
    "dik": ("Southwestern Dinka", "Latn"),
    "doi": ("Dogri", "Deva"),
    "dsb": ("Lower Sorbian", "Latn"),
    "dyu": ("Dyula", "Latn"),
    "fil": ("Filipino", "Latn"),
    "fon": ("Fon", "Latn"),
    "frr": ("Northern Frisian", "Latn"),
    "fur": ("Friulian", "Latn"),
    "fuv": ("Nigerian Fulfulde", "Latn"),
    "gom": ("Goan Konkani", "Deva"),
    "gsw": ("Swiss German", "Latn"),
    "hak": ("Hakka Chinese", "Hant"),
    "haw": ("Hawaiian", "Latn"),
    "hmn": ("Hmong", "Latn"),
    "hne": ("Chhattisgarhi", "Deva"),
    "hsb": ("Upper Sorbian", "Latn"),
    "ilo": ("Iloko", "Latn"),
    "kab": ("Kabyle", "Latn"),
    "kac": ("Kachin", "Latn"),
    "kam": ("Kamba", "Latn"),
    "kbp": ("Kabiyè", "Latn"),
    "kea": ("Kabuverdianu", "Latn"),
    "kmb": ("Kimbundu", "Latn"),
    "kok": ("Konkani", "Deva"),
    "krc": ("Karachay-Balkar", "Cyrl"),
    "ksh": ("Kölsch", "Latn"),
    "lij": ("Ligurian", "Latn"),
    "lmo": ("Lombard", "Latn"),
    "ltg": ("Latgalian", "Latn"),
    "lua": ("Luba-Lulua", "Latn"),
    "luo": ("Luo", "Latn"),
    "lus": ("Mizo", "Latn"),
    "lzh": ("Literary Chinese", "Hant"),
    "mad": ("Madurese", "Latn"),
    "mag": ("Magahi", "Deva"),
    "mai": ("Maithili", "Deva"),
    "min": ("Minangkabau", "Latn"),
    "mni": ("Manipuri", "Beng"),
    "mos": ("Mossi", "Latn"),
    "mwr": ("Marwari", "Deva"),
    "nan": ("Min Nan Chinese", "Hant"),
    "nds": ("Low German", "Latn"),
    "new": ("Newari", "Deva"),
    "nso": ("Northern Sotho", "Latn"),
    "nus": ("Nuer", "Latn"),
    "pag": ("Pangasinan", "Latn"),
    "pap": ("Papiamento", "Latn"),
    "pcm": ("Nigerian Pidgin", "Latn"),
    "pms": ("Piedmontese", "Latn"),
    "pnb": ("Western Punjabi", "Arab"),
    "prs": ("Dari", "Arab"),
    "quy": ("Ayacucho Quechua", "Latn"),
    "sah": ("Yakut", "Cyrl"),
    "sat": ("Santali", "Olck"),
    "scn": ("Sicilian", "Latn"),
    "sco": ("Scots", "Latn"),
    "shn": ("Shan", "Mymr"),
    "syl": ("Sylheti", "Beng"),
    "szl": ("Silesian", "Latn"),
    "taq": ("Tamasheq", "Latn"),
    "tet": ("Tetum", "Latn"),
    "tpi": ("Tok Pisin", "Latn"),
    "tum": ("Tumbuka", "Latn"),
    "tzm": ("Central Atlas Tamazight", "Latn"),
    "udm": ("Udmurt", "Cyrl"),
    "umb": ("Umbundu", "Latn"),
    "vec": ("Venetian", "Latn"),
    "war": ("Waray", "Latn"),
    "wuu": ("Wu Chinese", "Hans"),
    "yue": ("Cantonese", "Hant"),
    "zza": ("Zaza", "Latn"),
}

# ISO 639-2/B (bibliographic) codes that differ from the 639-2/T = 639-3 codes.
ISO639_2B: dict[str, str] = {
    "alb": "sq",
    "arm": "hy",
    "baq": "eu",
    "bur": "my",
    "chi": "zh",
    "cze": "cs",
    "dut": "nl",
    "fre": "fr",
    "geo": "ka",
    "ger": "de",
    "gre": "el",
    "ice": "is",
    "mac": "mk",
    "mao": "mi",
    "may": "ms",
    "per": "fa",
    "rum": "ro",
    "slo": "sk",
    "tib": "bo",
    "wel": "cy",
}

# Individual languages standing for a macrolanguage with a 639-1 code (NLLB-200 and Tatoeba use
# them), and retired 639-1 codes. Each maps to the internal code.
ALIASES: dict[str, str] = {
    "als": "sq",  # Tosk Albanian
    "arb": "ar",  # Standard Arabic
    "ayr": "ay",  # Central Aymara
    "azj": "az",  # North Azerbaijani
    "cmn": "zh",  # Mandarin Chinese
    "ekk": "et",  # Standard Estonian
    "gaz": "om",  # West Central Oromo
    "khk": "mn",  # Halh Mongolian
    "kmr": "ku",  # Northern Kurdish (Kurmanji)
    "knc": "kr",  # Central Kanuri
    "lvs": "lv",  # Standard Latvian
    "npi": "ne",  # Nepali (individual language)
    "ory": "or",  # Odia (individual language)
    "pbt": "ps",  # Southern Pashto
    "pes": "fa",  # Western Persian
    "plt": "mg",  # Plateau Malagasy
    "swh": "sw",  # Swahili (individual language)
    "uzn": "uz",  # Northern Uzbek
    "ydd": "yi",  # Eastern Yiddish
    "zsm": "ms",  # Standard Malay
    "in": "id",
    "iw": "he",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
}

# Script implied by a region when the tag has no script subtag (CLDR likely subtags).
REGION_SCRIPTS: dict[tuple[str, str], str] = {
    ("zh", "TW"): "Hant",
    ("zh", "HK"): "Hant",
    ("zh", "MO"): "Hant",
    ("pa", "PK"): "Arab",
    ("uz", "AF"): "Arab",
    ("az", "IR"): "Arab",
    ("mn", "CN"): "Mong",
    ("sd", "IN"): "Deva",
}

# Scripts that count as a language's default besides the one in the tables (Korean text is
# tagged both Kore and Hang; Japanese Jpan, or Hrkt for kana-only text).
_EQUIVALENT_SCRIPTS: dict[str, frozenset[str]] = {
    "ko": frozenset({"Kore", "Hang"}),
    "ja": frozenset({"Jpan", "Hrkt"}),
}

SCRIPT_NAMES: dict[str, str] = {
    "Arab": "Arabic",
    "Armn": "Armenian",
    "Beng": "Bengali",
    "Cyrl": "Cyrillic",
    "Deva": "Devanagari",
    "Ethi": "Ethiopic",
    "Geor": "Georgian",
    "Grek": "Greek",
    "Gujr": "Gujarati",
    "Guru": "Gurmukhi",
    "Hang": "Hangul",
    "Hans": "Simplified",
    "Hant": "Traditional",
    "Hebr": "Hebrew",
    "Jpan": "Japanese",
    "Khmr": "Khmer",
    "Knda": "Kannada",
    "Latn": "Latin",
    "Mlym": "Malayalam",
    "Mong": "Mongolian",
    "Mymr": "Myanmar",
    "Olck": "Ol Chiki",
    "Orya": "Odia",
    "Sinh": "Sinhala",
    "Taml": "Tamil",
    "Telu": "Telugu",
    "Tfng": "Tifinagh",
    "Thaa": "Thaana",
    "Thai": "Thai",
    "Tibt": "Tibetan",
}

# 639-3 (and 639-2/B) code → internal code, built once from the tables above.
_FROM_3: dict[str, str] = {iso3: iso1 for iso1, (iso3, _, _) in ISO639_1.items()}
_FROM_3.update({code: code for code in ISO639_3_ONLY})
_FROM_3.update(ISO639_2B)


def _info(base: str) -> tuple[str, str, str]:
    """``(639-3 code, name, default script)`` of an internal base code."""
    if base in ISO639_1:
        return ISO639_1[base]
    name, script = ISO639_3_ONLY[base]
    return base, name, script


def _base(subtag: str) -> str | None:
    code = subtag.lower()
    if code in ISO639_1 or code in ISO639_3_ONLY:
        return code
    if code in ALIASES:
        return ALIASES[code]
    return _FROM_3.get(code)


def _suggestions(code: str) -> list[str]:
    first = code.replace("_", "-").split("-")[0].lower()
    codes = list(ISO639_1) + list(ISO639_3_ONLY) + list(_FROM_3) + list(ALIASES)
    names = {_info(b)[1].lower(): b for b in list(ISO639_1) + list(ISO639_3_ONLY)}
    hits = [names[n] for n in difflib.get_close_matches(code.lower(), list(names), n=3)]
    hits += difflib.get_close_matches(first, codes, n=4, cutoff=0.6)
    seen: list[str] = []
    for hit in hits:
        base = _base(hit)
        label = f"{base} ({_info(base)[1]})" if base else hit
        if label not in seen:
            seen.append(label)
    return seen[:5]


def _unknown(code: object, why: str) -> LanguageCodeError:
    close = _suggestions(str(code)) if isinstance(code, str) and code.strip() else []
    hint = f" Close matches: {', '.join(close)}." if close else ""
    return LanguageCodeError(
        f"unknown language code {code!r}: {why}.{hint}",
        fix="give an ISO 639-1 or 639-3 code ('fr', 'fra'), a BCP-47 tag ('pt-BR', 'zh-Hant') or "
        "an NLLB code ('fra_Latn'); language_name() shows what a code means.",
        code=E_UNKNOWN_LANGUAGE,
    )


def _parse(code: str) -> tuple[str, str | None]:
    """``(internal base code, script to keep or None)``."""
    if not isinstance(code, str) or not code.strip():
        raise _unknown(code, "expected a non-empty string")
    subtags = code.strip().replace("_", "-").split("-")
    base = _base(subtags[0])
    if base is None:
        raise _unknown(code, f"{subtags[0]!r} is not an ISO 639 language code we know")
    script = region = None
    for position, sub in enumerate(subtags[1:], 1):
        if len(sub) == 1 and sub.isalnum():  # extension or private use: not language identity
            break
        if position == 1 and len(sub) == 3 and sub.isalpha():
            # an extended language subtag names the language itself: zh-yue is yue
            base = _base(sub)
            if base is None:
                raise _unknown(code, f"{sub!r} is not an ISO 639 language code we know")
            continue
        if script is None and region is None and len(sub) == 4 and sub.isalpha():
            script = sub.title()
        elif region is None and (
            (len(sub) == 2 and sub.isalpha()) or (len(sub) == 3 and sub.isdigit())
        ):
            region = sub.upper()
        elif not sub.isalnum() or not sub.isascii():
            raise _unknown(code, f"{sub!r} is not a valid subtag")
    if script is None and region is not None:
        script = REGION_SCRIPTS.get((base, region))
    default = _info(base)[2]
    if script is None or script == default or script in _EQUIVALENT_SCRIPTS.get(base, ()):
        return base, None
    return base, script


def normalize_lang(code: str) -> str:
    """The internal code of a language tag (see the module docstring for the rules).

    Raises:
        LanguageCodeError: XP201 for an unknown code, listing close matches by code and name.

    Example:
        >>> [normalize_lang(c) for c in ["en", "fre", "pt-BR", "zho_Hant", "sr-Latn", "ceb"]]
        ['en', 'fr', 'pt', 'zh-Hant', 'sr-Latn', 'ceb']
    """
    base, script = _parse(code)
    return f"{base}-{script}" if script else base


def language_name(code: str) -> str:
    """English name of a language, with its script when it is not the default one.

    Example:
        >>> language_name("zh-TW"), language_name("fil"), language_name("sr_Latn")
        ('Chinese (Traditional)', 'Filipino', 'Serbian (Latin)')
    """
    base, script = _parse(code)
    name = _info(base)[1]
    return f"{name} ({SCRIPT_NAMES.get(script, script)})" if script else name


def to_iso639_3(code: str) -> str:
    """The ISO 639-3 code of a language; the macrolanguage code for 639-1 macrolanguages.

    Example:
        >>> to_iso639_3("de"), to_iso639_3("zh-Hant"), to_iso639_3("arb_Arab"), to_iso639_3("ger")
        ('deu', 'zho', 'ara', 'deu')
    """
    return _info(_parse(code)[0])[0]


def language_script(code: str) -> str:
    """The ISO 15924 script of text in this language: the tag's, or the language's default.

    Example:
        >>> language_script("ja"), language_script("sr-Latn"), language_script("zh-HK")
        ('Jpan', 'Latn', 'Hant')
    """
    base, script = _parse(code)
    return script or _info(base)[2]


def is_known_lang(code: str) -> bool:
    """Whether :func:`normalize_lang` accepts ``code``."""
    try:
        _parse(code)
    except LanguageCodeError:
        return False
    return True
