"""`evalfleet eval` on a dataset mixing versions this machine can build and one it cannot (its Python
has no base here): the buildable items get their verdicts, the other fails at build time with its reason
and gets no verdict (an infrastructure failure: a later run evaluates it again), the command exits 3 with
one line per cause, and the official run report lands in the working directory with it among its
error_ids and infra_failure_ids (real Ray, Docker; demo/calc instances)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import sweeps
from support.demo import ROOT, ensure_bundles

from orchestrator.commit import failures, load_results
from orchestrator.store import open_store

pytestmark = [pytest.mark.docker, pytest.mark.ray]

SPEC = """\
repo: demo/calc
defaults:
  base: bookworm
  system_packages: [python3, python3-pytest]
  test_cmd: python3 -m pytest -rA -p no:cacheprovider
  test_targets: files
  parser: pytest
  timeouts: {build: 900, start: 60, patch: 60, test: 20}
versions:
  "0.9": {unbuildable: needs Python 3.6}
  "*": {}
"""


def test_buildable_items_get_verdicts_and_the_others_one_error_line(tmp_path: Path) -> None:
    bundles = ensure_bundles()
    rows = [json.loads(ln) for ln in (ROOT / "demo" / "dataset.jsonl").read_text().splitlines()]
    gold = {
        p["instance_id"]: p
        for p in map(json.loads, (ROOT / "demo" / "predictions" / "gold.jsonl").read_text().splitlines())
    }
    chosen = [r for r in rows if r["instance_id"] in ("demo__calc-1", "demo__calc-2")]
    old = {**chosen[0], "instance_id": "demo__calc-901", "version": "0.9"}
    no_prediction = {**chosen[1], "instance_id": "demo__calc-902"}
    (tmp_path / "dataset.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in [*chosen, old, no_prediction])
    )
    preds = [
        gold["demo__calc-1"],
        gold["demo__calc-2"],
        {**gold["demo__calc-1"], "instance_id": "demo__calc-901"},
    ]
    (tmp_path / "preds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "demo__calc.yaml").write_text(SPEC)
    store = f"file://{tmp_path}/store"
    args = [
        sweeps.EVALFLEET,
        "eval",
        "--dataset",
        str(tmp_path / "dataset.jsonl"),
        "--predictions",
        str(tmp_path / "preds.jsonl"),
        "--repo",
        f"demo/calc={bundles / 'calc.bundle'}",
        "--specs",
        str(tmp_path / "specs"),
        "--run-id",
        "mixed",
        "--store",
        store,
        "--set",
        "execution.sandbox_slots=2",
    ]
    dry = subprocess.run(
        [*args, "--dry-run"], check=False, capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert dry.returncode == 0, dry.stderr
    cells = [ln.replace("│", " ").split() for ln in dry.stdout.splitlines()]
    assert ["demo/calc", "3", "2", "0", "1"] in cells, dry.stdout  # items; built here, pulled, neither
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    done = subprocess.run(
        args, check=False, capture_output=True, text=True, cwd=tmp_path, timeout=900, env=env
    )
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    [summary, cause] = [ln for ln in done.stderr.splitlines() if ln.strip()][-2:]
    assert summary.startswith("evalfleet: error: 1 item(s) of sweep ") and "have no verdict" in summary
    assert cause.startswith("  1 x ImageBuildError in image: ")
    assert "demo/calc 0.9 needs Python 3.6: pull a prebuilt image (images.pull_template)" in cause
    (sid,) = {k.split("/")[1] for k in open_store(store).list("sweeps/")}
    verdicts = {r.instance_id: r.verdict for r in load_results(open_store(store), sid)}
    assert verdicts == {"demo__calc-1": "resolved", "demo__calc-2": "resolved"}  # no "error" verdict
    [failed] = failures(open_store(store), sid)
    assert failed.instance_id == "demo__calc-901" and not failed.attempts[-1].error.retryable
    report = json.loads((tmp_path / "gold.mixed.json").read_text())  # the official name, in the cwd
    assert report["resolved_ids"] == ["demo__calc-1", "demo__calc-2"]
    assert report["error_ids"] == ["demo__calc-901"]
    assert report["incomplete_ids"] == ["demo__calc-902"]
    assert report["infra_failure_ids"] == ["demo__calc-901"]
    assert "needs Python 3.6" in report["failure_reasons"]["demo__calc-901"]
