"""Run `evalfleet run` as a real process and watch its store: helpers for fault-tolerance tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from orchestrator.commit import committed_keys, load_results
from orchestrator.config import load_config
from orchestrator.store import ResultStore, open_store
from orchestrator.sweep import plan_sweep

EVALFLEET = str(Path(sys.executable).with_name("evalfleet"))
DEMO = Path("configs/demo.yaml")
EXPECTED: dict[str, dict[str, str]] = json.loads(Path("demo/expected_verdicts.json").read_text())
FAST = ["execution.test_timeout_s=12"]  # the demo's looping candidates time out sooner


def sweep_id(overrides: Sequence[str]) -> str:
    return plan_sweep(load_config(DEMO, overrides)).sweep_id


def planned(overrides: Sequence[str]) -> int:
    return len(plan_sweep(load_config(DEMO, overrides)).items)


def start(
    overrides: Sequence[str],
    log: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    ray_auth: str | None = "disabled",
) -> subprocess.Popen[bytes]:
    """`evalfleet run configs/demo.yaml` in its own session (so a kill takes its embedded Ray too).
    ``ray_auth``: RAY_AUTH_MODE for it (None: unset, evalfleet's own default)."""
    base = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    if ray_auth is not None:
        base["RAY_AUTH_MODE"] = ray_auth
    args = [EVALFLEET, "run", str(DEMO), *extra]
    for o in overrides:
        args += ["--set", o]
    return subprocess.Popen(
        args,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**base, **(env or {})},
    )


def wait(proc: subprocess.Popen[bytes], log: Path, timeout: float = 900) -> int:
    """The exit status of the sweep (killed, with its log, when it takes longer than ``timeout``)."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_session(proc)
        raise AssertionError(f"sweep did not finish in {timeout} s:\n{log.read_text()[-3000:]}") from None


def finish(proc: subprocess.Popen[bytes], log: Path, timeout: float = 900) -> None:
    rc = wait(proc, log, timeout)
    assert rc == 0, f"evalfleet exited {rc}:\n{log.read_text()[-3000:]}"


def run(overrides: Sequence[str], log: Path, *extra: str) -> None:
    finish(start(overrides, log, *extra), log)


def kill_session(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def wait_until(
    cond: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, timeout: float = 600
) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(
                f"sweep ended (rc {proc.returncode}) before the condition:\n{log.read_text()[-3000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached in {timeout} s")
        time.sleep(0.5)


def committed(store: ResultStore, sid: str) -> int:
    return len(committed_keys(store, sid))


def verdicts(store: ResultStore, sid: str) -> dict[tuple[str, str, int], str]:
    return {(r.run, r.instance_id, r.repeat): r.verdict for r in load_results(store, sid)}


def expected_verdicts(store: ResultStore, sid: str) -> dict[tuple[str, str, int], str]:
    return {(run, iid, rep): EXPECTED[run][iid] for (run, iid, rep) in verdicts(store, sid)}


def store_at(url: str) -> ResultStore:
    return open_store(url)


def sweep_containers(sid: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=evalfleet.sweep={sid}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def _running(sid: str, fields: str) -> list[str]:
    """``docker ps`` of this sweep's running sandboxes, one line of ``fields`` (a Go template) each."""
    out = subprocess.run(
        ["docker", "ps", "--filter", f"label=evalfleet.sweep={sid}", "--format", fields],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


def running_items(sid: str) -> list[str]:
    """Item keys of this sweep's running sandboxes (spares left out)."""
    return [k for k in _running(sid, '{{.Label "evalfleet.item"}}') if k and k != "spare"]


def plan_keys(overrides: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Item key -> (run, instance id) of the demo sweep with ``overrides``."""
    plan = plan_sweep(load_config(DEMO, overrides))
    return {it.key: (it.candidate.run, it.instance.instance_id) for it in plan.items}


def running_owners(sid: str, store: ResultStore | None = None) -> list[int]:
    """Owner pids of this sweep's running sandboxes that hold an item being evaluated: not a spare
    started ahead, and (given the store) not one whose item is committed and that only waits for its
    removal in the background."""
    lines = _running(sid, '{{.Label "evalfleet.owner"}} {{.Label "evalfleet.item"}}')
    done = committed_keys(store, sid) if store is not None else set()
    owners = []
    for line in lines:
        owner, _, item = line.partition(" ")
        if ":" in owner and item != "spare" and item not in done:
            owners.append(int(owner.rsplit(":", 1)[1]))
    return owners


def restart_dockerd() -> None:
    """Stop the local dockerd (SIGTERM) and start it again with scripts/ensure-docker.sh."""
    pids = subprocess.run(
        ["pgrep", "-x", "dockerd"], capture_output=True, text=True, check=False
    ).stdout.split()
    assert pids, "this test restarts the local dockerd; none runs"
    subprocess.run(["kill", "-TERM", *pids], check=True)
    deadline = time.monotonic() + 60
    while subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, check=False).returncode == 0:
        assert time.monotonic() < deadline, "dockerd did not stop"
        time.sleep(0.2)
    subprocess.run(["scripts/ensure-docker.sh"], check=True, timeout=120)
