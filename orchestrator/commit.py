"""The commit protocol of one work item, and the attempts it took (kept across tasks and nodes).

Each attempt leaves ``attempt-{n}/started.json`` when it begins and ``attempt-{n}/attempt.json`` with
its logs when it ends, so an attempt whose worker or node died still counts; ``result.json`` is
written last and once.
"""

from __future__ import annotations

import gc
import json
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.store import ResultStore, SweepPaths
from workers.models import Attempt, ErrorInfo, Result

STARTED, RECORD = "started.json", "attempt.json"


def mark_attempt_started(store: ResultStore, sweep_id: str, key: str, n: int) -> None:
    marker = {"n": n, "node": socket.gethostname(), "started_at": time.time()}
    store.put(f"{SweepPaths(sweep_id).attempt(key, n)}/{STARTED}", json.dumps(marker).encode("utf-8"))


def prior_attempts(store: ResultStore, sweep_id: str, key: str) -> list[Attempt]:
    """Attempts made by earlier tasks of this item, finished or not, in order."""
    paths = SweepPaths(sweep_id)
    prefix = f"{paths.item(key)}/attempt-"
    numbers = sorted({int(k[len(prefix) :].split("/", 1)[0]) for k in store.list(prefix)})
    attempts = []
    for n in numbers:
        base = paths.attempt(key, n)
        record = store.get(f"{base}/{RECORD}")
        if record is not None:
            attempts.append(Attempt.model_validate_json(record))
            continue
        started = json.loads(store.get(f"{base}/{STARTED}") or b"{}")
        t0 = float(started.get("started_at", 0.0))
        attempts.append(
            Attempt(
                n=n,
                started_at=t0,
                finished_at=t0,
                node=str(started.get("node", "")),
                error=ErrorInfo(
                    error_class="AttemptLost",
                    message="the attempt never finished: its worker or node died",
                    phase="unknown",
                    retryable=True,
                ),
            )
        )
    return attempts


def upload_attempts(store: ResultStore, result: Result, outdir: Path) -> dict[str, str]:
    """Upload the logs and the record of every attempt in ``outdir``; returns log name -> object key."""
    paths = SweepPaths(result.sweep_id)
    by_n = {a.n: a for a in result.attempts}
    log_keys: dict[str, str] = {}
    for attempt_dir in sorted(p for p in outdir.iterdir() if p.is_dir() and p.name.startswith("attempt-")):
        n = int(attempt_dir.name.removeprefix("attempt-"))
        base = paths.attempt(result.key, n)
        for f in sorted(attempt_dir.iterdir()):
            if f.is_file():
                store.put(f"{base}/{f.name}", f.read_bytes())
                log_keys[f"{attempt_dir.name}/{f.name}"] = f"{base}/{f.name}"
        if n in by_n:
            store.put(f"{base}/{RECORD}", by_n[n].model_dump_json().encode("utf-8"))
    return log_keys


def commit_result(
    store: ResultStore, result: Result, outdir: Path, prior: list[Attempt] | None = None
) -> bool:
    """Logs first, ``result.json`` last and once. Returns False when the key was already committed."""
    paths = SweepPaths(result.sweep_id)
    if store.exists(paths.result(result.key)):
        return False
    log_keys = upload_attempts(store, result, outdir)
    attempts = [a for a in (prior or []) if a.n not in {b.n for b in result.attempts}] + result.attempts
    record = result.model_copy(update={"log_files": log_keys or result.log_files, "attempts": attempts})
    return store.put_if_absent(paths.result(result.key), record.model_dump_json(indent=2).encode("utf-8"))


def committed_keys(store: ResultStore, sweep_id: str) -> set[str]:
    """Keys whose result.json exists: what a resumed sweep does not plan again."""
    prefix = SweepPaths(sweep_id).items
    keys_named = getattr(store, "keys_named", None)  # a file store lists one level, not every attempt's logs
    if keys_named is not None:
        return {k[len(prefix) :].split("/", 1)[0] for k in keys_named(prefix, "result.json")}
    return {
        k[len(prefix) :].split("/", 1)[0]
        for k in store.list(prefix)
        if k.endswith("/result.json") and k.count("/") == prefix.count("/") + 1
    }


def load_results(store: ResultStore, sweep_id: str) -> list[Result]:
    """Every committed result of the sweep, in key order."""
    paths = SweepPaths(sweep_id)
    get_named = getattr(store, "get_named", None)  # a file store: list and read in one pass
    if get_named is not None:
        blobs: Iterable[bytes | None] = (data for _key, data in get_named(paths.items, "result.json"))
    else:
        keys = [paths.result(key) for key in sorted(committed_keys(store, sweep_id))]
        get_many = getattr(store, "get_many", None)  # a remote store reads several at a time
        blobs = get_many(keys) if get_many is not None else map(store.get, keys)
    out = []
    with gc_paused():  # many small objects and no cycles: collecting while they pile up costs 3x the parse
        for data in blobs:
            if data is not None:
                out.append(Result.model_validate_json(data))
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees everything as usual)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
