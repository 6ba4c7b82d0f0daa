"""Spare sandboxes: the next item's container started while this item's tests run.

Creating and starting a container costs ~0.3 s on an idle engine and ~1 s when eight sandboxes work
at once (BENCHMARKS.md), all of it before the item can do anything. When a worker process evaluates
items of the same image one after another (repeats, seeds, several runs over one instance, a
repository's instances sharing an image), the pool starts one container ahead, in a background
thread, once the current item's tests start (``tests_started``: the engine has little else to do
then); the next item of that image takes it ready.

The pool only starts a spare after two items in a row asked for the same configuration, so a sweep
whose consecutive items all differ (one run over per-instance images) never pays for unused spares.
A spare is a fresh container of the same image and configuration that nothing has run in; it carries
the sweep's labels (its item labels say ``spare``), so the janitor reaps one a crash leaves. There is
at most one per process; one older than ``MAX_AGE_S``, or no longer running (the engine restarted),
is removed instead of used.
"""

from __future__ import annotations

import atexit
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import structlog

from workers.errors import one_line
from workers.sandbox import labels, removal
from workers.sandbox.base import Sandbox, SandboxBackend, SandboxConfig

log = structlog.get_logger(__name__)

MAX_AGE_S = 120.0


@dataclass
class _Spare:
    key: str
    future: Future[Sandbox]
    started: float


def spare_key(config: SandboxConfig) -> str:
    """What a spare must match: the whole configuration except the item and attempt labels."""
    kept = {k: v for k, v in config.labels.items() if k not in (labels.ITEM, labels.ATTEMPT, labels.TTL)}
    return config.model_copy(update={"labels": kept}).model_dump_json()


def _spare_config(config: SandboxConfig) -> SandboxConfig:
    marked = {**config.labels, labels.ITEM: "spare", labels.ATTEMPT: "0"}
    if labels.TTL in marked:  # its item's lifetime starts when it is taken
        marked[labels.TTL] = f"{float(marked[labels.TTL]) + labels.SPARE_EXTRA_TTL_S:.0f}"
    return config.model_copy(update={"labels": marked})


class SparePool:
    """One process's spare (see the module's doc); ``acquire`` replaces ``backend.create``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spare: _Spare | None = None
        self._last_key: str | None = None
        self._starter: ThreadPoolExecutor | None = None
        self._next: tuple[SandboxBackend, SandboxConfig, str, float] | None = None

    def acquire(
        self, backend: SandboxBackend, config: SandboxConfig, *, timeout: float
    ) -> tuple[Sandbox, bool]:
        """A running sandbox for ``config`` (a spare when one matches) and whether it was a spare."""
        key = spare_key(config)
        with self._lock:
            spare, self._spare = self._spare, None
            ahead = key == self._last_key
            self._last_key = key
        sandbox = self._take(spare, key, timeout) if spare is not None else None
        hit = sandbox is not None
        if sandbox is None:
            sandbox = backend.create(config, timeout=timeout)
        with self._lock:
            self._next = (backend, config, key, timeout) if ahead else None
        return sandbox, hit

    def tests_started(self) -> None:
        """The current item's tests start: start the spare ``acquire`` decided on, if any."""
        with self._lock:
            wanted, self._next = self._next, None
        if wanted is not None:
            self._start_spare(*wanted)

    def _take(self, spare: _Spare, key: str, timeout: float) -> Sandbox | None:
        if spare.key != key or time.monotonic() - spare.started > MAX_AGE_S:
            _discard(spare)
            return None
        try:
            sandbox = spare.future.result(timeout=timeout)  # still starting: waiting beats starting anew
        except Exception as exc:  # a spare that failed to start is not an error of this item
            log.info("sandbox.spare_failed", error=one_line(exc))
            return None
        if not sandbox.running():  # e.g. started before an engine restart
            log.info("sandbox.spare_dead", container=sandbox.id[:12])  # e.g. the engine restarted
            removal.remove_later(sandbox, hold=False)
            return None
        return sandbox

    def _start_spare(self, backend: SandboxBackend, config: SandboxConfig, key: str, timeout: float) -> None:
        with self._lock:
            if self._starter is None:
                self._starter = ThreadPoolExecutor(1, thread_name_prefix="evalfleet-spare")
            future = self._starter.submit(backend.create, _spare_config(config), timeout=timeout)
            self._spare = _Spare(key=key, future=future, started=time.monotonic())

    def settle(self, timeout: float = 60.0) -> None:
        """Wait for a spare still being started. An item calls this before it returns, so that every
        container of a sweep exists by the time its last result is in (and the janitor sees it)."""
        with self._lock:
            spare = self._spare
        if spare is not None:
            wait([spare.future], timeout=timeout)

    def close(self) -> None:
        """Remove the spare, if any (at process exit; the janitor covers a process that is killed)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return
        try:
            spare.future.result(timeout=30.0).remove()
        except Exception as exc:  # never starting, or a failed removal: the janitor's then
            log.info(
                "sandbox.spare_not_removed",
                error=one_line(exc),
            )


def _discard(spare: _Spare) -> None:
    def remove(done: Future[Sandbox]) -> None:
        if done.exception() is None:
            removal.remove_later(done.result())

    spare.future.add_done_callback(remove)


_POOL = SparePool()


def acquire(backend: SandboxBackend, config: SandboxConfig, *, timeout: float) -> tuple[Sandbox, bool]:
    """``SparePool.acquire`` on this process's pool."""
    return _POOL.acquire(backend, config, timeout=timeout)


def tests_started() -> None:
    """``SparePool.tests_started`` on this process's pool."""
    _POOL.tests_started()


def settle(timeout: float = 60.0) -> None:
    """``SparePool.settle`` on this process's pool."""
    _POOL.settle(timeout)


def close() -> None:
    _POOL.close()


atexit.register(close)
