"""evaluate_attempt(item, attempt=n) -> Result: one attempt, what a Ray task calls (through the retry
policy of ``workers.retry``); evaluate(item) -> Result: the same with the policy applied, for callers
without a store.

Phases, each its own function and timed: image -> sandbox -> patch -> tests -> parse and grade.
Only infrastructure errors cause another attempt; every attempt's logs are kept.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, Field

from workers import HARNESS_VERSION
from workers.attempt import AttemptOutcome, run_attempt
from workers.errors import EvalfleetError, one_line
from workers.grading import swebench_report
from workers.images.options import ImageOptions
from workers.models import Attempt, ErrorInfo, Result, Verdict, WorkItem
from workers.patching import is_empty_patch
from workers.paths import FILES
from workers.retry import RetryPolicy, run_attempts
from workers.sandbox.base import get_backend

log = structlog.get_logger(__name__)


class NodeOptions(BaseModel):
    """How a node runs items: one model from the sweep config (``execution``, which extends it) to the
    worker (``EvalSettings``, which carries it), so each knob has one default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: str = Field(default="docker", description="Sandbox backend: 'docker' or 'module:Class'.")
    retry: RetryPolicy = Field(
        default_factory=RetryPolicy,
        description="When an item is tried again after an infrastructure error (workers/retry.py; the "
        "table in docs/architecture.md says how often an item can run).",
    )
    spare_sandboxes: bool = Field(
        default=True,
        description="Start the next sandbox ahead, while a test runs, when a node evaluates items of the "
        "same image one after another (repeats, seeds, runs); at most one spare per slot.",
    )
    background_removal: bool = Field(
        default=True,
        description="Remove each sandbox in the background once its tests are done, so the slot takes "
        "its next item at once; the janitor removes what a crash leaves. False: remove before the result.",
    )


class EvalSettings(NodeOptions):
    """What a node needs to evaluate items (not part of an item's key: it does not decide outcomes)."""

    images: ImageOptions = Field(default_factory=ImageOptions)
    driver: str = Field(
        default="",
        description="Run instance id of the driver (labels its sandboxes; its attempts count per run).",
    )
    test_timeout_s: float | None = Field(default=None, gt=0, description="Override the spec's test limit.")


def evaluate(item: WorkItem, settings: EvalSettings, outdir: Path) -> Result:
    """Evaluate one work item with the retry policy (``workers.retry``); logs go to
    ``outdir/attempt-{n}/``. Never raises for ordinary outcomes. When no attempt reached a verdict, the
    result's last attempt carries the error (``workers.retry.is_infra_failure``)."""
    return run_attempts(
        settings.retry,
        lambda n: evaluate_attempt(item, settings, outdir, attempt=n),
        engine_down=engine_probe(settings.backend),
    )


def engine_probe(backend: str) -> Callable[[], str | None]:
    """``SandboxBackend.engine_down`` of the named backend (made once per process)."""
    return get_backend(backend).engine_down


def evaluate_attempt(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    """One attempt at ``item`` (number ``attempt``), logs in ``outdir/attempt-{n}/``: a Result with a
    verdict, or with verdict ``error`` and the attempt's error when an infrastructure fault stopped it."""
    n, t0 = attempt, time.time()
    if is_empty_patch(item.candidate.patch):
        return _finish(
            item, outdir, _empty_outcome(), [_attempt(n, t0, settings, "empty_patch", None, {})], n
        )
    attempt_dir = outdir / f"attempt-{n}"
    attempt_dir.mkdir(parents=True, exist_ok=True)
    try:
        outcome = run_attempt(item, settings, attempt_dir, n)
    except EvalfleetError as exc:
        info = error_info(exc)
        log.warning("attempt failed", item=item.key, attempt=n, error=info.message, retryable=exc.retryable)
        with (attempt_dir / FILES.run_log).open("a", encoding="utf-8") as fh:
            fh.write(f"{info.error_class} in {info.phase}: {info.message}\n")
        return _error_result(item, outdir, [_attempt(n, t0, settings, None, info, {})], info, n)
    return _finish(
        item, outdir, outcome, [_attempt(n, t0, settings, outcome.verdict, None, outcome.phases)], n
    )


def error_info(exc: EvalfleetError) -> ErrorInfo:
    return ErrorInfo(
        error_class=type(exc).__name__,
        message=one_line(exc, 500),
        phase=getattr(exc, "phase", "unknown"),
        retryable=exc.retryable,
    )


def _attempt(
    n: int,
    t0: float,
    settings: EvalSettings,
    verdict: Verdict | None,
    error: ErrorInfo | None,
    phases: dict[str, float],
) -> Attempt:
    return Attempt(
        n=n,
        started_at=t0,
        finished_at=time.time(),
        verdict=verdict,
        error=error,
        phases=phases,
        node=socket.gethostname(),
        driver=settings.driver,
    )


def _empty_outcome() -> AttemptOutcome:
    return AttemptOutcome(verdict="empty_patch", reason="the candidate patch is empty", patch_exists=False)


def _finish(item: WorkItem, outdir: Path, o: AttemptOutcome, records: list[Attempt], n: int) -> Result:
    result = Result.of(
        item,
        o.verdict,
        reason=o.reason,
        patch_exists=o.patch_exists,
        patch_applied=o.patch_applied,
        patch_method=o.patch_method,
        tests_status=o.tests_status,
        test_exit_code=o.test_exit_code,
        attempts=records,
        image=o.image,
        image_digest=o.image_digest,
        harness_version=HARNESS_VERSION,
        durations=o.phases,
        flags=o.flags,
        candidate_metadata=item.candidate.metadata,
    )
    attempt_dir = outdir / f"attempt-{n}"
    attempt_dir.mkdir(parents=True, exist_ok=True)
    report = swebench_report(
        item.instance.instance_id,
        patch_exists=o.patch_exists,
        patch_applied=o.patch_applied,
        resolved=result.resolved,
        tests_status=o.tests_status,
    )
    (attempt_dir / FILES.report).write_text(json.dumps(report, indent=2), encoding="utf-8")
    files = {p.name: f"attempt-{n}/{p.name}" for p in sorted(attempt_dir.iterdir()) if p.is_file()}
    return result.model_copy(update={"log_files": files})


def _error_result(item: WorkItem, outdir: Path, records: list[Attempt], info: ErrorInfo, n: int) -> Result:
    outcome = AttemptOutcome(
        verdict="error",
        reason=f"{info.error_class} in {info.phase}: {info.message}"[:300],
        patch_exists=True,
    )
    return _finish(item, outdir, outcome, records, n)
