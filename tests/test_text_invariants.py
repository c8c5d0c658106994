"""Word tokenizer invariants for every language NLLB-200 covers (all 202 of its codes).

One sample text per script (:data:`SAMPLES`), written in that script, rich in combining marks
(viramas, nuktas, vowel signs, niqqud, harakat, coeng, subjoined letters, NFD diacritics) and with
Latin words and numbers embedded, some glued to the native letters (``ปี2024``,
``2024年にWindows``). For each code, the registry's tokenizer (:func:`tokenizer_for`) must:

1. give exact offsets (``text[start:end] == token``), non-empty, non-whitespace tokens, in order
   and not overlapping;
2. never cut an extended grapheme cluster (the ``regex`` module's ``\\X``);
3. keep every run of ASCII letters, every Latin word with its diacritics (``Zhōngwén`` in NFD)
   and every number (``\\d+(?:[.,]\\d+)?``, native digits too) inside one token;
4. cover every non-space character (the tokenizers drop nothing but whitespace).
"""

from __future__ import annotations

import unicodedata

import pytest
import regex

from xproj.schemas.languages import language_set
from xproj.text.words import tokenizer_for


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


#: One sample per script of the NLLB-200 codes (the part after ``_``): native words rich in
#: combining marks, with Latin words and ASCII numbers embedded, some glued to native letters.
BASE: dict[str, str] = {
    "Arab": (
        "اَللُّغَةُ الْعَرَبِيَّةُ جَمِيلَةٌ. صَدَرَ Windows 2024 بِالإِصْدَارِ 3.5 و16,000،"
        " لِـWindows وبـ2024، می\u200cخواهم اردو زبان"
    ),
    "Armn": nfd(
        "Հայերենը հնդեվրոպական լեզու է։ Windows 2024 թվականին, 2024թ. 3.5 տոկոս, Zürich-ում"
    ),
    "Beng": nfd(
        "বাংলা ভাষা আমার মাতৃভাষা। Windows 2024 সালে সংস্করণ, উৎসব ও বিদ্যুৎ, সময়, "
        "Windows-এর 2024সালে 3.5 ক্ষমতা 16,000 টাকা"
    ),
    "Cyrl": nfd(
        "Ру\u0301сский язы\u0301к: Windows 2024 го\u0301да, ве\u0301рсия 3.5; ёлка и йогурт, "
        "Йошкар-Ола, 2024г. 16,000 рубле\u0301й"
    ),
    "Deva": nfd(
        "नमस्ते दुनिया! हिन्दी में Windows 2024 का संस्करण 3.5 है। क़िला, ज़्यादा, 2024में, "
        "श्री क्षत्रिय, ॐ, 16,000 रुपये"
    ),
    "Ethi": nfd("ኢትዮጵያ የአፍሪካ ቀንድ ሀገር ናት። Windows 2024 ዓ.ም. 3.5 ሚሊዮን፣ 2024ዓ.ም 16,000 ብር Zürich"),
    "Geor": nfd(
        "ქართული ენა ლამაზია. Windows 2024 წელს 3.5 მილიონი, Windows-ის 16,000 ლარი Zürich"
    ),
    "Grek": nfd(
        "Η ελληνική γλώσσα είναι όμορφη· Windows 2024 έκδοση 3.5, Ἀθῆναι, προϊόν, ῥήτωρ, 16,000 ευρώ"
    ),
    "Gujr": nfd("ગુજરાતી ભાષા સુંદર છે. Windows 2024માં 3.5 કરોડ, ક્ષત્રિય, શ્રી, દ્વારા, 16,000 રૂપિયા"),
    "Guru": nfd("ਪੰਜਾਬੀ ਭਾਸ਼ਾ ਬਹੁਤ ਮਿੱਠੀ ਹੈ। Windows 2024 ਵਿੱਚ 3.5 ਕਰੋੜ, ਖ਼ਾਲਸਾ, 2024ਵਿੱਚ 16,000 ਰੁਪਏ"),
    "Hang": "한국어는 아름다운 언어입니다. Windows에서 2024년 3.5 버전, 16,000원, "
    + nfd("대한민국 서울")
    + " 한글",
    "Hans": "中文是世界上使用人数最多的语言。用Windows 2024年发布了3.5版本，售价16,000元，葛\U000e0100城，"
    + nfd("Zhōngwén")
    + "。",
    "Hant": "繁體中文在臺灣與香港使用。粵語Windows 2024年推出3.5版，16,000人，"
    + nfd("Yuèyǔ 臺灣")
    + "。",
    "Hebr": (
        "שָׁלוֹם עוֹלָם! עִבְרִית הִיא שָׂפָה יָפָה. Windows 2024 גִּרְסָה 3.5, ב2024 ב\u05beWindows"
        " ייִדיש, 16,000 שֶׁקֶל"
    ),
    "Jpan": "日本語のテキストです。2024年にWindowsの3.5版が出た。16,000円、"
    + nfd("がぎぐ パソコン")
    + " ﾃﾞｰﾀ 東京タワー",
    "Khmr": "ភាសាខ្មែរគឺជាភាសាផ្លូវការនៃប្រទេសកម្ពុជា។ Windows 2024 ឆ្នាំ2024 កំណែ3.5 ស្ត្រី 16,000រៀល",
    "Knda": "ಕನ್ನಡ ಭಾಷೆ ಸುಂದರವಾಗಿದೆ. Windows 2024ರಲ್ಲಿ 3.5 ಕೋಟಿ, ಶ್ರೀ ಕ್ಷೇತ್ರ, 16,000 ರೂಪಾಯಿ",
    "Laoo": "ພາສາລາວເປັນພາສາລາດຊະການ ສະບາຍດີ Windows ປີ2024 ລຸ້ນ3.5 ນ້ຳ 16,000ກີບ",
    "Mlym": "മലയാളം എന്റെ മാതൃഭാഷയാണ്. Windows 2024-ൽ 3.5 കോടി, ക്ഷേത്രം, 2024ൽ 16,000 രൂപ",
    "Mymr": "မြန်မာဘာသာစကားသည် Windows 2024ခုနှစ် ဗားရှင်း3.5 ဖြစ်သည်။ ကျောင်း 16,000ကျပ်",
    "Orya": nfd("ଓଡ଼ିଆ ଭାଷା ବହୁତ ପୁରୁଣା। Windows 2024 ମସିହାରେ 3.5 କୋଟି, 2024ରେ, କ୍ଷେତ୍ର, 16,000 ଟଙ୍କା"),
    "Sinh": (
        "සිංහල භාෂාව ශ්\u200dරී ලංකාවේ නිල භාෂාවයි. Windows 2024 දී 3.5 ක්, 2024දී "
        "ස්ත්\u200dරී ක්\u200dරමය 16,000 රුපියල්"
    ),
    "Taml": "தமிழ் மொழி மிகவும் பழமையானது. Windows 2024இல் 3.5 கோடி, ஸ்ரீ க்ஷேத்திரம், 16,000 ரூபாய்",
    "Telu": "తెలుగు భాష చాలా మధురమైనది. Windows 2024లో 3.5 కోట్లు, శ్రీ క్షేత్రం, 16,000 రూపాయలు",
    "Tfng": nfd("ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⵓⵜⵍⴰⵢⵜ ⵜⴰⵏⴰⵎⵓⵔⵜ. Windows 2024 ⴰⵙⴳⴳⵯⴰⵙ 3.5, 16,000 Zürich"),
    "Thai": "ภาษาไทยเป็นภาษาราชการของประเทศไทย น้ำใจ ปี2024 ใช้Windows รุ่น 3.5 ที่นี่ ราคา16,000บาท",
    "Tibt": "བོད་ཀྱི་སྐད་ཡིག་ནི་སྐད་ཡིག་གལ་ཆེན་ཞིག་རེད། Windows 2024 ལོར 3.5 སྤྱི་ལོ2024 ཧཱུྃ 16,000",
    "Latn": nfd(
        "Tiếng Việt là ngôn ngữ của Việt Nam. Windows 2024 phiên bản 3.5; crème brûlée à Zürich, "
        "Ångström, Ñandú, Dvořák, Łódź 2024, 16,000 €."
    ),
}
#: Numbers in the script's own digits (``\\d`` matches them too), where those are in use:
#: a year, a decimal and a thousands separator.
NATIVE_DIGITS: dict[str, str] = {
    "Arab": "عَامَ ٢٠٢٤ وَ٣.٥، ۱۴۰۳ ۳.۵",
    "Beng": "২০২৪ সালে ৩.৫ ১৬,০০০",
    "Deva": "२०२४ में ३.५ १६,०००",
    "Gujr": "૨૦૨૪માં ૩.૫",
    "Guru": "੨੦੨੪ ਵਿੱਚ ੩.੫",
    "Khmr": "២០២៤ ៣.៥",
    "Knda": "೨೦೨೪ ೩.೫",
    "Laoo": "໒໐໒໔ ໓.໕",
    "Mymr": "၂၀၂၄ ၃.၅",
    "Orya": "୨୦୨୪ ୩.୫",
    "Thai": "๒๕๖๗ ๓.๕",
    "Tibt": "༢༠༢༤ ༣.༥",
}
SAMPLES: dict[str, str] = {
    script: f"{text} {NATIVE_DIGITS[script]}" if script in NATIVE_DIGITS else text
    for script, text in BASE.items()
}

