"""trend.html: one self-contained page for a series of sweeps (inline CSS and SVG, no script, a CSP)."""

from __future__ import annotations

import time
from html import escape

from orchestrator.report.html import CSP, CSS
from orchestrator.report.svg import RatePoint, series_chart
from orchestrator.report.tables import Cell, pct, table
from orchestrator.report.trend import STABLE_SWEEPS, RunPoint, Trend


def when(created_at: float) -> str:
    """A sweep's creation time, UTC, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(created_at)) if created_at else "?"


def rate_cell(p: RunPoint | None) -> Cell:
    if p is None:
        return "-", None
    lo, hi = p.wilson
    infra = (
        f"\n+{p.infra_errors} infra error{'s' if p.infra_errors > 1 else ''}, not counted"
        if p.infra_errors
        else ""
    )
    return f"{pct(p.rate)} ({p.resolved}/{p.instances})\n[{100 * lo:.1f}, {100 * hi:.1f}]%{infra}", p.rate


def sweeps_table(trend: Trend) -> str:
    runs = trend.runs
    rows: list[list[Cell]] = [
        [
            (when(p.created_at), p.created_at),
            (p.sweep_id, p.sweep_id),
            *(rate_cell(p.runs.get(r)) for r in runs),
        ]
        for p in trend.sweeps
    ]
    return table("table-trend", ["created (UTC)", "sweep", *runs], rows)


def flips_table(trend: Trend) -> str:
    rows: list[list[Cell]] = [
        [
            (f.run, f.run),
            (f.instance_id, f.instance_id),
            (f"{f.before} -> {f.after}", f.after),
            (f.before_sweep, None),
            (f.after_sweep, None),
            (f"environment rot: {f.rot}" if f.rot else "-", f.rot or ""),
        ]
        for f in trend.flips
    ]
    return table(
        "table-flips", ["run", "instance", "verdict", "before (sweep)", "after (sweep)", "rot"], rows
    )


def render_trend_html(trend: Trend) -> str:
    xlabels = [when(p.created_at) for p in trend.sweeps]
    lines = {
        run: [
            None
            if (q := p.runs.get(run)) is None
            else RatePoint(
                run, q.rate, q.wilson[0], q.wilson[1], f"{pct(q.rate)} ({q.resolved}/{q.instances})"
            )
            for p in trend.sweeps
        ]
        for run in trend.runs
    }
    rot = trend.rot
    summary = (
        f"{len(trend.sweeps)} sweeps of series {trend.series} in {trend.store}, oldest first; "
        f"{len(trend.flips)} verdict flips between consecutive sweeps, {len(rot)} of them environment rot."
    )
    rot_text = (
        "Environment rot: "
        + "; ".join(f"{f.run} {f.instance_id} ({f.rot}, in {f.after_sweep})" for f in rot)
        + "."
        if rot
        else "No environment rot: no gold instance and no previously stable instance stopped resolving."
    )
    body = [
        f'<header><h1>evalfleet trend: {escape(trend.series)}</h1><p class="meta">{escape(summary)}</p></header>',
        '<section id="rates"><h2>Resolve rate per sweep</h2>',
        series_chart("chart-trend", xlabels, lines, f"Resolve rate per sweep of {trend.series}, 95% Wilson"),
        sweeps_table(trend),
        '<p class="note">One result per instance and run; infra errors (no verdict) are kept out of the '
        "denominator. Intervals are 95% Wilson.</p></section>",
        '<section id="flips"><h2>Verdicts that flipped between consecutive sweeps</h2>',
        f'<p class="{"warn" if rot else "note"}">{escape(rot_text)}</p>',
        flips_table(trend) if trend.flips else '<p class="note">No instance changed verdict.</p>',
        '<p class="note">Environment rot: an instance of a gold run that stopped resolving, or one that '
        f"resolved in every earlier sweep (at least {STABLE_SWEEPS}) and then did not.</p></section>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(f'evalfleet trend: {trend.series}')}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
