"""Statistics across replicates (seeds x repeats) of one run: mean +- SE, pass@k and pass^k."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from orchestrator.plan import derive_seed
from orchestrator.report.stats import mean_se, pass_at_k, pass_hat_k
from workers.models import Result

MAX_K = 10


def base_seeds(manifest: dict[str, Any]) -> list[int]:
    """The sweep seeds a manifest's config names (the seeds axis, else the single sweep seed)."""
    config = manifest.get("config") or {}
    seeds = config.get("seeds") or [config.get("seed", 0)]
    return [int(s) for s in seeds]


def replicate_of(result: Result, seeds: list[int]) -> tuple[int, int]:
    """(sweep seed, repeat) that produced a result; its item seed is derived from them (plan.derive_seed).

    With one sweep seed every item of the sweep derives from it (the seed is part of the sweep id):
    no hash is needed, which is most of the time of a 100,000-result report otherwise."""
    if len(seeds) == 1:
        return seeds[0], result.repeat
    for base in seeds:
        if derive_seed(base, result.run, result.instance_id, result.repeat) == result.seed:
            return base, result.repeat
    return -1, result.repeat


def replicate_stats(results: list[Result], seeds: list[int]) -> dict[str, Any] | None:
    """For a run evaluated more than once per instance: the rate of each replicate, its mean +- SE,
    and pass@k / pass^k averaged over instances (k up to the fewest evaluations of any instance)."""
    groups: dict[tuple[int, int], list[Result]] = defaultdict(list)
    per_instance: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        groups[replicate_of(r, seeds)].append(r)
        if r.verdict != "error":  # an infra error says nothing about the candidate
            per_instance[r.instance_id].append(r.resolved)
    if len(groups) < 2 or not per_instance:
        return None
    rates = [sum(r.resolved for r in rs) / len(rs) for _, rs in sorted(groups.items())]
    mean, se = mean_se(rates)
    n_min = min(len(v) for v in per_instance.values())
    ks = sorted({k for k in (1, 2, 3, 5, MAX_K, n_min) if 1 <= k <= min(n_min, MAX_K)} | {n_min})
    counts = [(len(v), sum(v)) for v in per_instance.values()]
    return {
        "replicates": len(groups),
        "rates": [round(x, 6) for x in rates],
        "mean": round(mean, 6),
        "se": None if se is None else round(se, 6),
        "evaluations_per_instance": n_min,
        "pass_at_k": {str(k): round(_average(pass_at_k, counts, k), 6) for k in ks},
        "pass_hat_k": {str(k): round(_average(pass_hat_k, counts, k), 6) for k in ks},
    }


def _average(fn: Callable[[int, int, int], float], counts: list[tuple[int, int]], k: int) -> float:
    return sum(fn(n, c, k) for n, c in counts) / len(counts)
