"""Run locks in the result store: one driver per sweep at a time, across machines and schedulers.

Two drivers of one sweep (a scheduled run that overlaps the previous one, a retried RayJob, a user's
``--resume`` next to a CronJob) would plan, run and report the same items at once. The lock is a lease
object in the store, taken before the sweep starts and released when it ends::

    {root}/locks/{name}/{seq:012d}.json    {owner, token, host, pid, acquired_at, renewed_at, expires_at, released}

Protocol (every step is one store call; no call needs more than ``put_if_absent``):

- **The lock is the highest slot.** Slots are numbered; the lease in the highest one says who holds
  the lock and until when. A slot is created only with ``put_if_absent`` (``os.link`` on a file system,
  ``IfNoneMatch="*"`` on S3), so each slot has exactly one creator.
- **Acquire**: read the highest slot. None, released or expired: create the next slot. Live: raise
  :class:`LockHeldError` naming the holder. After creating, read back the lease and list the slots:
  the lock is ours only if our lease is in the highest slot. Then slots below ours are deleted.
- **Break a stale lease** = create the slot above it. Two breakers race for the same new slot and
  exactly one wins; nobody ever deletes or overwrites a slot that may be the highest, so there is no
  delete-then-create window in which two breakers can both win.
- **Renew** (a daemon thread, every ``ttl/4``): check that our slot is still the highest and holds our
  token, then a plain ``put`` of our lease with a new ``expires_at``. A holder that finds a newer slot
  has lost the lock (it failed to renew for a whole ``ttl``): it stops the sweep.
- **Release**: only while still the holder, our slot is rewritten with ``released: true`` (and kept, so
  that slot numbers only grow; the next holder deletes it).

Residual races: on a store without conditional puts (an S3 server that ignores ``IfNoneMatch``,
detected by ``S3Store``'s probe) ``put_if_absent`` is exists-then-put, so two contenders for one slot
can both believe they won for up to one renewal interval; the loser's next renewal reads the other's
token and stops its sweep. Leases use wall-clock time, so hosts' clocks must agree to well within
``ttl``. A holder paused for longer than ``ttl`` (the lease lapsed) keeps running until its next
renewal notices. None of these can corrupt results: item commits are create-if-absent.
"""

from __future__ import annotations

import _thread
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

import structlog

from orchestrator.store import ResultStore
from workers.errors import EvalfleetError, InfraError, UserInputError, one_line
from workers.sandbox.labels import process_start

log = structlog.get_logger(__name__)

LOCKS_PREFIX = "locks"
DEFAULT_TTL_S = 120.0
SCHEMA_VERSION = 1
_MAX_ROUNDS = 32
_SLOT = re.compile(r"^(\d{12})\.json$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@dataclass(frozen=True)
class Lease:
    """Who holds a lock and until when: the content of one slot."""

    name: str
    seq: int
    owner: str
    token: str
    host: str
    pid: int
    acquired_at: float
    renewed_at: float
    expires_at: float
    released: bool = False
    schema_version: int = SCHEMA_VERSION
    pid_start: str | None = None

    def live(self, now: float) -> bool:
        return not self.released and now < self.expires_at and not self.owner_dead()

    def owner_dead(self) -> bool:
        """A holder on this host whose process is gone (or whose pid was reused) holds nothing: a driver
        killed with SIGKILL can be resumed at once instead of waiting for its lease to lapse."""
        if self.host != socket.gethostname() or self.pid_start is None:
            return False
        return process_start(self.pid) != self.pid_start

    def describe(self) -> str:
        where = f"{self.host}:{self.pid}"
        return where if self.owner == where else f"{self.owner} on {where}"

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Lease | None:
        """The lease, or None when the object is not a lease (it is then treated as expired)."""
        try:
            raw = json.loads(data)
            return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})
        except (ValueError, TypeError, KeyError):
            return None


