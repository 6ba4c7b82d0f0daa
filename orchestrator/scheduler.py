"""Ray scheduling: one task per work item on a sandbox slot, a bounded window in flight.

Each node advertises ``sandbox`` slots as a Ray resource; a task takes one. At most
``factor x slots`` tasks are in flight (``ray.wait``), so a sweep of 100k items never holds 100k refs;
the window follows the cluster's current slots (an autoscaled cluster that grows gets more in flight).
For items far shorter than Ray's per-task cost, a task can evaluate a batch of items one after another.
The task body (``orchestrator.task``) applies the retry policy; Ray re-runs a task only when its worker
or node died, and the commit is idempotent, so nothing is counted twice.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import structlog

from orchestrator.config import StoreConfig
from orchestrator.placement import Placement, env_key
from orchestrator.task import Summary, evaluate_and_commit, evaluate_batch, failed_summary
from workers.errors import one_line
from workers.evaluate import EvalSettings
from workers.models import WorkItem

log = structlog.get_logger(__name__)
SLOTS_REFRESH_S = 15.0  # how often the window is fitted to the cluster's current sandbox slots


def init_ray(address: str | None, *, sandbox_slots: int | None, num_cpus: int | None = None) -> int:
    """Connect to a cluster (address) or start an embedded one; returns the cluster's sandbox slots.

    The embedded cluster advertises 127.0.0.1, has no dashboard, and requires Ray's token
    authentication (``RAY_AUTH_MODE=token`` unless the environment says otherwise; Ray keeps the token in
    ~/.ray/auth_token): Ray's gRPC servers listen on every interface and have no setting to bind
    loopback only, so the token is what keeps other hosts out (docs/architecture.md)."""
    if not address and "ray" not in sys.modules:  # Ray reads the mode when it is imported
        os.environ.setdefault("RAY_AUTH_MODE", "token")
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
                _node_ip_address="127.0.0.1",
                num_cpus=num_cpus or max(os.cpu_count() or 1, slots),
                resources={"sandbox": slots},
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
    total = ray.cluster_resources().get("sandbox", 0)
    return int(total)


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
    much shorter than Ray's per-task cost). Ray re-runs a task whose worker or node died (at most
    ``retry.max_attempts`` times: each lost run left a counted ``AttemptLost``), never one that raised.
    """
    import ray

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    options = {
        "num_cpus": 0,
        "resources": {"sandbox": 1},
        "max_retries": settings.retry.max_attempts,
        "retry_exceptions": False,
    }
    single: Any = ray.remote(evaluate_and_commit)
    batched: Any = ray.remote(evaluate_batch)
    window = _Window(slots, window_factor)
    settings_ref, store_ref = ray.put(settings), ray.put(store_cfg)
    placement, env_of = Placement(), {it.key: env_key(it) for it in items}
    pending: dict[Any, tuple[WorkItem, ...]] = {}  # task -> its items; one item: a single-item task
    batches = _chunks(items, batch_size)
    try:
        while True:
            while len(pending) < window.size():
                batch = next(batches, None)
                if batch is None:
                    break
                fn, arg = (single, batch[0]) if len(batch) == 1 else (batched, list(batch))
                near = _near_its_image(placement.preferred(env_of[batch[0].key]))
                pending[fn.options(**options, **near).remote(arg, settings_ref, store_ref, evaluator)] = batch
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
            for ref in done:
                for summary in _summaries(ref, pending.pop(ref)):
                    placement.record(env_of[summary.key], summary.node_id)
                    if on_done:
                        on_done(summary)
                    yield summary
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


class _Window:
    """How many tasks may be in flight: ``factor`` x the cluster's sandbox slots, refitted every
    ``SLOTS_REFRESH_S`` seconds so that nodes added (or lost) while a sweep runs change it."""

    def __init__(self, slots: int, factor: float) -> None:
        self.slots, self.factor, self._checked = slots, factor, time.monotonic()

    def size(self) -> int:
        now = time.monotonic()
        if now - self._checked >= SLOTS_REFRESH_S:
            self._checked = now
            current = _sandbox_slots()
            if current and current != self.slots:
                log.info("sandbox slots changed", before=self.slots, now=current)
                self.slots = current
        return max(1, int(self.slots * self.factor))


def _sandbox_slots() -> int:
    import ray

    try:
        return int(ray.cluster_resources().get("sandbox", 0))
    except Exception as exc:  # the GCS is briefly unreachable: keep the window as it is
        log.debug("cluster resources unavailable", error=one_line(exc))
        return 0


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


def _summaries(ref: Any, batch: tuple[WorkItem, ...]) -> list[Summary]:
    """The summaries of a finished task; a task that failed beyond Ray's re-runs (its node kept dying,
    or a bug) leaves its items as infrastructure failures: recorded, never verdicts."""
    import ray

    try:
        got = ray.get(ref)
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        message = lines[-1][:300] if lines else type(exc).__name__
        log.error("task failed", items=[it.key for it in batch], error=message)
        return [failed_summary(item, f"task failed: {message}") for item in batch]
    return [got] if len(batch) == 1 else list(got)


def on_sandbox_nodes(
    fn: Callable[..., Any], kwargs: dict[str, Any] | None = None, *, timeout: float = 120.0
) -> dict[str, Any]:
    """``fn(**kwargs)`` once on every alive node that runs sandboxes; node id -> its return value, or
    the exception it raised (a node that died meanwhile, an engine that is gone)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    refs = {}
    for node in ray.nodes():
        if node.get("Alive") and node.get("Resources", {}).get("sandbox"):
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            task = ray.remote(fn).options(num_cpus=0, scheduling_strategy=strategy, max_retries=0)
            refs[node["NodeID"]] = task.remote(**(kwargs or {}))
    out: dict[str, Any] = {}
    for node_id, ref in refs.items():
        try:
            out[node_id] = ray.get(ref, timeout=timeout)
        except Exception as exc:
            out[node_id] = exc
    return out


def reap_cluster(sweep_id: str | None, driver: str | None = None, *, everything: bool = True) -> int:
    """Remove sandboxes on every alive node: this driver's of this sweep (call when none of its tasks
    runs), or with ``everything=False`` only those whose owner died or whose lifetime ran out."""
    from workers.sandbox.janitor import reap

    removed = 0
    found = on_sandbox_nodes(
        reap, {"sweep_id": sweep_id, "driver": driver, "dead_owners_only": not everything}
    )
    for node_id, got in found.items():
        if isinstance(got, Exception):  # a node that died meanwhile has nothing left to reap
            log.warning("janitor task failed", node=node_id[:12], error=one_line(got))
        else:
            removed += len(got)
    return removed


def engines_down(backend: str) -> dict[str, str | None]:
    """Every sandbox node's answer to ``SandboxBackend.engine_down``: node id -> reason, or None."""
    from workers.evaluate import engine_probe

    def probe() -> str | None:
        return engine_probe(backend)()

    return {
        node_id: one_line(got) if isinstance(got, Exception) else got
        for node_id, got in on_sandbox_nodes(probe, timeout=60.0).items()
    }
