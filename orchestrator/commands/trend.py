"""`evalfleet trend SERIES`: a series of sweeps (one config name) over time, in the terminal and as HTML."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from orchestrator.commands.common import DEFAULT_STORE
from orchestrator.errors import ConfigError
from orchestrator.report.trend import Trend, build_trend
from orchestrator.report.trend_html import render_trend_html, when
from orchestrator.store import open_store

console = Console(highlight=False, soft_wrap=True, markup=False)


def trend_command(
    series: str, store_url: str | None, *, html: Path | None = None, json_out: Path | None = None
) -> Trend:
    store = open_store(store_url or DEFAULT_STORE)
    trend = build_trend(store, series)
    if not trend.sweeps:
        raise ConfigError(
            f"no sweep of series {series!r} in {store.url}",
            source="SERIES",
            fix="give the config 'name' the sweeps were run with (the sweep ids start with it)",
        )
    print_trend(trend)
    for path, text in ((html, render_trend_html), (json_out, trend_json)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(trend), encoding="utf-8")
            console.print(f"wrote {path}")
    return trend


def trend_json(trend: Trend) -> str:
    return json.dumps(trend.as_dict(), indent=2) + "\n"


def print_trend(trend: Trend) -> None:
    table = Table(show_edge=False, title=f"series {trend.series}: resolve rate per sweep, 95% Wilson")
    table.add_column("created (UTC)", no_wrap=True)
    table.add_column("sweep", overflow="fold")
    for run in trend.runs:
        table.add_column(run, justify="right", no_wrap=True)
    for p in trend.sweeps:
        cells = []
        for run in trend.runs:
            q = p.runs.get(run)
            cells.append(
                "-"
                if q is None
                else f"{100 * q.rate:.1f}% ({q.resolved}/{q.instances})\n"
                f"[{100 * q.wilson[0]:.1f}, {100 * q.wilson[1]:.1f}]"
                + (
                    f"\n+{q.infra_errors} infra error{'s' if q.infra_errors > 1 else ''}"
                    if q.infra_errors
                    else ""
                )
            )
        table.add_row(when(p.created_at), p.sweep_id, *cells)
    console.print(table)
    if not trend.flips:
        console.print("no instance changed verdict between consecutive sweeps")
    else:
        console.print(f"{len(trend.flips)} verdicts flipped between consecutive sweeps:")
        for f in trend.flips:
            why = f"  ENVIRONMENT ROT ({f.rot})" if f.rot else ""
            console.print(
                f"  {f.run}  {f.instance_id}  {f.before} -> {f.after}  ({f.before_sweep} -> {f.after_sweep}){why}"
            )
    rot = trend.rot
    console.print(
        f"environment rot: {len(rot)} instances stopped resolving (gold, or resolved in every earlier sweep)"
        if rot
        else "no environment rot: no gold or previously stable instance stopped resolving"
    )
