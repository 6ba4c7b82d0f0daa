"""The figures of report.html, from report.json and the results: which data, which axes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.report import sentences
from orchestrator.report.svg import RatePoint, grouped_bars, heatmap, histogram, rate_chart
from workers.models import Result


def rates_figure(report: dict[str, Any]) -> str:
    """Resolve rate of every run (one result per instance) with its Wilson interval."""
    points = []
    for run, entry in report["runs"].items():
        s = entry["stats"]
        lo, hi = s["wilson"]
        points.append(
            RatePoint(run, s["rate"], lo, hi, f"{100 * s['rate']:.1f}% ({s['resolved']}/{s['instances']})")
        )
    return rate_chart("chart-rates", points, "Resolve rate per run, with 95% Wilson intervals")


def repos_figure(report: dict[str, Any]) -> str:
    """Resolve rate per repository, one bar per run, with Wilson whiskers."""
    runs = list(report["runs"])
    repos = sorted({repo for entry in report["runs"].values() for repo in entry["repos"]})
    values = {}
    for run, entry in report["runs"].items():
        for repo, s in entry["repos"].items():
            lo, hi = s["wilson"]
            note = f"{100 * s['rate']:.1f}% ({s['resolved']}/{s['instances']})"
            values[(repo, run)] = RatePoint(run, s["rate"], lo, hi, note)
    return grouped_bars("chart-repos", repos, runs, values, "Resolve rate per repository and run")


@dataclass(frozen=True)
class Axes:
    """Rows and columns of the heatmap, and whether it counts every result or one per instance."""

    title: str
    row: Callable[[Result], str]
    col: Callable[[Result], str]
    every_result: bool = False


def _model(r: Result) -> str:
    return str(r.candidate_metadata.get("model") or r.run)


CANDIDATE_AXES = (
    Axes("model x scaffold", _model, lambda r: str(r.candidate_metadata.get("scaffold") or "-")),
    Axes("model x seed", _model, lambda r: f"seed {r.candidate_metadata.get('seed', '-')}"),
    Axes("run x repeat", lambda r: r.run, lambda r: f"repeat {r.repeat}", every_result=True),
)
FALLBACK_AXES = Axes("run x repository", lambda r: r.run, lambda r: r.repo)


def choose_axes(results: list[Result], prim: list[Result]) -> Axes:
    """The first axes that make a real grid (some row spans two columns), else run x repository."""
    for axes in CANDIDATE_AXES:
        cols_of_row: dict[str, set[str]] = defaultdict(set)
        for r in results if axes.every_result else prim:
            cols_of_row[axes.row(r)].add(axes.col(r))
        if any(len(cols) > 1 for cols in cols_of_row.values()):
            return axes
    return FALLBACK_AXES


def heatmap_figure(results: list[Result], prim: list[Result]) -> str:
    axes = choose_axes(results, prim)
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for r in results if axes.every_result else prim:
        cells[(axes.row(r), axes.col(r))].append(r.resolved)
    rows = sorted({k[0] for k in cells})
    cols = sorted({k[1] for k in cells})
    rates = {k: (sum(v) / len(v), len(v)) for k, v in cells.items()}
    return heatmap("chart-heatmap", rows, cols, rates, f"Resolve rate, {axes.title}")


def durations_figure(results: list[Result], phase: str = "test") -> str:
    values = [r.durations[phase] for r in results if phase in r.durations]
    return histogram("chart-durations", values, f"Distribution of {durations_pool(results, phase)}")


def durations_pool(results: list[Result], phase: str = "test") -> str:
    """What the durations histogram pools, in words: how many results, runs, and evaluations per instance."""
    per_instance = Counter((r.run, r.instance_id) for r in results if phase in r.durations)
    return sentences.durations_pool(
        sum(per_instance.values()),
        len({run for run, _ in per_instance}),
        max(per_instance.values(), default=1),
        phase,
    )


def heatmap_title(results: list[Result], prim: list[Result]) -> str:
    return choose_axes(results, prim).title
