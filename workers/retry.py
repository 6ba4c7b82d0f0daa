"""The one retry policy of a work item, and the one loop that applies it.

How many times can an item run, and after what waits? ``RetryPolicy`` answers, and ``run_attempts`` is
the only place that repeats an attempt (docs/architecture.md, "How often an item runs"):

- an attempt is repeated only after an error that is retryable by nature (a Docker API error, a lost
  connection; not a deterministic build failure) in a phase the policy retries;
- at most ``max_attempts`` attempts count per item and driver run, across Ray tasks and nodes (a task
  whose node died left an ``AttemptLost`` attempt, which counts);
- an attempt that failed while the node's sandbox engine could not be reached does not count, as long
  as the engine answers again within ``engine_wait_s``: a restarting engine costs time, not attempts;
- waits grow exponentially with jitter (tenacity), from ``backoff_s`` to ``backoff_max_s``.

Ray re-runs a task only when its worker or node died. When the attempts are used up the item is recorded
as an infrastructure failure, never as a verdict: the next run of the sweep evaluates it again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_result

from workers.models import Attempt, Result

log = structlog.get_logger(__name__)

Phase = Literal["image", "start", "patch", "test", "grade", "cleanup", "unknown"]
PHASES: tuple[Phase, ...] = ("image", "start", "patch", "test", "grade", "cleanup", "unknown")
ENGINE_POLL_S = 1.0


class RetryPolicy(BaseModel):
    """When an item is tried again after an infrastructure error (``execution.retry`` in a sweep)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(
        default=4,
        ge=1,
        le=20,
        description="Attempts per item and driver run that count, across Ray tasks and nodes; a re-run or "
        "--resume of the sweep starts a new count.",
    )
    backoff_s: float = Field(default=2.0, ge=0, description="Wait before the second attempt (seconds).")
    backoff_max_s: float = Field(default=60.0, ge=0, description="Longest wait between two attempts.")
    jitter_s: float = Field(default=1.0, ge=0, description="Random extra wait, up to this many seconds.")
    phases: list[Phase] = Field(
        default_factory=lambda: list(PHASES),
        description="Phases whose retryable errors are retried (image, start, patch, test, grade, "
        "cleanup, unknown); an error in another phase ends the item at once as an infra failure.",
    )
    engine_wait_s: float = Field(
        default=300.0,
        ge=0,
        description="How long a node waits for its unreachable sandbox engine to answer again before "
        "the item gives up; attempts that failed while it was down do not count.",
    )


def is_infra_failure(result: Result) -> bool:
    """An item whose last attempt ended in an error (not a verdict): recorded, never committed."""
    return bool(result.attempts) and result.attempts[-1].error is not None


def retries(policy: RetryPolicy, attempt: Attempt) -> bool:
    """Whether ``attempt``'s error is one the policy tries again."""
    error = attempt.error
    return error is not None and error.retryable and error.phase in policy.phases


def run_attempts(
    policy: RetryPolicy,
    attempt: Callable[[int], Result],
    *,
    first: int = 1,
    counted_before: int = 0,
    engine_down: Callable[[], str | None] | None = None,
) -> Result:
    """Run ``attempt(n)`` for n = first, first+1, ... until one reaches a verdict or the policy stops.

    ``attempt(n)`` returns the Result of attempt n alone (a verdict, or an error in its one Attempt).
    ``counted_before`` attempts of this item already count (earlier tasks of this driver run).
    ``engine_down()`` says why the node's engine cannot be reached (None when it answers); after a failed
    attempt it is polled for up to ``engine_wait_s``. Returns the last attempt's Result with every
    attempt made here in ``attempts``.
    """
    made: list[Attempt] = []
    counted = counted_before
    numbers = iter(range(first, first + 10_000))

    def one() -> Result:
        nonlocal counted
        result = attempt(next(numbers))
        record = result.attempts[-1]
        if record.error is not None and retries(policy, record) and _engine_returned(policy, engine_down):
            record = record.model_copy(update={"counted": False})
        made.append(record)
        counted += 1 if record.counted else 0
        return result.model_copy(update={"attempts": list(made)})

    def again(result: Result) -> bool:
        return is_infra_failure(result) and retries(policy, result.attempts[-1])

    def stop(state: RetryCallState) -> bool:
        uncounted = len(made) - sum(a.counted for a in made)
        return counted >= policy.max_attempts or uncounted >= 10 * policy.max_attempts

    def before_sleep(state: RetryCallState) -> None:
        last = made[-1]
        assert last.error is not None
        log.warning(
            "attempt failed, retrying",
            attempt=last.n,
            counted=last.counted,
            error=f"{last.error.error_class} in {last.error.phase}: {last.error.message}"[:300],
            wait_s=round(state.upcoming_sleep, 2),
        )

    retrying = Retrying(
        retry=retry_if_result(again),
        stop=stop,
        wait=lambda state: backoff(policy, state.attempt_number),
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        reraise=True,
    )
    result: Result = retrying(one)
    return result


def backoff(policy: RetryPolicy, failed: int) -> float:
    """Seconds to wait after the ``failed``-th failed attempt: exponential from ``backoff_s``, capped at
    ``backoff_max_s``, plus up to ``jitter_s`` at random."""
    return min(policy.backoff_max_s, policy.backoff_s * 2 ** (failed - 1)) + random.uniform(
        0, policy.jitter_s
    )


def _engine_returned(policy: RetryPolicy, engine_down: Callable[[], str | None] | None) -> bool:
    """True when the engine was down after the attempt and answers again within the policy's wait."""
    if engine_down is None:
        return False
    reason = engine_down()
    if reason is None:
        return False
    log.warning("sandbox engine unreachable: waiting for it", reason=reason, wait_s=policy.engine_wait_s)
    deadline = time.monotonic() + policy.engine_wait_s
    while time.monotonic() < deadline:
        time.sleep(ENGINE_POLL_S)
        if engine_down() is None:
            log.info("sandbox engine answers again")
            return True
    return False
