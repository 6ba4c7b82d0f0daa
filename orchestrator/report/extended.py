"""Sections of the extended report.json for one run: rates with intervals, repos, durations, usage."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from orchestrator.report.stats import StatsSettings, quantile, rate_summary, wilson_interval
from workers.models import VERDICTS, Result

USAGE_KEYS = ("tokens", "cost_usd", "steps", "rollout_wall_s")  # the last two: rollouts (docs/rollouts.md)


def rate_stats(prim: list[Result], settings: StatsSettings) -> dict[str, Any]:
    """Resolve rate of one result per instance: Wilson and bootstrap intervals, SE, SE by repository."""
    s = rate_summary(
        [r.resolved for r in prim],
        [r.repo for r in prim],
        b=settings.bootstrap,
        seed=settings.seed,
        confidence=settings.confidence,
    )
    return {
        "instances": s.n,
        "resolved": s.resolved,
        "rate": round(s.rate, 6),
        "wilson": s.wilson.as_list(),
        "bootstrap": s.bootstrap.as_list(),
        "se": round(s.se, 6),
        "clustered_se": None if s.clustered_se is None else round(s.clustered_se, 6),
        "clusters": s.clusters,
    }


def repo_rates(prim: list[Result], confidence: float) -> dict[str, dict[str, Any]]:
    """Per repository: instances, resolved, rate and its Wilson interval."""
    by_repo: dict[str, list[Result]] = defaultdict(list)
    for r in prim:
        by_repo[r.repo].append(r)
    out = {}
    for repo, rs in sorted(by_repo.items()):
        k = sum(r.resolved for r in rs)
        out[repo] = {
            "instances": len(rs),
            "resolved": k,
            "rate": round(k / len(rs), 6),
            "wilson": wilson_interval(k, len(rs), confidence).as_list(),
        }
    return out


def distribution(values: Iterable[float]) -> dict[str, float | int]:
    """n, total, mean, p50, p90 and max of some durations (seconds)."""
    xs = sorted(values)
    if not xs:
        return {"n": 0}
    return {
        "n": len(xs),
        "total": round(sum(xs), 3),
        "mean": round(sum(xs) / len(xs), 3),
        "p50": round(quantile(xs, 0.5), 3),
        "p90": round(quantile(xs, 0.9), 3),
        "max": round(xs[-1], 3),
    }


def phase_durations(results: list[Result]) -> dict[str, dict[str, float | int]]:
    """Distribution of each phase's duration (last attempt of every item), and of the whole item."""
    per_phase: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for phase, secs in r.durations.items():
            per_phase[phase].append(secs)
        if r.durations:
            per_phase["total"].append(sum(r.durations.values()))
    return {p: distribution(v) for p, v in sorted(per_phase.items())}


def attempt_stats(results: list[Result]) -> dict[str, Any]:
    """Attempts, items that needed more than one, infra errors by class, and items that ended in error."""
    classes: Counter[str] = Counter(a.error.error_class for r in results for a in r.attempts if a.error)
    return {
        "attempts": sum(len(r.attempts) for r in results),
        "retried_items": sum(1 for r in results if len(r.attempts) > 1),
        "max_attempts": max((len(r.attempts) for r in results), default=0),
        "infra_errors": sum(classes.values()),
        "error_classes": dict(sorted(classes.items())),
        "error_items": sum(1 for r in results if r.verdict == "error"),
    }


def usage(prim: list[Result]) -> dict[str, dict[str, float | int | None]]:
    """Tokens and cost of the candidates (their metadata), in total, per instance and per resolved one."""
    resolved = sum(r.resolved for r in prim)
    out: dict[str, dict[str, float | int | None]] = {}
    for key in USAGE_KEYS:
        values = [_number(r.candidate_metadata.get(key)) for r in prim]
        known = [v for v in values if v is not None]
        if not known:
            continue
        total = sum(known)
        out[key] = {
            "total": round(total, 6),
            "instances": len(known),
            "per_instance": round(total / len(known), 6),
            "per_resolved": round(total / resolved, 6) if resolved else None,
        }
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def labels(prim: list[Result]) -> dict[str, str]:
    """Labels every candidate of the run shares (model, scaffold): axes of the model x scaffold heatmap."""
    out = {}
    for key in ("model", "scaffold"):
        values = {str(r.candidate_metadata.get(key)) for r in prim if r.candidate_metadata.get(key)}
        if len(values) == 1:
            out[key] = values.pop()
    return out


def versions(results: list[Result]) -> dict[str, Any]:
    return {
        "harness": sorted({r.harness_version for r in results if r.harness_version}),
        "images": len({r.image_digest or r.image for r in results if r.image_digest or r.image}),
    }


def _tally(results: list[Result]) -> dict[str, int]:
    """Results per verdict, every verdict listed (one pass: 100k results are counted in ~20 ms)."""
    counts = Counter(r.verdict for r in results)
    return {v: counts[v] for v in VERDICTS}


def run_summary(results: list[Result], prim: list[Result], settings: StatsSettings) -> dict[str, Any]:
    """One run's entry in report.json: every item (repeats included) and one result per instance."""
    per_repo: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        per_repo[r.repo][r.verdict] += 1
    durations = phase_durations(results)
    attempts = attempt_stats(results)
    return {
        "items": len(results),
        "verdicts": _tally(results),
        "resolve_rate": sum(r.resolved for r in results) / len(results) if results else 0.0,
        "per_repo": {k: dict(v) for k, v in sorted(per_repo.items())},
        "attempts": attempts["attempts"],
        "infra_errors": attempts["infra_errors"],
        "flagged": sum(1 for r in results if r.flags),
        "seconds_per_phase": {p: d["total"] for p, d in durations.items() if p != "total"},
        "seeds": sorted({r.seed for r in results}),
        "repeats": sorted({r.repeat for r in results}),
        "stats": rate_stats(prim, settings),
        "instance_verdicts": _tally(prim),
        "repos": repo_rates(prim, settings.confidence),
        "durations": durations,
        "attempt_stats": attempts,
        "usage": usage(prim),
        "labels": labels(prim),
        "versions": versions(results),
    }
