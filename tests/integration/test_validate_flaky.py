"""`evalfleet validate` in real containers finds the demo's flaky instance and none of the stable ones.

demo__calc-flaky's gold fix breaks ties with OS randomness, so test_mode_tie_returns_smallest passes
about half the time: over 12 evaluations both outcomes appear except with probability 2 * 0.5**12
(0.05%). Three stable instances (one per demo repository) run alongside. 48 items, about 1-2 minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.demo import DEMO_DIR, ROOT, ensure_bundles

from orchestrator.plan import read_exclude_file

pytestmark = [pytest.mark.docker, pytest.mark.ray]

REPEATS = 12
STABLE = ("demo__calc-1", "demo__textkit-1", "demo__jsutil-1")
FLAKY_TEST = "tests/test_stats.py::test_mode_tie_returns_smallest"


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evalfleet() -> list[str]:
    script = Path(sys.executable).with_name("evalfleet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orchestrator.cli"]


def test_validate_finds_the_flaky_instance_only(docker_client: Any, tmp_path: Path) -> None:
    bundles = ensure_bundles()
    dataset = tmp_path / "dataset.jsonl"
    chosen = rows(DEMO_DIR / "dataset-flaky.jsonl") + [
        r for r in rows(DEMO_DIR / "dataset.jsonl") if r["instance_id"] in STABLE
    ]
    dataset.write_text("".join(json.dumps(r) + "\n" for r in chosen), encoding="utf-8")
    exclude = tmp_path / "out" / "exclude.txt"
    command = [
        *evalfleet(),
        "validate",
        str(dataset),
        "--repeats",
        str(REPEATS),
        *(f"--repo=demo/{name}={bundles / f'{name}.bundle'}" for name in ("calc", "textkit", "jsutil")),
        "--specs",
        str(ROOT / "configs" / "specs"),
        "--store",
        f"file://{tmp_path / 'store'}",
        "--exclude-out",
        str(exclude),
        "--set",
        "execution.sandbox_slots=2",
    ]
    env = {**os.environ, "COLUMNS": "250"}  # rich wraps at 80 columns without a terminal
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    expected = json.loads((DEMO_DIR / "flaky.json").read_text(encoding="utf-8"))
    assert read_exclude_file(str(exclude)) == expected == ["demo__calc-flaky"]
    (flaky_json,) = (tmp_path / "store" / "sweeps").glob("*/reports/flaky.json")
    report = json.loads(flaky_json.read_text(encoding="utf-8"))
    assert report["flaky_instances"] == expected and report["gold_unresolved"] == []
    by_id = {e["instance_id"]: e for e in report["instances"]}
    flaky = by_id["demo__calc-flaky"]
    assert flaky["evaluations"] == REPEATS and flaky["errors"] == 0
    assert set(flaky["verdicts"]) == {"resolved", "unresolved"}
    assert [t["test"] for t in flaky["flaky_tests"]] == [FLAKY_TEST]
    assert flaky["flaky_tests"][0]["passed"] == flaky["verdicts"]["resolved"]
    for iid in STABLE:
        assert by_id[iid]["verdicts"] == {"resolved": REPEATS} and by_id[iid]["flaky_tests"] == [], by_id[iid]
    assert "demo__calc-flaky" in done.stdout and "1 flaky instances, 3 stable" in done.stdout
    assert (flaky_json.parent / "report.html").is_file()  # the validation is an ordinary sweep

    again = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert (
        again.returncode == 0 and f"{REPEATS * 4} already committed, 0 to run" in again.stdout + again.stderr
    )
