"""Inline SVG charts for report.html: rates with interval whiskers, grouped bars, heatmap, histogram.

Every chart is a self-contained ``<svg>`` string (no scripts, no external fonts), rates in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da7",
    "#bab0ac",
)
WIDTH = 900
LABEL_W = 300  # the widest left label area (30 characters); narrower when the labels are shorter
AXIS = "#888"
INK = "#222"

# Advance widths (in em) of DejaVu Sans, the default sans-serif face of Debian/Ubuntu and one of the widest
# (Arial, Helvetica and Liberation Sans are narrower): an area sized from them holds its text whole.
_EM = {"%": 0.95, "m": 0.974, "w": 0.818, "M": 0.863, "W": 0.989, "@": 1.0, "_": 0.5, "-": 0.361}
_EM |= dict.fromkeys(".,:; '", 0.318) | dict.fromkeys("ijl|", 0.278) | dict.fromkeys("/()[]", 0.39)
_EM |= {"f": 0.352, "t": 0.392, "r": 0.411, "\u2026": 1.0}


def text_width(text: str, size: float = 12) -> float:
    """An upper estimate of the rendered width of ``text`` in pixels (10% margin over DejaVu Sans)."""
    em = 0.0
    for ch in text:
        em += _EM.get(ch, 0.636 if ch.isdigit() else 0.78 if ch.isupper() else 0.62)
    return em * size * 1.1


def label_width(labels: Sequence[str], size: float = 12, pad: float = 16) -> float:
    """Width of a label column that holds the widest of ``labels`` whole (at most LABEL_W)."""
    return min(float(LABEL_W), max((text_width(t, size) for t in labels), default=0.0) + pad)


@dataclass(frozen=True)
class RatePoint:
    """A rate with its interval, drawn as a bar, a dot and a whisker."""

    label: str
    rate: float
    low: float
    high: float
    note: str = ""


def _svg(chart_id: str, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 12, fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{escape(text)}</text>"
    )


def _short(label: str, limit: int = 30) -> str:
    """A label that fits its column: the middle of a long name is elided (the full name is in the tables)."""
    if len(label) <= limit:
        return label
    half = (limit - 1) // 2
    return f"{label[:half]}\u2026{label[-half:]}"


def _common_prefix(names: Sequence[str]) -> str:
    first, last = min(names), max(names)
    i = 0
    while i < min(len(first), len(last)) and first[i] == last[i]:
        i += 1
    return first[:i]


def distinct_labels(names: Sequence[str], limit: int = 30) -> dict[str, str]:
    """Short labels that stay distinct: what long names share around their differences is elided first."""
    if len(names) < 2 or all(len(n) <= limit for n in names):
        return {n: _short(n, limit) for n in names}
    prefix = _common_prefix(names)
    suffix = _common_prefix([n[::-1] for n in names])[::-1]
    if any(len(n) <= len(prefix) + len(suffix) for n in names):
        return {n: _short(n, limit) for n in names}
    out = {}
    for n in names:
        middle = _short(n[len(prefix) : len(n) - len(suffix)], limit - 2)
        budget = max(0, limit - 2 - len(middle))
        before = prefix[len(prefix) - budget // 2 :] if budget // 2 else ""
        after = suffix[: budget - len(before)]
        left = "\u2026" if len(before) < len(prefix) else ""
        right = "\u2026" if len(after) < len(suffix) else ""
        out[n] = f"{left}{before}{middle}{after}{right}"
    return out


def _percent_axis(x0: float, x1: float, y0: float, y1: float) -> list[str]:
    out = []
    for tick in (0, 25, 50, 75, 100):
        x = x0 + (x1 - x0) * tick / 100
        out.append(f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="#ddd"/>')
        out.append(_text(x, y1 + 14, f"{tick}%", "middle", 11, AXIS))
    return out


def rate_chart(chart_id: str, points: Sequence[RatePoint], title: str) -> str:
    """One row per run: a bar to the rate, a dot at it and a whisker over its interval.

    The label areas left (run) and right (value) are sized from their texts, so both show whole."""
    row, top = 30, 10
    labels = distinct_labels([p.label for p in points])
    notes = [p.note or f"{100 * p.rate:.1f}%" for p in points]
    x0 = label_width(list(labels.values()))
    x1 = WIDTH - max((text_width(n) for n in notes), default=0.0) - 16
    height = top + row * len(points) + 30
    body = _percent_axis(x0, x1, top, top + row * len(points))
    for i, (p, note) in enumerate(zip(points, notes, strict=True)):
        y = top + row * i + row / 2
        colour = PALETTE[i % len(PALETTE)]
        xr, xl, xh = (x0 + (x1 - x0) * v for v in (p.rate, p.low, p.high))
        body += [
            _text(x0 - 8, y + 4, labels[p.label], "end"),
            f'<rect x="{x0:.1f}" y="{y - 9:.1f}" width="{xr - x0:.1f}" height="18" fill="{colour}" opacity="0.35"/>',
            f'<line x1="{xl:.1f}" y1="{y:.1f}" x2="{xh:.1f}" y2="{y:.1f}" stroke="{INK}" stroke-width="2"/>',
            f'<line x1="{xl:.1f}" y1="{y - 6:.1f}" x2="{xl:.1f}" y2="{y + 6:.1f}" stroke="{INK}" stroke-width="2"/>',
            f'<line x1="{xh:.1f}" y1="{y - 6:.1f}" x2="{xh:.1f}" y2="{y + 6:.1f}" stroke="{INK}" stroke-width="2"/>',
            f'<circle cx="{xr:.1f}" cy="{y:.1f}" r="6" fill="{colour}" stroke="{INK}"/>',
            _text(x1 + 8, y + 4, note),
        ]
    return _svg(chart_id, height, body, title)


def grouped_bars(
    chart_id: str,
    groups: Sequence[str],
    series: Sequence[str],
    values: dict[tuple[str, str], RatePoint],
    title: str,
) -> str:
    """Horizontal bars per group (repository), one per series (run), with interval whiskers and a legend."""
    bar, gap = 14, 12
    x0, x1 = label_width([_short(g) for g in groups]), WIDTH - 20
    group_h = bar * len(series) + gap
    body, top = _legend(series, 8, x0)
    height = int(top + group_h * len(groups) + 30)
    body += _percent_axis(x0, x1, top, top + group_h * len(groups))
    for gi, group in enumerate(groups):
        gy = top + gi * group_h
        body.append(_text(x0 - 8, gy + bar * len(series) / 2 + 4, _short(group), "end"))
        for si, name in enumerate(series):
            p = values.get((group, name))
            if p is None:
                continue
            y = gy + si * bar
            xr, xl, xh = (x0 + (x1 - x0) * v for v in (p.rate, p.low, p.high))
            body += [
                f'<rect x="{x0}" y="{y:.1f}" width="{max(xr - x0, 1):.1f}" height="{bar - 2}" '
                f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(name)}: {escape(p.note)}</title></rect>',
                f'<line x1="{xl:.1f}" y1="{y + bar / 2 - 1:.1f}" x2="{xh:.1f}" y2="{y + bar / 2 - 1:.1f}" '
                f'stroke="{INK}"/>',
            ]
    return _svg(chart_id, height, body, title)


def _legend(series: Sequence[str], y: float, left: float) -> tuple[list[str], float]:
    """Colour keys in rows that wrap at the chart's width; returns them and the y below them."""
    out, x = [], left
    labels = distinct_labels(series)
    for i, name in enumerate(series):
        label = labels[name]
        step = 30 + text_width(label)
        if x + step > WIDTH and x > left:
            x, y = left, y + 18
        colour = PALETTE[i % len(PALETTE)]
        out += [
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{colour}"/>',
            _text(x + 16, y + 10, label),
        ]
        x += step
    return out, y + 22


