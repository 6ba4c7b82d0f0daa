"""Evaluators for scheduler tests (``evaluator="support.evaluators:NAME"``): no containers, no images.

They have ``workers.evaluate.evaluate_attempt``'s signature. ``instant`` resolves every item at once;
``flaky`` fails the first attempt of every item whose repeat index is odd with a retryable
infrastructure error (as a Docker API fault would), and resolves every later attempt; ``broken`` fails
every attempt of those items. ``work_items``
makes items for them (repeats of one instance that no image or repository exists for).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from workers.evaluate import EvalSettings
from workers.models import Attempt, Candidate, ErrorInfo, Instance, Result, Verdict, WorkItem
from workers.spec import EnvSpec


def work_items(n: int, sweep_id: str) -> list[WorkItem]:
    """``n`` items: repeats 0..n-1 of one instance, keys ``key0000``..."""
    inst = Instance(instance_id="acme__x-1", repo="acme/x", base_commit="0" * 40)
    cand = Candidate(instance_id="acme__x-1", run="gold", patch="diff --git a/x b/x\n")
    spec = EnvSpec(repo="acme/x", test_cmd="true")
    return [
        WorkItem(
            key=f"key{r:04d}", sweep_id=sweep_id, instance=inst, candidate=cand, repeat=r, seed=r, spec=spec
        )
        for r in range(n)
    ]


def _result(item: WorkItem, n: int, verdict: Verdict, error: ErrorInfo | None) -> Result:
    now = time.time()
    attempt = Attempt(
        n=n,
        started_at=now,
        finished_at=now,
        verdict=None if error else verdict,
        error=error,
        node=socket.gethostname(),
    )
    return Result.of(item, verdict, reason="test evaluator", attempts=[attempt])


def instant(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    return _result(item, attempt, "resolved", None)


def flaky(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    if attempt == 1 and item.repeat % 2 == 1:
        error = ErrorInfo(
            error_class="SandboxError", message="docker went away", phase="start", retryable=True
        )
        return _result(item, attempt, "error", error)
    return _result(item, attempt, "resolved", None)


def broken(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    """Every attempt of an odd repeat fails with a retryable infrastructure error."""
    if item.repeat % 2 == 1:
        error = ErrorInfo(error_class="SandboxError", message="engine gone", phase="start", retryable=True)
        return _result(item, attempt, "error", error)
    return _result(item, attempt, "resolved", None)
