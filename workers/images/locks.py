"""Build each tag once: a thread lock per tag, then a file lock per tag, then look again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, Field

from workers.errors import ImageBuildError
from workers.images.hashing import safe_name

log = structlog.get_logger(__name__)

_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


class EnsureResult(BaseModel):
    """How one layer was ensured."""

    model_config = ConfigDict(frozen=True)

    layer: str
    tag: str
    image_id: str
    built: bool = Field(description="True when this call built (or imported/pulled) the image.")
    pulled: bool = Field(
        default=False,
        description="True when this call pulled it from the cluster's registry (images.registry).",
    )
    waited_s: float = Field(default=0.0, description="Time spent waiting for locks.")
    build_s: float = Field(default=0.0, description="Time spent building.")


def _thread_lock(tag: str) -> threading.Lock:
    with _guard:
        return _thread_locks.setdefault(tag, threading.Lock())


@contextmanager
def tag_lock(tag: str, lock_dir: Path, timeout_s: float) -> Iterator[float]:
    """Hold the per-tag lock of this process and of this host; yields the seconds waited."""
    from filelock import FileLock, Timeout

    t0 = time.monotonic()
    lock = _thread_lock(tag)
    if not lock.acquire(timeout=timeout_s):
        raise ImageBuildError(f"waited {timeout_s:.0f}s for another thread's build of {tag}")
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
        remaining = max(0.0, timeout_s - (time.monotonic() - t0))
        try:
            with FileLock(str(lock_dir / f"{safe_name(tag)}.lock"), timeout=remaining):
                yield time.monotonic() - t0
        except Timeout:
            raise ImageBuildError(f"waited {timeout_s:.0f}s for another process's build of {tag}") from None
    finally:
        lock.release()


def ensure_once(
    layer: str,
    tag: str,
    *,
    find: Callable[[], str | None],
    build: Callable[[], str],
    lock_dir: Path,
    timeout_s: float,
    fetch: Callable[[], str | None] | None = None,
) -> EnsureResult:
    """The image id of ``tag``: found, or built by exactly one caller while the others wait. With
    ``fetch`` (a shared registry), the build is also once per cluster: under the cluster's lock of the
    tag the image is fetched when another node made it, else built (``cluster_lock.build_or_fetch``)."""
    image_id = find()
    if image_id:
        return EnsureResult(layer=layer, tag=tag, image_id=image_id, built=False)
    with tag_lock(tag, lock_dir, timeout_s) as waited:
        image_id = find()
        if image_id:
            log.debug("built by another caller", tag=tag, waited_s=round(waited, 2))
            return EnsureResult(layer=layer, tag=tag, image_id=image_id, built=False, waited_s=waited)
        t0 = time.monotonic()
        if fetch is None:
            image_id, built = build(), True
        else:
            from workers.images.cluster_lock import build_or_fetch

            image_id, built = build_or_fetch(tag, fetch=fetch, build=build, timeout_s=timeout_s)
        return EnsureResult(
            layer=layer,
            tag=tag,
            image_id=image_id,
            built=built,
            pulled=not built,
            waited_s=waited,
            build_s=time.monotonic() - t0,
        )
