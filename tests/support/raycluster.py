"""A real multi-node Ray cluster on this machine (`ray start` head + worker nodes), for fault tests.

Every node binds to 127.0.0.1. A worker node runs `ray start --block` in its own session, so killing
that session kills the node (raylet, its workers and agents) as a machine loss would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_pids(sid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-s", str(sid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


class RayTestCluster:
    """Head node plus worker nodes, each advertising ``sandbox`` slots."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.workers: list[subprocess.Popen[bytes]] = []
        self.head: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, **ENV}

    def _common(self, sandbox: int, cpus: int) -> list[str]:
        return [
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={cpus}",
            f"--resources={json.dumps({'sandbox': sandbox})}",
            "--object-store-memory=200000000",
            "--disable-usage-stats",
        ]

    def start_head(self, *, sandbox: int = 1, cpus: int = 2) -> None:
        self.head = self._node(
            ["--head", f"--port={self.port}", "--include-dashboard=false"], sandbox, cpus, "head"
        )
        self.wait_for_nodes(1)

    def _node(self, args: list[str], sandbox: int, cpus: int, name: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        return subprocess.Popen(
            [RAY, "start", "--block", *args, *self._common(sandbox, cpus)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def add_worker(self, *, sandbox: int = 1, cpus: int = 2) -> subprocess.Popen[bytes]:
        proc = self._node([f"--address={self.address}"], sandbox, cpus, f"worker-{len(self.workers)}")
        self.workers.append(proc)
        return proc

    def wait_for_nodes(self, n: int, timeout: float = 90.0) -> None:
        code = (
            "import ray, time, sys\n"
            f"ray.init(address='{self.address}', logging_level='ERROR')\n"
            f"deadline = time.time() + {timeout}\n"
            f"while sum(1 for x in ray.nodes() if x['Alive']) < {n}:\n"
            "    if time.time() > deadline: sys.exit(1)\n"
            "    time.sleep(0.5)\n"
        )
        subprocess.run([sys.executable, "-c", code], env=self.env, check=True, timeout=timeout + 60)

    def kill_node(self, proc: subprocess.Popen[bytes]) -> list[int]:
        """SIGKILL every process of the worker node's session; returns the pids killed."""
        pids = session_pids(proc.pid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return pids

    def stop(self) -> None:
        """Kill every node's session (never `ray stop`, which would kill other Ray instances too)."""
        for proc in [*self.workers, self.head]:
            if proc is not None and proc.poll() is None:
                self.kill_node(proc)
