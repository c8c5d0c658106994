"""Sentence splitting per script (xproj.text.sentences): ICU's rules plus the boundaries it misses."""

from __future__ import annotations

import pytest

from xproj.text.sentences import sentence_spans

# (language, text, expected sentences)
CASES = [
    (None, "One sentence without end", ["One sentence without end"]),
    ("en", "Dogs bark. Cats meow.", ["Dogs bark.", "Cats meow."]),
    # ICU: an ellipsis is not a sentence terminal; a period before a lower-case word is not an end
    ("en", "Really?! Yes… Fine.", ["Really?!", "Yes… Fine."]),
    ("en", "  padded.   text.  ", ["padded.   text."]),
    ("en", 'He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
    ("en", "(See above.) Next.", ["(See above.)", "Next."]),
    ("en", "Pi is 3.14 today.", ["Pi is 3.14 today."]),
    ("en", "Visit example.com now.", ["Visit example.com now."]),
    ("en", "Mr. Smith met J. Doe. Fine.", ["Mr. Smith met J. Doe.", "Fine."]),
    ("en", "Dr. Brown arrived. He sat.", ["Dr. Brown arrived.", "He sat."]),
    ("zh", "猫在睡觉。狗在跑！你呢？", ["猫在睡觉。", "狗在跑！", "你呢？"]),
    ("ja", "「行く。」と言った。", ["「行く。」", "と言った。"]),
    ("hi", "यह एक वाक्य है। यह दूसरा है॥ अंत", ["यह एक वाक्य है।", "यह दूसरा है॥", "अंत"]),
    ("ar", "هل أنت هنا؟ نعم.", ["هل أنت هنا؟", "نعم."]),
    ("ur", "یہ جملہ ہے۔ دوسرا", ["یہ جملہ ہے۔", "دوسرا"]),
    ("am", "ኢትዮጵያ ሀገር ነች። ሌላ።", ["ኢትዮጵያ ሀገር ነች።", "ሌላ።"]),
    ("km", "ភាសាខ្មែរ។ ភាសាខ្មែរ៕", ["ភាសាខ្មែរ។", "ភាសាខ្មែរ៕"]),
    ("my", "မြန်မာဘာသာ။ မြန်မာ။", ["မြန်မာဘာသာ။", "မြန်မာ။"]),
    ("bo", "བོད་ཀྱི་སྐད་ཡིག་ནི། བོད་ཀྱི་སྐད།", ["བོད་ཀྱི་སྐད་ཡིག་ནི།", "བོད་ཀྱི་སྐད།"]),
    # Thai and Lao: a space between two letters of the script ends a sentence, one by a number not
    ("th", "ภาษาไทยง่าย ปี 1996 ดีมาก ภาษาลาว", ["ภาษาไทยง่าย", "ปี 1996 ดีมาก", "ภาษาลาว"]),
    ("th", "ผมชอบ Windows 10 มาก", ["ผมชอบ Windows 10 มาก"]),
    ("lo", "ພາສາລາວ ເປັນພາສາ", ["ພາສາລາວ", "ເປັນພາສາ"]),
    (None, "line one\nline two\r\nline three", ["line one", "line two", "line three"]),
    (None, "", []),
    (None, "   \n  ", []),
    (None, "𠀀我来了。𠀁她走了", ["𠀀我来了。", "𠀁她走了"]),  # outside the BMP: offsets stay exact
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES)
def test_text_sentences(lang, text, expected):
    spans = sentence_spans(text, lang)
    assert [text[start:end] for start, end in spans] == expected
    covered = "".join(text[start:end] for start, end in spans)
    assert "".join(covered.split()) == "".join(text.split())
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
