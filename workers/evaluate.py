"""evaluate(item) -> Result: the one function a Ray task calls.

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
from workers.errors import EvalfleetError
from workers.grading import swebench_report
from workers.images.options import ImageOptions
from workers.models import Attempt, ErrorInfo, Result, WorkItem
from workers.patching import is_empty_patch
from workers.paths import FILES

log = structlog.get_logger(__name__)


class EvalSettings(BaseModel):
    """How a node evaluates items (not part of an item's key: it does not decide outcomes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: str = Field(default="docker", description="Sandbox backend name or 'module:Class'.")
    images: ImageOptions = Field(default_factory=ImageOptions)
    max_attempts: int = Field(default=3, ge=1, description="Attempts on infrastructure errors.")
    retry_backoff_s: float = Field(default=2.0, ge=0, description="First backoff between attempts (doubles).")
    test_timeout_s: float | None = Field(default=None, gt=0, description="Override the spec's test limit.")
    spare_sandboxes: bool = Field(
        default=False,
        description="Start the next sandbox of the same image while this item's tests run "
        "(workers.sandbox.spares; a sweep's choice).",
    )
    background_removal: bool = Field(
        default=False,
        description="Remove sandboxes in a background thread once the tests are done (a sweep's choice: "
        "the item's result no longer waits for the engine); False removes before returning.",
    )


def evaluate(
    item: WorkItem,
    settings: EvalSettings,
    outdir: Path,
    *,
    first_attempt: int = 1,
    budget: int | None = None,
    on_attempt_start: Callable[[int], None] | None = None,
) -> Result:
    """Evaluate one work item; logs go to ``outdir/attempt-{n}/``. Never raises for ordinary outcomes.

    Attempts are numbered from ``first_attempt`` (a caller that already made attempts elsewhere, e.g. on a
    node that died, continues the count); at most ``budget`` (default ``settings.max_attempts``) are made
    here. ``on_attempt_start(n)`` runs before each, so a caller can record attempts that never finish.
    When every attempt hit a retryable infrastructure error, the result has verdict ``error`` and its
    last attempt's error is retryable: the caller may try again elsewhere.
    """
    started = time.time()
    if is_empty_patch(item.candidate.patch):
        only = _attempt(first_attempt, started, "empty_patch", None, {})
        return _finish(item, outdir, _empty_outcome(), [only], first_attempt)
    records: list[Attempt] = []
    last = first_attempt + (budget or settings.max_attempts) - 1
    for n in range(first_attempt, last + 1):
        attempt_dir = outdir / f"attempt-{n}"
        attempt_dir.mkdir(parents=True, exist_ok=True)
        if on_attempt_start is not None:
            on_attempt_start(n)
        t0 = time.time()
        try:
            outcome = run_attempt(item, settings, attempt_dir, n)
        except EvalfleetError as exc:
            info = error_info(exc)
            records.append(_attempt(n, t0, None, info, {}))
            log.warning(
                "attempt failed", item=item.key, attempt=n, error=info.message, retryable=exc.retryable
            )
            with (attempt_dir / FILES.run_log).open("a", encoding="utf-8") as fh:
                fh.write(f"{info.error_class} in {info.phase}: {info.message}\n")
            if not exc.retryable or n == last:
                return _error_result(item, outdir, records, info, n)
            time.sleep(settings.retry_backoff_s * 2 ** (n - first_attempt))
            continue
        records.append(_attempt(n, t0, outcome.verdict, None, outcome.phases))
        return _finish(item, outdir, outcome, records, n)
    raise AssertionError("unreachable: the loop returns on its last attempt")


def error_info(exc: EvalfleetError) -> ErrorInfo:
    message = str(exc).splitlines()[0][:500] if str(exc) else ""
    return ErrorInfo(
        error_class=type(exc).__name__,
        message=message,
        phase=getattr(exc, "phase", "unknown"),
        retryable=exc.retryable,
    )


def _attempt(
    n: int, t0: float, verdict: str | None, error: ErrorInfo | None, phases: dict[str, float]
) -> Attempt:
    return Attempt(
        n=n,
        started_at=t0,
        finished_at=time.time(),
        verdict=verdict,
        error=error,
        phases=phases,
        node=socket.gethostname(),
    )


def _empty_outcome() -> AttemptOutcome:
    return AttemptOutcome(verdict="empty_patch", reason="the candidate patch is empty", patch_exists=False)


def _finish(item: WorkItem, outdir: Path, o: AttemptOutcome, records: list[Attempt], n: int) -> Result:
    result = Result(
        key=item.key,
        sweep_id=item.sweep_id,
        instance_id=item.instance.instance_id,
        repo=item.instance.repo,
        run=item.candidate.run,
        repeat=item.repeat,
        seed=item.seed,
        verdict=o.verdict,
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
