"""Helpers shared by commands that read a sweep from a store."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.store import ResultStore, SweepPaths, open_store

DEFAULT_STORE = "file://./results"


def open_sweep(sweep_id: str, store_url: str | None) -> tuple[ResultStore, dict[str, Any]]:
    """The store and the manifest of an existing sweep; a clear error when there is none."""
    store = open_store(store_url or DEFAULT_STORE)
    raw = store.get(SweepPaths(sweep_id).manifest)
    if raw is None:
        known = list_sweeps(store)
        hint = f"known sweeps: {', '.join(known[:8])}" if known else "no sweep in this store yet"
        raise ConfigError(f"no sweep {sweep_id!r} in {store.url}", source="SWEEP", fix=hint)
    manifest: dict[str, Any] = json.loads(raw)
    return store, manifest


def list_sweeps(store: ResultStore) -> list[str]:
    return sorted({k.split("/")[1] for k in store.list("sweeps/") if k.endswith("/manifest.json")})
