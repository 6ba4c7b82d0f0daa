"""Fixed per-item overhead: everything an evaluation spends outside its test command, by phase.

Items whose tests do not sleep run one after another, in-process, through the body of the Ray task
(``orchestrator.task.evaluate_and_commit``) on a warm image into a file:// store. The phases come
from the result (image, start, patch, test, cleanup). Measured both ways: as a sweep runs by default
(``execution.spare_sandboxes``: the next sandbox is started while a test runs, so ``start`` is only
taking it; ``execution.background_removal``: no cleanup phase), and with every item creating its own
sandbox and removing it before its result; the task's own share is timed around it by a
wrapping evaluator: what the task does before the attempt (result check, prior attempts, the attempt
marker), the evaluation's bookkeeping outside the phases (eval script,
grading, report.json, run.log) and the upload of the logs plus the commit of result.json.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.drive import load
from bench.measure import busy_cpu_s, median, p90
from orchestrator.execute import eval_settings, store_for, write_manifest
from orchestrator.store import ResultStore, SweepPaths
from orchestrator.sweep import plan_sweep
from orchestrator.task import evaluate_and_commit
from workers.evaluate import EvalSettings
from workers.evaluate import evaluate_attempt as real_evaluate
from workers.images import ensure_instance_image
from workers.models import Result, WorkItem
from workers.sandbox import removal

PHASES = ("image", "start", "patch", "test", "cleanup")
_TIMINGS: dict[str, dict[str, float]] = {}  # item key -> what the wrapper measured (in-process only)


def timed_evaluate(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    """``workers.evaluate.evaluate_attempt``, timed; when it started, to time the task's share before it
    (the result check, the prior attempts' listing and the attempt marker)."""
    t0 = time.perf_counter()
    result = real_evaluate(item, settings, outdir, attempt=attempt)
    _TIMINGS[item.key] = {"evaluate": time.perf_counter() - t0, "started": t0}
    return result


def _row(result: Result, call_t0: float, call_s: float) -> dict[str, float]:
    t = _TIMINGS[result.key]
    t["marker"] = t["started"] - call_t0
    phases = {p: result.durations.get(p, 0.0) for p in PHASES}
    row = dict(phases)
    row["marker"] = t["marker"]
    row["bookkeeping"] = t["evaluate"] - t["marker"] - sum(phases.values())
    row["upload_commit"] = call_s - t["evaluate"]
    row["total"] = call_s
    row["overhead"] = call_s - phases["test"]
    return row


def run(
    items: int = 30,
    warmup: int = 2,
    *,
    pipelined: bool = True,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """``pipelined``: as a sweep runs by default (the next sandbox started while a test runs, removal in
    the background); False: each item creates its sandbox and removes it before its result."""
    root = Path(tempfile.mkdtemp(prefix="bench-overhead-", dir=workdir))
    ws = synthetic.make_workspace(root, instances=items + warmup, sleep_s=0.0)
    raw = synthetic.sweep_config(ws, name="bench-overhead", slots=1)
    raw["execution"]["background_removal"] = pipelined
    raw["execution"]["spare_sandboxes"] = pipelined
    config = load(raw)
    settings = eval_settings(config)
    plan = plan_sweep(config)
    store = store_for(config)
    write_manifest(store, config, plan)
    first = plan.items[0]
    ensure_instance_image(first.instance, first.spec, first.repo_source, settings.images)
    rows: list[dict[str, float]] = []
    verdicts: set[str] = set()
    cpu0 = 0.0
    for index, item in enumerate(plan.items):
        if index == warmup:
            cpu0 = busy_cpu_s()
        t0 = time.perf_counter()
        summary = evaluate_and_commit(item, settings, config.store, "bench.overhead:timed_evaluate")
        call_s = time.perf_counter() - t0
        verdicts.add(summary.verdict)
        if index >= warmup:
            rows.append(_row(_result(store, item), t0, call_s))
    cpu_per_item = (busy_cpu_s() - cpu0) / max(1, len(rows))
    columns = (*PHASES, "marker", "bookkeeping", "upload_commit", "overhead", "total")
    left = removal.drain()
    return {
        "pipelined": pipelined,
        "removals_left": left,
        "items": len(rows),
        "verdicts": sorted(verdicts),
        "median_s": {c: round(median([r[c] for r in rows]), 4) for c in columns},
        "p90_s": {c: round(p90([r[c] for r in rows]), 4) for c in columns},
        "machine_cpu_s_per_item": round(cpu_per_item, 3),
        "target_median_overhead_s": 0.5,
    }


def _result(store: ResultStore, item: WorkItem) -> Result:
    data = store.get(SweepPaths(item.sweep_id).result(item.key))
    assert data is not None, f"{item.key} was not committed"
    return Result.model_validate_json(data)
