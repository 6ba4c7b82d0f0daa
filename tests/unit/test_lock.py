"""The run lock (orchestrator/lock.py) on a FileStore and, marked s3, on a real S3 server.

Races are made deterministic with stores that run another contender at a chosen point of a call
(real stores with an interleaving hook, not mocks), and checked for real with threads and processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from support.demo import ROOT, ensure_bundles

from orchestrator.lock import Lease, LockHeldError, LockLostError, StoreLock, sweep_lock
from orchestrator.store import FileStore, ResultStore
from workers.errors import UserInputError


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest) -> ResultStore:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


def slot_leases(store: ResultStore, name: str) -> dict[int, Lease | None]:
    lock = StoreLock(store, name)
    return {seq: Lease.from_json(store.get(lock.key(seq)) or b"") for seq in lock.slots()}


# --- acquire / release ----------------------------------------------------------------------------


def test_acquire_writes_a_lease_and_release_marks_it(store: ResultStore) -> None:
    clock = FakeClock()
    lock = StoreLock(store, "sweep-a", ttl_s=60, owner="cron", clock=clock)
    lease = lock.acquire()
    assert (lease.seq, lease.owner, lease.pid) == (0, "cron", os.getpid())
    assert lease.expires_at == clock.now + 60
    stored = slot_leases(store, "sweep-a")
    assert stored == {0: lease}
    assert store.list("locks/") and all(k.startswith("locks/sweep-a/") for k in store.list("locks/"))
    assert lock.release() is True
    released = slot_leases(store, "sweep-a")[0]
    assert released is not None and released.released and released.expires_at == clock.now


def test_a_held_lock_refuses_a_second_run_with_one_line_naming_the_holder(store: ResultStore) -> None:
    clock = FakeClock()
    StoreLock(store, "sweep-a", ttl_s=90, owner="nightly", clock=clock).acquire()
    clock.now += 30
    with pytest.raises(LockHeldError) as info:
        StoreLock(store, "sweep-a", clock=clock).acquire()
    err = info.value
    assert isinstance(err, UserInputError) and err.exit_code == 2
    line = err.one_line()
    assert "\n" not in line
    assert "sweep sweep-a is being run by nightly on " in line
    assert "(in 60 s)" in line and "wait for that run to finish" in line
    assert err.lease.owner == "nightly"


def test_after_release_the_next_run_takes_the_next_slot_and_prunes_the_old(store: ResultStore) -> None:
    first = StoreLock(store, "s")
    first.acquire()
    first.release()
    second = StoreLock(store, "s")
    assert second.acquire().seq == 1
    assert list(slot_leases(store, "s")) == [1]


def test_sweep_lock_holds_for_the_body_and_releases_on_error(store: ResultStore) -> None:
    with pytest.raises(RuntimeError, match="boom"), sweep_lock(store, "s", ttl_s=30) as lock:
        with pytest.raises(LockHeldError):
            StoreLock(store, "s").acquire()
        assert lock.lease is not None
        raise RuntimeError("boom")
    assert StoreLock(store, "s").acquire().seq == 1  # released: free at once, no waiting for the lease


# --- contention: exactly one winner ---------------------------------------------------------------


def _race(n: int, attempt: Callable[[int], None]) -> None:
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_contention_from_threads_has_exactly_one_winner(store: ResultStore) -> None:
    winners: list[str] = []
    refused: list[str] = []

    def attempt(i: int) -> None:
        lock = StoreLock(store, "s", owner=f"t{i}")
        try:
            lock.acquire()
            winners.append(lock.owner)
        except LockHeldError as exc:
            refused.append(exc.lease.owner)

    _race(12, attempt)
    assert len(winners) == 1
    assert refused == [winners[0]] * 11
    top = slot_leases(store, "s")
    assert [lease.owner for lease in top.values() if lease is not None] == winners


def test_breaking_one_stale_lease_from_many_threads_has_exactly_one_winner(store: ResultStore) -> None:
    clock = FakeClock()
    StoreLock(store, "s", ttl_s=10, owner="dead", clock=clock).acquire()
    clock.now += 11  # the holder died and its lease expired
    winners: list[str] = []

    def attempt(i: int) -> None:
        lock = StoreLock(store, "s", owner=f"b{i}", clock=clock)
        try:
            lock.acquire()
            winners.append(lock.owner)
        except LockHeldError:
            pass

    _race(10, attempt)
    assert len(winners) == 1
    assert {s: (lease.owner if lease else None) for s, lease in slot_leases(store, "s").items()} == {
        1: winners[0]
    }


_CHILD = """
import sys, time
from pathlib import Path
from orchestrator.lock import LockHeldError, StoreLock
from orchestrator.store import FileStore
root, start = Path(sys.argv[1]), float(sys.argv[2])
lock = StoreLock(FileStore(root), "s", owner=sys.argv[3])
time.sleep(max(0.0, start - time.time()))
try:
    lock.acquire()
    print("won")
    time.sleep(1.0)
except LockHeldError:
    print("held")
