"""The commit protocol of one work item, and the attempts it took (kept across tasks and nodes).

Each attempt leaves ``attempt-{n}/started.json`` when it begins and ``attempt-{n}/attempt.json`` with
its logs when it ends, so an attempt whose worker or node died still counts; ``result.json`` is
written last and once. An item whose attempts ended without a verdict gets ``failure.json`` instead
(overwritten, never a commit), so the next run of the sweep evaluates it again.
"""

from __future__ import annotations

import gc
import json
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.store import ATTEMPT_DIR, FAILURE, RESULT, ResultStore, SweepPaths
from workers.models import Attempt, ErrorInfo, Result

STARTED, RECORD = "started.json", "attempt.json"


def mark_attempt_started(store: ResultStore, sweep_id: str, key: str, n: int, driver: str = "") -> None:
    marker = {"n": n, "node": socket.gethostname(), "started_at": time.time(), "driver": driver}
    store.put(f"{SweepPaths(sweep_id).attempt(key, n)}/{STARTED}", json.dumps(marker).encode("utf-8"))


def prior_attempts(store: ResultStore, sweep_id: str, key: str) -> list[Attempt]:
    """Attempts made by earlier tasks of this item, finished or not, in order."""
    paths = SweepPaths(sweep_id)
    numbers = sorted(
        {n for k in store.list(f"{paths.item(key)}/") if (n := paths.attempt_number(key, k)) is not None}
    )
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
                driver=str(started.get("driver", "")),
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
    """Upload the logs and the record of every attempt left in ``outdir`` (then delete them there);
    returns log name (``attempt-N/file``) -> object key."""
    paths = SweepPaths(result.sweep_id)
    by_n = {a.n: a for a in result.attempts}
    log_keys: dict[str, str] = {}
    for attempt_dir in sorted(p for p in outdir.iterdir() if p.is_dir() and p.name.startswith(ATTEMPT_DIR)):
        n = int(attempt_dir.name.removeprefix(ATTEMPT_DIR))
        base = paths.attempt(result.key, n)
        for f in sorted(attempt_dir.iterdir()):
            if f.is_file():
                store.put(f"{base}/{f.name}", f.read_bytes())
                log_keys[f"{attempt_dir.name}/{f.name}"] = f"{base}/{f.name}"
        if n in by_n:
            store.put(f"{base}/{RECORD}", by_n[n].model_dump_json().encode("utf-8"))
        shutil.rmtree(attempt_dir, ignore_errors=True)
    return log_keys


def _all_attempts(result: Result, prior: list[Attempt] | None) -> list[Attempt]:
    mine = {a.n for a in result.attempts}
    return [a for a in (prior or []) if a.n not in mine] + result.attempts


def commit_result(
    store: ResultStore,
    result: Result,
    outdir: Path,
    prior: list[Attempt] | None = None,
    uploaded: dict[str, str] | None = None,
) -> bool:
    """Logs first, ``result.json`` last and once. Returns False when the key was already committed.
    ``uploaded``: log keys of attempts already uploaded (failed attempts before the one that counted)."""
    paths = SweepPaths(result.sweep_id)
    if store.exists(paths.result(result.key)):
        return False
    log_keys = {**(uploaded or {}), **upload_attempts(store, result, outdir)}
    record = result.model_copy(
        update={"log_files": log_keys or result.log_files, "attempts": _all_attempts(result, prior)}
    )
    return store.put_if_absent(paths.result(result.key), record.model_dump_json(indent=2).encode("utf-8"))


def record_failure(store: ResultStore, result: Result, prior: list[Attempt] | None = None) -> None:
    """An item whose attempts ended without a verdict: its latest failure, with every attempt so far, in
    ``failure.json`` (overwritten by a later failure). Never a commit: the item stays to be evaluated."""
    record = result.model_copy(update={"attempts": _all_attempts(result, prior), "log_files": {}})
    store.put(
        SweepPaths(result.sweep_id).failure(result.key), record.model_dump_json(indent=2).encode("utf-8")
    )


def failures(store: ResultStore, sweep_id: str, committed: set[str] | None = None) -> list[Result]:
    """Items with a recorded infrastructure failure and no verdict (``committed`` saves a listing)."""
    done = committed_keys(store, sweep_id) if committed is None else committed
    out = []
    for key in sorted(items_with(store, sweep_id, FAILURE) - done):
        data = store.get(SweepPaths(sweep_id).failure(key))
        if data is not None:
            out.append(Result.model_validate_json(data))
    return out


def committed_keys(store: ResultStore, sweep_id: str) -> set[str]:
    """Keys whose result.json exists: what a resumed sweep does not plan again."""
    return items_with(store, sweep_id, RESULT)


def items_with(store: ResultStore, sweep_id: str, name: str) -> set[str]:
    """Keys of the items that have an object ``name`` (e.g. result.json) directly in their folder."""
    prefix = SweepPaths(sweep_id).items
    return {k[len(prefix) :].split("/", 1)[0] for k in store.keys_named(prefix, name)}


def load_results(store: ResultStore, sweep_id: str) -> list[Result]:
    """Every committed result of the sweep, in key order."""
    out = []
    with gc_paused():  # many small objects and no cycles: collecting while they pile up costs 3x the parse
        for _key, data in store.get_named(SweepPaths(sweep_id).items, RESULT):
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
