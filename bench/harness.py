"""Side by side with the official harness: swebench's run_evaluation and evalfleet on the same inputs.

The demo's Python instances (demo/calc, demo/textkit; not the ones whose candidate hangs until the
timeout) with the demo-model-a predictions become SWE-bench v5 rows: ``image`` names evalfleet's
instance image of the row (built or found first, so both start warm), ``eval_script`` is an
official-style script (restore the test files, apply the test patch, run the test command of the
repository's spec between SWE-bench's markers), ``log_parser`` is ``parse_log_pytest``. Both harnesses
get the same dataset file and predictions file and the same parallelism, run as their CLIs (what a
user types), one after the other; wall time is measured around each command, and their run reports
must agree on every instance's outcome.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from orchestrator.commit import load_results
from orchestrator.config import validate_config
from orchestrator.execute import eval_settings
from orchestrator.store import ResultStore, open_store
from orchestrator.sweep import plan_sweep
from workers.images import ensure_instance_image
from workers.models import WorkItem
from workers.patching import patch_paths
from workers.testing import test_targets

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = [f"demo__calc-{i}" for i in (1, 2, 3, 5)] + [f"demo__textkit-{i}" for i in (1, 2, 3, 4)]
RUN = "demo-model-a"
OUTCOMES = ("resolved", "unresolved", "error", "empty_patch")


def demo_items() -> list[tuple[WorkItem, str]]:
    """The chosen instances' items of run demo-model-a (planned from configs/demo.yaml), each with its
    instance image (built when missing)."""
    raw = yaml.safe_load((ROOT / "configs/demo.yaml").read_text(encoding="utf-8"))
    raw["dataset"]["path"] = str(ROOT / raw["dataset"]["path"])
    raw["dataset"]["instances"] = INSTANCES
    raw["runs"] = [{"predictions": str(ROOT / "demo/predictions/model-a.jsonl")}]
    raw["repos"] = {name: {"bundle": str(ROOT / src["bundle"])} for name, src in raw["repos"].items()}
    raw["specs"] = [str(ROOT / d) for d in raw["specs"]]
    config = validate_config(raw, "bench harness")
    settings = eval_settings(config)
    items = sorted(plan_sweep(config).items, key=lambda it: it.instance.instance_id)
    return [
        (it, ensure_instance_image(it.instance, it.spec, it.repo_source, settings.images).tag) for it in items
    ]


def eval_script(item: WorkItem) -> str:
    """An official-style eval script for the row (``#!/bin/bash`` + ``set -uxo pipefail`` are added
    by swebench's TestSpec; evalfleet runs the script as given, between its own markers)."""
    inst, spec = item.instance, item.spec
    base = shlex.quote(inst.base_commit)
    files = " ".join(shlex.quote(p) for p in patch_paths(inst.test_patch))
    restore = f'for f in {files}; do git checkout -q {base} -- "$f" 2>/dev/null || rm -f -- "$f"; done'
    targets = " ".join(shlex.quote(t) for t in test_targets(inst, spec))
    return "\n".join(
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            f"cd {spec.workdir}",
            restore,
            "git apply -v - <<'EOF_BENCH_TEST_PATCH'",
            inst.test_patch.rstrip("\n"),
            "EOF_BENCH_TEST_PATCH",
            ": '>>>>> Start Test Output'",
            f"{spec.test_cmd} {targets}",
            ": '>>>>> End Test Output'",
            restore,
            "",
        ]
    )


def write_inputs(items: list[tuple[WorkItem, str]], root: Path) -> tuple[Path, Path]:
    rows, preds = [], []
    source = {
        json.loads(line)["instance_id"]: json.loads(line) for line in (ROOT / "demo/dataset.jsonl").open()
    }
    for item, image in items:
        iid = item.instance.instance_id
        rows.append(
            {
                **source[iid],
                "image": image,
                "eval_script": eval_script(item),
                "log_parser": "parse_log_pytest",
                "eval_type": "pass_and_fail",
            }
        )
        preds.append({"instance_id": iid, "model_name_or_path": RUN, "model_patch": item.candidate.patch})
    dataset, predictions = root / "dataset_v5.json", root / "predictions.json"
    dataset.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    predictions.write_text(json.dumps(preds, indent=1), encoding="utf-8")
    return dataset, predictions


