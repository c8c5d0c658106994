"""Flow ``translate_test``: label target-language text with an English model, through translation.

Translate-test runs the other way round from translate-train. The input is text in language X
(optionally with gold spans); each record is translated into the pivot language (English by
default, through the lake's translation cache), English span predictions are attached — from a
user's predictions file, or from a spaCy pipeline run on the translations — and projected back
onto the *original* X text with ``codec`` (default), ``markers`` or word alignment. Every output
span is a span of the original text; records that cannot go through are rejected with reasons.

Two-step use without a spaCy pipeline: run once with neither ``predictions`` nor ``spacy`` (it
translates and commits ``translations`` only), label the English of that run (``xproj query
"SELECT sentence_id AS id, translation AS text FROM translations WHERE run_id = '…'" --format
jsonl``), then run again with ``predictions`` pointing at the labeled file: the translations come
from the cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from prefect import flow

from xproj.executor.core import Shard, ShardOutput
from xproj.executor.summary import RunSummary
from xproj.flows.config import TranslateTestConfig
from xproj.flows.runtime import run_plan
from xproj.flows.translating import TranslatingPlan, method
from xproj.schemas.errors import E_BAD_PREDICTION, E_NO_PREDICTION, Reject
from xproj.schemas.records import AnnotatedSentence

FLOW_NAME = "translate_test"


class Predictor:
    """English spans for translated records: from a predictions file or a spaCy pipeline.

    A predictions file is read once into memory, one sentence per input record, so that records
    can be matched by id in any order; its unreadable lines go to ``rejects`` with file and line,
    and so does each line whose id a later line gives again (the later one is used).
    """

    def __init__(self, config: TranslateTestConfig, rejects: list[Reject]) -> None:
        self.config = config
        self.by_id: dict[str, AnnotatedSentence] | None = None
        self.nlp = None
        if config.predictions is not None:
            from xproj.io.readers.spans import SpanFields, iter_spans

            p = config.predictions
            fields = SpanFields(id=p.id_column, text=p.text_column, spans=p.spans_column)
            self.by_id = {}
            for item in iter_spans(p.path, config.pivot_lang, on_error="reject", fields=fields):
                if isinstance(item, Reject):
                    rejects.append(item)
                    continue
                earlier = self.by_id.get(item.id)
                if earlier is not None:
                    rejects.append(_replaced_prediction(p, earlier))
                self.by_id[item.id] = item
        elif config.spacy is not None:
            from xproj.text import pipelines

            self.nlp = pipelines.load(config.spacy, purpose="labelling the pivot-language text")

    @property
    def active(self) -> bool:
        return self.by_id is not None or self.nlp is not None

    def predict(
        self, originals: Sequence[AnnotatedSentence], english: Sequence[str]
    ) -> list[AnnotatedSentence | Reject]:
        """One English sentence with predicted spans (or a reject) per original record."""
        from xproj.io.readers.spans import record_to_sentence

        cfg = self.config
        out: list[AnnotatedSentence | Reject] = []
        if self.by_id is not None:
            for o, text in zip(originals, english, strict=True):
                got = self.by_id.get(o.id)
                if got is None:
                    out.append(
                        Reject(
                            "predict",
                            cfg.predictions.path,
                            f"record {o.id}",
                            E_NO_PREDICTION,
                            "no prediction for this record. Fix: give one line per input record "
                            f"with '{cfg.predictions.id_column}' = the record id.",
                            text[:500],
                        )
                    )
                    continue
                out.append(_relabel(got, f"{o.id}@{cfg.pivot_lang}", cfg.label_map))
            return out
        docs = self.nlp.pipe(english)
        for o, text, doc in zip(originals, english, docs, strict=True):
            record = {
                "id": f"{o.id}@{cfg.pivot_lang}",
                "text": text,
                "spans": [
                    {"start": e.start_char, "end": e.end_char, "label": e.label_} for e in doc.ents
                ],
            }
            try:
                sentence = record_to_sentence(record, record["id"], cfg.pivot_lang)
            except Exception as err:  # an entity the tokenizer cannot hold: say so
                out.append(
                    Reject(
                        "predict",
                        cfg.spacy,
                        f"record {o.id}",
                        E_BAD_PREDICTION,
                        f"the pipeline's entities cannot be used: {err}",
                        text[:500],
                    )
                )
                continue
            out.append(_relabel(sentence, sentence.id, cfg.label_map))
        return out


def _replaced_prediction(spec, earlier: AnnotatedSentence) -> Reject:
    """The reject of a prediction that a later line of the file gives again for its record."""
    return Reject(
        "predict",
        spec.path,
        f"record {earlier.id}",
        E_BAD_PREDICTION,
        "a later line gives another prediction for this record, and that one is used. Fix: "
        f"give one line per input record ('{spec.id_column}' = the record id).",
        earlier.text[:500],
    )


def _relabel(s: AnnotatedSentence, new_id: str, label_map: dict[str, str]) -> AnnotatedSentence:
    from dataclasses import replace

    spans = tuple(replace(sp, label=label_map.get(sp.label, sp.label)) for sp in s.spans)
    return replace(s, id=new_id, spans=spans)


def _tokens_name(config: TranslateTestConfig) -> str:
    """Who made the original text's tokens (they are kept, so gold lines up)."""
    from xproj.text.words import tokenizer_for

    if config.input.format == "text":
        return tokenizer_for(config.input.lang).name
    return f"input:{config.input.format}"


