"""Aggregate a sweep's committed results (read from storage, never from driver memory)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from orchestrator.commit import gc_paused, load_results
from orchestrator.report.extended import run_summary
from orchestrator.report.external import ExternalRun, external_section
from orchestrator.report.integrity import apply_flag_policy, integrity_summary
from orchestrator.report.regression import pairwise
from orchestrator.report.replicates import base_seeds, replicate_stats
from orchestrator.report.rollouts import differs_in
from orchestrator.report.stats import StatsSettings, mdd_unpaired
from orchestrator.store import ResultStore, SweepPaths
from workers.models import Result

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


def extended_report(
    results: list[Result],
    manifest: dict[str, Any],
    settings: StatsSettings | None = None,
    prim: list[Result] | None = None,
) -> dict[str, Any]:
    """evalfleet's report.json: per run verdicts, rates with intervals, repos, attempts, durations, usage,
    replicates; paired comparisons of every two runs; the detectable difference for the dataset's size.
    ``prim``: ``primary(results)``, when the caller has it already."""
    settings = settings or StatsSettings()
    prim = primary(results) if prim is None else prim
    seeds = base_seeds(manifest)
    runs: dict[str, Any] = {}
    for run in sorted({r.run for r in results}):
        rs = [r for r in results if r.run == run]
        entry = run_summary(rs, [r for r in prim if r.run == run], settings)
        entry["replicates"] = replicate_stats(rs, seeds)
        entry["integrity"] = integrity_summary(rs)[run]
        runs[run] = entry
    return {
        "schema_version": 1,
        "sweep_id": manifest.get("sweep_id"),
        "harness_version": manifest.get("harness_version"),
        "python": manifest.get("python"),
        "created_at": manifest.get("created_at"),
        "planned": manifest.get("planned"),
        "committed": len(results),
        "runs": runs,
        "comparisons": differs_in(pairwise(prim, settings), runs),
        "detectable_difference": detectable_difference(prim),
        "settings": {
            "bootstrap": settings.bootstrap,
            "seed": settings.seed,
            "confidence": settings.confidence,
        },
    }


def detectable_difference(prim: list[Result]) -> dict[str, Any]:
    """Minimal detectable difference (alpha 0.05, power 0.8) of two independent runs of this size at 50%,
    the worst case; each comparison gives it at the rates of its own two runs (never pooled over runs)."""
    per_run: dict[str, int] = defaultdict(int)
    for r in prim:
        per_run[r.run] += 1
    n = max(per_run.values(), default=0)
    return {
        "instances": n,
        "alpha": 0.05,
        "power": 0.8,
        "unpaired_at_50": round(mdd_unpaired(n, 0.5), 6),
    }


def write_reports(
    store: ResultStore,
    sweep_id: str,
    settings: StatsSettings | None = None,
    external: list[ExternalRun] | None = None,
) -> list[str]:
    """Write `{run}.{sweep_id}.json` per run, `report.json` and `report.html`; returns the keys written.
    ``external``: runs evaluated elsewhere, compared with the sweep's runs (report.json's ``external``).

    The cyclic garbage collector stays off until the results are freed again: scanning 100,000 live
    results (which hold no cycles) once it is back on cost a second of a 100,000-result report."""
    with gc_paused():
        return _write_reports(store, sweep_id, settings, external or [])


def _write_reports(
    store: ResultStore, sweep_id: str, settings: StatsSettings | None, external: list[ExternalRun]
) -> list[str]:
    from orchestrator.report.html import render_html

    paths = SweepPaths(sweep_id)
    manifest = json.loads(store.get(paths.manifest) or b"{}")
    flagged_as_unresolved = bool(manifest.get("config", {}).get("execution", {}).get("flagged_as_unresolved"))
    results = apply_flag_policy(load_results(store, sweep_id), flagged_as_unresolved)
    total = len(manifest.get("instance_ids", [])) or len({r.instance_id for r in results})
    written = []
    prim = primary(results)
    for run in sorted({r.run for r in prim}):
        key = paths.report(f"{run.replace('/', '__')}.{sweep_id}.json")
        store.put(key, json.dumps(swebench_run_report(prim, total, run), indent=2).encode("utf-8"))
        written.append(key)
    report = extended_report(results, {"sweep_id": sweep_id, **manifest}, settings, prim)
    if external:
        report["external"] = external_section(prim, external, settings or StatsSettings())
    key = paths.report("report.json")
    store.put(key, json.dumps(report, indent=2).encode("utf-8"))
    written.append(key)
    key = paths.report("report.html")
    store.put(key, render_html(report, results, prim).encode("utf-8"))
    written.append(key)
    return written
