"""`evalfleet trend`: a series of sweeps in a file store, read back through the store API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.commands.trend import trend_command
from orchestrator.errors import ConfigError
from orchestrator.report.stats import wilson_interval
from orchestrator.report.trend import Trend
from orchestrator.store import FileStore
from tests.support.series import SERIES, SWEEP_IDS, write_series


def check_trend(trend: Trend) -> None:
    """What tests/support/series.py built, found again."""
    assert [p.sweep_id for p in trend.sweeps] == SWEEP_IDS  # by created_at, not by id; 'weekly' left out
    assert trend.runs == ["gold", "model"] and trend.gold_runs == {"gold"}
    model = [p.runs["model"] for p in trend.sweeps]
    assert [(q.resolved, q.instances, q.infra_errors) for q in model] == [
        (2, 5, 0),
        (2, 5, 0),
        (2, 4, 1),
        (1, 5, 0),
    ]
    assert model[2].wilson == wilson_interval(2, 4).as_list()
    flips = {(f.run, f.instance_id, f.after_sweep): (f.before, f.after, f.rot) for f in trend.flips}
    assert flips == {
        ("model", "org__repo-1", "nightly-a"): ("resolved", "unresolved", None),
        ("model", "org__repo-3", "nightly-a"): ("unresolved", "resolved", None),
        ("model", "org__repo-0", "nightly-b"): ("resolved", "unresolved", "resolved in all 3 earlier sweeps"),
        ("gold", "org__repo-2", "nightly-b"): ("resolved", "unresolved", "the gold patch stopped resolving"),
    }


def test_trend_of_a_series_in_a_file_store(
    file_store: FileStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(file_store)
    out_html, out_json = tmp_path / "trend.html", tmp_path / "trend.json"
    trend = trend_command(SERIES, file_store.url, html=out_html, json_out=out_json)
    check_trend(trend)
    data = json.loads(out_json.read_text())
    assert [s["sweep_id"] for s in data["sweeps"]] == SWEEP_IDS and len(data["flips"]) == 4
    assert [(f["run"], f["instance_id"]) for f in data["rot"]] == [
        ("gold", "org__repo-2"),
        ("model", "org__repo-0"),
    ]
    assert data["sweeps"][2]["runs"]["model"] == {
        "instances": 4,
        "resolved": 2,
        "infra_errors": 1,
        "rate": 0.5,
        "wilson": wilson_interval(2, 4).as_list(),
    }
    out = " ".join(capsys.readouterr().out.split())
    assert "4 verdicts flipped between consecutive sweeps" in out
    assert "gold org__repo-2 resolved -> unresolved (nightly-c -> nightly-b) ENVIRONMENT ROT" in out
    assert "50.0% (2/4)" in out and "[15.0, 85.0]" in out and "+1 infra error" in out
    html = out_html.read_text()
    assert 'id="chart-trend"' in html and "Content-Security-Policy" in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert html.count("<circle") == 8  # 4 sweeps x 2 runs
    assert (
        "Environment rot: gold org__repo-2 (the gold patch stopped resolving, in nightly-b); model org__repo-0"
        in html
    )


def test_unknown_series_is_a_one_line_error(file_store: FileStore) -> None:
    write_series(file_store)
    with pytest.raises(ConfigError, match="no sweep of series 'nightl' in"):
        trend_command("nightl", file_store.url)
