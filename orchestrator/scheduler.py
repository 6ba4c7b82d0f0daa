"""Ray scheduling: one task per work item on a sandbox slot, a bounded window in flight, retries.

Each node advertises ``sandbox`` slots as a Ray resource; a task takes one. At most
``factor x slots`` tasks are in flight (``ray.wait``), so a sweep of 100k items never holds 100k refs.
Infra errors are retried inside the task (attempts are recorded); a task whose worker or node dies is
re-run by Ray elsewhere, and the commit is idempotent, so nothing is counted twice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from orchestrator.config import StoreConfig
from workers.evaluate import EvalSettings
from workers.models import Result, Verdict, WorkItem

log = structlog.get_logger(__name__)
RAY_TASK_RETRIES = 3


@dataclass(frozen=True)
class Summary:
    """What a task sends back to the driver: small; logs never travel through Ray."""

    key: str
    instance_id: str
    run: str
    verdict: Verdict
    reason: str
    committed: bool
    attempts: int


_STORES: dict[str, Any] = {}


def _store_for(cfg: StoreConfig) -> Any:
    from orchestrator.store import open_store

    key = cfg.model_dump_json()
    if key not in _STORES:
        _STORES[key] = open_store(cfg.url, endpoint_url=cfg.endpoint_url, region=cfg.region)
    return _STORES[key]


def evaluate_and_commit(item: WorkItem, settings: EvalSettings, store_cfg: StoreConfig) -> Summary:
    """The body of a Ray task (also callable in-process): evaluate, upload logs, commit."""
    from orchestrator.commit import commit_result
    from orchestrator.store import SweepPaths
    from workers.evaluate import evaluate

    store = _store_for(store_cfg)
    existing = store.get(SweepPaths(item.sweep_id).result(item.key))
    if existing is not None:  # a re-run of a task whose first run committed before dying
        prior = Result.model_validate_json(existing)
        return _summary(prior, committed=False)
    outdir = Path(tempfile.mkdtemp(prefix=f"evalfleet-{item.key[:12]}-"))
    try:
        result = evaluate(item, settings, outdir)
        committed = commit_result(store, result, outdir)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    return _summary(result, committed=committed)


def _summary(result: Result, *, committed: bool) -> Summary:
    return Summary(
        key=result.key, instance_id=result.instance_id, run=result.run, verdict=result.verdict,
        reason=result.reason, committed=committed, attempts=len(result.attempts),
    )


def init_ray(address: str | None, *, sandbox_slots: int | None, num_cpus: int | None = None) -> int:
    """Connect to a cluster (address) or start an embedded one; returns the cluster's sandbox slots."""
    import ray

    if not ray.is_initialized():
        env = {"env_vars": {"RAY_DEDUP_LOGS": "0"}}
        if address:
            ray.init(address=address, runtime_env=env, log_to_driver=False, logging_level="WARNING")
        else:
            slots = sandbox_slots or os.cpu_count() or 1
            ray.init(
                num_cpus=num_cpus or max(os.cpu_count() or 1, slots), resources={"sandbox": slots},
                include_dashboard=False, log_to_driver=False, logging_level="WARNING", runtime_env=env,
            )
    total = ray.cluster_resources().get("sandbox", 0)
    return int(total)


def run_items(
    items: Sequence[WorkItem], settings: EvalSettings, store_cfg: StoreConfig, *, slots: int,
    window_factor: float = 2.0, on_done: Callable[[Summary], None] | None = None,
) -> Iterator[Summary]:
    """Submit items as Ray tasks with a bounded window; yield summaries as they finish."""
    import ray

    from workers.errors import InfraError

    task = ray.remote(evaluate_and_commit).options(  # type: ignore[call-overload]
        num_cpus=0, resources={"sandbox": 1}, max_retries=RAY_TASK_RETRIES, retry_exceptions=[InfraError],
    )
    window = max(1, int(slots * window_factor))
    settings_ref, store_ref = ray.put(settings), ray.put(store_cfg)
    pending: dict[Any, WorkItem] = {}
    queue = iter(items)
    try:
        while True:
            while len(pending) < window:
                item = next(queue, None)
                if item is None:
                    break
                pending[task.remote(item, settings_ref, store_ref)] = item
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
            for ref in done:
                item = pending.pop(ref)
                summary = _get(ref, item)
                if on_done:
                    on_done(summary)
                yield summary
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _get(ref: Any, item: WorkItem) -> Summary:
    import ray

    try:
        summary: Summary = ray.get(ref)
        return summary
    except Exception as exc:  # the task failed beyond its retries: recorded as an error verdict
        message = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
        log.error("task failed", item=item.key, error=message)
        return Summary(
            key=item.key, instance_id=item.instance.instance_id, run=item.candidate.run, verdict="error",
            reason=f"task failed: {message}", committed=False, attempts=0,
        )
