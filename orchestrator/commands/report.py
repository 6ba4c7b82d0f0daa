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
from orchestrator.report import sentences
from orchestrator.report.aggregate import primary, write_reports
from orchestrator.report.external import LIMITS, ExternalRun, is_external, load_external, rate_text
from orchestrator.report.integrity import apply_flag_policy
from orchestrator.report.regression import RunComparison, compare_runs, comparison_dict, same_candidates
from orchestrator.report.stats import StatsSettings, wilson_interval
from orchestrator.store import ResultStore, SweepPaths
from workers.models import Result

console = Console(highlight=False, soft_wrap=True, markup=False)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _iv(iv: list[float], sign: str = "") -> str:
    return f"[{100 * iv[0]:{sign}.1f}, {100 * iv[1]:{sign}.1f}]"


def report_command(
    sweep_id: str,
    store_url: str | None,
    *,
    out: Path | None = None,
    settings: StatsSettings | None = None,
    external: list[Path] | None = None,
    flagged_as_unresolved: bool | None = None,
) -> None:
    """Aggregate from storage, then print the rates (read back from the stored report.json).
    ``external``: run reports or results files of runs evaluated elsewhere, compared with the sweep's."""
    externals = [load_external(p) for p in external or []]
    store, _manifest = open_sweep(sweep_id, store_url)
    written = write_reports(
        store, sweep_id, settings, external=externals, flagged_as_unresolved=flagged_as_unresolved
    )
    paths = SweepPaths(sweep_id)
    report: dict[str, Any] = json.loads(store.get(paths.report("report.json")) or b"{}")
    print_runs(report)
    print_policy(report)
    print_pairs(report)
    print_external(report)
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
    warning = sentences.cluster_warning(report.get("runs", {}))
    if warning:
        console.print(warning)


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
    """One line per pair of runs (a table would cut numbers in an 80-column pipe), then what the MDDs
    mean for it and any warning."""
    pairs = report.get("comparisons") or []
    if not pairs:
        return
    console.print(
        "paired comparisons on common instances (B - A, its 95% paired bootstrap CI and MDDs in points):"
    )
    for c in pairs:
        mdd = "-" if c["mdd_paired"] is None else f"{100 * c['mdd_paired']:.1f}"
        console.print(
            f"  A={c['a']}  B={c['b']}: n {c['instances']}, only A {c['only_a']}, only B {c['only_b']}, "
            f"B - A {100 * c['diff']:+.1f} {_iv(c['interval'], '+')}, McNemar p {c['p_value']:.3g}, "
            f"MDD paired {mdd}, unpaired {100 * c['mdd_unpaired']:.1f}"
        )
    for c in pairs:
        console.print(sentences.mdd_sentence(c))
        warning = sentences.discordance_warning(c)
        if warning:
            console.print(warning)


def print_external(report: dict[str, Any]) -> None:
    """External runs: their rates and their paired comparisons with the sweep's runs, then their limits."""
    entries = report.get("external") or []
    for e in entries:
        console.print(f"external {e['name']} ({e['kind'].replace('_', ' ')}, {e['source']}): {rate_text(e)}")
        print_pairs({"comparisons": e["comparisons"]})
        if not e["comparisons"]:
            console.print(f"  no instance of {e['name']} is in any run of this sweep")
    if entries:
        console.print(LIMITS)


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
    """Paired statistics of two runs; a regression diff when they evaluated the same patches. A run is
    SWEEP:RUN in the store, or a JSON file: an official run report or a results file of resolved ids.
    ``flagged_as_unresolved``: compare hardened verdicts (None: each sweep's config decides)."""
    settings = settings or StatsSettings()
    ext_a, ext_b = (load_external(r) if is_external(r) else None for r in (a, b))
    name_a, ra, store = _side(a, ext_a, store_url, flagged_as_unresolved)
    name_b, rb, store_b = _side(b, ext_b, store_url, flagged_as_unresolved)
    if ext_a and not ext_a.closed:
        ra = ext_a.results(_universe(ext_a, ext_b, rb))
    if ext_b and not ext_b.closed:
        rb = ext_b.results(_universe(ext_b, ext_a, ra))
    store = store or store_b
    external = ext_a is not None or ext_b is not None
    same = not external and store is not None and same_candidates(store, ra, rb)
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
    for ext in (ext_a, ext_b):
        if ext is not None:
            console.print(external_note(ext, len(cmp.common)))
    if external:
        console.print(LIMITS)
    return cmp


def _universe(ext: ExternalRun, other: ExternalRun | None, other_results: dict[str, Result]) -> set[str]:
    """The instances a results file (resolved ids only) is matched on: the other run's instances."""
    if other is None or other.closed:
        return set(other_results)
    return set(ext.verdicts) | set(other.verdicts)


def _side(
    ref: str, ext: ExternalRun | None, store_url: str | None, flagged_as_unresolved: bool | None
) -> tuple[str, dict[str, Result], ResultStore | None]:
    if ext is None:
        return _run_results(ref, store_url, flagged_as_unresolved)
    return ext.name, ext.results(), None


def external_note(ext: ExternalRun, common: int) -> str:
    """How an external run's instances were matched, and its official rate when the file gives one."""
    if ext.kind == "run_report":
        official = (
            f"; its official rate counts all {ext.total} instances: "
            f"{sum(v == 'resolved' for v in ext.verdicts.values())}/{ext.total}"
            if ext.total
            else ""
        )
        return (
            f"{ext.name} (official run report {ext.source}): its {len(ext.verdicts)} submitted instances, "
            f"{common} of them in common{official}."
        )
    return (
        f"{ext.name} (results file {ext.source}): it lists resolved ids only, so every instance it does not "
        f"list as resolved counts as unresolved; matched on the {common} instances of the other run."
    )


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
        f"B - A = {100 * s.diff:+.1f} points, 95% CI {_iv(s.interval.as_list(), '+')} points "
        f"(paired bootstrap, B={settings.bootstrap}, seed {settings.seed})"
    )
    console.print(
        f"McNemar exact p = {s.p_value:.4g} ({verdict} at 0.05); discordant: {s.only_a} only A, "
        f"{s.only_b} only B; both {s.both}, neither {s.neither}"
    )
    pair = {"a": "A", "b": "B", **comparison_dict(s)}
    console.print(sentences.mdd_sentence(pair))
    warning = sentences.discordance_warning(pair)
    if warning:
        console.print(warning)


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
