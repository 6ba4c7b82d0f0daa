"""The evaluator of a rollout's patch: ``workers.evaluate.evaluate`` (a fresh sandbox from the clean
image), with the rollout's integrity flags added to the result's."""

from __future__ import annotations

from pathlib import Path

from workers.evaluate import EvalSettings, evaluate_attempt
from workers.models import Result, WorkItem


def evaluate(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    """``workers.evaluate.evaluate_attempt``, the rollout's flags added to the result's."""
    result = evaluate_attempt(item, settings, outdir, attempt=attempt)
    flags = [str(f) for f in item.candidate.metadata.get("rollout_flags", [])]
    if not flags:
        return result
    return result.model_copy(update={"flags": list(dict.fromkeys(flags + result.flags))})