NLLB_CODES = language_set("nllb")

ASCII_WORD = regex.compile(r"[A-Za-z]+")
#: A Latin word with its diacritics, precomposed or combining (``Zhōngwén`` in NFD).
LATIN_WORD = regex.compile(r"(?:\p{Latin}\p{M}*)+")
NUMBER = regex.compile(r"\d+(?:[.,]\d+)?")
#: An ASCII letter or digit touching a non-ASCII letter or mark: ``ปี2024``, ``2024年``.
GLUED = regex.compile(
    r"[A-Za-z0-9](?=[\p{L}\p{M}--\p{ASCII}])|(?<=[\p{L}\p{M}--\p{ASCII}])[A-Za-z0-9]", regex.V1
)


def script_of(code: str) -> str:
    return code.split("_", 1)[1]


def cluster_boundaries(text: str) -> set[int]:
    """Offsets where an extended grapheme cluster starts, plus ``len(text)``."""
    return {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}


def around(tokens: list[tuple[str, int, int]], offset: int, width: int = 3) -> list:
    """The tokens near ``offset``, for failure messages."""
    k = next((i for i, (_, s, e) in enumerate(tokens) if e > offset), len(tokens))
    return tokens[max(0, k - width) : k + width]


def violations(text: str, tokens: list[tuple[str, int, int]]) -> list[str]:
    """Every broken invariant, each with the tokens around it; empty when all hold."""
    out: list[str] = []
    bounds = cluster_boundaries(text)
    prev_end = 0
    for tok, s, e in tokens:
        if text[s:e] != tok:
            out.append(f"offsets: text[{s}:{e}]={text[s:e]!r} != {tok!r}")
        if not tok or tok.isspace():
            out.append(f"empty or whitespace token {tok!r} at {s}")
        if s < prev_end or e < s:
            out.append(f"out of order or overlapping at {s}:{e}: {around(tokens, s)}")
        prev_end = max(prev_end, e)
        for edge in (s, e):
            if edge not in bounds:
                out.append(
                    f"token {tok!r} ({s}:{e}) cuts a grapheme cluster at {edge}: "
                    f"{around(tokens, edge)}"
                )
    for pattern, what in (
        (ASCII_WORD, "ASCII letter run"),
        (LATIN_WORD, "Latin word"),
        (NUMBER, "number"),
    ):
        for m in pattern.finditer(text):
            if not any(s <= m.start() and m.end() <= e for _, s, e in tokens):
                out.append(f"{what} {m.group()!r} not whole: {around(tokens, m.start())}")
    covered = set().union(*(range(s, e) for _, s, e in tokens)) if tokens else set()
    for i, ch in enumerate(text):
        if not ch.isspace() and i not in covered:
            out.append(f"character {ch!r} at {i} in no token: {around(tokens, i)}")
    return out