def _timed(cmd: list[str], cwd: Path, log: Path) -> float:
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        done = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({done.returncode}); see {log}")
    return wall


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    """instance id -> resolved / unresolved / error / empty_patch, from a SWE-bench run report."""
    out: dict[str, str] = {}
    for name in OUTCOMES:
        for iid in report.get(f"{name}_ids", []):
            out.setdefault(iid, name)
    return out


_STOP = re.compile(r"^(\S+ \S+) .*Attempting to stop container")
_STOPPED = re.compile(r"^(\S+ \S+) .*(stopped successfully|Forcefully killing)")


def stop_seconds(log_dir: Path) -> float:
    """Seconds swebench spent in ``docker stop`` (its cleanup), summed over instances, from its logs."""
    total = 0.0
    for log in log_dir.rglob("run_instance.log"):
        start = None
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if (m := _STOP.match(line)) is not None:
                start = _when(m.group(1))
            elif (m := _STOPPED.match(line)) is not None and start is not None:
                total += (_when(m.group(1)) - start).total_seconds()
                start = None
    return total


def work_span(store: ResultStore, sweep_id: str) -> float:
    """From the first attempt's start to the last attempt's end (evalfleet's wall minus its start-up:
    Ray, planning, manifest, and the reports at the end)."""
    attempts = [a for r in load_results(store, sweep_id) for a in r.attempts]
    return max(a.finished_at for a in attempts) - min(a.started_at for a in attempts)


def _when(stamp: str) -> datetime:
    return datetime.strptime(stamp.split(",", maxsplit=1)[0], "%Y-%m-%d %H:%M:%S")


def run(slots: int = 2, workdir: Path | None = None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-harness-", dir=workdir))
    items = demo_items()
    dataset, predictions = write_inputs(items, root)
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    swe_cmd = [
        sys.executable,
        "-m",
        "swebench.harness.run_evaluation",
        "--dataset_name",
        str(dataset),
        "--predictions_path",
        str(predictions),
        "--max_workers",
        str(slots),
        "--run_id",
        run_id,
        "--timeout",
        "60",
        "--report_dir",
        str(root / "swebench"),
    ]
    swe_wall = _timed(swe_cmd, root, root / "swebench.log")
    swe_report = json.loads((root / "swebench" / f"{RUN}.{run_id}.json").read_text(encoding="utf-8"))
    store_url = f"file://{root}/store"
    ef_cmd = [
        str(Path(sys.executable).parent / "evalfleet"),
        "eval",
        "--dataset",
        str(dataset),
        "--predictions",
        str(predictions),
        "--run-id",
        run_id,
        "--store",
        store_url,
        "--set",
        f"execution.sandbox_slots={slots}",
        "--set",
        f"ray.num_cpus={max(slots, 2)}",
    ]
    ef_wall = _timed(ef_cmd, ROOT, root / "evalfleet.log")
    store = open_store(store_url)
    key = next(k for k in store.list("sweeps/") if k.endswith(f"/reports/{RUN}.{k.split('/')[1]}.json"))
    ef_report = json.loads(store.get(key) or b"{}")
    swe, ours = outcomes(swe_report), outcomes(ef_report)
    stop_s = stop_seconds(root / "logs")
    span = work_span(store, key.split("/")[1])
    return {
        "instances": len(items),
        "parallelism": slots,
        "swebench_wall_s": round(swe_wall, 2),
        "evalfleet_wall_s": round(ef_wall, 2),
        "ratio_swebench_over_evalfleet": round(swe_wall / ef_wall, 2),
        "swebench_docker_stop_s_summed": round(stop_s, 1),
        "swebench_wall_minus_stop_waits_s": round(swe_wall - stop_s / slots, 2),
        "evalfleet_work_span_s": round(span, 2),
        "evalfleet_startup_s": round(ef_wall - span, 2),
        "agree": swe == ours,
        "outcomes_swebench": swe,
        "outcomes_evalfleet": ours,
        "order": "swebench first, then evalfleet",
    }
