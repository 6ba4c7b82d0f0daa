"""Control-plane scale: many no-op items through plan, Ray and the file:// store, then the reports.

Each size runs in a child process (``python -m bench scale-point``), so that the driver's peak RSS
(``ru_maxrss`` of that process: planning, manifest, scheduling) belongs to that size alone. The
dataset has up to 1,000 instances; larger sizes are repeats of them (1,000 x 100 for 100,000 items).
The no-op evaluator (``bench.noop:evaluate``) writes the attempt marker and commits result.json, as a
real item does, and skips the container work and the log files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import drive, synthetic
from bench.measure import peak_rss_mb

MAX_INSTANCES = 1000


def point(
    items: int, *, slots: int, batch_size: int, evaluator: str, workdir: Path | None = None
) -> dict[str, Any]:
    """One size, in this process (the child)."""
    from orchestrator.commit import load_results
    from orchestrator.report.aggregate import write_reports
    from orchestrator.store import open_store
    from orchestrator.sweep import plan_sweep

    instances = min(items, MAX_INSTANCES)
    if items % instances:
        raise ValueError(f"{items} items is not a multiple of {instances} instances")
    root = Path(tempfile.mkdtemp(prefix=f"bench-scale-{items}-", dir=workdir))
    ws = synthetic.make_workspace(root, instances=instances, sleep_s=0.0)
    raw = synthetic.sweep_config(ws, name=f"bench-scale-{items}", slots=slots, repeats=items // instances)
    config = drive.load(raw)
    rss_start = peak_rss_mb()
    t0 = time.perf_counter()
    plan = plan_sweep(config)
    plan_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    drive.restart_ray(slots)
    ray_s = time.perf_counter() - t0
    drive.warm_workers(slots)
    sweep = drive.run_sweep(config, slots=slots, evaluator=evaluator, batch_size=batch_size, plan=plan)
    rss_run = peak_rss_mb()
    import ray

    ray.shutdown()
    del plan
    store = open_store(ws.store_url)
    t0 = time.perf_counter()
    results = load_results(store, sweep.sweep_id)
    load_s = time.perf_counter() - t0
    committed = len(results)
    del results
    t0 = time.perf_counter()
    write_reports(store, sweep.sweep_id)
    report_s = time.perf_counter() - t0
    run_s = sweep.makespan_s
    return {
        "items": items,
        "slots": slots,
        "batch_size": batch_size,
        "evaluator": evaluator,
        "committed": committed,
        "verdicts": dict(sweep.verdicts),
        "plan_s": round(plan_s, 2),
        "ray_init_s": round(ray_s, 2),
        "run_s": round(run_s, 2),
        "items_per_s": round(items / run_s, 1),
        "items_per_s_with_plan": round(items / (run_s + plan_s), 1),
        "driver_peak_rss_mb": round(rss_run, 1),
        "driver_rss_before_plan_mb": round(rss_start, 1),
        "aggregate_load_s": round(load_s, 2),
        "aggregate_reports_s": round(report_s, 2),
        "aggregate_peak_rss_mb": round(peak_rss_mb(), 1),
        "store": str(root / "store"),
    }


def run(
    sizes: list[int],
    *,
    slots: int,
    batch_size: int,
    evaluator: str = "bench.noop:evaluate",
    workdir: Path | None = None,
) -> list[dict[str, Any]]:
    """Every size in its own child process."""
    out = []
    for items in sizes:
        cmd = [sys.executable, "-m", "bench"]
        if workdir is not None:
            cmd += ["--workdir", str(workdir)]
        cmd += [
            "scale-point",
            "--items",
            str(items),
            "--slots",
            str(slots),
            "--batch-size",
            str(batch_size),
            "--evaluator",
            evaluator,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"scale point {items} failed:\n{done.stderr[-3000:]}")
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def fill(store_dir: Path, items: int) -> str:
    """Commit ``items`` no-op results into a file store in this process (the body of the Ray tasks,
    without Ray); returns the sweep id."""
    from orchestrator.execute import eval_settings, store_for, write_manifest
    from orchestrator.sweep import plan_sweep
    from orchestrator.task import evaluate_batch

    instances = min(items, MAX_INSTANCES)
    ws = synthetic.make_workspace(store_dir.parent / "inputs", instances=instances, sleep_s=0.0)
    raw = synthetic.sweep_config(ws, name=f"bench-fill-{items}", slots=1, repeats=items // instances)
    raw["store"] = {"url": f"file://{store_dir}"}
    config = drive.load(raw)
    plan = plan_sweep(config)
    write_manifest(store_for(config), config, plan)
    evaluate_batch(plan.items, eval_settings(config), config.store, "bench.noop:evaluate")
    return plan.sweep_id


def aggregate(store_dir: Path) -> float:
    """write_reports over the one sweep in a file store; returns its seconds."""
    from orchestrator.report.aggregate import write_reports
    from orchestrator.store import open_store

    store = open_store(f"file://{store_dir}")
    sweep_id = next(store.list("sweeps/")).split("/")[1]
    t0 = time.perf_counter()
    write_reports(store, sweep_id)
    return time.perf_counter() - t0
