"""``xproj eval``: score alignments and projections against gold; store the scores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xproj.schemas.errors import E_GOLD_COUNT, InputFormatError, Reject


def _store(
    lake_root: str | None,
    flow: str,
    params: dict[str, Any],
    inputs: list,
    make_table: Callable[[str], Any],
) -> None:
    """Commit the scores as a run of ``flow``: ``make_table(run_id)`` gives its ``evaluations``."""
    from xproj.catalog import Lake, RunRecord

    lake = Lake(lake_root or None)
    run = RunRecord.start(flow, params, inputs)
    table = make_table(run.run_id)
    run.metrics = {
        r["label"]: {
            "precision": r["precision"],
            "recall": r["recall"],
            "f1": r["f1"],
            "aer": r["aer"],
        }
        for r in table.to_pylist()
    }
    lake.commit(run, {"evaluations": table})


def evaluate_alignment_files(
    pred: Path,
    gold: Path,
    *,
    bitext: Path | None = None,
    pred_one_based: bool = False,
    gold_one_based: bool = False,
    dataset: str,
    system: str,
    lake: str | None = None,
    store: bool = True,
):
    """Read predicted and gold Pharaoh files, score them; returns (scores, reported issues)."""
    from xproj.catalog import InputRef
    from xproj.catalog.evaluations import alignment_evaluation_table
    from xproj.io.readers.alignments import read_pharaoh
    from xproj.io.readers.bitext import read_tokenized_bitext
    from xproj.projectors.metrics import alignment_scores

    lengths = None
    if bitext is not None:
        lengths = [(len(s), len(t)) for s, t in read_tokenized_bitext(bitext)]
    issues: list[Reject] = []
    gold_al = read_pharaoh(gold, one_based=gold_one_based, lengths=lengths, issues=issues)
    pred_al = read_pharaoh(pred, one_based=pred_one_based, lengths=lengths, issues=issues)
    if len(gold_al) != len(pred_al):
        raise InputFormatError(
            f"{len(pred_al)} predicted alignments but {len(gold_al)} gold ones ({gold}).",
            fix="give one line per sentence pair in both files, in the same order.",
            file=str(pred),
            code=E_GOLD_COUNT,
        )
    scores = alignment_scores(pred_al, gold_al)
    if store:
        params = {
            "pred": str(pred),
            "gold": str(gold),
            "pred_one_based": pred_one_based,
            "gold_one_based": gold_one_based,
        }
        _store(
            lake,
            "eval_alignment",
            params,
            [InputRef.for_file(n, p) for n, p in (("pred", pred), ("gold", gold))],
            lambda eval_run: alignment_evaluation_table(
                scores, run_id=eval_run, dataset=dataset, system=system, params=params
            ),
        )
    return scores, issues


def evaluate_projection(
    gold: Path,
    gold_lang: str,
    *,
    pred: Path | None = None,
    run_id: str | None = None,
    dataset: str,
    system: str,
    lake: str | None = None,
    store: bool = True,
):
    """Span P/R/F1 of predictions (a CoNLL file, or a run's ``projected`` rows) against gold."""
    from xproj.catalog import InputRef, Lake
    from xproj.catalog.evaluations import span_evaluation_table
    from xproj.io.readers.conll import iter_conll
    from xproj.projectors.metrics import span_scores
    from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
    from xproj.schemas.records import AnnotatedSentence, TokenSpan

    if (pred is None) == (run_id is None):
        raise ConfigError(
            "give exactly one of --pred and --run.",
            code=E_BAD_CONFIG,
            fix="--pred FILE scores a CoNLL file; --run ID scores a run's rows.",
        )
    gold_sents = [
        s for s in iter_conll(gold, gold_lang, on_error="raise") if isinstance(s, AnnotatedSentence)
    ]
    if pred is not None:
        predicted = [list(s.spans) for s in iter_conll(pred, gold_lang, on_error="raise")]
    else:
        import pyarrow.compute as pc

        rows = (
            Lake(lake)
            .read(
                "projected", columns=["pair_id", "tgt_spans"], filter=pc.field("run_id") == run_id
            )
            .to_pylist()
        )
        if not rows:
            raise ConfigError(
                f"run {run_id} has no projected rows.",
                code=E_BAD_CONFIG,
                fix='list runs with: xproj query "SELECT run_id, flow FROM runs"',
            )
        by_target = {_target_id(r["pair_id"]): r for r in rows}
        if gold_sents and not any(g.id in by_target for g in gold_sents):
            raise ConfigError(
                f"none of the {len(rows)} projected rows of run {run_id} labels a sentence of "
                f"{gold} (gold ids {gold_sents[0].id} …, run ids {next(iter(by_target))} …).",
                code=E_BAD_CONFIG,
                fix="give the gold file of the run's target side: record ids come from the file "
                "name and the sentence number.",
            )
        predicted = [
            [TokenSpan(x["start"], x["end"], x["label"]) for x in by_target[g.id]["tgt_spans"]]
            if g.id in by_target
            else []
            for g in gold_sents
        ]
    if len(predicted) != len(gold_sents):
        raise InputFormatError(
            f"{len(predicted)} predicted sentences but {len(gold_sents)} gold sentences.",
            fix="predictions must be sentence-aligned with the gold file.",
            file=str(pred or run_id),
            code=E_GOLD_COUNT,
        )
    scores = span_scores(predicted, [g.spans for g in gold_sents])
    if store:
        params = {"gold": str(gold), "pred": str(pred) if pred else None, "run": run_id}
        _store(
            lake,
            "eval_projection",
            params,
            [InputRef.for_file("gold", gold)],
            lambda eval_run: span_evaluation_table(
                scores, run_id=eval_run, dataset=dataset, system=system, params=params
            ),
        )
    return scores


def _target_id(pair_id: str) -> str:
    """The id of the target record a ``projected`` row labels: ``source|target`` for a parallel
    projection, the record's own id for translate-test (projected back onto the input)."""
    return pair_id.split("|", 1)[1] if "|" in pair_id else pair_id
