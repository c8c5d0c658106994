"""Answer-aware question generation with a seq2seq model through CTranslate2.

A question generator (QG) model reads an English context with the answer highlighted and writes a
question about it. Public answer-aware checkpoints expect the context with the answer wrapped in
highlight tokens after a task prefix (``generate question: … <hl> answer <hl> …``), which is the
default :class:`QGFormat`; other conventions are a template away (``answer: {answer} context:
{context}``).

The model runs as a :class:`xproj.translators.ct2.CT2Translator` of the ``text2text`` family (no language
codes), so generation is batched by tokens, streamed, and — wrapped in a
:class:`xproj.translators.cache.CachedTranslator` — cached in the lake like any translation: the same
highlighted input with the same model and options is generated once.

Convert a checkpoint once, naming the family (T5's tokenizer would otherwise say MADLAD)::

    xproj models convert lmqg/t5-base-squad-qg --family text2text
    xproj models convert lmqg/mt5-base-squad-qg --family text2text   # multilingual T5
    xproj models convert valhalla/t5-base-qg-hl --family text2text

Each generated question gets a **QG score**: the mean log-probability per token (end token
included) of the question under the QG model given its input, from one batched ``score_batch``
call. Inputs longer than the model accepts are never cut or split: they come back flagged
``context_too_long`` and no model call is made for them.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

from xproj.schemas.errors import E_BAD_CONFIG, ConfigError
from xproj.translators.base import DecodingOptions, Translator

#: Why no question came back for a request. Stable values (stored in ``paxqa_dropped``).
QG_FLAGS = frozenset({"context_too_long", "empty_question", "qg_truncated"})

_FIELDS = frozenset({"highlighted", "context", "answer"})


@dataclass(frozen=True, slots=True)
class QGFormat:
    """How a context and its answer become the QG model's input.

    Attributes:
        template: the input text; ``{highlighted}`` is the context with the answer wrapped in
            ``highlight`` tokens, ``{context}`` the plain context, ``{answer}`` the answer text.
            It must name the answer (``highlighted`` or ``answer``).
        highlight: the highlight token (the model's tokenizer must know it as one token).

    Example:
        >>> QGFormat().render("It is in Paris.", 9, "Paris")
        'generate question: It is in <hl> Paris <hl>.'
        >>> QGFormat("answer: {answer}  context: {context}").render("It is in Paris.", 9, "Paris")
        'answer: Paris  context: It is in Paris.'
    """

    template: str = "generate question: {highlighted}"
    highlight: str = "<hl>"

    def __post_init__(self) -> None:
        names = {f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None}
        unknown = names - _FIELDS
        if unknown or not names & {"highlighted", "answer"}:
            raise ConfigError(
                f"QG template {self.template!r} "
                + (
                    f"has unknown fields {sorted(unknown)}"
                    if unknown
                    else "does not show the answer"
                )
                + ".",
                fix="use {highlighted} (context with the answer between highlight tokens), "
                "{context} and {answer}; name the answer at least once.",
                code=E_BAD_CONFIG,
            )
        if "{highlighted}" in self.template and not self.highlight.strip():
            raise ConfigError(
                "the highlight token is empty.",
                fix="give the token the QG model was trained with, e.g. '<hl>'.",
                code=E_BAD_CONFIG,
            )

    def render(self, context: str, start: int, answer: str) -> str:
        """The model input for the answer at ``context[start:start+len(answer)]``."""
        end = start + len(answer)
        hl = self.highlight
        left, right = context[:start].rstrip(), context[end:]
        highlighted = f"{left}{' ' if left else ''}{hl} {answer} {hl}{right}"
        return self.template.format(highlighted=highlighted, context=context, answer=answer)


@dataclass(frozen=True, slots=True)
class QGRequest:
    """One answer to ask about: ``context[answer_start:answer_start+len(answer_text)]``."""

    context: str
    answer_start: int
    answer_text: str


@dataclass(frozen=True, slots=True)
class GeneratedQuestion:
    """A generated question, or why there is none.

    Attributes:
        text: the question (``""`` when ``flag`` is set and no question was written).
        score: mean log-probability per token under the QG model (``None`` without a question).
        flag: ``None``, or one of :data:`QG_FLAGS`.
        detail: a human-readable explanation of the flag.
        source_tokens: tokens of the model input.
    """

    text: str
    score: float | None = None
    flag: str | None = None
    detail: str = ""
    source_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.flag is None


#: QG decoding defaults: beam 4 and at most 64 question tokens, as answer-aware QG checkpoints
#: are usually decoded.
QG_DECODING = DecodingOptions(beam_size=4, max_decoding_length=64, no_repeat_ngram_size=3)


class QuestionGenerator:
    """Generate questions for many answers in batched, cached model calls.

    Args:
        model: the translator that generates (a :class:`~xproj.translators.cache.CachedTranslator` over
            ``inner`` to cache, or ``inner`` itself).
        inner: the CTranslate2 model (``text2text`` family): tokenizes inputs to check them
            against its limit and scores the questions.
        fmt: input format.
        options: decoding options (:data:`QG_DECODING` by default).
        lang: the language code of contexts and questions (only names them in cache keys).
    """

    def __init__(
        self,
        model: Translator,
        inner,
        fmt: QGFormat | None = None,
        options: DecodingOptions | None = None,
        *,
        lang: str = "en",
    ) -> None:
        self.model = model
        self.inner = inner
        self.fmt = fmt or QGFormat()
        self.options = options or QG_DECODING
        self.lang = lang
        self.calls = 0

    def describe(self) -> dict[str, object]:
        return {
            **self.inner.describe(),
            "template": self.fmt.template,
            "highlight": self.fmt.highlight,
            "decoding": self.options.to_dict(),
        }

    def inputs(self, requests: Sequence[QGRequest]) -> list[str]:
        """The model input of each request."""
        return [self.fmt.render(r.context, r.answer_start, r.answer_text) for r in requests]

    def generate(self, requests: Sequence[QGRequest]) -> list[GeneratedQuestion]:
        """One :class:`GeneratedQuestion` per request, in order."""
        texts = self.inputs(requests)
        lengths = [len(t) for t in self.inner.source_tokens(texts, self.lang, self.lang)]
        limit = self.inner.max_source_length
        out: list[GeneratedQuestion | None] = [None] * len(texts)
        todo: list[int] = []
        for k, n in enumerate(lengths):
            if n > limit:
                out[k] = GeneratedQuestion(
                    "",
                    flag="context_too_long",
                    detail=f"the QG input has {n} tokens; the model accepts at most {limit}",
                    source_tokens=n,
                )
            else:
                todo.append(k)
        results = self.model.translate_all(
            [texts[k] for k in todo], self.lang, self.lang, options=self.options
        )
        self.calls += 1
        scored: list[int] = []
        for k, result in zip(todo, results, strict=True):
            question = " ".join(result.text.split())
            if not result.ok:  # the length check above makes this rare: the model's own verdict
                out[k] = GeneratedQuestion(
                    "", flag="context_too_long", detail=result.detail, source_tokens=lengths[k]
                )
            elif not question:
                out[k] = GeneratedQuestion(
                    "",
                    flag="empty_question",
                    detail="the model wrote nothing",
                    source_tokens=lengths[k],
                )
            elif result.truncated:
                out[k] = GeneratedQuestion(
                    question,
                    flag="qg_truncated",
                    detail=f"stopped at {self.options.max_decoding_length} tokens without ending",
                    source_tokens=lengths[k],
                )
            else:
                out[k] = GeneratedQuestion(question, source_tokens=lengths[k])
                scored.append(k)
        if scored:
            # a question too long to score under the model's limit keeps a null score; the
            # pieces are tokenized once, for this check and for scoring
            pieces = dict(
                zip(scored, self.inner.target_pieces([out[k].text for k in scored]), strict=True)
            )
            # room for the pieces, the end token and two more positions
            scored = [k for k in scored if len(pieces[k]) + 3 <= limit]
        if scored:
            logps = self.inner.score_tokens(
                [texts[k] for k in scored], [pieces[k] for k in scored], self.lang, self.lang
            )
            for k, lp in zip(scored, logps, strict=True):
                q = out[k]
                out[k] = GeneratedQuestion(q.text, mean(lp), q.flag, q.detail, q.source_tokens)
        return [q for q in out if q is not None]


def mean(values: Sequence[float]) -> float:
    """Mean of a non-empty list of log-probabilities (``-inf`` for an empty one)."""
    return sum(values) / len(values) if values else float("-inf")
