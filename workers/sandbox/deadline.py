"""Calls that never hang: each runs in a daemon thread and is abandoned at its deadline.

Docker's API has no per-call deadline (its client timeout bounds one socket read, not a call), so
every backend call goes through ``bounded``. An abandoned thread finishes on its own (or at the client's
socket timeout) and, being a daemon, never blocks interpreter exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from workers.errors import SandboxError, one_line

__all__ = ["bounded", "one_line"]
T = TypeVar("T")
log = structlog.get_logger(__name__)


def bounded(phase: str, timeout: float, fn: Callable[[], T]) -> T:
    """``fn()``, or SandboxError when it has not returned after ``timeout`` seconds.

    Exceptions raised by ``fn`` propagate unchanged.
    """
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, fn()))
        except BaseException as exc:
            outcome.append((False, exc))

    started = time.monotonic()
    worker = threading.Thread(target=run, name=f"evalfleet-sandbox-{phase}", daemon=True)
    worker.start()
    worker.join(max(timeout, 0.0))
    elapsed = time.monotonic() - started
    if not outcome:
        log.warning("sandbox.call_timeout", phase=phase, timeout_s=timeout)
        raise SandboxError(f"{phase}: no answer from the sandbox backend within {timeout:g} s")
    log.debug("sandbox.call", phase=phase, duration_s=round(elapsed, 4))
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[return-value]
    assert isinstance(value, BaseException)
    raise value