"""


def test_contention_from_processes_has_exactly_one_winner(tmp_path: Path) -> None:
    start = time.time() + 2.0  # all children are imported and waiting by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path / "store"), str(start), f"p{i}"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(6)
    ]
    outcomes = sorted(p.communicate(timeout=60)[0].split()[-1] for p in procs)  # structlog may print first
    assert outcomes == ["held"] * 5 + ["won"]


# --- stale leases, renewal, loss ------------------------------------------------------------------


def test_an_expired_lease_is_broken_and_its_holder_can_neither_renew_nor_release(store: ResultStore) -> None:
    clock = FakeClock()
    dead = StoreLock(store, "s", ttl_s=10, owner="dead", clock=clock)
    dead.acquire()
    clock.now += 9.5
    with pytest.raises(LockHeldError):
        StoreLock(store, "s", clock=clock).acquire()
    clock.now += 1
    taker = StoreLock(store, "s", owner="taker", clock=clock)
    assert taker.acquire().seq == 1
    with pytest.raises(LockLostError, match="taken over by taker"):
        dead.renew()
    assert dead.release() is False  # a non-owner's release is refused and writes nothing
    leases = slot_leases(store, "s")
    assert list(leases) == [1]
    assert leases[1] is not None and leases[1].owner == "taker" and not leases[1].released


def test_release_by_another_lock_object_is_refused(store: ResultStore) -> None:
    holder = StoreLock(store, "s", owner="holder")
    holder.acquire()
    stranger = StoreLock(store, "s", owner="holder")  # same label, different token: not the owner
    assert stranger.release() is False
    with pytest.raises(LockLostError):
        stranger.renew()
    lease = slot_leases(store, "s")[0]
    assert lease is not None and not lease.released


def test_renewal_extends_the_lease(store: ResultStore) -> None:
    clock = FakeClock()
    lock = StoreLock(store, "s", ttl_s=10, clock=clock)
    lock.acquire()
    clock.now += 8
    renewed = lock.renew()
    assert renewed.expires_at == clock.now + 10 and renewed.acquired_at == clock.now - 8
    clock.now += 8  # past the first expiry, within the renewed one
    with pytest.raises(LockHeldError):
        StoreLock(store, "s", clock=clock).acquire()


def test_the_heartbeat_keeps_a_short_lease_alive_while_the_body_runs(store: ResultStore) -> None:
    ttl = 0.8
    with sweep_lock(store, "s", ttl_s=ttl, renew_every_s=0.1) as lock:
        deadline = time.monotonic() + 3 * ttl
        refusals = 0
        while time.monotonic() < deadline:
            with pytest.raises(LockHeldError):
                StoreLock(store, "s").acquire()
            refusals += 1
            time.sleep(0.1)
        assert refusals >= 10
        assert lock.lease is not None and lock.lease.renewed_at > lock.lease.acquired_at
    assert StoreLock(store, "s").acquire().seq == 1


def test_without_renewal_a_lease_lapses_and_is_taken(store: ResultStore) -> None:
    holder = StoreLock(store, "s", ttl_s=0.3)
    holder.acquire()
    time.sleep(0.4)
    assert StoreLock(store, "s").acquire().seq == 1


def test_a_holder_whose_lock_was_taken_over_is_told_once_and_does_not_release(store: ResultStore) -> None:
    lost: list[LockLostError] = []
    with sweep_lock(store, "s", ttl_s=30, renew_every_s=0.05, on_lost=lost.append):
        # another run whose clock says our lease expired long ago takes the lock
        taker = StoreLock(store, "s", owner="taker", clock=lambda: time.time() + 3600)
        taker.acquire()
        deadline = time.monotonic() + 5
        while not lost and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(lost) == 1 and "taken over by taker" in str(lost[0])
    lease = slot_leases(store, "s")[1]
    assert lease is not None and lease.owner == "taker" and not lease.released


def test_an_unreadable_lease_counts_as_expired(store: ResultStore) -> None:
    store.put(StoreLock(store, "s").key(3), b"not json")
    assert StoreLock(store, "s").acquire().seq == 4


# --- interleavings, made deterministic ------------------------------------------------------------


class HookedStore(FileStore):
    """A FileStore that runs ``hook`` once, just before the first put_if_absent of ``key``."""

    def __init__(self, root: Path, key: str, hook: Callable[[], None]) -> None:
        super().__init__(root)
        self._key, self._hook = key, hook
        self._fired = False

    def put_if_absent(self, key: str, data: bytes) -> bool:
        if key == self._key and not self._fired:
            self._fired = True
            self._hook()
        return super().put_if_absent(key, data)


def test_a_slow_breaker_loses_to_the_fast_one(tmp_path: Path) -> None:
    clock = FakeClock()
    plain = FileStore(tmp_path)
    StoreLock(plain, "s", ttl_s=10, owner="dead", clock=clock).acquire()
    clock.now += 11
    fast = StoreLock(plain, "s", owner="fast", clock=clock)
    slow_store = HookedStore(tmp_path, StoreLock(plain, "s").key(1), lambda: fast.acquire() and None)
    with pytest.raises(LockHeldError, match="being run by fast"):
        StoreLock(slow_store, "s", owner="slow", clock=clock).acquire()
    assert {s: lease.owner for s, lease in slot_leases(plain, "s").items() if lease} == {1: "fast"}


def test_a_stalled_contender_that_recreates_a_pruned_slot_backs_off(tmp_path: Path) -> None:
    """D saw slot 0 expired and stalls; meanwhile E takes slot 1 and releases, F takes slot 2 and prunes
    0 and 1. D's create of slot 1 now succeeds, but slot 1 is not the highest: D deletes it and yields."""
    clock = FakeClock()
    plain = FileStore(tmp_path)
    StoreLock(plain, "s", ttl_s=10, owner="dead", clock=clock).acquire()
    clock.now += 11

    def others_run() -> None:
        e = StoreLock(plain, "s", owner="E", clock=clock)
        e.acquire()
        e.release()
        StoreLock(plain, "s", owner="F", clock=clock).acquire()

    stalled = HookedStore(tmp_path, StoreLock(plain, "s").key(1), others_run)
    with pytest.raises(LockHeldError, match="being run by F"):
        StoreLock(stalled, "s", owner="D", clock=clock).acquire()
    assert {s: lease.owner for s, lease in slot_leases(plain, "s").items() if lease} == {2: "F"}


