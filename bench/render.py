"""The tables of BENCHMARKS.md, from the figures of one ``python -m bench all`` run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


def host(hosts: list[dict[str, Any]], load_ends: list[float]) -> str:
    """The machine, when, and how loaded it was (several dates when benchmarks were re-run one by one)."""
    h = hosts[0]
    dates = sorted({x["date"] for x in hosts})
    when = dates[0] if len(dates) == 1 else f"between {dates[0]} and {dates[-1]}"
    starts = [x["load_1m_at_start"] for x in hosts]
    return (
        f"Measured {when} on {h['cores']} cores, {h['memory_gib']} GiB ({h['cpu']}, Linux {h['kernel']}), "
        f"Docker {h['docker']}, Ray {h['ray']}, Python {h['python']}; load average (1 min) "
        f"{min(starts)}-{max(starts)} when runs started, {min(load_ends):.2f}-{max(load_ends):.2f} when "
        "benchmarks ended (a shared machine: see the note under each table)."
    )


def efficiency_phases(runs: list[dict[str, Any]]) -> str:
    rows = [
        (r["sleep_s"], *[r["phase_medians_s"][p] for p in r["phase_medians_s"]])
        for r in runs
        if "phase_medians_s" in r
    ]
    if not rows:
        return ""
    names = list(runs[0]["phase_medians_s"])
    rows = [(r["slots"], *row) for r, row in zip(runs, rows, strict=True)]
    return "\n\nPhase medians (s; cleanup 0: removed in the background):\n\n" + table(
        ("slots", "test sleeps (s)", *names), rows
    )


def efficiency(runs: list[dict[str, Any]]) -> str:
    rows = [
        (
            r["sleep_s"],
            r["items"],
            r["slots"],
            r["makespan_s"],
            r["ideal_makespan_s"],
            r["sum_test_s"],
            r["test_phase_median_s"],
            r["overhead_phases_median_s"],
            f"**{r['efficiency']:.3f}**",
            _ok(r["efficiency"] >= r["target"]),
            ",".join(r["verdicts"]),
        )
        for r in runs
    ]
    head = (
        "test sleeps (s)",
        "items",
        "slots",
        "makespan (s)",
        "sum test / slots (s)",
        "sum test (s)",
        "test phase median (s)",
        "non-test phases median (s)",
        "efficiency",
        "target 0.90",
        "verdicts",
    )
    return table(head, rows) + efficiency_phases(runs)


def overhead(runs: list[dict[str, Any]] | dict[str, Any]) -> str:
    names = {
        "image": "image (warm)",
        "start": "start (create + start, or take the spare)",
        "patch": "patch (one round trip: patches, chain, tests)",
        "cleanup": "cleanup (remove; pipelined: in the background)",
        "marker": "attempt marker (store)",
        "bookkeeping": "evaluation bookkeeping",
        "upload_commit": "log upload + commit (store)",
        "overhead": "**fixed overhead (all but the test)**",
        "test": "test command (not overhead)",
    }
    runs = [runs] if isinstance(runs, dict) else runs
    head: list[str] = ["phase"]
    for o in runs:
        how = "pipelined (sweep default)" if o.get("pipelined") else "each item alone"
        head += [f"{how}: median (s)", "p90 (s)"]
    rows = [
        (label, *[v for o in runs for v in (o["median_s"][k], o["p90_s"][k])]) for k, label in names.items()
    ]
    verdicts = ", ".join(sorted({v for o in runs for v in o["verdicts"]}))
    met = ", ".join(
        f"{'pipelined' if o.get('pipelined') else 'alone'} {_ok(o['median_s']['overhead'] <= o['target_median_overhead_s'])}"
        for o in runs
    )
    footer = f"\n\n{runs[0]['items']} items each way, verdicts {verdicts}; target median <= 0.5 s: {met}."
    return table(head, rows) + footer


def primitives(p: dict[str, Any]) -> str:
    together = p.get("concurrent", {})
    n = p.get("concurrency", "-")
    rows = [
        (
            k,
            v["median_s"],
            v["p90_s"],
            together.get(k, {}).get("median_s", "-"),
            together.get(k, {}).get("p90_s", "-"),
        )
        for k, v in p.items()
        if isinstance(v, dict) and k != "concurrent"
    ]
    head = ("primitive", "alone: median (s)", "p90 (s)", f"{n} at once: median (s)", "p90 (s)")
    return table(head, rows) + f"\n\n{p['reps']} rounds alone; 3 rounds of {n} sandboxes at once."


def patch_phase(p: dict[str, Any]) -> str:
    rows = [(k, v["median_s"], v["p90_s"]) for k, v in p["variants"].items()]
    return table(("patch phase", "median (s)", "p90 (s)"), rows) + (
        f"\n\nSame tree after each variant: {p['same_tree']}; {p['reps']} repetitions, alternating."
    )


def scale(points: list[dict[str, Any]]) -> str:
    rows = [
        (
            f"{r['items']:,}",
            r["plan_s"],
            r["run_s"],
            f"**{r['items_per_s']:.0f}**",
            f"{r['items_per_s_with_plan']:.0f}",
            f"**{r['driver_peak_rss_mb']:.0f}**",
            r["aggregate_load_s"],
            f"**{r['aggregate_reports_s']}**",
            f"{r['aggregate_peak_rss_mb']:.0f}",
            r["committed"],
        )
        for r in points
    ]
    head = (
        "items",
        "plan (s)",
        "run (s)",
        "items/s",
        "items/s incl. plan",
        "driver peak RSS (MiB)",
        "load results (s)",
        "write_reports (s)",
        "peak RSS after reports (MiB)",
        "committed",
    )
    last = points[-1]
    verdict = (
        f"\n\nAt {last['items']:,} items (slots {last['slots']}, batch size {last['batch_size']}): "
        f"items/s >= 500 {_ok(last['items_per_s'] >= 500)}; driver RSS <= 500 MB "
        f"{_ok(last['driver_peak_rss_mb'] <= 500)}; aggregation <= 10 s {_ok(last['aggregate_reports_s'] <= 10)}."
    )
    return table(head, rows) + verdict


def batching(single: list[dict[str, Any]], batched: list[dict[str, Any]]) -> str:
    rows = [
        (
            r["batch_size"],
            f"{r['items']:,}",
            r["slots"],
            r["run_s"],
            f"**{r['items_per_s']:.0f}**",
            f"{r['driver_peak_rss_mb']:.0f}",
        )
        for r in (*single, *(b for b in batched if b["items"] == single[0]["items"]))
    ]
    return table(("batch size", "items", "slots", "run (s)", "items/s", "driver peak RSS (MiB)"), rows)


def fixes(f: dict[str, Any]) -> str:
    rows = [
        (step, v["baseline"], v["current"], f"{v['baseline'] / v['current']:.1f}x" if v["current"] else "-")
        for step, v in f["seconds"].items()
    ]
    head = (
        f"step ({f['results']:,} results / {f['planned']:,} items)",
        f"{f['baseline']} (s)",
        "now (s)",
        "speed-up",
    )
    return table(head, rows) + f"\n\nMedians of {f['reps']} alternating runs on the same store and dataset."


def reuse(r: dict[str, Any]) -> str:
    rows = [
        (
            "cold (image missing)",
            r["first_result_cold_s"],
            r["makespan_cold_s"],
            ", ".join(r["builds_cold"]),
            r["verdicts_cold"],
        ),
        (
            "warm",
            r["first_result_warm_s"],
            r["makespan_warm_s"],
            r["builds_warm"] or "none",
            r["verdicts_warm"],
        ),
    ]
    return table(("run", "first result (s)", "makespan (s)", "layers built", "verdicts"), rows) + (
        f"\n\n{r['items']} items on {r['slots']} slots sharing one env image: env builds = {r['env_builds']} "
        f"({_ok(r['env_builds'] == 1)}); build seconds {r['build_seconds']}."
    )


def harness(h: dict[str, Any]) -> str:
    rows = [
        ("swebench run_evaluation", h["swebench_wall_s"], h.get("swebench_wall_minus_stop_waits_s", "-")),
        ("evalfleet eval", h["evalfleet_wall_s"], h.get("evalfleet_work_span_s", "-")),
    ]
    head = (
        f"harness (CLI, parallelism {h['parallelism']})",
        "wall (s)",
        "wall without swebench's stop waits / evalfleet's work span (s)",
    )
    return table(head, rows) + (
        f"\n\n{h['instances']} instances; ratio swebench / evalfleet = **{h['ratio_swebench_over_evalfleet']}**; "
        f"verdicts agree: **{h['agree']}**; swebench's `docker stop` waits, summed over instances: "
        f"{h['swebench_docker_stop_s_summed']} s; evalfleet start-up (Ray, plan, reports): "
        f"{h.get('evalfleet_startup_s', '-')} s; order: {h['order']}."
    )


def profiles(ps: list[dict[str, Any]] | dict[str, Any], n: int = 6) -> str:
    out = []
    ps = [ps] if isinstance(ps, dict) else ps
    for p in ps:
        top = "; ".join(f"{name} {share:.0%}" for name, share in p["self"][:n])
        out.append(f"- `{p['target']}` ({p['samples']} samples): {top}")
    return "\n".join(out)


def figures(hosts: list[dict[str, Any]], done: dict[str, Any], *, loads: dict[str, float]) -> str:
    """Every section; ``loads``: the load average at the end of each benchmark, shown under its table."""
    parts = [host(hosts, list(loads.values()))]
    sections: list[tuple[str, str, Callable[[Any], str]]] = [
        ("Efficiency", "efficiency", efficiency),
        ("Fixed per-item overhead", "overhead", overhead),
        ("Sandbox primitives", "primitives", primitives),
        ("Patch phase, before and after", "patch-phase", patch_phase),
        ("Control-plane scale", "scale", scale),
        ("Image reuse", "reuse", reuse),
        ("Side by side with the official harness", "harness", harness),
        ("Profiles (self time)", "profile", profiles),
    ]
    for title, key, fn in sections:
        if key in done:
            note = (
                f"\n\nLoad average (1 min) when this benchmark ended: {loads[key]}." if key in loads else ""
            )
            parts.append(f"### {title}\n\n{fn(done[key])}{note}")
        if key == "scale" and "scale-batch1" in done and "scale" in done:
            parts.append(
                f"### Batching (same run, 10,000 items)\n\n{batching(done['scale-batch1'], done['scale'])}"
            )
        if key == "scale" and "fixes" in done:
            parts.append(f"### Control-plane fixes, before and after\n\n{fixes(done['fixes'])}")
    return "\n\n".join(parts) + "\n"
