"""Flow ``translate_train_fanout``: one translate-train flow run per target language.

On a Prefect work pool of GPU workers, a translate-train over many languages goes faster as
several flow runs: this flow cuts the config into one config per target language and starts
each as a run of a translate-train deployment (``deployment``, e.g. the GPU pool's
``translate_train/translate-train-gpu``), then waits for all of them. Each run is an ordinary
translate-train run: the executor commits it exactly once, the translation cache is shared
through the lake, and a run whose config sets ``gpu_slots`` holds one slot of that Prefect
global concurrency limit while it works, so the pool never runs more of them at once than the
limit allows (one slot per GPU).

Starting the runs is idempotent: each carries the key ``<this flow run>:<language>``, so a
retried fan-out does not start a language twice; and a language whose identical run is already
committed is reused by the executor. Without ``deployment`` (a local run, tests) the languages
run one after the other as subflows of this one.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow

from xproj.flows.config import TranslateTrainConfig

FLOW_NAME = "translate_train_fanout"
FINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


def per_language(config: TranslateTrainConfig) -> list[TranslateTrainConfig]:
    """One config per target language, named ``<name>-<lang>`` (its extra bitext only, keyed by
    any code of the language, as a single run reads it)."""
    from xproj.schemas.languages import normalize_lang

    parts = []
    for lang in config.target_langs:
        extra = {k: v for k, v in config.extra_bitext.items() if normalize_lang(k) == lang}
        name = f"{config.name}-{lang}" if config.name else ""
        parts.append(
            config.model_copy(update={"target_langs": [lang], "extra_bitext": extra, "name": name})
        )
    return parts


def _wait(flow_run_ids: dict[str, Any], poll_seconds: float) -> dict[str, str]:
    """Language → final state name of each flow run, polling the Prefect API."""
    from prefect.client.orchestration import get_client

    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while len(states) < len(flow_run_ids):
            for lang, run_id in flow_run_ids.items():
                if lang in states:
                    continue
                state = client.read_flow_run(run_id).state
                if state is not None and state.type.value in FINAL:
                    states[lang] = state.type.value
            if len(states) < len(flow_run_ids):
                time.sleep(poll_seconds)
    return states


@flow(name=FLOW_NAME, log_prints=True)
def translate_train_fanout(
    config: TranslateTrainConfig, deployment: str | None = None, poll_seconds: float = 10.0
) -> dict[str, str]:
    """Run translate-train once per target language: as runs of ``deployment`` on its work pool
    (all started, then awaited), or here one after the other. Returns language → the final
    state (deployment) or the committed run id (here).

    Raises:
        BackendError: XP502 when a language's run did not complete (the others are committed).
    """
    from prefect.context import FlowRunContext

    from xproj.schemas.errors import E_BACKEND_FAILED, BackendError

    parts = per_language(config)
    if deployment is None:
        from xproj.flows.translate_train import translate_train

        return {part.target_langs[0]: translate_train(part).run_id for part in parts}
    from prefect.deployments import run_deployment

    context = FlowRunContext.get()
    parent = str(context.flow_run.id) if context and context.flow_run else "local"
    started = {}
    for part in parts:
        lang = part.target_langs[0]
        run = run_deployment(
            deployment,
            parameters={"config": part.model_dump(mode="json")},
            timeout=0,  # start them all, then wait
            idempotency_key=f"{parent}:{lang}",
            flow_run_name=part.name or f"translate-train-{lang}",
        )
        started[lang] = run.id
        print(f"{lang}: flow run {run.id} started on {deployment}")
    states = _wait(started, poll_seconds)
    failed = {lang: state for lang, state in states.items() if state != "COMPLETED"}
    if failed:
        raise BackendError(
            "translate-train did not complete for "
            + ", ".join(
                f"{lang} ({state.lower()}) in flow run {started[lang]}"
                for lang, state in sorted(failed.items())
            )
            + "; the other languages are committed.",
            fix="see those flow runs' logs in the Prefect UI, fix the cause, and run the fan-out "
            "again: committed languages are reused, not redone.",
            code=E_BACKEND_FAILED,
        )
    return states