def heatmap(
    chart_id: str,
    rows: Sequence[str],
    cols: Sequence[str],
    cells: dict[tuple[str, str], tuple[float, int]],
    title: str,
) -> str:
    """A grid of rates: darker is higher; each cell shows the rate and how many results it holds."""
    top, cell_h = 40, 34
    left = label_width([_short(r) for r in rows])
    cell_w = min(140.0, (WIDTH - left - 10) / max(len(cols), 1))
    height = top + cell_h * len(rows) + 10
    body = [
        _text(left + cell_w * (j + 0.5), top - 10, _fit(c, cell_w - 4), "middle") for j, c in enumerate(cols)
    ]
    for i, r in enumerate(rows):
        y = top + i * cell_h
        body.append(_text(left - 8, y + cell_h / 2 + 4, _short(r), "end"))
        for j, c in enumerate(cols):
            x = left + j * cell_w
            cell = cells.get((r, c))
            if cell is None:
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" height="{cell_h - 2}" fill="#f4f4f4"/>'
                )
                continue
            rate, n = cell
            ink = "#fff" if rate > 0.55 else INK
            full = f"{100 * rate:.0f}% (n={n})"
            shown = full if text_width(full, 11) <= cell_w - 4 else f"{100 * rate:.0f}%"
            body += [
                f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" height="{cell_h - 2}" fill="{_blue(rate)}">'
                f"<title>{escape(f'{r}, {c}: {full}')}</title></rect>",
                _text(x + cell_w / 2, y + cell_h / 2 + 4, shown, "middle", 11, ink),
            ]
    return _svg(chart_id, height, body, title)


