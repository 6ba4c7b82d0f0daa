"""A build lock spanning the Ray cluster: one node builds a layer, the others wait and pull it.

The host's file lock (``locks.py``) serialises the builds of one Docker engine; a cluster of N nodes has
N engines. With a shared registry (``images.registry``) a node that misses a layer takes the cluster's
lock of that tag before building: the lock is a lease in a named Ray actor (``evalfleet-build-locks``,
detached, no CPU), given to one owner at a time and taken over when its holder stops renewing it (a
node died mid-build). Waiters poll the registry meanwhile and take the image as soon as it is pushed.
Outside a Ray worker (a laptop, ``evalfleet images build``) there is no cluster: no lock is taken.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)

ACTOR_NAME, NAMESPACE = "evalfleet-build-locks", "evalfleet"
LEASE_S = 60.0


class _Leases:
    """tag -> (owner, expiry): the actor's state (a plain class, wrapped by ray.remote on first use)."""

    def __init__(self) -> None:
        self.leases: dict[str, tuple[str, float]] = {}

    def acquire(self, tag: str, owner: str, lease_s: float) -> str | None:
        """Take (or renew) the lease; None when granted, else the holder."""
        now = time.time()
        holder = self.leases.get(tag)
        if holder is None or holder[0] == owner or holder[1] < now:
            self.leases[tag] = (owner, now + lease_s)
            return None
        return holder[0]

    def release(self, tag: str, owner: str) -> None:
        if self.leases.get(tag, ("", 0.0))[0] == owner:
            del self.leases[tag]


def _actor() -> Any | None:
    """The cluster's lock actor (created by the first caller), or None outside a Ray cluster."""
    try:
        import ray
    except ImportError:
        return None
    if not ray.is_initialized():
        return None
    cls = ray.remote(num_cpus=0, max_restarts=-1)(_Leases)
    return cls.options(name=ACTOR_NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True).remote()


def build_or_fetch(
    tag: str,
    *,
    fetch: Callable[[], str | None],
    build: Callable[[], str],
    timeout_s: float,
    poll_s: float = 2.0,
) -> tuple[str, bool]:
    """(image id, built): ``fetch`` the image while another node holds the cluster's lock of ``tag``,
    else ``build`` it under the lock (renewed in the background while building)."""
    actor = _actor()
    if actor is None:
        image_id = fetch()
        return (image_id, False) if image_id else (build(), True)
    import ray

    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    deadline = time.monotonic() + timeout_s
    while (holder := ray.get(actor.acquire.remote(tag, owner, LEASE_S))) is not None:
        image_id = fetch()
        if image_id:
            return image_id, False
        if time.monotonic() > deadline:
            from workers.errors import ImageBuildError

            raise ImageBuildError(f"waited {timeout_s:.0f}s for {holder}'s build of {tag}")
        log.debug("another node builds this layer", tag=tag, holder=holder)
        time.sleep(poll_s)
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LEASE_S / 4):
            actor.acquire.remote(tag, owner, LEASE_S)

    renewer = threading.Thread(target=renew, name=f"lease-{tag}", daemon=True)
    renewer.start()
    try:
        image_id = fetch()  # pushed by the previous holder just before we got the lock
        return (image_id, False) if image_id else (build(), True)
    finally:
        done.set()
        ray.get(actor.release.remote(tag, owner))
