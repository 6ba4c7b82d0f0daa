"""Orchestration overhead per agent step: a rollout's wall time outside the model call and the sandbox
exec, divided by its steps (measured with the scripted server, so the model call itself is ~1 ms).

    python -m bench.rollout_overhead [--steps 40] [--reps 3]

Two ways: in-process without a ledger, and as a Ray task whose every call reserves and settles with the
budget ledger actor (the way a sweep runs). Writes bench/results/rollout-overhead.json and prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import results

ROOT = Path(__file__).resolve().parents[1]
INSTANCE = "demo__calc-1"


def _item(base_url: str, store: str) -> Any:
    from orchestrator.config import load_config
    from orchestrator.sweep import plan_sweep

    config = load_config(
        ROOT / "configs" / "demo-generate.yaml",
        [
            f"runs.0.generate.endpoint.base_url={base_url}",
            f"dataset.instances=[{INSTANCE}]",
            "runs.0.generate.limits.steps=1000",
            f"store.url=file://{store}",
        ],
    )
    (item,) = plan_sweep(config).items
    return item, config


def _one(item: Any, settings: Any, ledger_sweep: str | None) -> dict[str, float]:
    from orchestrator.budget import find_ledger
    from workers.rollout.run import generate

    ledger = find_ledger(ledger_sweep) if ledger_sweep else None
    _, trajectory = generate(item, settings, ledger)
    t = trajectory.totals
    return {
        "steps": t.steps,
        "wall_s": t.wall_s,
        "overhead_ms_per_step": 1000 * t.overhead_s / t.steps,
        "model_ms_per_step": 1000 * t.model_s / t.steps,
        "exec_ms_per_step": 1000 * t.exec_s / t.steps,
        "ledger_wait_ms_per_step": 1000 * sum(c.wait_s for c in trajectory.calls) / t.steps,
    }


def _summary(mode: str, runs: list[dict[str, float]]) -> dict[str, Any]:
    keys = ("overhead_ms_per_step", "model_ms_per_step", "exec_ms_per_step", "ledger_wait_ms_per_step")
    return {"mode": mode, "rollouts": len(runs), "steps": runs[0]["steps"]} | {
        k: round(statistics.median(r[k] for r in runs), 2) for k in keys
    }


def run(steps: int, reps: int) -> list[dict[str, Any]]:
    import ray

    sys.path.insert(0, str(ROOT / "tests"))
    from support.demo import ensure_bundles
    from support.llmserver import Script, ScriptedLLM

    from orchestrator.budget import start_ledger
    from orchestrator.execute import eval_settings
    from orchestrator.store import open_store

    ensure_bundles()
    llm = ScriptedLLM({INSTANCE: Script(["true"] * (steps - 1))})
    llm.start()
    store = tempfile.mkdtemp(prefix="bench-rollout-")
    item, config = _item(llm.base_url, store)
    settings = eval_settings(config)
    _one(item, settings, None)  # warm: the image exists, imports are done
    local = [_one(item, settings, None) for _ in range(reps)]
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ledger = start_ledger(item.sweep_id, None, 10**12, open_store(config.store.url))
        task = ray.remote(_one).options(num_cpus=0)
        ray.get(task.remote(item, settings, item.sweep_id))  # warm the worker
        in_ray = [ray.get(task.remote(item, settings, item.sweep_id)) for _ in range(reps)]
        del ledger
    finally:
        ray.shutdown()
        llm.stop()
    return [_summary("in-process, no ledger", local), _summary("Ray task + budget ledger actor", in_ray)]


def table(figures: list[dict[str, Any]]) -> str:
    head = (
        "| mode | rollouts x steps | overhead per step (ms) | of which ledger reserve (ms) | model call per step (ms) "
        "| sandbox exec per step (ms) |\n| --- | --- | --- | --- | --- | --- |\n"
    )
    rows = [
        f"| {f['mode']} | {f['rollouts']} x {f['steps']} | **{f['overhead_ms_per_step']}** | "
        f"{f['ledger_wait_ms_per_step']} | {f['model_ms_per_step']} | {f['exec_ms_per_step']} |"
        for f in figures
    ]
    return head + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    t0 = time.time()
    figures = run(args.steps, args.reps)
    results.save(results.DEFAULT_DIR, "rollout-overhead", figures)
    print(table(figures))
    print(f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
