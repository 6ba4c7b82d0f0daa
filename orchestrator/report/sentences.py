"""Sentences of the reports that state numbers: each one is built from the numbers it states, so the
words (more, less, too few) always follow them. Shared by report.html and the terminal."""

from __future__ import annotations

from typing import Any

from orchestrator.report.stats import MIN_CLUSTERS, MIN_DISCORDANT

SAME = 0.0005  # MDDs closer than 0.05 points are "about the same"


def pts(x: float) -> str:
    return f"{100 * x:.1f} points"


def mdd_sentence(c: dict[str, Any]) -> str:
    """Paired against unpaired MDD of one comparison (report.json's ``comparisons`` entry)."""
    head = f"{c['a']} vs {c['b']} ({c['instances']} common instances)"
    unpaired = c["mdd_unpaired"]
    runs = f"two independent runs at these rates ({_pct(c['rate_a'])}, {_pct(c['rate_b'])})"
    if c["rate_a"] in (0.0, 1.0) and c["rate_b"] in (0.0, 1.0):
        return (
            f"{head}: both rates are 0% or 100%, so neither MDD (a normal approximation) says anything here."
        )
    if c["mdd_paired"] is None:
        return f"{head}: no instance is discordant, so the paired MDD is not defined; {runs} need {pts(unpaired)}."
    paired = c["mdd_paired"]
    if abs(paired - unpaired) < SAME:
        how, why = "about the same as", ""
    elif paired < unpaired:
        how, why = "less than", ""
    else:
        how = "more than"
        why = f": pairing does not help when {_pct(c['discordance'])} of the instances are discordant"
    return (
        f"{head}: to be detected (alpha 0.05, power 0.8) a difference must be {pts(paired)} paired, "
        f"{how} the {pts(unpaired)} {runs} would need{why}."
    )


def discordance_warning(c: dict[str, Any]) -> str | None:
    """The paired MDD is a normal approximation: optimistic with few discordant instances."""
    discordant = c["only_a"] + c["only_b"]
    if c["mdd_paired"] is None or discordant >= MIN_DISCORDANT:
        return None
    return (
        f"Warning: the paired MDD of {c['a']} vs {c['b']} rests on {discordant} discordant instances "
        f"(fewer than {MIN_DISCORDANT}); its normal approximation is optimistic there."
    )


def cluster_warning(runs: dict[str, Any]) -> str | None:
    """A cluster-robust SE from fewer than MIN_CLUSTERS repositories is itself unreliable (and too small)."""
    few = {
        run: e["stats"].get("clusters", 0)
        for run, e in runs.items()
        if e["stats"].get("clustered_se") is not None and e["stats"].get("clusters", 0) < MIN_CLUSTERS
    }
    if not few:
        return None
    counts = sorted(set(few.values()))
    repos = " or ".join(str(n) for n in counts)
    return (
        f"Warning: 'SE by repo' rests on only {repos} repositories (fewer than {MIN_CLUSTERS}) in "
        f"{len(few)} of {len(runs)} runs; a cluster-robust SE from so few clusters is itself noisy and "
        "tends to be too small (Cameron & Miller 2015): read it as a rough indication."
    )


def durations_pool(results: int, runs: int, evaluations: int, phase: str = "test") -> str:
    """What the durations histogram pools: every result of every run, repeats and seeds included."""
    each = (
        "one evaluation per instance" if evaluations == 1 else f"up to {evaluations} evaluations per instance"
    )
    return (
        f"{phase}-phase durations, all {results} results pooled: {runs} runs, {each} "
        "(repeats and seeds), the last attempt of each item"
    )


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"
