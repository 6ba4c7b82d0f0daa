"""Run `evalfleet run configs/demo-generate.yaml` as a real process against the scripted server."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from orchestrator.config import load_config
from orchestrator.rollouts import record_key
from orchestrator.store import ResultStore
from orchestrator.sweep import plan_sweep
from support import sweeps
from workers.models import WorkItem

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "demo-generate.yaml"


def overrides(base_url: str, store_url: str, instances: Sequence[str], *more: str) -> list[str]:
    return [
        f"runs.0.generate.endpoint.base_url={base_url}",
        f"dataset.instances={json.dumps(list(instances))}",
        f"store.url={store_url}",
        *more,
    ]


def items(sets: Sequence[str]) -> list[WorkItem]:
    return plan_sweep(load_config(CONFIG, sets)).items


def start(sets: Sequence[str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    args = [sweeps.EVALFLEET, "run", str(CONFIG), *extra]
    for o in sets:
        args += ["--set", o]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
    )


def rollout_records(store: ResultStore, sweep_items: Sequence[WorkItem]) -> dict[str, dict[str, object]]:
    """instance id -> committed rollout record, for the items that have one."""
    out = {}
    for it in sweep_items:
        data = store.get(record_key(it.sweep_id, it.key))
        if data is not None:
            out[it.instance.instance_id] = json.loads(data)
    return out


def usage_records(store: ResultStore, sweep_id: str) -> list[dict[str, float]]:
    return [
        json.loads(store.get(k) or b"{}")
        for k in store.list(f"sweeps/{sweep_id}/items/")
        if "/rollout/usage-" in k
    ]
