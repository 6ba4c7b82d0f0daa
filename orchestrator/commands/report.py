"""`evalfleet report SWEEP` and `evalfleet compare A B`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from orchestrator.commands.common import open_sweep
from orchestrator.commit import load_results
from orchestrator.errors import ConfigError
from orchestrator.report.aggregate import primary, write_reports
from orchestrator.report.integrity import apply_flag_policy
from orchestrator.report.regression import RunComparison, compare_runs, same_candidates
from orchestrator.report.stats import StatsSettings, wilson_interval
from orchestrator.store import ResultStore, SweepPaths
from workers.models import Result

console = Console(highlight=False, soft_wrap=True, markup=False)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _iv(iv: list[float]) -> str:
    return f"[{100 * iv[0]:.1f}, {100 * iv[1]:.1f}]"


def report_command(
    sweep_id: str,
    store_url: str | None,
    *,
    out: Path | None = None,
    settings: StatsSettings | None = None,
    flagged_as_unresolved: bool | None = None,
) -> None:
    """Aggregate from storage, then print the rates (read back from the stored report.json)."""
    store, _manifest = open_sweep(sweep_id, store_url)
    written = write_reports(store, sweep_id, settings, flagged_as_unresolved)
    paths = SweepPaths(sweep_id)
    report: dict[str, Any] = json.loads(store.get(paths.report("report.json")) or b"{}")
    print_runs(report)
    print_policy(report)
    print_pairs(report)
    for key in written:
        console.print(f"wrote {store.url}/{key}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(store.get(paths.report("report.html")) or b"")
        console.print(f"wrote {out}")


def print_runs(report: dict[str, Any]) -> None:
    table = Table(show_edge=False, title="resolve rate, one result per instance; 95% intervals")
    table.add_column("run", overflow="fold", min_width=12)
    for name in ("resolved", "rate", "Wilson", "bootstrap", "SE (repo)"):
        table.add_column(name, justify="right", no_wrap=name in ("Wilson", "bootstrap"))
    for run, e in report.get("runs", {}).items():
        s = e["stats"]
        table.add_row(
            run,
            f"{s['resolved']}/{s['instances']}",
            _pct(s["rate"]),
            _iv(s["wilson"]),
            _iv(s["bootstrap"]),
            _pct(s["clustered_se"]),
        )
    console.print(table)


def print_policy(report: dict[str, Any]) -> None:
    """Both resolve rates per run, the flagged count, and which one the headline above uses."""
    policy = report.get("verdict_policy") or {}
    headline = policy.get("headline", "official")
    other = "--no-flagged-as-unresolved" if headline == "hardened" else "--flagged-as-unresolved"
    console.print(f"headline: {headline} verdicts ({other} for the other)")
    for run, p in policy.get("runs", {}).items():
        console.print(
            f"  {run}: official {p['official_resolved']}/{p['instances']} ({_pct(p['official_rate'])}), "
            f"hardened {p['hardened_resolved']}/{p['instances']} ({_pct(p['hardened_rate'])}), "
            f"{p['flagged']} flagged"
        )


def print_pairs(report: dict[str, Any]) -> None:
    pairs = report.get("comparisons") or []
    if not pairs:
        return
    table = Table(show_edge=False, title="paired comparisons on common instances, B - A in points")
    table.add_column("A / B", overflow="fold", min_width=12)
    for name in ("n", "only A/B", "B - A", "95% CI", "McNemar p", "MDD"):
        table.add_column(name, justify="right", no_wrap=name == "95% CI")
    for c in pairs:
        table.add_row(
            f"{c['a']}\n{c['b']}",
            str(c["instances"]),
            f"{c['only_a']}/{c['only_b']}",
            f"{100 * c['diff']:+.1f}",
            _iv(c["interval"]),
            f"{c['p_value']:.3g}",
            "-" if c["mdd_paired"] is None else f"{100 * c['mdd_paired']:.1f}",
        )
    console.print(table)


def _run_results(
    ref: str, store_url: str | None, flagged_as_unresolved: bool | None = None
) -> tuple[str, dict[str, Result], ResultStore]:
    sweep_id, _, run = ref.partition(":")
    store, manifest = open_sweep(sweep_id, store_url)
    if flagged_as_unresolved is None:
        execution = manifest.get("config", {}).get("execution", {})
        flagged_as_unresolved = bool(execution.get("flagged_as_unresolved"))
    results = primary(apply_flag_policy(load_results(store, sweep_id), flagged_as_unresolved))
    runs = sorted({r.run for r in results})
    if not run:
        if len(runs) != 1:
            raise ConfigError(
                f"sweep {sweep_id} has runs {', '.join(runs)}", source=ref, fix="write SWEEP:RUN"
            )
        run = runs[0]
    if run not in runs:
        raise ConfigError(
            f"no run {run!r} in sweep {sweep_id}", source=ref, fix=f"choose one of {', '.join(runs)}"
        )
    return f"{sweep_id}:{run}", {r.instance_id: r for r in results if r.run == run}, store


def compare_command(
    a: str,
    b: str,
    store_url: str | None,
    settings: StatsSettings | None = None,
    flagged_as_unresolved: bool | None = None,
) -> RunComparison:
    """Paired statistics of two runs; a regression diff when they evaluated the same patches.
    ``flagged_as_unresolved``: compare hardened verdicts (None: each sweep's config decides)."""
    settings = settings or StatsSettings()
    name_a, ra, store = _run_results(a, store_url, flagged_as_unresolved)
    name_b, rb, _ = _run_results(b, store_url, flagged_as_unresolved)
    same = same_candidates(store, ra, rb)
    cmp = compare_runs(ra, rb, names=(name_a, name_b), settings=settings, same_candidates=same)
    if not cmp.common:
        raise ConfigError(f"{name_a} and {name_b} have no instance in common", source="compare")
    print_summary(cmp)
    print_statistics(cmp, settings)
    if same:
        print_regressions(cmp)
    else:
        for title, ids in (
            (f"resolved only by {name_a}", cmp.resolved_only_a),
            (f"resolved only by {name_b}", cmp.resolved_only_b),
        ):
            if ids:
                console.print(f"{title}: {', '.join(ids)}")
    return cmp


def print_summary(cmp: RunComparison) -> None:
    s = cmp.stats
    console.print(f"A = {cmp.a}\nB = {cmp.b}")
    table = Table(show_edge=False)
    table.add_column("")
    table.add_column("A", justify="right", no_wrap=True)
    table.add_column("B", justify="right", no_wrap=True)
    table.add_row("common instances", str(s.n), str(s.n))
    wa, wb = wilson_interval(s.both + s.only_a, s.n), wilson_interval(s.both + s.only_b, s.n)
    table.add_row(
        "resolved", f"{s.both + s.only_a} ({_pct(s.rate_a)})", f"{s.both + s.only_b} ({_pct(s.rate_b)})"
    )
    table.add_row("95% Wilson", _iv(wa.as_list()), _iv(wb.as_list()))
    table.add_row("resolved by this run only", str(s.only_a), str(s.only_b))
    table.add_row("instances only in this run", str(len(cmp.only_in_a)), str(len(cmp.only_in_b)))
    console.print(table)


def print_statistics(cmp: RunComparison, settings: StatsSettings) -> None:
    s = cmp.stats
    verdict = "significant" if s.p_value < 0.05 else "not significant"
    console.print(
        f"B - A = {100 * s.diff:+.1f} points, 95% CI {_iv(s.interval.as_list())} "
        f"(paired bootstrap, B={settings.bootstrap}, seed {settings.seed})"
    )
    console.print(
        f"McNemar exact p = {s.p_value:.4g} ({verdict} at 0.05); discordant: {s.only_a} only A, "
        f"{s.only_b} only B; both {s.both}, neither {s.neither}"
    )
    if s.mdd is not None:
        console.print(
            f"minimal detectable difference at this discordance ({_pct(s.discordance)}): "
            f"{100 * s.mdd:.1f} points (alpha 0.05, power 0.8)"
        )


def print_regressions(cmp: RunComparison) -> None:
    """Changed instances as plain lines (test names are long: no table cell should fold them)."""
    console.print(f"same candidate patches on all {len(cmp.common)} common instances: regression diff")
    if not cmp.changed:
        console.print("no instance changed verdict")
        return
    console.print(f"{len(cmp.changed)} instances changed verdict (A -> B):")
    width = max(len(c.instance_id) for c in cmp.changed)
    for c in cmp.changed:
        console.print(f"  {c.instance_id:<{width}}  {c.before} -> {c.after}")
        for f in c.flips:
            console.print(f"  {'':<{width}}    {'pass -> fail' if f.before else 'fail -> pass'}  {f.test}")