class TranslateTest(TranslatingPlan):
    """The plan of a ``translate_test`` run (see :class:`xproj.executor.core.Plan`)."""

    flow = FLOW_NAME

    def __init__(self, config: TranslateTestConfig) -> None:
        from xproj.schemas.languages import normalize_lang

        super().__init__(config)
        self.lang = normalize_lang(config.input.lang)
        self.pivot = normalize_lang(config.pivot_lang)
        self.title = (
            f"{config.dataset_name()}: translate-test with {config.model} ({method(config)})"
        )
        self._read_rejects: list[Reject] = []

    def check_languages(self) -> None:
        self._inner.language_codes(self.lang, self.pivot)

    def tokenized_langs(self) -> tuple[str, ...]:
        return (self.lang,)

    def prepare(self, run: Any, log: Any) -> None:
        self.open_translator(run)
        self._read_rejects = []
        self.predictor = Predictor(self.config, self._read_rejects)
        if not self.predictor.active:
            log.info("no predictions and no spaCy pipeline: translating only")
            self.projector = None
            return
        self.open_projector()
        for model in self.projector.models():  # the projection direction: XP202 now
            model.language_codes(self.pivot, self.lang)
        log.info("projecting with %s (%s)", self.projector.name, method(self.config))

    def input_spec(self):
        return self.config.input

    def process(self, shard: Shard) -> ShardOutput:
        out = ShardOutput()
        stats = self.shard_stats(lambda: self._shard(list(shard.records), out))
        out.stats = {**out.stats, **stats}
        return out

    def _shard(self, originals: list[AnnotatedSentence], out: ShardOutput) -> None:
        """Translate into the pivot language, predict, project back onto the originals."""
        from xproj.flows._steps import projection_outputs, reject_of, span_counts, translation_row
        from xproj.projectors.projector import ProjectionTask, not_translated
        from xproj.text.words import tokenizer_for

        config, lang, pivot, translator = self.config, self.lang, self.pivot, self.translator
        options = config.decoding
        translations = list(
            translator.translate((o.text for o in originals), lang, pivot, options=options)
        )
        translator.flush()
        common = {
            "src_lang": lang,
            "tgt_lang": pivot,
            "decoding": json.dumps(options.to_dict(), sort_keys=True),
            "translator": translator,
        }
        out.rows["translations"] = [
            translation_row(o, tr, **common) for o, tr in zip(originals, translations, strict=True)
        ]
        ok = []
        for o, tr in zip(originals, translations, strict=True):
            if tr.ok:
                ok.append((o, tr.text))
            else:
                out.rejects.append(reject_of(not_translated(tr, pivot), config.input.path, o))
        if not (self.predictor.active and ok):
            return
        predicted = self.predictor.predict([o for o, _ in ok], [t for _, t in ok])
        pairs = []
        for (o, text), p in zip(ok, predicted, strict=True):
            if isinstance(p, Reject):
                out.rejects.append(p)
                continue
            if p.text != text:
                out.stats["prediction_text_differs"] = (
                    out.stats.get("prediction_text_differs", 0) + 1
                )
            pairs.append((p, o))
        tasks = [ProjectionTask(p, o.with_spans(()), o.id) for p, o in pairs]
        results = self.projector.project(tasks, pivot, lang, tokenizer=tokenizer_for(lang))
        rows, rejects = projection_outputs(
            results,
            self.projector,
            source=config.input.path,
            tokenizer=_tokens_name(config),
            translation_model=translator.model_id,
        )
        out.rejects += rejects
        out.rows.update(rows)
        if config.evaluate:  # scored: the records that were projected back
            scored = [
                (o.spans, r.projection.spans)
                for (_, o), r in zip(pairs, results, strict=True)
                if r.projection
            ]
            if scored:
                out.stats["gold"] = span_counts([g for g, _ in scored], [p for _, p in scored])

    def finish(self, summary: RunSummary) -> dict[str, Any]:
        return {"rejected": self._read_rejects} if self._read_rejects else {}


@flow(name=FLOW_NAME, log_prints=True)
def translate_test(config: TranslateTestConfig) -> RunSummary:
    """Translate X text into the pivot language, label it there and project the labels back."""
    return run_plan(TranslateTest(config), config)