def test_text_invariants_samples_cover_every_nllb_script():
    assert len(NLLB_CODES) == 202
    assert {script_of(c) for c in NLLB_CODES} == set(SAMPLES)


@pytest.mark.parametrize("script", sorted(SAMPLES))
def test_text_invariants_samples_are_hard(script):
    """Each sample embeds Latin words and numbers and defeats a code-point tokenizer."""
    text = SAMPLES[script]
    assert "Windows" in text and NUMBER.search(text)
    per_code_point = [(ch, i, i + 1) for i, ch in enumerate(text) if not ch.isspace()]
    assert any("cuts a grapheme cluster" in v for v in violations(text, per_code_point))


def test_text_invariants_samples_glue_latin_and_numbers_to_native_letters():
    glued = {s for s, text in SAMPLES.items() if s != "Latn" and GLUED.search(text)}
    assert {"Thai", "Jpan", "Hans", "Khmr", "Laoo", "Mymr", "Tibt", "Deva", "Arab"} <= glued


@pytest.mark.parametrize("code", NLLB_CODES)
def test_text_invariants_hold_for_every_nllb_code(code):
    text = SAMPLES[script_of(code)]
    tokenizer = tokenizer_for(code)
    tokens = tokenizer.tokenize(text)
    problems = violations(text, tokens)
    assert not problems, f"{code} ({tokenizer.name}): " + "\n".join(problems)


@pytest.mark.parametrize(
    "code", ["tha_Thai", "zho_Hans", "jpn_Jpan", "bod_Tibt", "eng_Latn", "ace_Arab", "kor_Hang"]
)
def test_text_invariants_registry_records_its_choice(code):
    tokenizer = tokenizer_for(code)
    assert isinstance(tokenizer.name, str) and tokenizer.name.strip()
    assert isinstance(tokenizer.version, str) and tokenizer.version.strip()
    assert tokenizer.name in tokenizer.describe() and tokenizer.version in tokenizer.describe()
