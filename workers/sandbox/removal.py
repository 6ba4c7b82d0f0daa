"""Sandbox removal off an item's critical path.

Removing a container (kill, unmount, delete) takes ~0.13 s on an idle engine and ~0.3 s when eight
sandboxes work at once (BENCHMARKS.md). None of it decides the verdict, so a sweep hands the sandbox to
a background thread of the worker process once the tests are done and the slot goes on to its next item
while the engine removes it. The removal waits for the next item's tests to start (``tests_started``),
or ``HOLD_S`` at most, so that it does not compete with the next item's patch phase for the engine:
while tests run, the engine has little else to do. A removal that fails, or a process that dies with removals pending, leaves
a labelled container that the janitor (``workers.sandbox.janitor``) reaps at the sweep's end or start.
"""

from __future__ import annotations

import atexit
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

import structlog

from workers.errors import SandboxError
from workers.sandbox.base import Sandbox

log = structlog.get_logger(__name__)

WORKERS = 2  # removals at once per process: more only queue in the engine
HOLD_S = 3.0
_lock = threading.Lock()
_tests = threading.Condition()
_tests_started = 0
_pool: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()


def tests_started() -> None:
    """An item's tests start in this process: removals handed over before may go ahead."""
    global _tests_started
    with _tests:
        _tests_started += 1
        _tests.notify_all()


def _remove(sandbox: Sandbox, seen: int | None) -> None:
    if seen is not None:
        with _tests:
            _tests.wait_for(lambda: _tests_started > seen, timeout=HOLD_S)
    try:
        sandbox.remove()
    except SandboxError as exc:  # the janitor reaps it later
        log.warning("sandbox.background_removal_failed", container=sandbox.id[:12], error=str(exc))


def remove_later(sandbox: Sandbox, *, hold: bool = True) -> None:
    """Remove ``sandbox`` in the background (``hold``: after the next tests start, or ``HOLD_S``);
    ``drain`` waits for every removal handed over."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="evalfleet-removal")
        future = _pool.submit(_remove, sandbox, _tests_started if hold else None)
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def pending() -> int:
    with _lock:
        return len(_pending)


def drain(timeout: float = 60.0) -> int:
    """Wait until every removal handed over is done (at most ``timeout`` s); how many are left."""
    with _lock:
        waiting = set(_pending)
    if waiting:
        _done, left = wait(waiting, timeout=timeout)
        return len(left)
    return 0


atexit.register(drain, 30.0)
