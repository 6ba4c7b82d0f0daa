"""A bound on a sandbox's total disk use where the engine's storage has no quota.

Docker enforces ``--storage-opt size=`` only on overlay2 over xfs with project quotas (and a few other
drivers); elsewhere (overlay2 over ext4, the common case) a sandbox could fill the node's disk with many
files, each under RLIMIT_FSIZE. While a command runs, ``DiskWatch`` polls the size of the sandbox's
writable layer (the engine's ``SizeRw``: the work tree's changes, /tmp, everything written) and ends
the sandbox once it passes the limit. The bound is soft by what can be written between two polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import structlog

from workers.errors import SandboxError
from workers.sandbox.deadline import bounded, one_line

log = structlog.get_logger(__name__)
POLL_S = 1.0
CALL_TIMEOUT_S = 30.0


def writable_bytes(api: Any, container_id: str) -> int | None:
    """Bytes in the container's writable layer, as the engine counts them (None: unknown)."""
    found = bounded(
        "disk size",
        CALL_TIMEOUT_S,
        lambda: api.containers(all=True, filters={"id": container_id}, size=True),
    )
    size = found[0].get("SizeRw") if found else None
    return int(size) if size is not None else None


class DiskWatch:
    """Context manager: polls the writable layer while a command runs; ``on_exceeded()`` once past
    ``limit_bytes`` (``exceeded`` then stays True)."""

    def __init__(
        self, api: Any, container_id: str, limit_bytes: int, on_exceeded: Callable[[], None]
    ) -> None:
        self._api, self._id, self._limit = api, container_id, limit_bytes
        self._on_exceeded = on_exceeded
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="evalfleet-diskwatch", daemon=True)
        self.exceeded = False
        self.peak = 0

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=CALL_TIMEOUT_S + 5)

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                size = writable_bytes(self._api, self._id)
            except SandboxError as exc:  # the engine is slow or gone: the command's own result says so
                log.debug("diskwatch.poll_failed", container=self._id[:12], error=one_line(exc))
                continue
            except Exception as exc:  # an API error of a container being removed: nothing to watch
                log.debug("diskwatch.poll_failed", container=self._id[:12], error=one_line(exc))
                continue
            if size is None:
                continue
            self.peak = max(self.peak, size)
            if size > self._limit and not self._stop.is_set():
                self.exceeded = True
                log.info("sandbox.disk_limit", container=self._id[:12], bytes=size, limit=self._limit)
                self._on_exceeded()
                return
