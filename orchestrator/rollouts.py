"""Rollout items: generate the patch (committed once), then evaluate it like any candidate.

The task body of a rollout item. A committed rollout is never generated again: a re-run (or a Ray
re-run of a task) finds ``rollout/record.json`` and goes on to the evaluation, which runs in a fresh
sandbox from the clean image. An item the budget cannot start is reported "not run: budget", commits
nothing, and a re-run with a larger budget picks it up.

Store layout, under ``items/{key}/rollout/``: ``{rid}/patch.diff`` and ``{rid}/trajectory.json`` (one
directory per generation, so racing tasks never overwrite each other), ``usage-{rid}.json`` (tokens and
cost of every generation, committed or not: the ledger's starting point on a re-run), ``record.json``
(the commit record: written last, once, naming the generation that won).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import structlog

from orchestrator.budget import USAGE_PREFIX, find_ledger
from orchestrator.config import StoreConfig, SweepConfig
from orchestrator.store import ResultStore, SweepPaths
from workers.errors import InfraError, UserInputError, one_line
from workers.evaluate import EvalSettings
from workers.models import WorkItem
from workers.rollout.run import Rollout, generate

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.plan import Plan
    from orchestrator.task import Summary

log = structlog.get_logger(__name__)
GRADER = "workers.rollout.grade:evaluate"


def rollout_dir(sweep_id: str, key: str) -> str:
    return f"{SweepPaths(sweep_id).item(key)}/rollout"


def record_key(sweep_id: str, key: str) -> str:
    return f"{rollout_dir(sweep_id, key)}/record.json"


def rollout_and_commit(
    item: WorkItem, settings: EvalSettings, store_cfg: StoreConfig, evaluator: str | None = None
) -> Summary:
    """Generate (unless committed), commit the rollout once, then evaluate and commit the result."""
    from orchestrator.task import _store_for, evaluate_and_commit

    store = _store_for(store_cfg)
    record = store.get(record_key(item.sweep_id, item.key))
    if record is None and not store.exists(SweepPaths(item.sweep_id).result(item.key)):
        made = _generate_and_commit(item, settings, store)
        if not isinstance(made, bytes):
            return made
        record = made
    committed = json.loads(record or b"{}")  # empty when the result is committed already (returned as is)
    rollout = Rollout.model_validate(committed.get("rollout") or {"patch": "", "exit_status": "agent_error"})
    cand = item.candidate
    meta = {**cand.metadata, **rollout.metadata(), "trajectory": committed.get("trajectory")}
    graded = item.model_copy(
        update={
            "rollout": None,
            "candidate": cand.model_copy(update={"patch": rollout.patch, "metadata": meta}),
        }
    )
    return evaluate_and_commit(graded, settings, store_cfg, evaluator or GRADER)


def _generate_and_commit(item: WorkItem, settings: EvalSettings, store: ResultStore) -> bytes | Summary:
    from orchestrator.task import _node_id, failed_summary

    rid = uuid.uuid4().hex[:16]
    base = rollout_dir(item.sweep_id, item.key)
    try:
        rollout, trajectory = generate(item, settings, find_ledger(item.sweep_id))
    except UserInputError as exc:  # a wrong endpoint or key: the same for every item, no retry helps
        return _not_committed(item, exc.one_line(), not_run=None)
    except InfraError as exc:  # nothing committed: the sweep says so and its next run generates it
        return failed_summary(item, f"rollout: {type(exc).__name__}: {one_line(exc)}")
    usage = {"rid": rid, "tokens": rollout.tokens, "cost_usd": rollout.cost_usd, "steps": rollout.steps}
    store.put(f"{base}/{USAGE_PREFIX}{rid}.json", json.dumps(usage).encode("utf-8"))
    if rollout.exit_status == "budget":  # not committed: a re-run with a larger budget generates it
        return _not_committed(item, "not run: budget", not_run="budget")
    store.put(f"{base}/{rid}/trajectory.json", trajectory.model_dump_json(indent=1).encode("utf-8"))
    store.put(f"{base}/{rid}/patch.diff", rollout.patch.encode("utf-8"))
    record = json.dumps(
        {
            "rid": rid,
            "node": _node_id(),
            "trajectory": f"{base}/{rid}/trajectory.json",
            "rollout": rollout.model_dump(mode="json"),
        },
        indent=1,
    ).encode("utf-8")
    if store.put_if_absent(record_key(item.sweep_id, item.key), record):
        return record
    log.warning("rollout committed by another task: using that one", item=item.key)
    return store.get(record_key(item.sweep_id, item.key)) or record


def _not_committed(item: WorkItem, reason: str, *, not_run: str | None) -> Summary:
    from orchestrator.task import Summary, _node_id

    return Summary(
        key=item.key,
        instance_id=item.instance.instance_id,
        run=item.candidate.run,
        verdict="error",
        reason=reason,
        committed=False,
        attempts=0,
        node_id=_node_id(),
        not_run=not_run,
    )


def check_endpoints(plan: Plan) -> None:
    """Before a sweep with rollout items (and before Ray starts): every endpoint answers, takes its key
    and serves its model, and every scaffold imports; otherwise one line naming the field and the fix."""
    import os

    from workers.rollout.client import check_endpoint
    from workers.rollout.contract import load_scaffold

    specs = {it.rollout for it in plan.items if it.rollout is not None}
    for name in sorted({s.scaffold.name for s in specs}):
        load_scaffold(name)
    for endpoint in sorted({s.endpoint for s in specs}, key=lambda e: (e.base_url, e.model)):
        key = os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None
        if endpoint.api_key_env and not key:
            raise UserInputError(
                f"environment variable {endpoint.api_key_env} (the key of {endpoint.base_url}) is not set",
                field="generate.endpoint.api_key_env",
                fix=f"export {endpoint.api_key_env}=... on the driver and every Ray node",
            )
        check_endpoint(endpoint, key)


def start_budget(config: SweepConfig, plan: Plan, store: ResultStore) -> Any:
    """The sweep's budget ledger when it has rollout items (keep the handle while the sweep runs)."""
    from orchestrator.budget import start_ledger

    if not any(it.rollout is not None for it in plan.items):
        return None
    return start_ledger(plan.sweep_id, config.budget.usd, config.budget.tokens, store)


