"""Before and after: the control-plane fixes measured against a baseline commit, on the same inputs.

``git archive BASELINE orchestrator workers`` is unpacked next to the working tree; each measurement
runs in a child process whose ``orchestrator`` and ``workers`` come from either tree (``PYTHONPATH``),
alternating baseline and current, twice each (``reps``); the figures are medians. The inputs are a
committed sweep in a file store (the scale benchmark's largest) and a dataset to plan; the last two
steps start an embedded Ray with ``init_ray`` and time its first two tasks.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys, time
from pathlib import Path
import orchestrator
assert orchestrator.__file__.startswith(sys.argv[1]), orchestrator.__file__
from orchestrator.commit import committed_keys, load_results
from orchestrator.report.aggregate import write_reports
from orchestrator.store import open_store
store = open_store("file://" + sys.argv[2])
sweep = next(store.list("sweeps/")).split("/")[1]
out = {}
t = time.perf_counter(); committed_keys(store, sweep); out["committed_keys"] = time.perf_counter() - t
t = time.perf_counter(); n = len(load_results(store, sweep)); out["load_results"] = time.perf_counter() - t
t = time.perf_counter(); write_reports(store, sweep); out["write_reports"] = time.perf_counter() - t
from bench.drive import load
from orchestrator.sweep import plan_sweep
config = load(json.loads(Path(sys.argv[3]).read_text()))
t = time.perf_counter(); m = len(plan_sweep(config).items); out["plan_sweep"] = time.perf_counter() - t
out["results"], out["planned"] = n, m
print(json.dumps(out))
"""
STARTUP = """
import json, sys, time
import orchestrator
assert orchestrator.__file__.startswith(sys.argv[1]), orchestrator.__file__
from orchestrator.scheduler import init_ray
import ray
t = time.perf_counter()
init_ray(None, sandbox_slots=2, num_cpus=2)
init_s = time.perf_counter() - t
task = ray.remote(lambda: 1).options(num_cpus=0, resources={"sandbox": 1})
t = time.perf_counter()
ray.get([task.remote(), task.remote()])
print(json.dumps({"ray_init": init_s, "first_tasks": time.perf_counter() - t}))
"""


def _baseline_tree(ref: str, dest: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "orchestrator", "workers"], capture_output=True, check=True
    ).stdout
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _child(code: str, tree: Path, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT}"}
    cmd = [sys.executable, "-c", code, str(tree), *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"measurement with {tree} failed:\n{done.stderr[-2000:]}")
    values: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return values


def _measure(tree: Path, store: Path, config: Path) -> dict[str, float]:
    return _child(CHILD, tree, str(store), str(config)) | _child(STARTUP, tree)


def run(store: Path, *, baseline: str = "HEAD", reps: int = 2, workdir: Path | None = None) -> dict[str, Any]:
    """``store``: a file store with one committed sweep (e.g. the 100k point of the scale benchmark)."""
    from bench import synthetic

    scratch = Path(tempfile.mkdtemp(prefix="bench-fixes-", dir=workdir))
    old = _baseline_tree(baseline, scratch / "baseline")
    ws = synthetic.make_workspace(scratch / "plan", instances=1000, sleep_s=0.0)
    config = scratch / "plan-config.json"
    config.write_text(json.dumps(synthetic.sweep_config(ws, name="bench-fixes", slots=1, repeats=100)))
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "current": []}
    for _ in range(reps):
        runs["baseline"].append(_measure(old, store, config))
        runs["current"].append(_measure(ROOT, store, config))
    steps = ("committed_keys", "load_results", "write_reports", "plan_sweep", "ray_init", "first_tasks")
    table = {
        step: {name: round(statistics.median(r[step] for r in rs), 2) for name, rs in runs.items()}
        for step in steps
    }
    return {
        "baseline": baseline,
        "results": runs["current"][0]["results"],
        "planned": runs["current"][0]["planned"],
        "reps": reps,
        "seconds": table,
    }
