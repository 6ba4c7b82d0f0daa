"""Ray scheduling: one task per work item on a sandbox slot, a bounded window in flight, retries.

Each node advertises ``sandbox`` slots as a Ray resource; a task takes one. At most
``factor x slots`` tasks are in flight (``ray.wait``), so a sweep of 100k items never holds 100k refs.
For items far shorter than Ray's per-task cost, a task can evaluate a batch of items one after another.
Infra errors are retried inside the task (attempts are recorded); a task whose worker or node dies is
re-run by Ray elsewhere, and the commit is idempotent, so nothing is counted twice.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from orchestrator.config import StoreConfig
from orchestrator.placement import Placement, env_key
from workers.evaluate import EvalSettings
from workers.models import Result, Verdict, WorkItem

log = structlog.get_logger(__name__)
ATTEMPTS_PER_TASK = 2
DEFAULT_EVALUATOR = "workers.evaluate:evaluate"
_LOGS_CONFIGURED = False


class Evaluator(Protocol):
    """The signature of ``workers.evaluate.evaluate``: what a task calls to turn an item into a Result."""

    def __call__(
        self,
        item: WorkItem,
        settings: EvalSettings,
        outdir: Path,
        *,
        first_attempt: int = 1,
        budget: int | None = None,
        on_attempt_start: Callable[[int], None] | None = None,
    ) -> Result: ...


def resolve_evaluator(name: str | None) -> Evaluator:
    """``module:function`` (default ``workers.evaluate:evaluate``), imported in the task that calls it."""
    module, sep, attr = (name or DEFAULT_EVALUATOR).partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"evaluator must be 'module:function', got {name!r}")
    fn: Evaluator = getattr(importlib.import_module(module), attr)
    return fn


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
    node_id: str | None = None  # the Ray node that evaluated it (image locality)
    not_run: str | None = None  # why the item was not run (rollouts: "budget"); nothing was committed


_STORES: dict[str, Any] = {}


def _store_for(cfg: StoreConfig) -> Any:
    from orchestrator.store import open_store

    key = cfg.model_dump_json()
    if key not in _STORES:
        _STORES[key] = open_store(cfg.url, endpoint_url=cfg.endpoint_url, region=cfg.region)
    return _STORES[key]


def evaluate_and_commit(
    item: WorkItem, settings: EvalSettings, store_cfg: StoreConfig, evaluator: str | None = None
) -> Summary:
    """The body of a Ray task (also callable in-process): evaluate, upload logs, commit.

    Attempts are counted in the store, across tasks and nodes: ``settings.max_attempts`` bounds them all
    (Ray itself re-runs tasks killed for memory without limit). After ``ATTEMPTS_PER_TASK`` retryable
    failures here, the task raises InfraError so that Ray runs it again, possibly on another node.
    ``evaluator`` names another function with ``workers.evaluate.evaluate``'s signature (benchmarks use a
    no-op one to measure the control plane alone).
    """
    if (
        item.rollout is not None
    ):  # issue 13: a rollout item generates its patch first (orchestrator/rollouts.py)
        from orchestrator.rollouts import rollout_and_commit

        return rollout_and_commit(item, settings, store_cfg, evaluator)
    from orchestrator.commit import commit_result, mark_attempt_started, prior_attempts, upload_attempts
    from orchestrator.store import SweepPaths
    from workers.errors import InfraError

    evaluate = resolve_evaluator(evaluator)

    _quiet_worker_logs()
    store = _store_for(store_cfg)
    existing = store.get(SweepPaths(item.sweep_id).result(item.key))
    if existing is not None:  # a re-run of a task whose first run committed before dying
        return _summary(Result.model_validate_json(existing), committed=False)
    prior = prior_attempts(store, item.sweep_id, item.key)
    first = max((a.n for a in prior), default=0) + 1
    budget = max(1, min(ATTEMPTS_PER_TASK, settings.max_attempts - len(prior)))
    outdir = Path(tempfile.mkdtemp(prefix=f"evalfleet-{item.key[:12]}-"))
    try:
        result = evaluate(
            item,
            settings,
            outdir,
            first_attempt=first,
            budget=budget,
            on_attempt_start=lambda n: mark_attempt_started(store, item.sweep_id, item.key, n),
        )
        last = result.attempts[-1].error if result.attempts else None
        if last is not None and last.retryable and len(prior) + len(result.attempts) < settings.max_attempts:
            upload_attempts(store, result, outdir)
            raise InfraError(f"{item.key[:12]}: {last.error_class} in {last.phase}: {last.message}"[:300])
        committed = commit_result(store, result, outdir, prior)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    return _summary(result, committed=committed)


def _quiet_worker_logs() -> None:
    global _LOGS_CONFIGURED
    if not _LOGS_CONFIGURED:
        from orchestrator.logs import configure

        configure(None, console_level=logging.WARNING)
        _LOGS_CONFIGURED = True


def _summary(result: Result, *, committed: bool) -> Summary:
    return Summary(
        key=result.key,
        instance_id=result.instance_id,
        run=result.run,
        verdict=result.verdict,
        reason=result.reason,
        committed=committed,
        attempts=len(result.attempts),
        node_id=_node_id(),
    )


def _node_id() -> str | None:
    import ray

    try:
        return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else None
    except Exception:  # outside a Ray worker: no node to report
        return None


def init_ray(address: str | None, *, sandbox_slots: int | None, num_cpus: int | None = None) -> int:
    """Connect to a cluster (address) or start an embedded one; returns the cluster's sandbox slots."""
    import ray

    if not ray.is_initialized():
        # No runtime_env: worker logs never reach the driver (log_to_driver=False), and a runtime_env
        # routes every worker start through Ray's runtime-env agent (1-2 s before the first task runs).
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        else:
            slots = sandbox_slots or os.cpu_count() or 1
            ray.init(  # "local": never join a cluster that happens to run on this machine
                address="local",
                num_cpus=num_cpus or max(os.cpu_count() or 1, slots),
                resources={"sandbox": slots},
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
    total = ray.cluster_resources().get("sandbox", 0)
    return int(total)


def evaluate_batch(
    items: Sequence[WorkItem], settings: EvalSettings, store_cfg: StoreConfig, evaluator: str | None = None
) -> list[Summary | None]:
    """The body of a batched Ray task: ``evaluate_and_commit`` for each item, one after another.

    An item whose evaluation raised InfraError gets None: the driver submits it again on its own, as a
    single-item task that Ray retries (its attempts so far are in the store, so the count continues).
    """
    from workers.errors import InfraError

    out: list[Summary | None] = []
    for item in items:
        try:
            out.append(evaluate_and_commit(item, settings, store_cfg, evaluator))
        except InfraError as exc:
            log.warning("infra error in a batch: item resubmitted alone", item=item.key, error=str(exc)[:200])
            out.append(None)
    return out


def run_items(
    items: Sequence[WorkItem],
    settings: EvalSettings,
    store_cfg: StoreConfig,
    *,
    slots: int,
    window_factor: float = 2.0,
    on_done: Callable[[Summary], None] | None = None,
    evaluator: str | None = None,
    batch_size: int = 1,
) -> Iterator[Summary]:
    """Submit items as Ray tasks with a bounded window of tasks; yield summaries as they finish.

    With ``batch_size`` > 1 a task evaluates that many items one after another on its slot (for items
    much shorter than Ray's per-task cost); an item of a batch that failed is resubmitted alone.
    """
    import ray

    from workers.errors import InfraError

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    base = {"num_cpus": 0, "resources": {"sandbox": 1}, "max_retries": settings.max_attempts + 1}
    single: Any = (ray.remote(evaluate_and_commit), {**base, "retry_exceptions": [InfraError]})
    batched: Any = (ray.remote(evaluate_batch), base)
    window = max(1, int(slots * window_factor))
    settings_ref, store_ref = ray.put(settings), ray.put(store_cfg)
    placement, env_of = Placement(), {it.key: env_key(it) for it in items}
    pending: dict[Any, tuple[WorkItem, ...]] = {}  # task -> its items; one item: a single-item task
    alone: deque[WorkItem] = deque()
    batches = _chunks(items, batch_size)
    try:
        while True:
            while len(pending) < window:
                batch = (alone.popleft(),) if alone else next(batches, None)
                if batch is None:
                    break
                (fn, options), arg = (single, batch[0]) if len(batch) == 1 else (batched, list(batch))
                options = {**options, **_near_its_image(placement.preferred(env_of[batch[0].key]))}
                pending[fn.options(**options).remote(arg, settings_ref, store_ref, evaluator)] = batch
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
            for ref in done:
                batch = pending.pop(ref)
                for summary in _summaries(ref, batch, alone):
                    placement.record(env_of[summary.key], summary.node_id)
                    if on_done:
                        on_done(summary)
                    yield summary
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _near_its_image(node_id: str | None) -> dict[str, Any]:
    """Task options preferring (softly) a node that already evaluated this environment; a busy or dead
    node makes the task spill elsewhere."""
    if node_id is None:
        return {}
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return {
        "scheduling_strategy": NodeAffinitySchedulingStrategy(
            node_id=node_id, soft=True, _spill_on_unavailable=True
        )
    }


def _chunks(items: Sequence[WorkItem], size: int) -> Iterator[tuple[WorkItem, ...]]:
    for start in range(0, len(items), size):
        yield tuple(items[start : start + size])


def _summaries(ref: Any, batch: tuple[WorkItem, ...], alone: deque[WorkItem]) -> list[Summary]:
    """The summaries of a finished task; items of a batch left without one go to ``alone``."""
    import ray

    if len(batch) == 1:
        return [_get(ref, batch[0])]
    try:
        results: list[Summary | None] = ray.get(ref)
    except Exception as exc:  # the whole batch failed (e.g. its worker died every time): retry items alone
        log.warning("batch task failed: items resubmitted alone", items=len(batch), error=str(exc)[-200:])
        results = [None] * len(batch)
    alone.extend(item for item, summary in zip(batch, results, strict=True) if summary is None)
    return [summary for summary in results if summary is not None]


def _get(ref: Any, item: WorkItem) -> Summary:
    import ray

    try:
        summary: Summary = ray.get(ref)
        return summary
    except Exception as exc:  # the task failed beyond its retries: recorded as an error verdict
        message = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
        log.error("task failed", item=item.key, error=message)
        return Summary(
            key=item.key,
            instance_id=item.instance.instance_id,
            run=item.candidate.run,
            verdict="error",
            reason=f"task failed: {message}",
            committed=False,
            attempts=0,
        )


def reap_cluster(sweep_id: str) -> int:
    """Remove this sweep's leftover sandboxes on every alive node (call when no task of it runs)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from workers.sandbox.janitor import reap

    refs = []
    for node in ray.nodes():
        if node.get("Alive") and node.get("Resources", {}).get("sandbox"):  # nodes that run sandboxes
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            task = ray.remote(reap).options(num_cpus=0, scheduling_strategy=strategy, max_retries=0)
            refs.append(task.remote(sweep_id=sweep_id, dead_owners_only=False))
    removed = 0
    for ref in refs:
        try:
            removed += len(ray.get(ref, timeout=120))
        except Exception as exc:  # a node that died meanwhile has nothing left to reap
            log.warning(
                "janitor task failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            )
    return removed
