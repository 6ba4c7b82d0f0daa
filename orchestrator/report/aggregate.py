"""Aggregate a sweep's committed results (read from storage, never from driver memory)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator.commit import failures, gc_paused, load_results
from orchestrator.report.extended import run_summary
from orchestrator.report.external import ExternalRun, external_section
from orchestrator.report.integrity import apply_flag_policy, integrity_summary, verdict_policy
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


def swebench_run_report(
    results: list[Result], total_instances: int, run: str, instance_ids: Sequence[str] = ()
) -> dict[str, Any]:
    """The official `{model}.{run_id}.json` (swebench 5's ``make_run_report``, keys in its order).

    patch_failed and timeout count as errors, as there (the official harness writes no report.json for
    them). ``incomplete_ids``: instances of the dataset (``instance_ids``) without a prediction.
    ``infra_failure_*``: errors that are faults of the infrastructure (an attempt error, e.g. an image
    that cannot be built), with their reason in ``failure_reasons``; evalfleet does not classify
    unresolved logs, so ``ambiguous_failure_*`` stays empty.
    """
    ids: dict[str, set[str]] = defaultdict(set)
    reasons: dict[str, str] = {}
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
            continue
        ids["error"].add(r.instance_id)
        if r.verdict == "error" and r.attempts and r.attempts[-1].error is not None:
            ids["infra_failure"].add(r.instance_id)
            reasons[r.instance_id] = r.reason
    ids["incomplete"] = set(instance_ids) - ids["submitted"]
    report: dict[str, Any] = {"total_instances": total_instances}
    for name in (
        "submitted",
        "completed",
        "resolved",
        "unresolved",
        "infra_failure",
        "ambiguous_failure",
        "empty_patch",
        "error",
    ):
        report[f"{name}_instances"] = len(ids[name])
    for name in ("completed", "incomplete", "empty_patch", "submitted", "resolved", "unresolved"):
        report[f"{name}_ids"] = sorted(ids[name])
    report["infra_failure_ids"] = sorted(ids["infra_failure"])
    report["ambiguous_failure_ids"] = []
    report["failure_reasons"] = dict(sorted(reasons.items()))
    report["error_ids"] = sorted(ids["error"])
    report["schema_version"] = SWEBENCH_SCHEMA_VERSION
    return report


def run_report_name(run: str, run_id: str) -> str:
    """The official file name of a run's report: ``{model_name_or_path with / as __}.{run_id}.json``."""
    return f"{run.replace('/', '__')}.{run_id}.json"


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
    flagged_as_unresolved: bool | None = None,
) -> list[str]:
    """Write `{run}.{sweep_id}.json` per run, `report.json` and `report.html`; returns the keys written.
    ``external``: runs evaluated elsewhere, compared with the sweep's runs (report.json's ``external``).

    ``flagged_as_unresolved``: the headline counts hardened verdicts (None: the sweep config's
    ``execution.flagged_as_unresolved``); report.json's ``verdict_policy`` shows both rates either way.

    The cyclic garbage collector stays off until the results are freed again: scanning 100,000 live
    results (which hold no cycles) once it is back on cost a second of a 100,000-result report."""
    with gc_paused():
        return _write_reports(store, sweep_id, settings, external or [], flagged_as_unresolved)


def _write_reports(
    store: ResultStore,
    sweep_id: str,
    settings: StatsSettings | None,
    external: list[ExternalRun],
    flagged_as_unresolved: bool | None,
) -> list[str]:
    from orchestrator.report.html import render_html

    paths = SweepPaths(sweep_id)
    manifest = json.loads(store.get(paths.manifest) or b"{}")
    if flagged_as_unresolved is None:
        execution = manifest.get("config", {}).get("execution", {})
        flagged_as_unresolved = bool(execution.get("flagged_as_unresolved"))
    stored = load_results(store, sweep_id)
    failed = primary(failures(store, sweep_id, {r.key for r in stored}))  # no verdict: counted apart
    policy = verdict_policy(primary(stored), flagged_as_unresolved)
    results = apply_flag_policy(stored, flagged_as_unresolved)
    total = len(manifest.get("instance_ids", [])) or len({r.instance_id for r in results})
    written = []
    prim = primary(results)
    instance_ids = manifest.get("instance_ids", [])
    # The official report counts official verdicts, whatever the headline; items without a verdict
    # (infrastructure failures) are its error_ids and infra_failure_ids, as swebench 5 labels them.
    as_stored = primary(stored + [f for f in failed if (f.run, f.instance_id) not in _pairs(stored)])
    for run in sorted({r.run for r in prim} | {f.run for f in failed}):
        key = paths.report(run_report_name(run, sweep_id))
        official = swebench_run_report(as_stored, total, run, instance_ids)
        store.put(key, json.dumps(official, indent=2).encode("utf-8"))
        written.append(key)
    report = extended_report(results, {"sweep_id": sweep_id, **manifest}, settings, prim)
    if external:
        report["external"] = external_section(prim, external, settings or StatsSettings())
    report["verdict_policy"] = policy
    for run, entry in report["runs"].items():
        entry["integrity"].update(policy["runs"].get(run, {}))
    report["infra_failures"] = infra_failures(failed)
    key = paths.report("report.json")
    store.put(key, json.dumps(report, indent=2).encode("utf-8"))
    written.append(key)
    key = paths.report("report.html")
    store.put(key, render_html(report, results, prim).encode("utf-8"))
    written.append(key)
    return written


def _pairs(results: list[Result]) -> set[tuple[str, str]]:
    return {(r.run, r.instance_id) for r in results}


def infra_failures(failed: list[Result]) -> dict[str, Any]:
    """Items without a verdict, per run, with their reasons: not in any rate's denominator; the next
    run of the sweep evaluates them again."""
    runs: dict[str, list[dict[str, str]]] = defaultdict(list)
    for f in failed:
        runs[f.run].append({"instance_id": f.instance_id, "key": f.key, "reason": f.reason})
    return {"count": len(failed), "runs": dict(sorted(runs.items()))}


def write_run_reports_here(store: ResultStore, sweep_id: str, run_id: str, directory: Path) -> list[Path]:
    """``{model}.{run_id}.json`` of every run of the sweep in ``directory``, as the official harness
    writes them there (indent 4, a final newline); the sweep's own copies stay in the store."""
    written = []
    prefix = SweepPaths(sweep_id).report("")
    suffix = f".{sweep_id}.json"
    for key in sorted(store.list(prefix)):
        name = key.rsplit("/", 1)[-1]
        if not name.endswith(suffix):
            continue
        report = json.loads(store.get(key) or b"{}")
        path = directory / f"{name[: -len(suffix)]}.{run_id}.json"
        path.write_text(json.dumps(report, indent=4) + "\n", encoding="utf-8")
        written.append(path)
    return written
