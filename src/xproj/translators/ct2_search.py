"""What constrained decoding and the model projection routes need of a CTranslate2 model besides translation: n-best hypotheses, forced target prefixes, and per-token log-probabilities of given targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xproj.schemas.errors import (
    E_INPUT_TOO_LONG,
    E_MISSING_FIELD,
    BackendError,
    checked_strings,
)
from xproj.translators.base import DecodingOptions


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One of the n best translations of a text (:meth:`CT2Translator.hypotheses`).

    Attributes:
        text: the detokenized translation, stripped (special tokens dropped).
        tokens: the model's target pieces, forced prefix included, the family's language prefix
            (NLLB's ``deu_Latn``) excluded; what :meth:`CT2Translator.score_tokens` takes.
        score: CTranslate2's hypothesis score: the cumulative log-probability of the tokens the
            model generated (a forced prefix is not counted) divided by ``length **
            length_penalty``, where the length counts every target token, prefixes included.
            Comparable between hypotheses of one input and one call only; rescore with
            :meth:`CT2Translator.score_tokens` to compare sequences across calls.
    """

    text: str
    tokens: tuple[str, ...]
    score: float


class SearchAndScore:
    """N-best and forced-prefix decoding, and teacher-forced scoring, of a :class:`~xproj.translators.ct2.CT2Translator` (which inherits them)."""

    def hypotheses(
        self,
        texts: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        prefixes: Sequence[Sequence[str] | None] | None = None,
        num_hypotheses: int = 1,
        options: DecodingOptions | None = None,
    ) -> list[list[Hypothesis]]:
        """The ``num_hypotheses`` best translations of each text, optionally with a forced start.

        All texts go to one ``translate_batch`` call (CTranslate2 cuts it into batches of
        ``options.max_batch_size``). Unlike :meth:`translate`, texts are not split: a text over
        the model's source limit is an error, not a flag.

        Args:
            texts: source texts; a whitespace-only text gets ``[]`` and is not sent to the model.
            src_lang, tgt_lang: the language pair.
            prefixes: per text, target pieces (as from :meth:`target_pieces`) every hypothesis
                must start with, after the family's own language prefix; ``None`` (for all, or
                for one text) or ``[]``: no forced start.
            num_hypotheses: hypotheses per text. ``beam_size`` is raised to it when smaller
                (not when sampling, where each hypothesis is an independent sample).
            options: decoding options; ``max_decoding_length`` counts every output token, the
                forced prefix included.

        Returns:
            Per text, its hypotheses best first (CTranslate2's order); the forced prefix is part
            of each hypothesis' ``tokens`` and ``text``.

        Raises:
            BackendError: XP506 naming the record when a text is longer than the model accepts
                or a prefix leaves no room for one more token.
            ValueError: ``prefixes`` and ``texts`` differ in length, or ``num_hypotheses`` < 1.

        Example:
            >>> nbest = translator.hypotheses(["Hi."], "en", "de", num_hypotheses=4)  # doctest: +SKIP
            >>> [h.text for h in nbest[0]]  # doctest: +SKIP
            ['Hallo.', 'Hi.', 'Hallo!', 'Guten Tag.']
        """
        options = options or DecodingOptions()
        if num_hypotheses < 1:
            raise ValueError(f"num_hypotheses must be >= 1, not {num_hypotheses}")
        texts = list(
            checked_strings(texts, "text", fix="give one string per record.", code=E_MISSING_FIELD)
        )
        if prefixes is not None and len(prefixes) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(prefixes)} prefixes")
        prompt = self.prompt(src_lang, tgt_lang)
        language = list(prompt.target_prefix)
        kwargs = self._decode_kwargs(options, prompt)
        kwargs["num_hypotheses"] = num_hypotheses
        if not options.sampling:
            kwargs["beam_size"] = max(options.beam_size, num_hypotheses)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        overhead = len(prompt.source_prefix) + 1
        sources, targets = [], []
        for i, pieces in zip(todo, self._source_pieces([texts[i] for i in todo]), strict=True):
            if len(pieces) + overhead > self.max_source_length:
                raise BackendError(
                    f"text {i} has {len(pieces) + overhead} tokens; the model accepts at most "
                    f"{self.max_source_length}.",
                    fix="split the text into sentences first, or use translate(), which does.",
                    record=str(i),
                    code=E_INPUT_TOO_LONG,
                )
            forced = [*language, *((prefixes[i] or ()) if prefixes is not None else ())]
            if len(forced) >= kwargs["max_decoding_length"]:
                raise BackendError(
                    f"the forced prefix of text {i} has {len(forced) - len(language)} tokens; "
                    f"decoding stops at {kwargs['max_decoding_length'] - len(language)}.",
                    fix="shorten the prefix or raise max_decoding_length.",
                    record=str(i),
                    code=E_INPUT_TOO_LONG,
                )
            sources.append(self._wrap(pieces, prompt))
            targets.append(forced)
        out: list[list[Hypothesis]] = [[] for _ in texts]
        if not sources:
            return out
        results = self._ct2.translate_batch(
            sources,
            target_prefix=targets if any(targets) else None,
            return_scores=True,
            **kwargs,
        )
        outputs: list[list[str]] = []
        scores: list[float] = []
        owners: list[int] = []
        for i, result in zip(todo, results, strict=True):
            for tokens, score in zip(result.hypotheses, result.scores, strict=True):
                has_language = tokens[: len(language)] == language
                outputs.append(tokens[len(language) :] if has_language else tokens)
                scores.append(float(score))
                owners.append(i)
        decoded = self._tokenizer.batch_decode(
            [self._tokenizer.convert_tokens_to_ids(tokens) for tokens in outputs],
            skip_special_tokens=True,
        )
        for i, tokens, text, score in zip(owners, outputs, decoded, scores, strict=True):
            out[i].append(Hypothesis(text.strip(), tuple(tokens), score))
        return out

    def score(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        max_batch_size: int = 4096,
    ) -> list[list[float]]:
        """Log-probability of each target token given the source (teacher forcing).

        The forced target-language prefix (NLLB's ``deu_Latn``) is conditioned on but not
        scored, so for every family entry ``i`` of a result belongs to token ``i`` of
        :meth:`target_tokens`: the target's subword tokens, then the end token.

        Args:
            sources, targets: parallel texts (same length).
            src_lang, tgt_lang: the language pair.
            max_batch_size: tokens per scoring batch.

        Raises:
            BackendError: XP506 when a pair is longer than the model accepts (naming it).

        Example:
            >>> logp = translator.score(["Hi."], ["Salut."], "en", "fr")  # doctest: +SKIP
            >>> len(logp[0]) == len(translator.target_tokens(["Salut."])[0])  # doctest: +SKIP
            True
        """
        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
        return self.score_tokens(
            sources, self._target_pieces(targets), src_lang, tgt_lang, max_batch_size=max_batch_size
        )

    def score_tokens(
        self,
        sources: Sequence[str],
        targets: Sequence[Sequence[str]],
        src_lang: str,
        tgt_lang: str,
        *,
        max_batch_size: int = 4096,
    ) -> list[list[float]]:
        """:meth:`score` for targets already split into the model's tokens.

        Scoring edited token sequences (a marker inserted, a word replaced) this way avoids
        re-tokenizing text. Each target is its tokens without prefix or end token; the result
        has one more entry than the target has tokens (the end token).
        """
        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
        if not sources:
            return []
        prompt = self.prompt(src_lang, tgt_lang)
        # many targets share a source (CODEC scores every candidate under one marked source):
        # tokenize each distinct source once
        distinct = list(dict.fromkeys(sources))
        wrapped = dict(
            zip(
                distinct,
                (self._wrap(p, prompt) for p in self._source_pieces(distinct)),
                strict=True,
            )
        )
        source_tokens = [wrapped[s] for s in sources]
        target_tokens = [[*prompt.target_prefix, *p] for p in targets]
        for index, (src, tgt) in enumerate(zip(source_tokens, target_tokens, strict=True)):
            # the decoder sees its start token, the target and the end token
            longest = max(len(src), len(tgt) + 2)
            if longest > self.max_source_length:
                raise BackendError(
                    f"pair {index} has {longest} tokens; the model accepts at most "
                    f"{self.max_source_length}.",
                    fix="split the texts into sentences before scoring.",
                    record=str(index),
                    code=E_INPUT_TOO_LONG,
                )
        results = self._ct2.score_batch(
            source_tokens,
            target_tokens,
            max_batch_size=max_batch_size,
            batch_type="tokens",
            max_input_length=0,
            offset=len(prompt.target_prefix),
        )
        return [list(result.log_probs) for result in results]
