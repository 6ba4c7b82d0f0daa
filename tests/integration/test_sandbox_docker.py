"""Containment of the Docker sandbox, checked with hostile shell commands under small limits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workers.errors import SandboxError
from workers.models import SandboxLimits
from workers.sandbox import SandboxConfig, docker_exec
from workers.sandbox.docker import DockerBackend, DockerSandbox
from workers.sandbox.janitor import reap

pytestmark = pytest.mark.docker

MiB = 1024 * 1024
LIMITS = SandboxLimits(memory_mb=256, cpus=1, pids=64, output_bytes=MiB, disk_mb=64)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def backend(docker_client: Any) -> DockerBackend:
    return DockerBackend(docker_client)


@pytest.fixture
def config(base_image: str, sandbox_labels: dict[str, str]) -> SandboxConfig:
    return SandboxConfig(image=base_image, limits=LIMITS, labels=sandbox_labels, workdir="/work")


@pytest.fixture
def sandbox(backend: DockerBackend, config: SandboxConfig) -> Iterator[DockerSandbox]:
    box = backend.create(config, timeout=60)
    yield box
    box.remove()


def test_fork_bomb_ends_and_the_host_keeps_working(backend: DockerBackend, config: SandboxConfig) -> None:
    with backend.create(config, timeout=60) as bomb, backend.create(config, timeout=60) as other:
        results: list[Any] = []
        runner = threading.Thread(
            target=lambda: results.append(bomb.exec("b() { b | b & }; b; sleep 100", timeout=5)), daemon=True
        )
        runner.start()
        time.sleep(2)
        assert other.exec("echo fine", timeout=10).output == b"fine\n"  # while the bomb runs
        runner.join(5 + 10)
        assert results and results[0].timed_out and results[0].duration_s < 5 + 8
        assert b"fork" in results[0].output  # "Cannot fork": the pids limit held
    with backend.create(config, timeout=60) as after:
        assert after.exec("echo fine", timeout=10).output == b"fine\n"


def test_memory_hog_is_oom_killed(sandbox: DockerSandbox) -> None:
    piped = sandbox.exec("head -c 1G /dev/zero | tail", timeout=30)
    assert piped.returncode == 137 and piped.oom_killed
    grown = sandbox.exec(["bash", "-c", "x=x; while :; do x=$x$x; done"], timeout=30)
    assert grown.returncode == 137 and grown.oom_killed
    assert not sandbox.exec(["true"], timeout=10).oom_killed  # an OOM is reported once, for its exec


@pytest.mark.parametrize("target", ["/tmp/big", "/work/big"])
def test_file_size_limit_stops_a_10gb_write(sandbox: DockerSandbox, target: str) -> None:
    result = sandbox.exec(f"dd if=/dev/zero of={target} bs=1M count=10240", timeout=30)
    assert result.returncode == 128 + 25  # SIGXFSZ
    assert result.duration_s < 10
    assert sandbox.exec(f"stat -c %s {target}", timeout=10).output == b"%d\n" % (LIMITS.disk_mb * MiB)


def _gateway_ip(docker_client: Any) -> str:
    config = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    if config.get("Gateway"):
        return str(config["Gateway"])
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, check=False
    )
    return out.stdout.split()[3].split("/")[0] if out.returncode == 0 else "172.17.0.1"


@pytest.fixture
def listeners(docker_client: Any) -> Iterator[list[tuple[str, int]]]:
    servers = []
    for host in ("127.0.0.1", _gateway_ip(docker_client)):
        server = socket.create_server((host, 0))
        server.settimeout(0.2)
        servers.append(server)
    yield [s.getsockname()[:2] for s in servers]
    for server in servers:
        server.close()


def test_no_network(
    sandbox: DockerSandbox, backend: DockerBackend, config: SandboxConfig, listeners: Any
) -> None:
    for host, port in listeners:
        probe = f"exec 3<>/dev/tcp/{host}/{port} && echo connected"
        result = sandbox.exec(["bash", "-c", probe], timeout=10)
        assert result.returncode != 0 and b"connected" not in result.output, (host, result)
    gateway, port = listeners[1]
    with backend.create(config.model_copy(update={"network": True}), timeout=60) as online:  # control
        reached = online.exec(
            ["bash", "-c", f"exec 3<>/dev/tcp/{gateway}/{port} && echo connected"], timeout=10
        )
    assert reached.output == b"connected\n"
    assert sandbox.exec("ls /sys/class/net", timeout=10).output == b"lo\n"


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_output_flood_is_capped_with_bounded_memory(sandbox: DockerSandbox) -> None:
    baseline, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = sandbox.exec("yes | head -c 1G", timeout=60)
    finally:
        done.set()
        sampler.join()
    assert result.returncode == 0 and result.truncated and not result.timed_out
    assert result.output_bytes_total == 1 << 30
    assert len(result.output) <= LIMITS.output_bytes
    assert result.output.startswith(b"y\ny\n") and result.output.endswith(b"y\ny\n")
    assert peak[0] - baseline < 100 * MiB


def test_infinite_loop_is_killed_at_the_timeout(sandbox: DockerSandbox) -> None:
    result = sandbox.exec("while :; do :; done", timeout=2)
    assert result.timed_out and result.returncode is None and 2 <= result.duration_s < 2 + 3
    assert not result.sandbox_killed and sandbox.exec(["true"], timeout=10).returncode == 0


def test_container_is_killed_when_the_command_cannot_be_killed_inside(
    sandbox: DockerSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: the in-container kill fails (as when a fork bomb holds every pid)."""
    monkeypatch.setattr(docker_exec, "_kill_session", lambda *args: False)
    result = sandbox.exec("sleep 100", timeout=2)
    assert result.timed_out and result.sandbox_killed and result.duration_s < 2 + 3
    assert not sandbox.alive
    with pytest.raises(SandboxError):
        sandbox.exec(["true"], timeout=10)


