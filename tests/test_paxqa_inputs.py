"""PAXQA context readers: one item per input record, each pair knowing its place in the input."""

from __future__ import annotations

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
