"""The sandbox primitives an evaluation is made of, timed one by one on a warm image.

This is the profile behind the per-item overhead: what one container start, one exec, one file
written through the archive API and one removal cost on this machine, and inside one exec, what each
Docker API call costs (the rest of an exec is runc starting the process in the container).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.measure import median, p90
from workers.models import SandboxLimits
from workers.sandbox.base import SandboxConfig
from workers.sandbox.docker import DockerBackend, DockerSandbox
from workers.sandbox.labels import item_labels

SWEEP = "bench-primitives"


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _summary(samples: list[float]) -> dict[str, float]:
    return {"median_s": round(median(samples), 4), "p90_s": round(p90(samples), 4)}


def _exec_calls(api: Any, container_id: str) -> dict[str, float]:
    """One ``true`` exec through the raw API, call by call (as workers/sandbox/docker_exec.py makes it)."""
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    exec_id = api.exec_create(container_id, ["true"])["Id"]
    t["exec_create"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    api.exec_start(exec_id)
    t["exec_start_to_end"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    api.exec_inspect(exec_id)
    t["exec_inspect"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    now = time.time()
    events = api.events(
        since=f"{int(now) - 1}",
        until=f"{now:.9f}",
        filters={"container": container_id, "event": "oom"},
        decode=True,
    )
    list(events)
    t["oom_events"] = time.perf_counter() - t0
    return t


def _round(backend: DockerBackend, config: SandboxConfig) -> dict[str, float]:
    t0 = time.perf_counter()
    sandbox: DockerSandbox = backend.create(config)
    out = {"create_and_start": time.perf_counter() - t0}
    out["exec_true"] = _timed(lambda: sandbox.exec(["true"], timeout=30))
    out["exec_git_status"] = _timed(lambda: sandbox.exec(["git", "status", "--porcelain"], timeout=30))
    out["write_file"] = _timed(lambda: sandbox.write_file("/eval/a.diff", b"x" * 2000))
    out["read_file"] = _timed(lambda: sandbox.read_file("/eval/a.diff", 4096))
    out.update({f"api_{k}": v for k, v in _exec_calls(backend.client.api, sandbox.id).items()})
    out["remove_running"] = _timed(sandbox.remove)
    return out


def run(image: str, reps: int = 15, workdir: str = "/testbed", concurrent: int = 8) -> dict[str, Any]:
    """Each primitive alone (``reps`` rounds), then with ``concurrent`` sandboxes doing the same at once
    (3 rounds): what the engine does when 8 sandbox slots start, patch and clean up together."""
    backend = DockerBackend()
    config = SandboxConfig(
        image=image,
        limits=SandboxLimits(memory_mb=512, pids=256),
        workdir=workdir,
        labels=item_labels(SWEEP, "primitives", 1),
    )
    alone: dict[str, list[float]] = {}
    for _ in range(reps):
        for name, value in _round(backend, config).items():
            alone.setdefault(name, []).append(value)
    together: dict[str, list[float]] = {}
    with ThreadPoolExecutor(concurrent) as pool:
        for _ in range(3):
            for one in pool.map(lambda _: _round(backend, config), range(concurrent)):
                for name, value in one.items():
                    together.setdefault(name, []).append(value)
    out: dict[str, Any] = {name: _summary(values) for name, values in alone.items()}
    out["concurrent"] = {name: _summary(values) for name, values in together.items()}
    return out | {"reps": reps, "concurrency": concurrent}
