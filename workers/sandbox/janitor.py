"""Removes leftover evalfleet sandboxes after a crash: by sweep, by driver, by dead owner, by age.

Safe to run concurrently with other janitors and with live sweeps: a container whose owner process
is alive and whose lifetime (``ttl`` label) has not run out is kept unless ``dead_owners_only=False``,
and losing a removal race is not an error.
"""

from __future__ import annotations

import time
from typing import Any

import structlog

from workers.sandbox import labels

log = structlog.get_logger(__name__)


def reap(
    client: Any = None,
    *,
    sweep_id: str | None = None,
    driver: str | None = None,
    older_than_s: float | None = None,
    dead_owners_only: bool = True,
    timeout: float = 60.0,
) -> list[str]:
    """Remove evalfleet containers on this engine; returns the ids this call removed.

    Candidates are every container labelled ``evalfleet.owner``, narrowed to ``sweep_id``, to ``driver``
    (a driver's run instance: another driver's sandboxes of the same sweep are left alone) and to those
    created more than ``older_than_s`` ago, when given. With ``dead_owners_only`` (the default) only
    candidates whose owner provably is dead (same host, pid gone or reused) or whose lifetime ran out
    are removed; ``dead_owners_only=False`` removes every candidate.
    """
    from workers.sandbox.docker import DockerBackend, call

    api = (client or DockerBackend().client).api
    wanted = [labels.OWNER]
    wanted += [f"{labels.SWEEP}={sweep_id}"] if sweep_id else []
    wanted += [f"{labels.DRIVER}={driver}"] if driver else []
    found = call("janitor list", timeout, lambda: api.containers(all=True, filters={"label": wanted}))
    now = time.time()
    removed: list[str] = []
    for container in found:
        tags: dict[str, str] = container.get("Labels") or {}
        created = labels.created_at(tags) or float(container.get("Created", now))
        if older_than_s is not None and now - created < older_than_s:
            continue
        if dead_owners_only and not (labels.owner_is_dead(tags) or labels.expired(tags, now)):
            continue
        if _remove(api, container["Id"], timeout):
            removed.append(container["Id"])
    if removed:
        log.info("janitor.reaped", count=len(removed), sweep=sweep_id, driver=driver)
    return removed


def _remove(api: Any, container_id: str, timeout: float) -> bool:
    """True when this call removed the container; False when it was gone, taken by another, or stuck."""
    from docker.errors import APIError, NotFound

    from workers.errors import SandboxError
    from workers.sandbox.docker import call

    try:
        call("janitor remove", timeout, lambda: api.remove_container(container_id, force=True, v=True))
    except SandboxError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, NotFound) or (isinstance(cause, APIError) and cause.status_code == 409)):
            log.warning("janitor.remove_failed", container=container_id[:12], error=str(exc))
        return False
    return True
