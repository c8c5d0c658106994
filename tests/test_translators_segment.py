"""Sentence splitting, packing and joining for over-long inputs."""

from __future__ import annotations

import pytest

from xproj.translators.segment import joiner, pack, sentence_spans, split_sentences

# (text, expected sentences)
SPLIT_CASES = [
    ("One sentence without end", ["One sentence without end"]),
    ("Dogs bark. Cats meow.", ["Dogs bark.", "Cats meow."]),
    ("Really?! Yes… Fine.", ["Really?!", "Yes…", "Fine."]),
    ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
    ("(See above.) Next.", ["(See above.)", "Next."]),
    ("Pi is 3.14 today.", ["Pi is 3.14 today."]),
    ("Visit example.com now.", ["Visit example.com now."]),
    ("猫在睡觉。狗在跑！你呢？", ["猫在睡觉。", "狗在跑！", "你呢？"]),
    ("「行く。」と言った。", ["「行く。」", "と言った。"]),
    ("यह एक वाक्य है। यह दूसरा है॥ अंत", ["यह एक वाक्य है।", "यह दूसरा है॥", "अंत"]),
    ("هل أنت هنا؟ نعم.", ["هل أنت هنا؟", "نعم."]),
    ("line one\nline two\r\nline three", ["line one", "line two", "line three"]),
    ("  padded.   text.  ", ["padded.", "text."]),
    ("", []),
    ("   \n  ", []),
]


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_segment_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_segment_spans_cover_every_non_space_character(text, expected):
    spans = sentence_spans(text)
    covered = "".join(text[start:end] for start, end in spans)
    assert covered.replace(" ", "") == "".join(text.split()).replace(" ", "")
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


# (lengths, limit, expected runs as lists of indices)
PACK_CASES = [
    ([], 10, []),
    ([5], 10, [[0]]),
    ([3, 4, 2, 6, 1], 7, [[0, 1], [2], [3, 4]]),
    ([2, 2, 2, 2], 4, [[0, 1], [2, 3]]),
    ([9, 1, 1], 5, [[0], [1, 2]]),  # an item over the limit stays alone
    ([1, 1, 1], 100, [[0, 1, 2]]),
]


@pytest.mark.parametrize(("lengths", "limit", "expected"), PACK_CASES)
def test_segment_pack_greedy_runs(lengths, limit, expected):
    runs = pack(lengths, limit)
    assert [list(run) for run in runs] == expected
    for run in runs:
        assert len(run) == 1 or sum(lengths[i] for i in run) <= limit


@pytest.mark.parametrize(
    ("script", "sep"), [("Latn", " "), ("Cyrl", " "), ("Hans", ""), ("Jpan", ""), ("Thai", "")]
)
def test_segment_joiner_by_script(script, sep):
    assert joiner(script) == sep
