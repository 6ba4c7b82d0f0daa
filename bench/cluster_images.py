"""Images across a cold cluster: 2 Ray worker nodes, each with a Docker engine of its own (as Kubernetes
pods with a dind sidecar each), a registry on 127.0.0.1 named by ``images.registry``.

Every item needs the same env and instance image (the synthetic repository at one commit, with a fresh
env tag: a unique install marker), which neither engine has. Both engines start from a warm registry
holding the base and rootfs layers (pulled into each engine before the clock starts: what is measured is
the env and instance layers, the ones a sweep builds). Measured: builds per image across the cluster
(target 1: the other node pulls what the first pushed), and the time from the sweep's start to the
first result of each node.

Both nodes run on this machine: they share its CPU, and its build lock directory (``/var/lock/evalfleet``),
so the second node waits for the first one's build on that file lock before it reaches the registry;
on separate machines it would wait on the cluster's build lock (a Ray actor) instead, with the same result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import drive, synthetic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the registry and Ray cluster helpers of the tests

from support.raycluster import RayTestCluster, free_port  # noqa: E402
from support.registry import LocalRegistry  # noqa: E402

# ports every node binds with a fixed default: two nodes on one machine need their own
PORT_FLAGS = (
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "runtime-env-agent-port",
    "metrics-export-port",
    "node-manager-port",
    "object-manager-port",
)


class PrivateEngine:
    """A dockerd of its own (data root, socket, bridge), no iptables changes: a node's engine.

    Never ``--bridge=none``: a dockerd started so deletes the host's ``docker0`` (moby's
    ``removeDefaultBridgeInterface``), which breaks the containers of the machine's own engine. Each
    private engine gets a bridge of its own instead (link-local addresses, no NAT: its sandboxes run
    without network, its builds use the host's network)."""

    def __init__(self, root: Path, index: int) -> None:
        self.root = root
        self.bridge = f"evfbench{index}"
        self.cidr = f"169.254.{200 + index}.1/24"
        self.socket = root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> Any:
        import docker

        self.root.mkdir(parents=True, exist_ok=True)
        for cmd in (
            ["ip", "link", "add", self.bridge, "type", "bridge"],
            ["ip", "addr", "add", self.cidr, "dev", self.bridge],
            ["ip", "link", "set", self.bridge, "up"],
        ):
            subprocess.run(cmd, check=True, capture_output=True)
        log = (self.root / "dockerd.log").open("ab")
        self.proc = subprocess.Popen(
            [
                "dockerd",
                f"--data-root={self.root / 'data'}",
                f"--exec-root={self.root / 'exec'}",
                f"--pidfile={self.root / 'dockerd.pid'}",
                f"--host={self.url}",
                f"--bridge={self.bridge}",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                client = docker.DockerClient(base_url=self.url, timeout=300)
                client.ping()
                return client
            time.sleep(0.5)
        raise RuntimeError(f"dockerd did not start: {(self.root / 'dockerd.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)
        netns = self.root / "exec" / "netns" / "default"  # dockerd leaves its namespace mounted
        if netns.exists():
            subprocess.run(["umount", str(netns)], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def run(items: int = 8, slots: int = 2, sleep_s: float = 1.0, workdir: Path | None = None) -> dict[str, Any]:
    import ray

    from orchestrator.execute import eval_settings
    from orchestrator.scheduler import reap_cluster, run_items
    from orchestrator.sweep import plan_sweep
    from workers.images import ImageOptions, build_history, ensure_base_image
    from workers.images.client import docker_client
    from workers.images.registry import pull_shared, push_shared

    root = Path(tempfile.mkdtemp(prefix="bench-cluster-images-", dir=workdir))
    ws = synthetic.make_workspace(
        root, instances=items, sleep_s=sleep_s, install_marker=f"evalfleet-bench cluster {uuid.uuid4().hex}"
    )
    registry = LocalRegistry(root / "registry")
    engines = [PrivateEngine(root / f"engine-{i}", i) for i in range(2)]
    cluster = RayTestCluster(root / "ray")
    (root / "ray").mkdir()
    try:
        registry.start()
        main = docker_client(None)
        base = ensure_base_image("bookworm", ImageOptions(), client=main).tag
        rootfs = main.images.get(base).labels["evalfleet.parent"]
        for tag in (rootfs, base):  # a warm registry: what an earlier sweep (or images build) pushed
            assert push_shared(main, registry.address, tag)
        for engine in engines:
            client = engine.start()
            for tag in (rootfs, base):
                assert pull_shared(client, registry.address, tag, timeout_s=600)
        cluster.start_head(sandbox=0, cpus=1)
        for i, engine in enumerate(engines):  # two nodes on one machine: sockets of their own
            cluster.env = {**cluster.env, "DOCKER_HOST": engine.url}
            sockets = [
                f"--temp-dir={tempfile.mkdtemp(prefix=f'r{i}-', dir='/tmp')}",  # unix sockets: short paths
                *(f"--{flag}={free_port()}" for flag in PORT_FLAGS),
            ]
            cluster.workers.append(
                cluster._node([f"--address={cluster.address}", *sockets], slots, slots, f"worker-{i}")
            )
        cluster.wait_for_nodes(3)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        ray.init(address=cluster.address, logging_level="ERROR")
        node_of = {n["NodeID"]: i for i, n in enumerate(_workers(ray.nodes()))}
        options = ImageOptions(
            state_dir=root / "state", lock_dir=root / "locks", registry=registry.address, build_network="host"
        )
        config = drive.load(synthetic.sweep_config(ws, name="bench-cluster-images", slots=2 * slots))
        settings = eval_settings(config).model_copy(update={"images": options})
        plan = plan_sweep(config)
        first: dict[int, float] = {}
        verdicts: dict[str, int] = {}
        t0 = time.time()
        for summary in run_items(plan.items, settings, config.store, slots=2 * slots, window_factor=2):
            node = node_of.get(summary.node_id or "", -1)
            first.setdefault(node, time.time() - t0)
            verdicts[summary.verdict] = verdicts.get(summary.verdict, 0) + 1
        makespan = time.time() - t0
        reap_cluster(plan.sweep_id)
        builds = build_history(root / "state")
        per_tag: dict[str, int] = {}
        for b in builds:
            per_tag[b.tag] = per_tag.get(b.tag, 0) + 1
        layers = {b.tag: b.layer for b in builds}
        pushed = sorted(registry.tags("evalfleet/env") + registry.tags("evalfleet/inst"))
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        cluster.stop()
        for engine in engines:
            engine.stop()
        registry.stop()
    ordered = sorted(first.items(), key=lambda kv: kv[1])
    return {
        "items": items,
        "nodes": 2,
        "slots_per_node": slots,
        "sleep_s": sleep_s,
        "builds_per_image": {f"{layers[t]} {t}": n for t, n in per_tag.items()},
        "max_builds_per_image": max(per_tag.values(), default=0),
        "images_in_registry": len(pushed),
        "first_result_first_node_s": round(ordered[0][1], 2) if ordered else None,
        "first_result_second_node_s": round(ordered[1][1], 2) if len(ordered) > 1 else None,
        "makespan_s": round(makespan, 2),
        "verdicts": verdicts,
    }


def _workers(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        (n for n in nodes if n["Alive"] and n["Resources"].get("sandbox", 0) > 0), key=lambda n: n["NodeID"]
    )
