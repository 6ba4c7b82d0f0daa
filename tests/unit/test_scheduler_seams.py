"""The scheduler's evaluator seam and the body of a batched task, in-process (no Ray, no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.evaluators import work_items

from orchestrator.commit import load_results
from orchestrator.config import StoreConfig
from orchestrator.scheduler import _chunks, evaluate_and_commit, evaluate_batch, resolve_evaluator
from orchestrator.store import FileStore
from workers.evaluate import EvalSettings, evaluate
from workers.models import WorkItem


def items(n: int) -> list[WorkItem]:
    return work_items(n, "sweep-seams")


def test_the_default_evaluator_is_workers_evaluate() -> None:
    assert resolve_evaluator(None) is evaluate
    assert resolve_evaluator("workers.evaluate:evaluate") is evaluate


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


def test_a_batch_leaves_items_with_infra_errors_to_be_resubmitted(tmp_path: Path) -> None:
    store_cfg = StoreConfig(url=f"file://{tmp_path}/store")
    batch = items(5)
    out = evaluate_batch(batch, EvalSettings(max_attempts=3), store_cfg, "support.evaluators:flaky")
    assert [s is None for s in out] == [False, True, False, True, False]  # odd repeats fail once
    assert [s.key for s in out if s is not None] == ["key0000", "key0002", "key0004"]
    again = evaluate_batch(
        [batch[1], batch[3]], EvalSettings(max_attempts=3), store_cfg, "support.evaluators:flaky"
    )
    assert [(s.verdict, s.attempts) for s in again if s is not None] == [("resolved", 1), ("resolved", 1)]
    results = {r.key: r for r in load_results(FileStore(tmp_path / "store"), "sweep-seams")}
    assert sorted(results) == [it.key for it in batch]
    assert [a.n for a in results["key0001"].attempts] == [1, 2]  # the failed attempt is counted
    assert results["key0001"].attempts[0].error is not None


def test_chunks_cover_every_item_once_in_order() -> None:
    its = items(7)
    assert [[it.repeat for it in c] for c in _chunks(its, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [len(c) for c in _chunks(its, 1)] == [1] * 7
