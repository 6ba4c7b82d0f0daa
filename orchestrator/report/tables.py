"""Sortable HTML tables of report.html, from report.json: runs, comparisons, replicates, repos, durations."""

from __future__ import annotations

from html import escape
from typing import Any

Cell = tuple[str, float | str | None]  # (text shown, sort key)
VERDICT_COLUMNS = ("unresolved", "patch_failed", "empty_patch", "timeout", "error")


def pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def interval(iv: list[float] | None) -> Cell:
    if not iv:
        return "-", None
    return f"[{100 * iv[0]:.1f}, {100 * iv[1]:.1f}]%", iv[0]


def num(x: float | int | None, fmt: str = "{:,}") -> Cell:
    return ("-", None) if x is None else (fmt.format(x), x)


def points(x: float | None, sign: str = "") -> Cell:
    return ("-", None) if x is None else (f"{100 * x:{sign}.1f} pts", x)


def points_interval(iv: list[float] | None) -> Cell:
    """An interval of a difference, in points like the difference itself."""
    if not iv:
        return "-", None
    return f"[{100 * iv[0]:+.1f}, {100 * iv[1]:+.1f}] pts", iv[0]


def table(table_id: str, headers: list[str], rows: list[list[Cell]]) -> str:
    """A table whose columns sort on click (the page's script), each cell with its sort key.

    A cell's text may hold lines (``\\n``): the first is its value, the others are stacked below it."""
    head = "".join(f'<th scope="col" title="sort by {escape(h)}">{escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for text, key in row:
            attr = "" if key is None else f' data-sort="{escape(str(key))}"'
            first, *more = text.split("\n")
            sub = "".join(f'<br><span class="sub">{escape(m)}</span>' for m in more)
            cells.append(f"<td{attr}>{escape(first)}{sub}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def runs_table(report: dict[str, Any]) -> str:
    """One row per run; model and scaffold stacked under the run, the other verdicts in one cell, so the
    table fits a 1400 px window with its attempts, tokens and cost."""
    headers = [
        "run",
        "resolved",
        "rate",
        "95% Wilson",
        "95% bootstrap",
        "SE",
        "SE by repo",
        "other verdicts",
        "attempts",
        "infra errors",
        "tokens",
        "cost (USD)",
        "USD / resolved",
        "steps / instance",
        "agent s / instance",
    ]
    rows = []
    for run, e in report["runs"].items():
        s, use = e["stats"], e.get("usage", {})
        prim_verdicts = e["instance_verdicts"]
        label = " \u00b7 ".join(e["labels"][k] for k in ("model", "scaffold") if e["labels"].get(k))
        others = [f"{v} {prim_verdicts[v]}" for v in VERDICT_COLUMNS if prim_verdicts.get(v)]
        rows.append(
            [
                (f"{run}\n{label}" if label else run, run),
                (f"{s['resolved']}/{s['instances']}", s["resolved"]),
                (pct(s["rate"]), s["rate"]),
                interval(s["wilson"]),
                interval(s["bootstrap"]),
                (pct(s["se"]), s["se"]),
                (pct(s["clustered_se"]), s["clustered_se"]),
                ("\n".join(others) or "none", s["instances"] - s["resolved"]),
                num(e["attempts"]),
                num(e["infra_errors"]),
                num(use.get("tokens", {}).get("total")),
                num(use.get("cost_usd", {}).get("total"), "{:.4f}"),
                num(use.get("cost_usd", {}).get("per_resolved"), "{:.4f}"),
                num(use.get("steps", {}).get("per_instance"), "{:.1f}"),
                num(use.get("rollout_wall_s", {}).get("per_instance"), "{:.1f}"),
            ]
        )
    return table("table-runs", headers, rows)


def comparisons_table(report: dict[str, Any], table_id: str = "table-comparisons") -> str:
    """Every pair of runs; B - A, its interval and the MDDs all in points."""
    headers = [
        "A / B",
        "common",
        "both",
        "only A",
        "only B",
        "neither",
        "B - A",
        "95% CI of B - A (paired bootstrap)",
        "McNemar p",
        "discordance",
        "MDD (paired)",
        "MDD (unpaired)",
        "differs in",
    ]
    rows = [
        [
            (f"A: {c['a']}\nB: {c['b']}", f"{c['a']} {c['b']}"),
            num(c["instances"]),
            num(c["both"]),
            num(c["only_a"]),
            num(c["only_b"]),
            num(c["neither"]),
            points(c["diff"], "+"),
            points_interval(c["interval"]),
            num(c["p_value"], "{:.4g}"),
            (pct(c["discordance"]), c["discordance"]),
            points(c["mdd_paired"]),
            points(c.get("mdd_unpaired")),
            (", ".join(c.get("differs_in", [])) + (" (ablation)" if c.get("ablation") else ""), None),
        ]
        for c in report.get("comparisons", [])
    ]
    return table(table_id, headers, rows)


def replicates_table(report: dict[str, Any]) -> str | None:
    entries = {run: e["replicates"] for run, e in report["runs"].items() if e.get("replicates")}
    if not entries:
        return None
    ks = sorted({int(k) for rep in entries.values() for k in rep["pass_at_k"]})
    headers = ["run", "replicates", "evaluations / instance", "mean", "SE"]
    headers += [f"pass@{k}" for k in ks] + [f"pass^{k}" for k in ks]
    rows = []
    for run, rep in entries.items():
        row: list[Cell] = [
            (run, run),
            num(rep["replicates"]),
            num(rep["evaluations_per_instance"]),
            (pct(rep["mean"]), rep["mean"]),
            (pct(rep["se"]), rep["se"]),
        ]
        for key in ("pass_at_k", "pass_hat_k"):
            row += [(pct(rep[key].get(str(k))), rep[key].get(str(k))) for k in ks]
        rows.append(row)
    return table("table-replicates", headers, rows)


def repos_table(report: dict[str, Any]) -> str:
    runs = list(report["runs"])
    repos = sorted({repo for e in report["runs"].values() for repo in e["repos"]})
    rows = []
    for repo in repos:
        row: list[Cell] = [(repo, repo)]
        for run in runs:
            s = report["runs"][run]["repos"].get(repo)
            row.append(
                ("-", None)
                if s is None
                else (f"{pct(s['rate'])} ({s['resolved']}/{s['instances']})", s["rate"])
            )
        rows.append(row)
    return table("table-repos", ["repository", *runs], rows)


def durations_table(report: dict[str, Any]) -> str:
    headers = ["run", "phase", "items", "p50 (s)", "p90 (s)", "max (s)", "total (s)"]
    rows = []
    for run, e in report["runs"].items():
        for phase, d in e["durations"].items():
            rows.append(
                [
                    (run, run),
                    (phase, phase),
                    num(d.get("n")),
                    num(d.get("p50"), "{:.2f}"),
                    num(d.get("p90"), "{:.2f}"),
                    num(d.get("max"), "{:.2f}"),
                    num(d.get("total"), "{:.1f}"),
                ]
            )
    return table("table-durations", headers, rows)


def integrity_table(report: dict[str, Any]) -> str:
    """Per run: how many results carry integrity flags, and the most frequent rules with examples."""
    rows: list[list[Cell]] = []
    for run, entry in sorted(report.get("runs", {}).items()):
        integ = entry.get("integrity") or {}
        rules = integ.get("by_rule", {})
        top = "; ".join(
            f"{rule} ({n}: {', '.join(integ.get('examples', {}).get(rule, [])[:3])})"
            for rule, n in list(rules.items())[:4]
        )
        rows.append(
            [
                (run, run),
                num(integ.get("flagged", 0)),
                num(integ.get("flagged_resolved", 0)),
                (_rate(integ, "official"), integ.get("official_rate")),
                (_rate(integ, "hardened"), integ.get("hardened_rate")),
                (", ".join(f"{k} {v}" for k, v in integ.get("by_kind", {}).items()) or "none", None),
                (top or "-", None),
            ]
        )
    return table(
        "table-integrity",
        [
            "run",
            "flagged",
            "flagged and resolved",
            "official rate",
            "hardened rate",
            "by kind",
            "rules (examples)",
        ],
        rows,
    )


def _rate(integ: dict[str, Any], which: str) -> str:
    """``62.0% (31/50)`` of one verdict policy (report.json's per-instance counts), or ``-``."""
    rate, resolved, n = integ.get(f"{which}_rate"), integ.get(f"{which}_resolved"), integ.get("instances")
    return "-" if rate is None else f"{100 * rate:.1f}% ({resolved}/{n})"