def report_budget(ledger: Any, console: Console) -> None:
    """One line on what the sweep's model calls spent (when it made rollouts)."""
    if ledger is None:
        return
    import ray

    state: dict[str, Any] = ray.get(ledger.state.remote())
    budget = [
        f"{state['budget_usd']:g} USD" if state["budget_usd"] else "",
        f"{state['budget_tokens']} tokens" if state["budget_tokens"] else "",
    ]
    limit = " and ".join(b for b in budget if b) or "no budget"
    spent = "; budget spent: calls refused from then on" if state["exhausted_at"] is not None else ""
    console.print(
        f"model calls: {state['calls']} this run; spent {state['spent_usd']:.4f} USD, "
        f"{state['spent_tokens']} tokens in all ({limit}){spent}"
    )


def worst_case(plan: Plan) -> list[dict[str, Any]]:
    """Per generate run: its rollouts and their worst-case tokens and cost from the per-instance limits
    (None when no limit bounds them), and the completion tokens at most (steps x max_tokens)."""
    runs: dict[str, dict[str, Any]] = {}
    for it in plan.items:
        spec = it.rollout
        if spec is None:
            continue
        limits, price = spec.limits, spec.price
        tokens = limits.tokens
        usd = limits.cost_usd
        if usd is None and tokens is not None and price is not None:
            usd = tokens * max(price.input, price.output) / 1_000_000
        entry = runs.setdefault(
            it.candidate.run,
            {"run": it.candidate.run, "rollouts": 0, "tokens": 0, "usd": 0.0, "completion": 0},
        )
        entry["rollouts"] += 1
        entry["completion"] += limits.steps * spec.sampling.max_tokens
        entry["tokens"] = None if tokens is None or entry["tokens"] is None else entry["tokens"] + tokens
        entry["usd"] = None if usd is None or entry["usd"] is None else entry["usd"] + usd
    return list(runs.values())
