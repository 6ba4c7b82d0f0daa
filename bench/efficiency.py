"""Efficiency: how much of the sandbox slots' time goes to running tests.

64 items whose tests sleep S seconds, on 8 sandbox slots, through the real scheduler (embedded Ray),
real containers and a fresh file:// store. efficiency = sum of test-phase time / (slots x makespan),
the makespan counted from the first submission to the last result (images and Ray workers warm).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from bench import drive, synthetic
from bench.measure import busy_cpu_s, median, p90
from orchestrator.commit import load_results
from orchestrator.execute import eval_settings
from orchestrator.store import ResultStore, open_store
from orchestrator.sweep import plan_sweep
from workers.images import ensure_instance_image
from workers.models import Result

OVERHEAD_PHASES = ("image", "start", "patch", "cleanup")
PHASES = ("image", "start", "patch", "test", "cleanup")


def _run_log(store: ResultStore, result: Result) -> str:
    """The run.log of the result's last attempt (it says whether the sandbox was a spare)."""
    keys = [k for k in result.log_files.values() if k.endswith("/run.log")]
    data = store.get(sorted(keys)[-1]) if keys else None
    return data.decode("utf-8", "replace") if data else ""


def run(items: int = 64, slots: int = 8, sleep_s: float = 5.0, workdir: Path | None = None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-efficiency-", dir=workdir))
    ws = synthetic.make_workspace(root, instances=items, sleep_s=sleep_s)
    config = drive.load(synthetic.sweep_config(ws, name="bench-efficiency", slots=slots))
    settings = eval_settings(config)
    plan = plan_sweep(config)
    first = plan.items[0]
    warm = ensure_instance_image(first.instance, first.spec, first.repo_source, settings.images)
    drive.restart_ray(slots)
    drive.warm_workers(slots)
    cpu0 = busy_cpu_s()
    sweep = drive.run_sweep(config, slots=slots, settings=settings, plan=plan)
    cpu_s = busy_cpu_s() - cpu0
    store = open_store(ws.store_url)
    results = load_results(store, sweep.sweep_id)
    test_s = [r.durations.get("test", 0.0) for r in results]
    overhead = [sum(r.durations.get(p, 0.0) for p in OVERHEAD_PHASES) for r in results]
    verdicts = sorted({r.verdict for r in results})
    return {
        "items": items,
        "slots": slots,
        "sleep_s": sleep_s,
        "image_built": warm.source == "built",
        "committed": len(results),
        "verdicts": verdicts,
        "makespan_s": round(sweep.makespan_s, 2),
        "ideal_makespan_s": round(sum(test_s) / slots, 2),
        "sum_test_s": round(sum(test_s), 2),
        "efficiency": round(sum(test_s) / (slots * sweep.makespan_s), 4),
        "test_phase_median_s": round(median(test_s), 3),
        "overhead_phases_median_s": round(median(overhead), 3),
        "background_removal": settings.background_removal,
        "spare_sandboxes": settings.spare_sandboxes,
        "spares_taken": sum("(a spare, started ahead)" in _run_log(store, r) for r in results),
        "phase_medians_s": {p: round(median([r.durations.get(p, 0.0) for r in results]), 3) for p in PHASES},
        "overhead_phases_p90_s": round(p90(overhead), 3),
        "first_result_s": round(sweep.first_result_s, 2),
        "machine_cpu_s_per_item": round(cpu_s / items, 2),
        "cpu_bound_efficiency": round(
            min(1.0, (os.cpu_count() or 1) * median(test_s) / (slots * cpu_s / items)), 3
        ),
        "target": 0.90,
    }
