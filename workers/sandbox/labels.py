"""Labels every evalfleet sandbox carries, and who owns a sandbox: what the janitor reads.

The owner is ``hostname:pid`` of the creating process, plus that process's start time (clock ticks
since boot, from /proc) so a reused pid is not mistaken for a live owner. The driver label names the run
instance of the driver (one per `evalfleet run`), so a driver's janitor removes only its own sandboxes
even when another driver evaluates the same sweep into another store; the ttl label bounds a sandbox's
life for janitors that cannot tell whether its owner lives.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

SWEEP = "evalfleet.sweep"
ITEM = "evalfleet.item"
ATTEMPT = "evalfleet.attempt"
OWNER = "evalfleet.owner"
OWNER_START = "evalfleet.owner_start"
CREATED = "evalfleet.created"
DRIVER = "evalfleet.driver"
TTL = "evalfleet.ttl"
SPARE_EXTRA_TTL_S = 300.0  # a spare waits for its item before its own lifetime starts


def item_labels(
    sweep_id: str, item_key: str, attempt: int, *, driver: str = "", ttl_s: float | None = None
) -> dict[str, str]:
    """Labels naming the work item and attempt a sandbox belongs to, the driver run instance that asked
    for it, and its lifetime: after ``created + ttl`` any janitor may remove it."""
    tags = {SWEEP: sweep_id, ITEM: item_key, ATTEMPT: str(attempt), DRIVER: driver}
    if ttl_s is not None:
        tags[TTL] = f"{ttl_s:.0f}"
    return tags


def expired(labels: dict[str, str], now: float | None = None) -> bool:
    """True when the sandbox outlived its lifetime (labels ``created`` + ``ttl``)."""
    created = created_at(labels)
    try:
        ttl = float(labels[TTL])
    except (KeyError, ValueError):
        return False
    return created is not None and (now or time.time()) > created + ttl


def process_start(pid: int) -> str | None:
    """Start time of a process (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def owner_labels() -> dict[str, str]:
    """Labels naming this process as the owner, with the creation time."""
    pid = os.getpid()
    return {
        OWNER: f"{socket.gethostname()}:{pid}",
        OWNER_START: process_start(pid) or "",
        CREATED: f"{time.time():.3f}",
    }


def owner_is_dead(labels: dict[str, str]) -> bool:
    """True only when the owner provably is gone: same host, and no process with that pid and start."""
    host, _, pid_text = labels.get(OWNER, "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    start = process_start(int(pid_text))
    if start is None:
        return True
    recorded = labels.get(OWNER_START, "")
    return bool(recorded) and recorded != start


def created_at(labels: dict[str, str]) -> float | None:
    try:
        return float(labels[CREATED])
    except (KeyError, ValueError):
        return None
