"""Batched Ray tasks (``run_items(batch_size=...)``) on an embedded Ray, with evaluators that need no
containers: every item is committed exactly once, and an item whose batch hit an infrastructure error
is resubmitted alone and committed with its failed attempt counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.evaluators import work_items

from orchestrator.commit import load_results
from orchestrator.config import StoreConfig
from orchestrator.scheduler import init_ray, run_items
from orchestrator.store import FileStore
from workers.evaluate import EvalSettings
from workers.retry import RetryPolicy

pytestmark = pytest.mark.ray
TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_local() -> Iterator[int]:
    """An embedded Ray whose workers import the tests' ``support`` package."""
    import ray

    ray.init(
        address="local",
        num_cpus=2,
        resources={"sandbox": 2},
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}},
    )
    try:
        yield init_ray(None, sandbox_slots=2)
    finally:
        ray.shutdown()


@pytest.mark.parametrize("batch_size", [1, 4])
def test_every_item_is_committed_once(ray_local: int, tmp_path: Path, batch_size: int) -> None:
    store_cfg = StoreConfig(url=f"file://{tmp_path}/store")
    todo = work_items(10, f"batches-{batch_size}")
    done = list(
        run_items(
            todo,
            EvalSettings(),
            store_cfg,
            slots=ray_local,
            batch_size=batch_size,
            evaluator="support.evaluators:instant",
        )
    )
    assert sorted(s.key for s in done) == [it.key for it in todo]
    assert {(s.verdict, s.committed) for s in done} == {("resolved", True)}
    assert len(load_results(FileStore(tmp_path / "store"), todo[0].sweep_id)) == 10


def test_infra_errors_in_a_batch_are_retried_by_its_task(ray_local: int, tmp_path: Path) -> None:
    store_cfg = StoreConfig(url=f"file://{tmp_path}/store")
    todo = work_items(9, "batches-flaky")
    done = list(
        run_items(
            todo,
            EvalSettings(retry=RetryPolicy(max_attempts=3, backoff_s=0.1, jitter_s=0)),
            store_cfg,
            slots=ray_local,
            batch_size=4,
            evaluator="support.evaluators:flaky",
        )
    )
    assert sorted(s.key for s in done) == [it.key for it in todo]  # each once, none lost
    assert {s.verdict for s in done} == {"resolved"}
    results = {r.repeat: r for r in load_results(FileStore(tmp_path / "store"), "batches-flaky")}
    assert {r: len(res.attempts) for r, res in results.items()} == {r: 1 + r % 2 for r in range(9)}
