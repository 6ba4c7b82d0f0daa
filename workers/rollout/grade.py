"""The evaluator of a rollout's patch: ``workers.evaluate.evaluate`` (a fresh sandbox from the clean
image), with the rollout's integrity flags added to the result's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from workers.evaluate import EvalSettings
from workers.evaluate import evaluate as evaluate_patch
from workers.models import Result, WorkItem


def evaluate(
    item: WorkItem,
    settings: EvalSettings,
    outdir: Path,
    *,
    first_attempt: int = 1,
    budget: int | None = None,
    on_attempt_start: Callable[[int], None] | None = None,
) -> Result:
    result = evaluate_patch(
        item, settings, outdir, first_attempt=first_attempt, budget=budget, on_attempt_start=on_attempt_start
    )
    flags = [str(f) for f in item.candidate.metadata.get("rollout_flags", [])]
    if not flags:
        return result
    return result.model_copy(update={"flags": list(dict.fromkeys(flags + result.flags))})