class NonAtomicStore(FileStore):
    """A store without conditional puts (exists, then put), with a hook between the two steps."""

    def __init__(self, root: Path, hook: Callable[[], None]) -> None:
        super().__init__(root)
        self._hook: Callable[[], None] | None = hook

    def put_if_absent(self, key: str, data: bytes) -> bool:
        if self.exists(key):
            return False
        if self._hook is not None:
            hook, self._hook = self._hook, None
            hook()
        self.put(key, data)
        return True


def test_without_conditional_puts_a_double_win_is_caught_at_the_next_renewal(tmp_path: Path) -> None:
    plain = FileStore(tmp_path)
    b = StoreLock(plain, "s", owner="B")
    a = StoreLock(NonAtomicStore(tmp_path, lambda: b.acquire() and None), "s", owner="A")
    a.acquire()  # B won slot 0 in the gap, then A overwrote it: the documented residual race
    assert a.lease is not None and b.lease is not None
    with pytest.raises(LockLostError, match="taken over by A"):
        b.renew()
    assert a.renew().owner == "A"


# --- the CLI: a second run of a sweep fails fast -----------------------------------------------------


@pytest.fixture
def demo_sweep(tmp_path: Path) -> tuple[Path, str]:
    """The demo config with absolute paths and a store in tmp_path (so a run from tmp_path writes its logs
    there, not in the project), and its sweep id."""
    from orchestrator.config import load_config
    from orchestrator.sweep import plan_sweep

    ensure_bundles()
    raw = yaml.safe_load((ROOT / "configs/demo.yaml").read_text())
    raw["dataset"]["path"] = str(ROOT / raw["dataset"]["path"])
    for run in raw["runs"]:
        run["predictions"] = str(ROOT / run["predictions"])
    for source in raw["repos"].values():
        source["bundle"] = str(ROOT / source["bundle"])
    raw["specs"] = [str(ROOT / s) for s in raw["specs"]]
    raw["store"] = {"url": f"file://{tmp_path / 'results'}"}
    config = tmp_path / "demo.yaml"
    config.write_text(yaml.safe_dump(raw))
    return config, plan_sweep(load_config(config)).sweep_id


def test_evalfleet_run_exits_2_with_one_line_when_the_sweep_is_locked(
    demo_sweep: tuple[Path, str], tmp_path: Path
) -> None:
    config, sweep_id = demo_sweep
    store = FileStore(tmp_path / "results")
    StoreLock(store, sweep_id, ttl_s=600, owner="nightly-run").acquire()
    evalfleet = str(Path(sys.executable).with_name("evalfleet"))
    proc = subprocess.Popen(  # its own session: were the lock ignored, a kill takes its embedded Ray too
        [evalfleet, "run", str(config)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("evalfleet: error:")]
    assert len(errors) == 1 and f"sweep {sweep_id} is being run by nightly-run on " in errors[0]
    assert "Traceback" not in stderr
    assert not store.exists(f"sweeps/{sweep_id}/manifest.json")  # refused before touching the sweep
    assert json.loads(store.get(StoreLock(store, sweep_id).key(0)) or b"{}")["owner"] == "nightly-run"


def test_lease_of_a_dead_process_on_this_host_is_not_live() -> None:
    import socket

    from workers.sandbox.labels import process_start

    now = time.time()
    child = subprocess.Popen(["sleep", "30"])
    child_start = process_start(child.pid)
    alive = Lease(
        name="s",
        seq=1,
        owner="o",
        token="t",
        host=socket.gethostname(),
        pid=child.pid,
        pid_start=child_start,
        acquired_at=now,
        renewed_at=now,
        expires_at=now + 600,
    )
    assert alive.live(now)
    child.kill()
    child.wait()
    assert not alive.live(now)  # killed (SIGKILL): its lease no longer blocks a resume
    elsewhere = replace(alive, host="another-host")
    assert elsewhere.live(now)  # a holder on another machine cannot be checked: its lease stands
