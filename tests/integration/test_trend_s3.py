"""`evalfleet trend` on a real S3 server (SeaweedFS on loopback): the series is read through S3Store,
and the command line gives the same numbers as on a file store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.commands.trend import trend_command
from orchestrator.store import S3Store
from tests.support.series import SERIES, write_series
from tests.unit.test_report_trend import check_trend

EVALFLEET = str(Path(sys.executable).with_name("evalfleet"))


@pytest.mark.s3
def test_trend_of_a_series_in_s3(s3_store: S3Store, tmp_path: Path) -> None:
    write_series(s3_store)
    check_trend(trend_command(SERIES, s3_store.url))
    out_html = tmp_path / "trend.html"
    done = subprocess.run(
        [EVALFLEET, "trend", SERIES, "--store", s3_store.url, "--html", str(out_html)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ENVIRONMENT ROT (the gold patch stopped resolving)" in done.stdout
    assert 'id="chart-trend"' in out_html.read_text()
    missing = subprocess.run(
        [EVALFLEET, "trend", "no-such-series", "--store", s3_store.url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (
        missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no sweep of series" in missing.stderr
    )