class LockHeldError(UserInputError):
    """Another run holds the sweep's lock: one line naming the holder and when its lease expires."""

    def __init__(self, lease: Lease, now: float) -> None:
        self.lease = lease
        super().__init__(
            f"sweep {lease.name} is being run by {lease.describe()} since {_iso(lease.acquired_at)}; "
            f"its lease expires {_iso(lease.expires_at)} (in {max(0, round(lease.expires_at - now))} s)",
            fix="wait for that run to finish, or for its lease to expire if it died",
        )


class LockLostError(EvalfleetError):
    """The lock was taken over while we held it (our lease lapsed, or a store without conditional puts)."""


class StoreLock:
    """A lease-based lock named ``name`` in ``store`` (see the module docstring for the protocol)."""

    def __init__(
        self,
        store: ResultStore,
        name: str,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not _NAME.match(name):
            raise ValueError(f"bad lock name {name!r}: letters, digits, '.', '_' and '-' only")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self.store = store
        self.name = name
        self.ttl_s = ttl_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.token = uuid.uuid4().hex
        self.clock = clock
        self.lease: Lease | None = None

    @property
    def prefix(self) -> str:
        return f"{LOCKS_PREFIX}/{self.name}/"

    def key(self, seq: int) -> str:
        return f"{self.prefix}{seq:012d}.json"

    def slots(self) -> list[int]:
        """Slot numbers present, ascending."""
        found = []
        for key in self.store.list(self.prefix):
            match = _SLOT.match(key.rsplit("/", 1)[-1])
            if match:
                found.append(int(match.group(1)))
        return sorted(found)

    def holder(self) -> tuple[int, Lease | None] | None:
        """The highest slot and its lease (None for an unreadable one); None when there is no slot."""
        for _ in range(_MAX_ROUNDS):
            seqs = self.slots()
            if not seqs:
                return None
            data = self.store.get(self.key(seqs[-1]))
            if data is not None:
                return seqs[-1], Lease.from_json(data)
            # the slot went between list and get (an obsolete slot deleted by its creator): look again
        raise InfraError(f"lock {self.name}: its slots keep changing under us")

    def _new_lease(self, seq: int, now: float) -> Lease:
        return Lease(
            name=self.name,
            seq=seq,
            owner=self.owner,
            token=self.token,
            host=socket.gethostname(),
            pid=os.getpid(),
            pid_start=process_start(os.getpid()),
            acquired_at=now,
            renewed_at=now,
            expires_at=now + self.ttl_s,
        )

    def acquire(self) -> Lease:
        """Take the lock, breaking an expired or released lease; LockHeldError when it is live."""
        for _ in range(_MAX_ROUNDS):
            top = self.holder()
            now = self.clock()
            seq = 0
            if top is not None:
                top_seq, lease = top
                if lease is not None and lease.token == self.token and not lease.released:
                    return self._adopt(lease)  # ours: a retried conditional put that had succeeded
                if lease is not None and lease.live(now):
                    raise LockHeldError(lease, now)
                if lease is None:
                    log.warning("unreadable lease: treated as expired", lock=self.name, seq=top_seq)
                elif not lease.released:
                    log.info(
                        "breaking an expired lease",
                        lock=self.name,
                        holder=lease.describe(),
                        expired_at=_iso(lease.expires_at),
                    )
                seq = top_seq + 1
            mine = self._new_lease(seq, now)
            if self.store.put_if_absent(self.key(seq), mine.to_json()) and self._confirm(mine):
                return self._adopt(mine)
        raise InfraError(f"lock {self.name}: no free slot after {_MAX_ROUNDS} rounds of contention")

    def _confirm(self, mine: Lease) -> bool:
        """After creating slot ``mine.seq``: ours only if it holds our token and is the highest slot."""
        data = self.store.get(self.key(mine.seq))
        lease = Lease.from_json(data) if data is not None else None
        if lease is None or lease.token != self.token:
            return False  # a store without conditional puts let another writer in after us
        if self.slots()[-1:] != [mine.seq]:
            # we re-created a slot that had been pruned below a newer one: ours is obsolete
            self.store.delete(self.key(mine.seq))
            return False
        return True

    def _adopt(self, lease: Lease) -> Lease:
        self.lease = lease
        for seq in self.slots():
            if seq < lease.seq:
                self.store.delete(self.key(seq))
        log.debug("lock taken", lock=self.name, seq=lease.seq, expires_at=_iso(lease.expires_at))
        return lease

    def _still_mine(self) -> Lease:
        if self.lease is None:
            raise LockLostError(f"lock {self.name} is not held by this process")
        top = self.holder()
        if top is None or top[0] != self.lease.seq or top[1] is None or top[1].token != self.token:
            other = top[1].describe() if top is not None and top[1] is not None else "nobody"
            raise LockLostError(f"lock {self.name} was taken over by {other} (our lease had lapsed)")
        return top[1]

    def renew(self) -> Lease:
        """Extend our lease by ``ttl_s`` from now; LockLostError when it is no longer ours."""
        self._still_mine()
        assert self.lease is not None
        now = self.clock()
        renewed = replace(self.lease, renewed_at=now, expires_at=now + self.ttl_s)
        self.store.put(self.key(renewed.seq), renewed.to_json())
        self.lease = renewed
        return renewed

    def release(self) -> bool:
        """Mark our lease released, only while we still hold it; False (nothing written) otherwise."""
        try:
            self._still_mine()
        except LockLostError as exc:
            log.warning("lock not released: not ours", lock=self.name, reason=str(exc))
            return False
        assert self.lease is not None
        now = self.clock()
        released = replace(self.lease, renewed_at=now, expires_at=now, released=True)
        self.store.put(self.key(released.seq), released.to_json())
        self.lease = None
        log.debug("lock released", lock=self.name, seq=released.seq)
        return True


class Heartbeat(threading.Thread):
    """Renews a held lock every ``every_s`` until stopped; calls ``on_lost`` once if it is taken over."""

    def __init__(self, lock: StoreLock, every_s: float, on_lost: Callable[[LockLostError], None]) -> None:
        super().__init__(name=f"lock-heartbeat-{lock.name}", daemon=True)
        self.lock = lock
        self.every_s = every_s
        self.on_lost = on_lost
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every_s):
            try:
                self.lock.renew()
            except LockLostError as exc:
                self.on_lost(exc)
                return
            except Exception as exc:  # store unreachable: next beat tries again; the lease may lapse
                log.warning("lock renewal failed", lock=self.lock.name, error=one_line(exc, 200))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def stop_the_run(exc: LockLostError) -> None:
    """Default reaction to a lost lock: say why on stderr and interrupt the main thread (the driver)."""
    print(f"evalfleet: error: {exc}; stopping this run", file=sys.stderr)
    log.error("run lock lost", error=str(exc))
    _thread.interrupt_main()


@contextmanager
def sweep_lock(
    store: ResultStore,
    name: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    owner: str | None = None,
    renew_every_s: float | None = None,
    on_lost: Callable[[LockLostError], None] = stop_the_run,
) -> Iterator[StoreLock]:
    """Hold the run lock ``name`` (a sweep id) for the body: LockHeldError at once when another run holds it.

    The lease is renewed every ``renew_every_s`` (default ``ttl_s / 4``) and released on exit, only if
    still ours. A run that dies leaves a lease that expires after ``ttl_s``; the next run breaks it.
    """
    lock = StoreLock(store, name, ttl_s=ttl_s, owner=owner)
    lock.acquire()
    beat = Heartbeat(lock, renew_every_s or ttl_s / 4, on_lost)
    beat.start()
    try:
        yield lock
    finally:
        beat.stop()
        try:
            lock.release()
        except Exception as exc:  # the lease expires by itself within ttl_s
            log.warning("lock release failed", lock=name, error=one_line(exc, 200))