def _fit(label: str, width: float, size: float = 12) -> str:
    """``label``, its middle elided until it fits ``width`` pixels."""
    limit = len(label)
    while limit > 3 and text_width(_short(label, limit), size) > width:
        limit -= 1
    return _short(label, limit)


def _blue(rate: float) -> str:
    """White (0) to dark blue (1)."""
    lo, hi = (247, 251, 255), (8, 48, 107)
    r, g, b = (round(a + (z - a) * max(0.0, min(1.0, rate))) for a, z in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def histogram(chart_id: str, values: Sequence[float], title: str, bins: int = 20, unit: str = "s") -> str:
    """Equal-width bins from 0 to the largest value; bar heights are counts."""
    top, plot_h, x0, x1 = 10, 200, 60, WIDTH - 20
    height = top + plot_h + 40
    hi = max(values, default=0.0) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int(v / hi * bins), bins - 1)] += 1
    peak = max(counts) or 1
    bw = (x1 - x0) / bins
    body = [f'<line x1="{x0}" y1="{top + plot_h}" x2="{x1}" y2="{top + plot_h}" stroke="{AXIS}"/>']
    for i, c in enumerate(counts):
        h = plot_h * c / peak
        body.append(
            f'<rect x="{x0 + i * bw + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{c} items in [{hi * i / bins:.2f}, {hi * (i + 1) / bins:.2f}) {unit}'
            "</title></rect>"
        )
    for i in range(0, bins + 1, max(1, bins // 5)):
        body.append(_text(x0 + i * bw, top + plot_h + 16, f"{hi * i / bins:.1f}{unit}", "middle", 11, AXIS))
    body += [
        _text(x0 - 6, top + 10, str(peak), "end", 11, AXIS),
        _text(x0 - 6, top + plot_h, "0", "end", 11, AXIS),
    ]
    return _svg(chart_id, height, body, title)


def series_chart(
    chart_id: str,
    xlabels: Sequence[str],
    lines: Mapping[str, Sequence[RatePoint | None]],
    title: str,
) -> str:
    """Rates over time: one line per series (run) across the x positions (sweeps), a dot and a whisker
    (interval) at each point, a legend on top; a missing point breaks the line."""
    left, right, plot_h = 60.0, WIDTH - 30.0, 240.0
    body, top = _legend(list(lines), 8, left)
    height = int(top + plot_h + 60)
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        body += [
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="#ddd"/>',
            _text(left - 6, y + 4, f"{tick}%", "end", 11, AXIS),
        ]
    n = max(len(xlabels), 1)
    step = (right - left) / n
    xs = [left + step * (i + 0.5) for i in range(n)]
    need = max((text_width(label, 11) for label in xlabels), default=0.0) + 8
    every = max(1, math.ceil(need / step))  # label every n-th point, each whole, none overlapping
    for i, label in enumerate(xlabels):
        if i % every == 0:
            half = text_width(label, 11) / 2
            x, anchor = min(max(xs[i], half), WIDTH - half), "middle"  # kept inside the chart
            body.append(_text(x, top + plot_h + 16, label, anchor, 11, AXIS))
    polylines, marks = [], []
    for si, (name, points) in enumerate(lines.items()):
        colour = PALETTE[si % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for i, p in enumerate(points):
            if p is None:
                segments.append([])
                continue
            x = xs[i] + (si - (len(lines) - 1) / 2) * 3  # a small offset: whiskers of runs do not overlap
            y, yl, yh = (top + plot_h * (1 - v) for v in (p.rate, p.low, p.high))
            segments[-1].append(f"{x:.1f},{y:.1f}")
            marks += [
                f'<line x1="{x:.1f}" y1="{yl:.1f}" x2="{x:.1f}" y2="{yh:.1f}" stroke="{colour}" stroke-width="1.5"/>',
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" stroke="{INK}">'
                f"<title>{escape(f'{name}, {xlabels[i]}: {p.note}')}</title></circle>",
            ]
        polylines += [
            f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            for seg in segments
            if len(seg) > 1
        ]
    body += polylines + marks
    return _svg(chart_id, height, body, title)
