"""One sweep, one report, three families: a Python SWE-bench demo instance, the Multilingual demo
instance (Go) and polyglot demo exercises, run by `evalfleet run` (embedded Ray, real Docker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.demo import ensure_bundles
from support.polyglot import build_checkout

from orchestrator.commit import load_results
from orchestrator.config import load_config
from orchestrator.store import SweepPaths, open_store
from orchestrator.sweep import plan_sweep

pytestmark = [pytest.mark.docker, pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]
EVALFLEET = str(Path(sys.executable).with_name("evalfleet"))
INSTANCES = {"demo__calc-1", "demo__gostack-1", "polyglot__python__leap", "polyglot__go__leap"}


def _build_multilingual(dest: Path) -> Path:
    done = subprocess.run(
        [sys.executable, str(ROOT / "demo" / "multilingual" / "build.py"), str(dest)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(done.stdout.strip())


def test_one_config_covers_three_families_with_one_report(tmp_path: Path) -> None:
    ensure_bundles()
    multilingual = _build_multilingual(tmp_path / "multilingual")
    build_checkout(tmp_path / "polyglot")
    parts = yaml.safe_load((ROOT / "configs" / "mixed-parts.yaml").read_text())
    parts["parts"][0]["path"] = str(ROOT / "demo" / "dataset.jsonl")
    parts["parts"][1]["path"] = str(multilingual)
    parts["parts"][2]["path"] = str(tmp_path / "polyglot")
    parts_file = tmp_path / "parts.yaml"
    parts_file.write_text(yaml.safe_dump(parts))
    overrides = [
        f"dataset.path={parts_file}",
        f"repos.demo/calc.bundle={ROOT / 'demo' / 'build' / 'bundles' / 'calc.bundle'}",
        f"repos.demo/gostack.path={tmp_path / 'multilingual' / 'gostack'}",
        f"repos.Aider-AI/polyglot-benchmark.path={tmp_path / 'polyglot'}",
        "specs="
        + json.dumps(
            [
                str(ROOT / d)
                for d in ("configs/specs", "configs/specs/demo-multilingual", "configs/specs/polyglot")
            ]
        ),
        f"store.url=file://{tmp_path / 'store'}",
    ]
    args = [EVALFLEET, "run", str(ROOT / "configs" / "mixed.yaml")]
    for o in overrides:
        args += ["--set", o]
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        rc = subprocess.run(
            args,
            check=False,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RAY_AUTH_MODE": "disabled"},
            timeout=900,
        ).returncode
    assert rc == 0, log.read_text()[-3000:]
    sid = plan_sweep(load_config(ROOT / "configs" / "mixed.yaml", overrides)).sweep_id
    store = open_store(f"file://{tmp_path / 'store'}")
    got = {(r.run, r.instance_id): r.verdict for r in load_results(store, sid)}
    assert got == {
        **{("gold", iid): "resolved" for iid in INSTANCES},
        **{("empty", iid): "empty_patch" for iid in INSTANCES},
    }, {(r.run, r.instance_id): r.reason for r in load_results(store, sid)}
    report = json.loads(store.get(SweepPaths(sid).report("report.json")) or b"{}")
    assert report["planned"] == report["committed"] == 8
    assert report["runs"]["gold"]["per_repo"] == {
        "Aider-AI/polyglot-benchmark": {"resolved": 2},
        "demo/calc": {"resolved": 1},
        "demo/gostack": {"resolved": 1},
    }
    gold = json.loads(store.get(SweepPaths(sid).report(f"gold.{sid}.json")) or b"{}")
    assert set(gold["resolved_ids"]) == INSTANCES  # SWE-bench's run report, across the three families
