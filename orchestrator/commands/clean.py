"""`evalfleet clean`: remove sandboxes that crashed drivers left behind, on this host or every node."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.console import make_console
from orchestrator.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h``, ``1d`` -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise ConfigError(
            f"bad duration {text!r}", source="--older-than", fix="write e.g. 90s, 30m, 2h or 1d"
        )
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def clean_command(*, sweep: str | None, older_than: str | None, ray_address: str | None, force: bool) -> int:
    """Remove leftover sandboxes: those whose owner process died or whose lifetime ran out (with
    ``force``, every one that matches). On every node of the cluster at ``ray_address``, else here."""
    from workers.sandbox.janitor import reap

    age = parse_duration(older_than) if older_than else None
    kwargs: dict[str, Any] = {"sweep_id": sweep, "older_than_s": age, "dead_owners_only": not force}
    console = make_console()
    if not ray_address:
        removed = len(reap(**kwargs))
        console.print(f"removed {removed} sandbox(es) on this host")
        return removed
    from orchestrator.scheduler import init_ray, on_sandbox_nodes

    init_ray(ray_address, sandbox_slots=None)
    total = 0
    for node_id, got in sorted(on_sandbox_nodes(reap, kwargs).items()):
        if isinstance(got, Exception):
            console.print(f"node {node_id[:12]}: janitor failed: {' '.join(str(got).split())[:200]}")
            continue
        total += len(got)
        console.print(f"node {node_id[:12]}: removed {len(got)} sandbox(es)")
    console.print(f"removed {total} sandbox(es) on the cluster")
    return total
