"""A series of sweeps (scheduled re-evaluations of one config) written into any store through its API."""

from __future__ import annotations

import json

from orchestrator.plan import derive_seed
from orchestrator.store import ResultStore, SweepPaths
from workers.models import Attempt, Result, Verdict

SERIES = "nightly"
R, U, E = "resolved", "unresolved", "error"
# Per sweep (oldest first), per run, the verdict of instances i0..i4. What the trend must find:
# gold i2 stops resolving in the 4th sweep (rot: gold); model i0 resolved in 3 sweeps, then not (rot:
# stable); model i1 resolved once, then not (a flip, not rot: only one earlier sweep); model i3 starts
# resolving in the 2nd; model i4 has an infra error in the 3rd (kept apart: no flip, not in the rate).
VERDICTS: list[dict[str, list[Verdict]]] = [
    {"gold": [R, R, R, R, R], "model": [R, R, U, U, U]},
    {"gold": [R, R, R, R, R], "model": [R, U, U, R, U]},
    {"gold": [R, R, R, R, R], "model": [R, U, U, R, E]},
    {"gold": [R, R, U, R, R], "model": [U, U, U, R, U]},
]
# created_at out of the order of the sweep ids: the series is ordered by creation time
CREATED = [1_765_000_000.0 + 86_400 * i for i in range(len(VERDICTS))]
SWEEP_IDS = ["nightly-d", "nightly-a", "nightly-c", "nightly-b"]


def write_series(store: ResultStore) -> list[str]:
    """Four sweeps of SERIES and one sweep of another config; returns the series' sweep ids, oldest first."""
    for sid, created, runs in zip(SWEEP_IDS, CREATED, VERDICTS, strict=True):
        write_sweep(store, sid, SERIES, created, runs)
    write_sweep(store, "weekly-x", "weekly", CREATED[-1] + 1, {"model": [U] * 5})
    return SWEEP_IDS


def write_sweep(
    store: ResultStore, sid: str, name: str, created: float, runs: dict[str, list[Verdict]]
) -> None:
    paths = SweepPaths(sid)
    for run, verdicts in runs.items():
        for i, verdict in enumerate(verdicts):
            iid = f"org__repo-{i}"
            result = Result(
                key=f"{run}-{i}",
                sweep_id=sid,
                instance_id=iid,
                repo="org/repo",
                run=run,
                repeat=0,
                seed=derive_seed(0, run, iid, 0),
                verdict=verdict,
                attempts=[Attempt(n=1, started_at=created, finished_at=created + 1, verdict=verdict)],
            )
            assert store.put_if_absent(paths.result(result.key), result.model_dump_json().encode())
    config = {"name": name, "seed": 0, "runs": [{"gold": True}, {"name": "model", "predictions": "p.jsonl"}]}
    store.put(paths.manifest, json.dumps({"sweep_id": sid, "created_at": created, "config": config}).encode())
