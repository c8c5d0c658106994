"""The one interface every projection route has: a batch of tasks in, one result per task out.

A :class:`ProjectionTask` is a source sentence with its spans and its target: a tokenized target
sentence (its tokens are kept), a target text (split with the run's tokenizer), or nothing, for a
projector that makes the target itself (``markers.v1`` translates the marked source). The
projector returns one :class:`ProjectionResult` per task: the projection (one outcome per source
span), or the :class:`Problem` that kept the record from being projected.

Projectors are registered by versioned name in :data:`PROJECTORS`, with what they need and can
do (``uses_aligner``, ``needs_model``, ``makes_targets``), so flows ask the registry instead of
comparing names:

- ``align.v1``: word alignment (any registered aligner) and the alignment heuristic
  (:mod:`xproj.projectors.project`);
- ``markers.v1``: EasyProject's markers, translated by a marker-aware model;
- ``codec.v1``: CODEC's constrained insertion of markers into a clean translation.

Example:
    >>> from xproj.schemas.records import AnnotatedSentence, TokenSpan
    >>> src = AnnotatedSentence("s1", "en", ("Rome",), (TokenSpan(0, 1, "LOC"),))
    >>> setup = ProjectorSetup(aligner="given.v1", aligner_settings={"path": "links.txt"})
    >>> make_projector("align.v1", setup).name  # doctest: +SKIP
    'align.v1'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from xproj.projectors.pipeline import PairProjection, tokenized_target
from xproj.projectors.policy import ProjectionPolicy
from xproj.schemas.errors import (
    E_EMPTY_TRANSLATION,
    E_INPUT_TOO_LONG,
    E_SOURCE_HAS_MARKER,
    Reject,
)
from xproj.schemas.records import AnnotatedSentence, ParallelPair
from xproj.schemas.registry import Registry


@dataclass(frozen=True, slots=True)
class ProjectionTask:
    """One source sentence and where its spans go.

    Attributes:
        source: the source sentence with its spans.
        target: the target sentence (tokens kept), its text (tokenized by the projector), or
            None when the projector makes the target (``makes_targets``).
        target_id: the target sentence's id; the pair is ``<source id>|<target_id>``.
        position: the pair's place in the input (rejected records counted) when the task's
            position in its batch, counted from ``start``, is not it.
    """

    source: AnnotatedSentence
    target: AnnotatedSentence | str | None
    target_id: str
    position: int | None = None

    @property
    def pair_id(self) -> str:
        return f"{self.source.id}|{self.target_id}"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a task's record could not be projected: a stage, a coded reason (a reject)."""

    stage: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProjectionResult:
    """What became of one task: its projection, or the problem that kept it from one.

    Attributes:
        task: the task.
        projection: one outcome per source span, the target spans, the alignment (if any).
        problem: set when there is no projection.
        translation: the translation the projector made (``makes_targets``), clean of markers.
        marked: the marked target text the spans were read from (model routes).
    """

    task: ProjectionTask
    projection: PairProjection | None = None
    problem: Problem | None = None
    translation: Any = None
    marked: str | None = None


@dataclass
class ProjectorSetup:
    """Everything a registered projector may take; each takes what it needs.

    Attributes:
        policy: how aligned tokens become a span (``align.v1``).
        aligner: the registered aligner's name (``align.v1``).
        aligner_settings: its settings (``xproj.projectors.aligners.aligner_options``).
        extra_bitext: extra training text per target language for statistical aligners.
        markers: ``markers.v1`` settings (a :class:`~xproj.projectors.model_projection.MarkerSettings`).
        codec: ``codec.v1`` settings (a :class:`~xproj.projectors.model_projection.CodecSettings`).
        translator: what ``markers.v1`` translates with (a cached translator saves repeats).
        model: the marker-aware CTranslate2 model ``codec.v1`` scores with.
        options: decoding options for translations a projector makes.
    """

    policy: ProjectionPolicy = field(default_factory=ProjectionPolicy)
    aligner: str = "eflomal.v1"
    aligner_settings: Mapping[str, Any] = field(default_factory=dict)
    extra_bitext: Mapping[str, list] = field(default_factory=dict)
    markers: Any = None
    codec: Any = None
    translator: Any = None
    model: Any = None
    options: Any = None


