"""`evalfleet clean` and the driver-scoped janitor on a real Docker engine: what a crashed driver leaves
is removed, a live sweep's sandboxes are kept (unless --force), and one driver never reaps another's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from workers.sandbox import labels
from workers.sandbox.janitor import reap

pytestmark = pytest.mark.docker
EVALFLEET = str(Path(sys.executable).with_name("evalfleet"))


def make(
    client: Any, image: str, sweep: str, *, owner_pid: int, driver: str, age_s: float = 0, ttl: str = ""
) -> str:
    tags = {
        labels.SWEEP: sweep,
        labels.ITEM: "k",
        labels.ATTEMPT: "1",
        labels.DRIVER: driver,
        labels.OWNER: f"{socket.gethostname()}:{owner_pid}",
        labels.OWNER_START: labels.process_start(owner_pid) or "",
        labels.CREATED: f"{time.time() - age_s:.3f}",
    }
    if ttl:
        tags[labels.TTL] = ttl
    container = client.containers.create(
        image, ["sleep", "infinity"], labels=tags, network_mode="none", init=True
    )
    container.start()
    return str(container.id)


def present(client: Any, sweep: str) -> set[str]:
    return {c.id for c in client.containers.list(all=True, filters={"label": f"{labels.SWEEP}={sweep}"})}


def clean(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EVALFLEET, "clean", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_clean_removes_what_dead_owners_and_expired_lifetimes_left(
    docker_client: Any, base_image: str
) -> None:
    sweep = f"pytest-clean-{uuid.uuid4().hex[:8]}"
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs: the owner of a crashed driver's sandbox
    dead = make(docker_client, base_image, sweep, owner_pid=gone.pid, driver="d1")
    expired = make(docker_client, base_image, sweep, owner_pid=os.getpid(), driver="d1", age_s=120, ttl="60")
    live = make(docker_client, base_image, sweep, owner_pid=os.getpid(), driver="d1", ttl="3600")
    try:
        done = clean("--sweep", sweep)
        assert done.returncode == 0, done.stderr
        assert "removed 2 sandbox(es) on this host" in done.stdout
        assert present(docker_client, sweep) == {live}
        assert (
            clean("--sweep", sweep, "--older-than", "1h")
            .stdout.strip()
            .endswith("removed 0 sandbox(es) on this host")
        )
        assert clean("--sweep", sweep, "--force").returncode == 0
        assert present(docker_client, sweep) == set()
        bad = clean("--older-than", "soon")
        assert bad.returncode == 2 and bad.stderr.strip().startswith("evalfleet: error: --older-than:")
    finally:
        for cid in (dead, expired, live):
            subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)


def test_a_driver_reaps_only_its_own_sandboxes(docker_client: Any, base_image: str) -> None:
    sweep = f"pytest-drivers-{uuid.uuid4().hex[:8]}"
    mine = make(docker_client, base_image, sweep, owner_pid=os.getpid(), driver="a")
    theirs = make(docker_client, base_image, sweep, owner_pid=os.getpid(), driver="b")
    try:
        assert reap(docker_client, sweep_id=sweep, driver="a", dead_owners_only=False) == [mine]
        assert present(docker_client, sweep) == {theirs}
    finally:
        for cid in (mine, theirs):
            subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)
