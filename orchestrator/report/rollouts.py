"""Rollout runs in reports: which factor two compared runs differ in (the ablation view), and links to
every trajectory from report.html."""

from __future__ import annotations

from html import escape
from typing import Any

from workers.models import Result

FACTORS = ("model", "scaffold")


def differs_in(comparisons: list[dict[str, Any]], runs: dict[str, Any]) -> list[dict[str, Any]]:
    """Each paired comparison with ``differs_in``: the labels (model, scaffold) the two runs do not share,
    ``["other"]`` when they share both (sampling, seed or the patches' source), and ``ablation`` true when
    exactly one factor differs: the pairs an ablation study reads."""
    out = []
    for c in comparisons:
        la, lb = runs.get(c["a"], {}).get("labels", {}), runs.get(c["b"], {}).get("labels", {})
        differs = [f for f in FACTORS if la.get(f) != lb.get(f)] or ["other"]
        out.append({**c, "differs_in": differs, "ablation": len(differs) == 1})
    return out


def trajectories_table(results: list[Result]) -> str | None:
    """Rollout results with a link to their trajectory (relative to the reports directory)."""
    rows = []
    for r in sorted(results, key=lambda r: (r.run, r.instance_id, r.repeat, r.seed)):
        meta = r.candidate_metadata
        key = meta.get("trajectory")
        if not isinstance(key, str):
            continue
        rel = (
            "../" + key.split("/", 2)[2] if key.count("/") >= 2 else key
        )  # sweeps/{sid}/items/... -> ../items/...
        flags = "; ".join(f for f in r.flags if f.startswith("rollout:")) or "-"
        cells = [r.run, r.instance_id, r.verdict, str(meta.get("steps", "-")), str(meta.get("tokens", "-"))]
        cells += [f"{meta.get('cost_usd', 0):.4f}", str(meta.get("exit_status", "-")), flags]
        tds = "".join(f"<td>{escape(c)}</td>" for c in cells)
        rows.append(f'<tr>{tds}<td><a href="{escape(rel)}">trajectory.json</a></td></tr>')
    if not rows:
        return None
    headers = [
        "run",
        "instance",
        "verdict",
        "steps",
        "tokens",
        "USD",
        "agent exit",
        "rollout flags",
        "trajectory",
    ]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    return f'<table id="table-trajectories" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