class Projector(Protocol):
    """A projection route. One call projects a batch; results keep the tasks' order."""

    name: str
    uses_aligner: ClassVar[bool]
    needs_model: ClassVar[bool]
    makes_targets: ClassVar[bool]
    #: the aligner's name and model id, written to the rows (None for model routes)
    aligner_name: str | None
    aligner_model: str | None

    def project(
        self,
        tasks: Sequence[ProjectionTask],
        src_lang: str,
        tgt_lang: str,
        *,
        tokenizer: Any,
        start: int = 0,
    ) -> list[ProjectionResult]:
        """Project every task's spans (``start``: the first task's position in the input)."""
        ...

    def models(self) -> list[Any]:
        """The translation models the projector uses (checked for the run's languages)."""
        ...

    def work(self) -> dict[str, Any]:
        """Counts of the model work done so far (calls, sequences), for the run summary."""
        ...

    def take_rejects(self) -> list[Reject]:
        """What the projector left out since the last call, for the ``rejected`` table (the
        out-of-range links of a lenient ``given.v1`` file); each is returned once."""
        ...


PROJECTORS: Registry[Projector] = Registry("projector")


def _lazy(path: str):
    module, name = path.split(":")

    def factory(setup: ProjectorSetup) -> Projector:
        return getattr(importlib.import_module(module), name).from_setup(setup)

    return factory


def make_projector(name: str, setup: ProjectorSetup) -> Projector:
    """Build the projector registered as ``name`` (or its alias) from ``setup``.

    Raises:
        ConfigError: XP302 for an unknown name, with close matches suggested.
    """
    return PROJECTORS.get(name)(setup)


def target_sentence(
    task: ProjectionTask, tgt_lang: str, tokenizer: Any
) -> AnnotatedSentence | None:
    """The task's target as a tokenized sentence (its own tokens when it has them); None when
    its text holds no word token."""
    if isinstance(task.target, AnnotatedSentence):
        return task.target
    return tokenized_target(task.target_id, tgt_lang, task.target or "", tokenizer)


def no_token(tgt_lang: str) -> Problem:
    """The problem of a target text without a word token to project onto."""
    return Problem(
        "tokenize", E_EMPTY_TRANSLATION, f"the {tgt_lang} text has no token to project onto."
    )


def not_translated(translation: Any, tgt_lang: str) -> Problem:
    """The problem of a record the model could not translate (too long, empty)."""
    return Problem(
        "translate",
        E_INPUT_TOO_LONG,
        f"not translated into {tgt_lang}: {translation.detail or translation.flag}. "
        "Fix: split the record, or use a model with longer inputs.",
    )


def unmarkable(why: str) -> Problem:
    """The problem of a source whose spans cannot be marked (its text holds a marker)."""
    return Problem(
        "mark",
        E_SOURCE_HAS_MARKER,
        f"cannot mark the spans: {why}. Fix: choose markers the data does not use "
        "(markers: ['<<', '>>'] in the config), or clean the text.",
    )