def test_privileges_are_dropped(sandbox: DockerSandbox) -> None:
    status = sandbox.exec("grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status", timeout=10).text
    fields = dict(line.split(":\t") for line in status.splitlines())
    kept = (1 << 0) | (1 << 1) | (1 << 3)  # CHOWN, DAC_OVERRIDE, FOWNER
    assert int(fields["CapEff"], 16) == kept and int(fields["CapBnd"], 16) == kept
    assert fields["NoNewPrivs"] == "1"
    as_nobody = sandbox.exec("grep CapEff /proc/self/status", timeout=10, user="nobody").text
    assert int(as_nobody.split()[-1], 16) == 0
    socket_check = "ls /var/run/docker.sock /run/docker.sock 2>&1; grep -c docker.sock /proc/mounts"
    assert b"docker.sock\n" not in sandbox.exec(socket_check, timeout=10).output.replace(b": No such", b"")


def test_root_can_still_write_chown_and_chmod(sandbox: DockerSandbox) -> None:
    script = (
        "set -e; mkdir -p u && touch u/f && chown -R 1000:1000 u && echo x > u/new"
        " && chmod 600 u/f && touch -d 2001-01-01 u/f && echo y > u/f && chmod 444 u/f && echo z > u/f"
    )
    assert sandbox.exec(script, timeout=10).returncode == 0


def test_container_settings_and_labels(sandbox: DockerSandbox, docker_client: Any) -> None:
    attrs = docker_client.containers.get(sandbox.id).attrs
    host, labels = attrs["HostConfig"], attrs["Config"]["Labels"]
    assert host["NetworkMode"] == "none" and host["Init"] is True
    assert host["Memory"] == host["MemorySwap"] == LIMITS.memory_mb * MiB
    assert host["PidsLimit"] == LIMITS.pids and host["NanoCpus"] == 10**9
    assert host["Privileged"] is False and host["SecurityOpt"] == ["no-new-privileges"]
    assert {u["Name"]: u["Hard"] for u in host["Ulimits"]}["fsize"] == LIMITS.disk_mb * MiB
    assert not [m for m in attrs["Mounts"] if "docker.sock" in m.get("Source", "")]
    assert labels["evalfleet.owner"] == f"{socket.gethostname()}:{os.getpid()}"
    assert {"evalfleet.sweep", "evalfleet.item", "evalfleet.attempt"} <= labels.keys()
    assert abs(float(labels["evalfleet.created"]) - time.time()) < 120


def test_files_are_readable_after_a_stop(sandbox: DockerSandbox) -> None:
    sandbox.exec("echo report > /work/junit.xml", timeout=10)
    sandbox.stop()
    assert sandbox.read_file("/work/junit.xml", max_bytes=100) == b"report\n"


ORPHAN_MAKER = """
import os, sys
from workers.errors import SandboxError
from workers.models import SandboxLimits
from workers.sandbox import SandboxConfig, docker_exec
from workers.sandbox.docker import DockerBackend
backend = DockerBackend()
limits = SandboxLimits(memory_mb=64)
config = SandboxConfig(image=sys.argv[1], labels={"evalfleet.sweep": sys.argv[2]}, limits=limits)
print(" ".join(backend.create(config).id for _ in range(2)), flush=True)
os._exit(0)  # crash: no cleanup
"""


def test_janitor_reaps_dead_owners_only(
    backend: DockerBackend, config: SandboxConfig, docker_client: Any
) -> None:
    sweep = config.labels["evalfleet.sweep"]
    made = subprocess.run(
        [sys.executable, "-c", ORPHAN_MAKER, config.image, sweep],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    orphans = set(made.stdout.splitlines()[-1].split())  # the last line; logs come before it
    with backend.create(config, timeout=60) as live:
        reaped: list[list[str]] = []
        reapers = [
            threading.Thread(target=lambda: reaped.append(reap(docker_client, sweep_id=sweep))) for _ in "ab"
        ]
        for thread in reapers:
            thread.start()
        for thread in reapers:
            thread.join(60)
        assert sorted(reaped[0] + reaped[1]) == sorted(orphans)  # each removed once, by one reaper
        assert live.exec(["true"], timeout=10).returncode == 0  # the live owner's sandbox is kept
        left = {
            c.id
            for c in docker_client.containers.list(all=True, filters={"label": f"evalfleet.sweep={sweep}"})
        }
        assert left == {live.id}
