"""Run a sweep through the project's own pieces (plan, manifest, Ray scheduler, store) and time it.

This is ``orchestrator.execute.execute_sweep`` without the progress bar and the reports, plus a
timestamp for every finished item, so benchmarks see exactly the production path.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from orchestrator.commit import committed_keys
from orchestrator.config import SweepConfig, validate_config
from orchestrator.execute import eval_settings, store_for, write_manifest
from orchestrator.plan import Plan
from orchestrator.scheduler import init_ray, reap_cluster, run_items
from orchestrator.sweep import plan_sweep
from workers.evaluate import EvalSettings


@dataclass
class SweepRun:
    """What a timed sweep did: when it started, and when each item finished."""

    sweep_id: str
    store_url: str
    planned: int
    plan_s: float
    started: float
    finished: float = 0.0
    done_at: list[float] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)

    @property
    def makespan_s(self) -> float:
        return self.finished - self.started

    @property
    def first_result_s(self) -> float:
        return min(self.done_at) - self.started if self.done_at else float("nan")


def load(raw: dict[str, Any]) -> SweepConfig:
    return validate_config(raw, "bench")


def restart_ray(slots: int, num_cpus: int | None = None) -> int:
    """A fresh embedded Ray with ``slots`` sandbox slots (benchmarks differ in slots)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    return init_ray(None, sandbox_slots=slots, num_cpus=num_cpus)


def warm_workers(slots: int) -> None:
    """Start one Ray worker per slot and import the task's modules there, so that a benchmark times the
    sweep and not Python start-up (a long sweep pays that once; a short benchmark would feel it)."""
    import ray

    def warm() -> float:
        import workers.evaluate
        import workers.images
        import workers.sandbox.docker  # noqa: F401

        time.sleep(0.5)  # hold the slot, so that every slot gets its own worker
        return time.time()

    task = ray.remote(warm).options(num_cpus=0, resources={"sandbox": 1})
    ray.get([task.remote() for _ in range(slots)])


def run_sweep(
    config: SweepConfig,
    *,
    slots: int,
    settings: EvalSettings | None = None,
    evaluator: str | None = None,
    batch_size: int = 1,
    plan: Plan | None = None,
) -> SweepRun:
    """Plan (unless given), write the manifest, evaluate everything not committed yet; Ray must be up."""
    t0 = time.perf_counter()
    plan = plan or plan_sweep(config)
    plan_s = time.perf_counter() - t0
    store = store_for(config)
    write_manifest(store, config, plan)
    todo = plan.without(committed_keys(store, plan.sweep_id))
    run = SweepRun(plan.sweep_id, store.url, len(plan.items), plan_s, started=time.time())
    for summary in run_items(
        todo.items,
        settings or eval_settings(config),
        config.store,
        slots=slots,
        window_factor=config.execution.max_in_flight_factor,
        evaluator=evaluator,
        batch_size=batch_size,
    ):
        run.done_at.append(time.time())
        run.verdicts[summary.verdict] += 1
    run.finished = time.time()
    reap_cluster(plan.sweep_id)  # as execute_sweep does: nothing of the sweep runs any more
    return run
