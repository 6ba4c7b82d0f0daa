"""Upload an evaluated item's logs, then commit its result record (the commit protocol of store.py)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.store import ResultStore, SweepPaths
from workers.models import Result


def commit_result(store: ResultStore, result: Result, outdir: Path) -> bool:
    """Logs first, ``result.json`` last and once. Returns False when the key was already committed."""
    paths = SweepPaths(result.sweep_id)
    if store.exists(paths.result(result.key)):
        return False
    log_keys: dict[str, str] = {}
    for attempt_dir in sorted(p for p in outdir.iterdir() if p.is_dir() and p.name.startswith("attempt-")):
        n = int(attempt_dir.name.removeprefix("attempt-"))
        for f in sorted(attempt_dir.iterdir()):
            if f.is_file():
                key = f"{paths.attempt(result.key, n)}/{f.name}"
                store.put(key, f.read_bytes())
                log_keys[f"{attempt_dir.name}/{f.name}"] = key
    record = result.model_copy(update={"log_files": log_keys or result.log_files})
    return store.put_if_absent(paths.result(result.key), record.model_dump_json(indent=2).encode("utf-8"))


def committed_keys(store: ResultStore, sweep_id: str) -> set[str]:
    """Keys whose result.json exists: what a resumed sweep does not plan again."""
    prefix = SweepPaths(sweep_id).items
    return {
        k[len(prefix):].split("/", 1)[0]
        for k in store.list(prefix)
        if k.endswith("/result.json") and k.count("/") == prefix.count("/") + 1
    }


def load_results(store: ResultStore, sweep_id: str) -> list[Result]:
    paths = SweepPaths(sweep_id)
    out = []
    for key in sorted(committed_keys(store, sweep_id)):
        data = store.get(paths.result(key))
        if data is not None:
            out.append(Result.model_validate_json(data))
    return out
