"""The tables of BENCHMARKS.md render from the committed results (bench/results/*.json)."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench import suite

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def test_every_section_renders_from_the_saved_results(tmp_path: Path) -> None:
    for path in RESULTS.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    text = suite.render_saved(tmp_path)
    for title in (
        "Efficiency",
        "Fixed per-item overhead",
        "Patch phase, before and after",
        "Control-plane scale",
    ):
        assert f"### {title}" in text
    assert "target median <= 0.5 s" in text and "aggregation <= 10 s" in text
    assert (tmp_path / "figures.md").read_text(encoding="utf-8") == text


def test_benchmarks_md_holds_the_saved_figures() -> None:
    figures = (RESULTS / "figures.md").read_text(encoding="utf-8").strip()
    doc = (RESULTS.parents[1] / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert figures in doc, "bench/results/figures.md changed: put it under '## Figures' in BENCHMARKS.md"
