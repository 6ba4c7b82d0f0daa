"""report.html: one self-contained page (inline CSS, JS and SVG; a CSP that forbids any network load)."""

from __future__ import annotations

from html import escape
from typing import Any

from orchestrator.report import figures, sentences, tables
from orchestrator.report.external import LIMITS, rate_text
from orchestrator.report.rollouts import trajectories_table
from workers.models import Result

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1300px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
p.meta, p.note { color: #555; font-size: 13px; margin: 4px 0; }
nav a { margin-right: 14px; font-size: 13px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 10px 0; display: block; overflow-x: auto; }
th, td { border-bottom: 1px solid #e6e6e6; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
td:first-child { white-space: normal; overflow-wrap: anywhere; min-width: 140px; max-width: 320px; }
th:first-child, td:first-child { text-align: left; }
span.sub { color: #666; font-size: 11.5px; }
p.warn { color: #8a4b00; font-size: 13px; margin: 4px 0; }
th { background: #f5f5f5; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
svg.chart { display: block; margin: 8px 0; background: #fff; }
"""

# Click a header to sort by it (again to reverse); numbers by their data-sort key, text otherwise.
JS = """
(function () {
  function key(td) {
    var v = td.getAttribute('data-sort');
    if (v === null) { v = td.textContent; }
    var n = Number(v);
    return (v !== '' && !isNaN(n)) ? n : String(v).toLowerCase();
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : (x > y ? 1 : 0)) * (asc ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  }
  var all = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(all, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () { sortBy(table, col, th); });
    });
  });
  document.body.setAttribute('data-sortable-tables', String(all.length));
})();
"""


def _section(section_id: str, title: str, *parts: str | None) -> str:
    body = "".join(p for p in parts if p)
    return f'<section id="{section_id}"><h2>{escape(title)}</h2>{body}</section>'


def _policy_note(report: dict[str, Any]) -> str:
    headline = (report.get("verdict_policy") or {}).get("headline", "official")
    other = "--no-flagged-as-unresolved" if headline == "hardened" else "--flagged-as-unresolved"
    return f"The rates elsewhere in this report use the {headline} verdicts (evalfleet report {other} for the other)."


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _header(report: dict[str, Any]) -> str:
    runs = len(report["runs"])
    settings = report.get("settings", {})
    meta = (
        f"{report.get('committed', 0)} of {report.get('planned') or '?'} items committed, {runs} runs; "
        f"harness {report.get('harness_version') or '?'}; bootstrap B={settings.get('bootstrap')}, "
        f"seed {settings.get('seed')}"
    )
    links = " ".join(
        f'<a href="#{i}">{t}</a>'
        for i, t in (
            ("rates", "rates"),
            ("comparisons", "comparisons"),
            ("replicates", "replicates"),
            ("repos", "repositories"),
            ("heatmap", "heatmap"),
            ("durations", "durations"),
        )
    )
    return (
        f"<header><h1>evalfleet sweep {escape(str(report.get('sweep_id')))}</h1>"
        f'<p class="meta">{escape(meta)}</p><nav>{links}</nav></header>'
    )


def _warn(text: str | None) -> str:
    return f'<p class="warn">{escape(text)}</p>' if text else ""


def _mdd_notes(report: dict[str, Any]) -> str:
    """Per comparison, the paired MDD against the unpaired one at the two runs' own rates, in words that
    follow the numbers; then the warnings for MDDs that rest on few discordant instances."""
    comparisons = report.get("comparisons") or []
    d = report.get("detectable_difference") or {}
    out = []
    if d.get("instances"):
        out.append(
            _note(
                f"Minimal detectable differences (MDD, alpha 0.05, power 0.8): with {d['instances']} instances "
                f"per run, two independent runs near 50% must differ by {100 * d['unpaired_at_50']:.1f} points."
            )
        )
    out += [_note(sentences.mdd_sentence(c)) for c in comparisons if c.get("mdd_unpaired") is not None]
    out += [_warn(sentences.discordance_warning(c)) for c in comparisons]
    return "".join(out)


def _external_section(report: dict[str, Any]) -> str:
    """Runs evaluated elsewhere: their rates, their comparisons with the sweep's runs, and their limits."""
    entries = report.get("external") or []
    if not entries:
        return ""
    parts = [
        _note(f"{e['name']} ({e['kind'].replace('_', ' ')}, {e['source']}): {rate_text(e)}") for e in entries
    ]
    comparisons = [c for e in entries for c in e["comparisons"]]
    parts.append(tables.comparisons_table({"comparisons": comparisons}, "table-external"))
    parts += [_note(sentences.mdd_sentence(c)) for c in comparisons]
    parts += [_warn(sentences.discordance_warning(c)) for c in comparisons]
    parts.append(_warn(LIMITS))
    return _section("external", "External runs (evaluated elsewhere; matched on instance ids)", *parts)


def render_html(report: dict[str, Any], results: list[Result], prim: list[Result]) -> str:
    """The page for a sweep: report.json's numbers, plus figures drawn from its results."""
    sections = [
        _header(report),
        _section(
            "rates",
            "Resolve rate per run",
            figures.rates_figure(report),
            tables.runs_table(report),
            _note(
                "One result per instance and run (repeat 0). Intervals are 95%: Wilson and a percentile "
                "bootstrap over instances; 'SE by repo' is clustered by repository."
            ),
            _warn(sentences.cluster_warning(report["runs"])),
        ),
        _section(
            "comparisons",
            "Paired comparisons (common instances)",
            tables.comparisons_table(report),
            _note(
                "B - A, its interval and the MDDs are in points. McNemar's exact test on the discordant "
                "instances; the interval is a paired bootstrap of B - A."
            ),
            _mdd_notes(report),
        ),
        _external_section(report),
        _section(
            "replicates",
            "Across seeds and repeats",
            tables.replicates_table(report) or _note("Every run was evaluated once per instance."),
        ),
        _section("repos", "Per repository", figures.repos_figure(report), tables.repos_table(report)),
        _section(
            "heatmap",
            f"Heatmap: {figures.heatmap_title(results, prim)}",
            figures.heatmap_figure(results, prim),
        ),
        _section(
            "durations",
            "Durations",
            _note(f"The histogram shows the {figures.durations_pool(results)}."),
            figures.durations_figure(results),
            tables.durations_table(report),
        ),
        _section(  # rollouts (issue 13): every generated patch's trajectory, one click away
            "trajectories",
            "Trajectories",
            trajectories_table(results) or _note("No run of this sweep generated its patches."),
        ),
        _section(
            "integrity",
            "Integrity",
            tables.integrity_table(report),
            _note(
                "Flags a candidate earned: test infrastructure it changed (restored, or kept where the spec "
                "allows it), suspicious constructs in its patch, and evidence checks the grader applied. "
                "The official verdict is what the swebench package decides from the same log; the hardened "
                "one also counts a result with a suspicious: or evidence: flag as unresolved. "
                + _policy_note(report)
            ),
        ),
    ]
    title = f"evalfleet report: {report.get('sweep_id')}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(sections)
        + f"<script>{JS}</script></body></html>\n"
    )
