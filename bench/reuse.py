"""Image reuse: N items that need one env image, on S slots at once, build it exactly once.

A fresh env spec (a unique no-op install command) gives the synthetic repository an env tag no image
has. The items all start together through the scheduler (cold: every one of them asks for the
missing image); the build records (a private state directory) must show one env build and one
instance build. A second sweep over the same items then runs on the warm images. Both report the
time to the first result and the makespan; the fresh images are removed at the end.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench import drive, synthetic
from orchestrator.execute import eval_settings
from orchestrator.sweep import plan_sweep
from workers.images import ImageOptions, build_chain, build_history
from workers.images.client import docker_client


def run(items: int = 8, slots: int = 4, sleep_s: float = 1.0, workdir: Path | None = None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-reuse-", dir=workdir))
    ws = synthetic.make_workspace(
        root, instances=items, sleep_s=sleep_s, install_marker=f"evalfleet-bench reuse {uuid.uuid4().hex}"
    )
    options = ImageOptions(state_dir=root / "state", lock_dir=root / "locks")
    runs: dict[str, drive.SweepRun] = {}
    drive.restart_ray(slots)
    drive.warm_workers(slots)
    tags: list[str] = []
    try:
        for name in ("cold", "warm"):
            config = drive.load(synthetic.sweep_config(ws, name=f"bench-reuse-{name}", slots=slots))
            settings = eval_settings(config).model_copy(update={"images": options})
            plan = plan_sweep(config)
            if not tags:
                first = plan.items[0]
                assert first.repo_source is not None
                chain = build_chain(first.instance, first.spec, first.repo_source, options)
                tags = [chain[3].tag, chain[2].tag]  # instance, env: children first
            runs[name] = drive.run_sweep(config, slots=slots, settings=settings, plan=plan)
            if name == "cold":
                cold_builds = [(b.layer, b.seconds) for b in build_history(options.state_dir or root)]
        warm_builds = build_history(options.state_dir or root)[len(cold_builds) :]
    finally:
        _remove_images(tags)
    cold, warm = runs["cold"], runs["warm"]
    return {
        "items": items,
        "slots": slots,
        "sleep_s": sleep_s,
        "builds_cold": [layer for layer, _ in cold_builds],
        "build_seconds": {layer: round(s, 1) for layer, s in cold_builds},
        "builds_warm": len(warm_builds),
        "env_builds": sum(1 for layer, _ in cold_builds if layer == "env"),
        "verdicts_cold": dict(cold.verdicts),
        "verdicts_warm": dict(warm.verdicts),
        "first_result_cold_s": round(cold.first_result_s, 2),
        "first_result_warm_s": round(warm.first_result_s, 2),
        "makespan_cold_s": round(cold.makespan_s, 2),
        "makespan_warm_s": round(warm.makespan_s, 2),
    }


def _remove_images(tags: list[str]) -> None:
    client = docker_client(None)
    for tag in tags:
        if client.images.list(name=tag):
            client.images.remove(tag, force=True)
