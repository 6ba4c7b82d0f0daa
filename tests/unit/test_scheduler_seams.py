"""The scheduler's evaluator seam and the body of a batched task, in-process (no Ray, no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.evaluators import work_items

from orchestrator.commit import failures, load_results
from orchestrator.config import StoreConfig
from orchestrator.scheduler import _chunks
from orchestrator.store import FileStore
from orchestrator.task import evaluate_and_commit, evaluate_batch, resolve_evaluator
from workers.evaluate import EvalSettings, evaluate_attempt
from workers.models import WorkItem
from workers.retry import RetryPolicy

FAST = RetryPolicy(max_attempts=3, backoff_s=0.01, backoff_max_s=0.01, jitter_s=0, engine_wait_s=0)


def items(n: int) -> list[WorkItem]:
    return work_items(n, "sweep-seams")


def test_the_default_evaluator_is_one_attempt_of_workers_evaluate() -> None:
    assert resolve_evaluator(None) is evaluate_attempt
    assert resolve_evaluator("workers.evaluate:evaluate_attempt") is evaluate_attempt


@pytest.mark.parametrize("name", ["workers.evaluate", ":evaluate", "workers.evaluate:"])
def test_an_evaluator_must_be_module_colon_function(name: str) -> None:
    with pytest.raises(ValueError, match="module:function"):
        resolve_evaluator(name)


def test_evaluate_and_commit_runs_the_named_evaluator(tmp_path: Path) -> None:
    store_cfg = StoreConfig(url=f"file://{tmp_path}/store")
    summary = evaluate_and_commit(items(1)[0], EvalSettings(), store_cfg, "support.evaluators:instant")
    assert (summary.verdict, summary.committed, summary.attempts) == ("resolved", True, 1)
    again = evaluate_and_commit(items(1)[0], EvalSettings(), store_cfg, "support.evaluators:instant")
    assert (again.verdict, again.committed) == ("resolved", False)  # already committed: not run twice


def test_a_batch_retries_infra_errors_in_the_task_and_counts_the_failed_attempt(tmp_path: Path) -> None:
    store_cfg = StoreConfig(url=f"file://{tmp_path}/store")
    batch = items(5)
    out = evaluate_batch(batch, EvalSettings(retry=FAST), store_cfg, "support.evaluators:flaky")
    assert [(s.verdict, s.committed, s.attempts, s.infra_failure) for s in out] == [
        ("resolved", True, 1, False),
        ("resolved", True, 2, False),  # odd repeats fail once, then resolve in the same task
        ("resolved", True, 1, False),
        ("resolved", True, 2, False),
        ("resolved", True, 1, False),
    ]
    results = {r.key: r for r in load_results(FileStore(tmp_path / "store"), "sweep-seams")}
    assert sorted(results) == [it.key for it in batch]
    assert [a.n for a in results["key0001"].attempts] == [1, 2]  # the failed attempt is kept
    assert results["key0001"].attempts[0].error is not None


def test_attempts_used_up_are_a_recorded_failure_not_a_verdict(tmp_path: Path) -> None:
    store_cfg, store = StoreConfig(url=f"file://{tmp_path}/store"), FileStore(tmp_path / "store")
    first = EvalSettings(retry=FAST, driver="run1")
    out = evaluate_batch(items(2), first, store_cfg, "support.evaluators:broken")
    assert [(s.verdict, s.committed, s.infra_failure) for s in out] == [
        ("resolved", True, False),
        ("error", False, True),
    ]
    assert out[1].attempts == 3 and "engine gone" in out[1].reason
    assert [r.key for r in load_results(store, "sweep-seams")] == ["key0000"]  # no "error" verdict
    [failed] = failures(store, "sweep-seams")
    assert (failed.key, [a.n for a in failed.attempts]) == ("key0001", [1, 2, 3])
    # The same driver run (a Ray re-run of the task) has no attempts left: nothing runs again.
    again = evaluate_and_commit(items(2)[1], first, store_cfg, "support.evaluators:instant")
    assert (again.infra_failure, again.committed) == (True, False)
    # A new run of the sweep (another driver) evaluates it again; its earlier attempts are kept.
    later = evaluate_and_commit(
        items(2)[1], EvalSettings(retry=FAST, driver="run2"), store_cfg, "support.evaluators:instant"
    )
    assert (later.verdict, later.committed, later.infra_failure) == ("resolved", True, False)
    [result] = [r for r in load_results(store, "sweep-seams") if r.key == "key0001"]
    assert [(a.n, a.driver, a.error is None) for a in result.attempts] == [
        (1, "run1", False),
        (2, "run1", False),
        (3, "run1", False),
        (4, "run2", True),
    ]
    assert failures(store, "sweep-seams") == []


def test_chunks_cover_every_item_once_in_order() -> None:
    its = items(7)
    assert [[it.repeat for it in c] for c in _chunks(its, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [len(c) for c in _chunks(its, 1)] == [1] * 7
