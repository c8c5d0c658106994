"""PAXQA context readers: one item per input record, each pair knowing its place in the input."""

from __future__ import annotations

import json

from xproj.generators.paxqa.inputs import ContextPair, iter_contexts
from xproj.schemas.errors import Reject


def test_context_pairs_keep_their_input_position_past_rejected_lines(tmp_path):
    path = tmp_path / "ctx.en-de.tsv"
    path.write_text("A b.\tA b.\nno tab here\nC d.\tC d.\n", encoding="utf-8")
    items = list(iter_contexts(path, "bitext", "de"))
    assert [type(i) for i in items] == [ContextPair, Reject, ContextPair]
    # given.v1 links are read by these positions: line 3's pair is position 2, not 1
    assert [i.position for i in items if isinstance(i, ContextPair)] == [0, 2]
    assert items[1].locator == "line 2"


def test_squad_context_positions_skip_rejected_questions(tmp_path):
    # a rejected question is not a context: it used to take a position, so every later
    # paragraph read the given.v1 link line of the next context
    path = tmp_path / "squad.json"
    answer = {"text": "Italy", "answer_start": 11}
    paragraphs = [
        {
            "context": "Rome is in Italy.",
            "qas": [
                {"id": "q1", "question": "", "answers": [answer]},
                {"id": "q2", "question": "Where is Rome?", "answers": [answer]},
            ],
        },
        {
            "context": "Paris is in France.",
            "qas": [
                {
                    "id": "q3",
                    "question": "Where is Paris?",
                    "answers": [{"text": "France", "answer_start": 12}],
                }
            ],
        },
    ]
    doc = {"version": "1.1", "data": [{"title": "T", "paragraphs": paragraphs}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    items = list(iter_contexts(path, "squad", "de"))
    assert [type(i) for i in items] == [Reject, ContextPair, ContextPair]
    assert [i.position for i in items if isinstance(i, ContextPair)] == [0, 1]