class AlignProjector:
    """``align.v1``: align source and target words, then map every span through the links."""

    name = "align.v1"
    uses_aligner = True
    needs_model = False
    makes_targets = False

    def __init__(
        self,
        aligner: str = "eflomal.v1",
        settings: Mapping[str, Any] | None = None,
        *,
        policy: ProjectionPolicy | None = None,
        extra_bitext: Mapping[str, list] | None = None,
    ) -> None:
        from xproj.projectors.aligners import ALIGNERS, get_aligner

        self.aligner_name = ALIGNERS.canonical(aligner)
        self.settings = dict(settings or {})
        self.policy = policy or ProjectionPolicy()
        self.extra_bitext = dict(extra_bitext or {})
        self.priors: dict[str, Any] = {}
        # built once (a bad setting fails here) and kept: a neural aligner loads its model on
        # first use, which every shard would otherwise pay again
        self._aligners: dict[str | None, Any] = {
            None: get_aligner(self.aligner_name, **self.settings)
        }
        self.aligner_model = self._aligners[None].model_id

    @classmethod
    def from_setup(cls, setup: ProjectorSetup) -> AlignProjector:
        return cls(
            setup.aligner,
            setup.aligner_settings,
            policy=setup.policy,
            extra_bitext=setup.extra_bitext,
        )

    def _aligner(self, tgt_lang: str) -> Any:
        """The aligner for ``tgt_lang``: trained with its extra bitext when it has some, else
        the one built from the settings alone."""
        from xproj.projectors.aligners import get_aligner

        extra = self.extra_bitext.get(tgt_lang)
        priors = self.priors.get(tgt_lang)
        key = tgt_lang if extra or priors is not None else None
        if key not in self._aligners:
            if priors is not None:  # the priors were learned with the extra bitext
                self._aligners[key] = get_aligner(self.aligner_name, **self.settings, priors=priors)
            else:
                self._aligners[key] = get_aligner(
                    self.aligner_name, **self.settings, extra_bitext=extra
                )
        return self._aligners[key]

    def learns_priors(self) -> bool:
        """Whether the aligner can learn priors once for many calls (eflomal)."""
        return hasattr(self._aligners[None], "learn_priors")

    def learn_priors(self, pairs, tgt_lang: str):
        """Learn the aligner's priors for ``tgt_lang`` from token ``pairs`` (and its extra
        bitext), and align with them from now on; returns them (to save with the run)."""
        priors = self._aligner(tgt_lang).learn_priors(pairs)
        self.use_priors(tgt_lang, priors)
        return priors

    def use_priors(self, tgt_lang: str, priors) -> None:
        """Align ``tgt_lang`` with these priors (learned earlier, e.g. by a resumed run)."""
        self.priors[tgt_lang] = priors
        self._aligners.pop(tgt_lang, None)

    def project(self, tasks, src_lang, tgt_lang, *, tokenizer, start=0):
        from xproj.projectors.pipeline import project_pairs

        results: list[ProjectionResult | None] = [None] * len(tasks)
        pairs, where = [], []
        for k, task in enumerate(tasks):
            if task.target is None:
                raise ValueError(f"{self.name} projects onto a given target; task {k} has none")
            target = target_sentence(task, tgt_lang, tokenizer)
            if target is None:
                results[k] = ProjectionResult(task, problem=no_token(tgt_lang))
                continue
            pairs.append(ParallelPair(task.pair_id, task.source, target))
            where.append(k)
        if pairs:
            # links read by position must be those of each pair's own place in the input
            aligner = self._aligner(tgt_lang).for_positions(
                [start + k if tasks[k].position is None else tasks[k].position for k in where]
            )
            for k, projection in zip(
                where, project_pairs(pairs, aligner, policy=self.policy), strict=True
            ):
                results[k] = ProjectionResult(tasks[k], projection)
        return results  # type: ignore[return-value]

    def models(self) -> list[Any]:
        return []

    def work(self) -> dict[str, Any]:
        return {}

    def take_rejects(self) -> list[Reject]:
        return [r for aligner in self._aligners.values() for r in aligner.take_rejects()]


PROJECTORS.register(
    "align.v1", aliases=("align",), uses_aligner=True, needs_model=False, makes_targets=False
)(AlignProjector.from_setup)
PROJECTORS.register(
    "markers.v1", aliases=("markers",), uses_aligner=False, needs_model=True, makes_targets=True
)(_lazy("xproj.projectors.model_projection:MarkerRoute"))
PROJECTORS.register(
    "codec.v1", aliases=("codec",), uses_aligner=False, needs_model=True, makes_targets=False
)(_lazy("xproj.projectors.model_projection:CodecRoute"))


__all__ = [
    "PROJECTORS",
    "AlignProjector",
    "Problem",
    "ProjectionResult",
    "ProjectionTask",
    "Projector",
    "ProjectorSetup",
    "make_projector",
]
