"""The retry policy's one loop (workers/retry.py) and what a driver prints when items have no verdict."""

from __future__ import annotations

import time
from dataclasses import dataclass

from orchestrator.errors import SweepIncomplete, describe_failure
from workers.errors import InfraError
from workers.models import Attempt, ErrorInfo, Result
from workers.retry import RetryPolicy, backoff, is_infra_failure, run_attempts

FAST = RetryPolicy(max_attempts=3, backoff_s=0.0, backoff_max_s=0.0, jitter_s=0.0, engine_wait_s=1.0)


def result(n: int, error: ErrorInfo | None) -> Result:
    attempt = Attempt(
        n=n, started_at=0.0, finished_at=0.0, verdict=None if error else "resolved", error=error
    )
    return Result(
        key="k",
        sweep_id="s",
        instance_id="i",
        run="r",
        repeat=0,
        seed=0,
        verdict="error" if error else "resolved",
        attempts=[attempt],
    )


def infra(phase: str = "start", retryable: bool = True) -> ErrorInfo:
    return ErrorInfo(error_class="SandboxError", message="engine gone", phase=phase, retryable=retryable)


def test_attempts_until_a_verdict_with_every_attempt_kept() -> None:
    outcomes = iter([infra(), infra(), None])
    got = run_attempts(FAST, lambda n: result(n, next(outcomes)), first=5)
    assert got.verdict == "resolved" and [a.n for a in got.attempts] == [5, 6, 7]
    assert [a.error is None for a in got.attempts] == [False, False, True]


def test_the_budget_counts_attempts_of_earlier_tasks() -> None:
    got = run_attempts(FAST, lambda n: result(n, infra()), first=3, counted_before=2)
    assert is_infra_failure(got) and [a.n for a in got.attempts] == [3]


def test_non_retryable_errors_and_phases_not_listed_end_at_once() -> None:
    assert len(run_attempts(FAST, lambda n: result(n, infra(retryable=False))).attempts) == 1
    only_image = FAST.model_copy(update={"phases": ["image"]})
    assert len(run_attempts(only_image, lambda n: result(n, infra(phase="test"))).attempts) == 1


@dataclass
class Engine:
    """An engine that is down for its first ``down_polls`` probes, then answers."""

    down_polls: int
    probes: int = 0

    def __call__(self) -> str | None:
        self.probes += 1
        return "engine restarting" if self.probes <= self.down_polls else None


def test_attempts_that_failed_while_the_engine_was_down_do_not_count() -> None:
    outcomes = iter([infra(), infra(), infra(), None])  # 3 failures, the budget 3: one must not count
    engine = Engine(down_polls=1)  # down after the first failure, back at the next poll; up after that
    got = run_attempts(FAST, lambda n: result(n, next(outcomes)), engine_down=engine)
    assert got.verdict == "resolved"
    assert [a.counted for a in got.attempts] == [False, True, True, True]


def test_an_engine_that_stays_down_costs_the_attempt_after_the_wait() -> None:
    t0 = time.monotonic()
    got = run_attempts(
        FAST.model_copy(update={"max_attempts": 1}), lambda n: result(n, infra()), engine_down=Engine(10**6)
    )
    assert is_infra_failure(got) and [a.counted for a in got.attempts] == [True]
    assert 1.0 <= time.monotonic() - t0 < 5.0


def test_backoff_grows_to_its_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_s=2, backoff_max_s=10, jitter_s=0.5)
    waits = [backoff(policy, n) for n in range(1, 6)]
    for got, base in zip(waits, [2, 4, 8, 10, 10], strict=True):
        assert base <= got <= base + 0.5


@dataclass
class Failed:
    instance_id: str
    reason: str


def test_items_without_a_verdict_print_one_line_per_cause() -> None:
    failed = [
        Failed("a__b-1", "ImageBuildError in image: a__b-1: needs Python 3.6: pull a prebuilt image"),
        Failed("a__b-2", "ImageBuildError in image: a__b-2: needs Python 3.6: pull a prebuilt image"),
        Failed("c__d-9", "SandboxError in start: container 0123456789abcdef0123 did not start"),
    ]
    lines = SweepIncomplete("sw-1", failed).lines()
    assert lines[0].startswith("3 item(s) of sweep sw-1 have no verdict") and "--resume sw-1" in lines[0]
    assert lines[1:] == [
        "  2 x ImageBuildError in image: needs Python 3.6: pull a prebuilt image",
        "  1 x SandboxError in start: container … did not start",
    ]


def test_a_failure_is_described_by_the_component_that_caused_it() -> None:
    import botocore.exceptions

    try:
        try:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        except Exception as exc:
            raise InfraError("S3 get failed after retries") from exc
    except InfraError as exc:
        assert describe_failure(exc).startswith("the object store cannot be reached")
    assert describe_failure(ValueError("")).startswith("ValueError: ValueError")
