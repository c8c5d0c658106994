"""translate-test's pieces that need no model: reading the predictions file."""

from __future__ import annotations

import json

from xproj.flows.config import TranslateTestConfig
from xproj.flows.translate_test_flow import Predictor
from xproj.schemas.errors import Reject


def test_translate_test_predictor_rejects_a_prediction_given_again(tmp_path):
    """Two lines for one record: the later is used, the earlier becomes a reject (XP117) that
    names the file and the record, instead of vanishing."""
    preds = tmp_path / "pred.jsonl"
    lines = [
        {"id": "r1", "text": "Anna sings", "spans": [{"start": 0, "end": 4, "label": "PER"}]},
        {"id": "r2", "text": "Bob runs", "spans": []},
        {"id": "r1", "text": "Anna sings", "spans": [{"start": 5, "end": 10, "label": "MISC"}]},
    ]
    preds.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = TranslateTestConfig(
        input={"path": "x.txt", "lang": "de", "format": "text"},
        model="m",
        predictions={"path": str(preds)},
    )
    rejects: list[Reject] = []
    predictor = Predictor(config, rejects)
    assert sorted(predictor.by_id) == ["r1", "r2"]
    assert [s.label for s in predictor.by_id["r1"].spans] == ["MISC"]  # the later line
    assert [(r.stage, r.source, r.locator, r.code) for r in rejects] == [
        ("predict", str(preds), "record r1", "XP117")
    ]
    assert "later line" in rejects[0].reason and rejects[0].raw == "Anna sings"
