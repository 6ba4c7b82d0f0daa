"""Aggregate a sweep's committed results (read from storage, never from driver memory)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from orchestrator.commit import load_results
from orchestrator.store import ResultStore, SweepPaths
from workers.models import VERDICTS, Result

SWEBENCH_SCHEMA_VERSION = 2


def primary(results: list[Result]) -> list[Result]:
    """One result per (run, instance): repeat 0 with the lowest seed, as SWE-bench reports count."""
    best: dict[tuple[str, str], Result] = {}
    for r in results:
        k = (r.run, r.instance_id)
        if k not in best or (r.repeat, r.seed) < (best[k].repeat, best[k].seed):
            best[k] = r
    return sorted(best.values(), key=lambda r: (r.run, r.instance_id))


def swebench_run_report(results: list[Result], total_instances: int, run: str) -> dict[str, Any]:
    """The official `{model}.{run_id}.json` shape. patch_failed and timeout count as errors, as there."""
    ids: dict[str, set[str]] = defaultdict(set)
    for r in results:
        if r.run != run:
            continue
        ids["submitted"].add(r.instance_id)
        if r.verdict == "empty_patch":
            ids["empty_patch"].add(r.instance_id)
            continue
        if r.verdict in ("resolved", "unresolved"):
            ids["completed"].add(r.instance_id)
            ids[r.verdict].add(r.instance_id)
        else:
            ids["error"].add(r.instance_id)
    report: dict[str, Any] = {"total_instances": total_instances}
    for name in ("submitted", "completed", "resolved", "unresolved", "empty_patch", "error"):
        report[f"{name}_instances"] = len(ids[name])
    for name in ("completed", "incomplete", "empty_patch", "submitted", "resolved", "unresolved", "error"):
        report[f"{name}_ids"] = sorted(ids[name])
    report["schema_version"] = SWEBENCH_SCHEMA_VERSION
    return report


def extended_report(results: list[Result], manifest: dict[str, Any]) -> dict[str, Any]:
    """evalfleet's report.json: verdicts per run and repo, attempts, infra errors, durations, seeds."""
    runs: dict[str, Any] = {}
    for run in sorted({r.run for r in results}):
        rs = [r for r in results if r.run == run]
        per_repo: dict[str, Counter[str]] = defaultdict(Counter)
        for r in rs:
            per_repo[r.repo][r.verdict] += 1
        durations: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            for phase, secs in r.durations.items():
                durations[phase].append(secs)
        runs[run] = {
            "items": len(rs),
            "verdicts": {v: sum(r.verdict == v for r in rs) for v in VERDICTS},
            "resolve_rate": sum(r.resolved for r in rs) / len(rs) if rs else 0.0,
            "per_repo": {k: dict(v) for k, v in sorted(per_repo.items())},
            "attempts": sum(len(r.attempts) for r in rs),
            "infra_errors": sum(1 for r in rs for a in r.attempts if a.error is not None),
            "flagged": sum(1 for r in rs if r.flags),
            "seconds_per_phase": {p: round(sum(v), 3) for p, v in sorted(durations.items())},
            "seeds": sorted({r.seed for r in rs}),
        }
    return {
        "schema_version": 1,
        "sweep_id": manifest.get("sweep_id"),
        "harness_version": manifest.get("harness_version"),
        "planned": manifest.get("planned"),
        "committed": len(results),
        "runs": runs,
    }


def write_reports(store: ResultStore, sweep_id: str) -> list[str]:
    """Write `{run}.{sweep_id}.json` per run and `report.json`; returns the keys written."""
    paths = SweepPaths(sweep_id)
    manifest = json.loads(store.get(paths.manifest) or b"{}")
    results = load_results(store, sweep_id)
    total = len(manifest.get("instance_ids", [])) or len({r.instance_id for r in results})
    written = []
    prim = primary(results)
    for run in sorted({r.run for r in prim}):
        key = paths.report(f"{run.replace('/', '__')}.{sweep_id}.json")
        store.put(key, json.dumps(swebench_run_report(prim, total, run), indent=2).encode("utf-8"))
        written.append(key)
    key = paths.report("report.json")
    store.put(key, json.dumps(extended_report(results, manifest), indent=2).encode("utf-8"))
    written.append(key)
    return written
