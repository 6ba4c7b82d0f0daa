"""The body of a Ray task: control-plane code that runs on the worker nodes.

A task evaluates one work item (or a batch, one after another) with the sweep's retry policy
(``workers.retry``), uploads every attempt's logs and commits the verdict (``orchestrator.commit``).
The store is the source of truth across tasks and nodes: attempts are recorded as they start, so a
task re-run by Ray after its node died continues the count instead of starting over.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from orchestrator.config import StoreConfig
from workers.errors import one_line
from workers.evaluate import EvalSettings, engine_probe
from workers.models import Attempt, Result, Verdict, WorkItem
from workers.paths import FILES
from workers.retry import is_infra_failure, run_attempts

log = structlog.get_logger(__name__)
DEFAULT_EVALUATOR = "workers.evaluate:evaluate_attempt"
_LOGS_CONFIGURED = False


class Evaluator(Protocol):
    """The signature of ``workers.evaluate.evaluate_attempt``: one attempt at an item -> its Result."""

    def __call__(
        self, item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1
    ) -> Result: ...


def resolve_evaluator(name: str | None) -> Evaluator:
    """``module:function`` (default ``workers.evaluate:evaluate_attempt``), imported where it is called."""
    module, sep, attr = (name or DEFAULT_EVALUATOR).partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"evaluator must be 'module:function', got {name!r}")
    fn: Evaluator = getattr(importlib.import_module(module), attr)
    return fn


@dataclass(frozen=True)
class Summary:
    """What a task sends back to the driver: small; logs never travel through Ray.

    ``infra_failure``: no attempt reached a verdict (``reason`` says why); nothing was committed and the
    next run of the sweep evaluates the item again."""

    key: str
    instance_id: str
    run: str
    verdict: Verdict
    reason: str
    committed: bool
    attempts: int
    node_id: str | None = None  # the Ray node that evaluated it (image locality)
    infra_failure: bool = False
    not_run: str | None = None  # why the item was not run (rollouts: "budget"); nothing was committed


_STORES: dict[str, Any] = {}


def _store_for(cfg: StoreConfig) -> Any:
    key = cfg.model_dump_json()
    if key not in _STORES:
        _STORES[key] = cfg.open()
    return _STORES[key]


def evaluate_and_commit(
    item: WorkItem, settings: EvalSettings, store_cfg: StoreConfig, evaluator: str | None = None
) -> Summary:
    """Evaluate ``item`` with the retry policy, upload its logs, commit its verdict (also callable
    in-process). An item already committed is not evaluated again. When the attempts end without a
    verdict, the attempts and ``failure.json`` are recorded and nothing is committed.
    ``evaluator`` names another function with ``evaluate_attempt``'s signature (benchmarks use a no-op
    one to measure the control plane alone)."""
    if (
        item.rollout is not None
    ):  # issue 13: a rollout item generates its patch first (orchestrator/rollouts.py)
        from orchestrator.rollouts import rollout_and_commit

        return rollout_and_commit(item, settings, store_cfg, evaluator)
    from orchestrator.commit import (
        commit_result,
        mark_attempt_started,
        prior_attempts,
        record_failure,
        upload_attempts,
    )
    from orchestrator.store import SweepPaths

    evaluate = resolve_evaluator(evaluator)
    _quiet_worker_logs()
    store = _store_for(store_cfg)
    existing = store.get(SweepPaths(item.sweep_id).result(item.key))
    if existing is not None:  # a re-run of a task whose first run committed before dying
        return summarize(Result.model_validate_json(existing), committed=False)
    prior = prior_attempts(store, item.sweep_id, item.key)
    mine = [a for a in prior if a.driver == settings.driver and a.counted]
    outdir = Path(tempfile.mkdtemp(prefix=f"evalfleet-{item.key[:12]}-"))
    uploaded: dict[str, str] = {}

    def attempt(n: int) -> Result:
        mark_attempt_started(store, item.sweep_id, item.key, n, settings.driver)
        with item_log(
            outdir / f"attempt-{n}" / FILES.worker_log, sweep=item.sweep_id, item=item.key, attempt=n
        ):
            result = evaluate(item, settings, outdir, attempt=n)
        stamped = [a.model_copy(update={"driver": settings.driver}) for a in result.attempts]
        result = result.model_copy(update={"attempts": stamped})
        if is_infra_failure(result):  # its logs are kept now, whatever happens to this task later
            uploaded.update(upload_attempts(store, result, outdir))
        return result

    try:
        if len(mine) >= settings.retry.max_attempts:  # Ray re-ran a task whose attempts are used up
            result = _out_of_attempts(item, prior)
        else:
            result = run_attempts(
                settings.retry,
                attempt,
                first=max((a.n for a in prior), default=0) + 1,
                counted_before=len(mine),
                engine_down=engine_probe(settings.backend),
            )
        if is_infra_failure(result):
            record_failure(store, result, prior)
            return summarize(result, committed=False)
        committed = commit_result(store, result, outdir, prior, uploaded)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    return summarize(result, committed=committed)


def _out_of_attempts(item: WorkItem, prior: list[Attempt]) -> Result:
    last = prior[-1]
    return Result.of(
        item,
        "error",
        reason=f"{last.error.error_class} in {last.error.phase}: {last.error.message}"[:300]
        if last.error
        else "attempts used up",
        attempts=[last],
    )


@contextmanager
def item_log(path: Path, **context: Any) -> Iterator[None]:
    """Bind ``context`` (sweep, item, attempt) to every log line of the body, and keep the node's lines
    in ``path`` (JSON lines), which is uploaded with the attempt's other logs: a failed item's story is
    next to its logs in the store, whatever node told it."""
    from orchestrator.logs import json_formatter

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)  # no line, no file
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with structlog.contextvars.bound_contextvars(**context):
            yield
    finally:
        root.removeHandler(handler)
        handler.close()


def evaluate_batch(
    items: Sequence[WorkItem], settings: EvalSettings, store_cfg: StoreConfig, evaluator: str | None = None
) -> list[Summary]:
    """The body of a batched Ray task: ``evaluate_and_commit`` for each item, one after another. An
    item whose task body raised (its store unreachable past the store's retries) is an infra failure."""
    out = []
    for item in items:
        try:
            out.append(evaluate_and_commit(item, settings, store_cfg, evaluator))
        except Exception as exc:
            log.warning("item failed in a batch", item=item.key, error=one_line(exc))
            out.append(failed_summary(item, f"task failed: {one_line(exc)}"))
    return out


def failed_summary(item: WorkItem, reason: str) -> Summary:
    """The summary of an item whose task ended without a Result (an infrastructure failure)."""
    return Summary(
        key=item.key,
        instance_id=item.instance.instance_id,
        run=item.candidate.run,
        verdict="error",
        reason=reason[:300],
        committed=False,
        attempts=0,
        infra_failure=True,
    )


def summarize(result: Result, *, committed: bool) -> Summary:
    failed = is_infra_failure(result)
    error = result.attempts[-1].error if failed else None
    return Summary(
        key=result.key,
        instance_id=result.instance_id,
        run=result.run,
        verdict=result.verdict,
        reason=f"{error.error_class} in {error.phase}: {error.message}"[:300] if error else result.reason,
        committed=committed,
        attempts=len(result.attempts),
        node_id=_node_id(),
        infra_failure=failed,
    )


def _quiet_worker_logs() -> None:
    global _LOGS_CONFIGURED
    if not _LOGS_CONFIGURED:
        from orchestrator.logs import configure

        configure(None, console_level=logging.WARNING)
        _LOGS_CONFIGURED = True


def _node_id() -> str | None:
    import ray

    try:
        return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else None
    except Exception:  # outside a Ray worker: no node to report
        return None
