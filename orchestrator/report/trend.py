"""A series of sweeps over time: the rate of each run per sweep, verdicts that flipped, environment rot.

A **series** is every sweep in a store whose manifest's config ``name`` is the series name, ordered by
the manifest's ``created_at`` (then sweep id). Scheduled re-evaluations of one config (k8s/ CronJobs)
keep the config name and get a sweep id per run, so they form a series. Within it, a run is matched
across sweeps by its name (``gold`` for gold patches, else the run's ``name``), an instance by its id.

Infra errors (verdict ``error``: no verdict on the candidate) are kept apart: they are neither in a
rate's denominator nor a flip. **Environment rot** is an instance that stopped resolving although
nothing of the candidate says it should: in a gold run (the dataset's own patch), or after it resolved in
every earlier sweep of the series in which it was evaluated (at least ``STABLE_SWEEPS`` of them).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from orchestrator.commit import load_results
from orchestrator.report.aggregate import primary
from orchestrator.report.integrity import apply_flag_policy
from orchestrator.report.stats import CONFIDENCE, wilson_interval
from orchestrator.store import ResultStore, SweepPaths
from workers.models import Verdict

STABLE_SWEEPS = 2  # "previously stable": resolved in every earlier sweep, and in at least this many
INFRA = "error"


@dataclass(frozen=True)
class RunPoint:
    """One run in one sweep: instances with a verdict, resolved, rate and its Wilson interval."""

    instances: int
    resolved: int
    infra_errors: int
    rate: float
    wilson: list[float]


@dataclass(frozen=True)
class SweepPoint:
    sweep_id: str
    created_at: float
    runs: dict[str, RunPoint]


@dataclass(frozen=True)
class Flip:
    """An instance whose verdict changed between two consecutive sweeps of a run."""

    run: str
    instance_id: str
    before_sweep: str
    after_sweep: str
    before: Verdict
    after: Verdict
    rot: str | None = None  # why this is environment rot, when it is


@dataclass
class Trend:
    series: str
    store: str
    sweeps: list[SweepPoint] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    gold_runs: set[str] = field(default_factory=set)

    @property
    def runs(self) -> list[str]:
        return sorted({run for p in self.sweeps for run in p.runs})

    @property
    def rot(self) -> list[Flip]:
        return [f for f in self.flips if f.rot]

    def as_dict(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "store": self.store,
            "sweeps": [
                {
                    "sweep_id": p.sweep_id,
                    "created_at": p.created_at,
                    "runs": {r: vars(v) for r, v in p.runs.items()},
                }
                for p in self.sweeps
            ],
            "flips": [vars(f) for f in self.flips],
            "rot": [vars(f) for f in self.rot],
            "gold_runs": sorted(self.gold_runs),
        }


def series_manifests(store: ResultStore, series: str) -> list[dict[str, Any]]:
    """Manifests of the sweeps whose config name is ``series``, oldest first."""
    from orchestrator.commands.common import list_sweeps

    found = []
    for sid in list_sweeps(store):
        raw = store.get(SweepPaths(sid).manifest)
        if raw is None:
            continue
        manifest = json.loads(raw)
        if (manifest.get("config") or {}).get("name") == series:
            found.append({"sweep_id": sid, **manifest})
    return sorted(found, key=lambda m: (float(m.get("created_at") or 0.0), m["sweep_id"]))


def gold_runs(manifest: dict[str, Any]) -> set[str]:
    """Names of the runs of a manifest's config that evaluate the dataset's gold patches."""
    runs = (manifest.get("config") or {}).get("runs") or []
    return {str(r.get("name") or "gold") for r in runs if isinstance(r, dict) and r.get("gold")}


def verdicts_of(store: ResultStore, manifest: dict[str, Any]) -> dict[str, dict[str, Verdict]]:
    """{run: {instance: verdict}} of one sweep, one result per instance, as its report counts them."""
    flagged = bool((manifest.get("config") or {}).get("execution", {}).get("flagged_as_unresolved"))
    out: dict[str, dict[str, Verdict]] = defaultdict(dict)
    for r in primary(apply_flag_policy(load_results(store, manifest["sweep_id"]), flagged)):
        out[r.run][r.instance_id] = r.verdict
    return dict(out)


def point(verdicts: dict[str, Verdict], confidence: float = CONFIDENCE) -> RunPoint:
    counted = [v for v in verdicts.values() if v != INFRA]
    k, n = sum(v == "resolved" for v in counted), len(counted)
    return RunPoint(
        instances=n,
        resolved=k,
        infra_errors=len(verdicts) - n,
        rate=round(k / n, 6) if n else 0.0,
        wilson=wilson_interval(k, n, confidence).as_list(),
    )


def build_trend(store: ResultStore, series: str) -> Trend:
    """Read every sweep of the series and compare each with the one before it, run by run."""
    trend = Trend(series, store.url)
    history: dict[tuple[str, str], list[Verdict]] = defaultdict(list)  # (run, instance) -> earlier verdicts
    previous: dict[str, tuple[str, dict[str, Verdict]]] = {}  # run -> (sweep id, verdicts) last seen
    for manifest in series_manifests(store, series):
        sid = manifest["sweep_id"]
        trend.gold_runs |= gold_runs(manifest)
        by_run = verdicts_of(store, manifest)
        trend.sweeps.append(
            SweepPoint(
                sid, float(manifest.get("created_at") or 0.0), {r: point(v) for r, v in by_run.items()}
            )
        )
        for run, verdicts in sorted(by_run.items()):
            if run in previous:
                before_sid, before = previous[run]
                trend.flips += flips(run, before_sid, before, sid, verdicts, history, run in trend.gold_runs)
            for iid, v in verdicts.items():
                if v != INFRA:
                    history[(run, iid)].append(v)
            previous[run] = (sid, verdicts)
    return trend


def flips(
    run: str,
    before_sid: str,
    before: dict[str, Verdict],
    after_sid: str,
    after: dict[str, Verdict],
    history: dict[tuple[str, str], list[Verdict]],
    gold: bool,
) -> list[Flip]:
    """Instances resolved in one sweep and not in the next (or the reverse), infra errors left out."""
    out = []
    for iid in sorted(before.keys() & after.keys()):
        a, b = before[iid], after[iid]
        if INFRA in (a, b) or (a == "resolved") == (b == "resolved"):
            continue
        rot = None
        if a == "resolved":
            earlier = history[(run, iid)]
            if gold:
                rot = "the gold patch stopped resolving"
            elif len(earlier) >= STABLE_SWEEPS and all(v == "resolved" for v in earlier):
                rot = f"resolved in all {len(earlier)} earlier sweeps"
        out.append(Flip(run, iid, before_sid, after_sid, a, b, rot))
    return out
