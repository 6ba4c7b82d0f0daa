"""The polyglot demo (demo/polyglot/: one exercise per language) as a checkout and as a sweep config."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from orchestrator.config import SweepConfig, validate_config

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "polyglot"
SPECS = ROOT / "configs" / "specs" / "polyglot"
REPO = "Aider-AI/polyglot-benchmark"
UNTOUCHED_PATCH = (
    "diff --git a/EVALFLEET_UNTOUCHED b/EVALFLEET_UNTOUCHED\nnew file mode 100644\n"
    "--- /dev/null\n+++ b/EVALFLEET_UNTOUCHED\n@@ -0,0 +1 @@\n+the solution stubs are left as they are\n"
)
"""A candidate that leaves every solution file as it is (the tests of the stubs run)."""


def build_checkout(dest: Path) -> str:
    """demo/polyglot/build.py into ``dest``; returns the commit."""
    spec = importlib.util.spec_from_file_location("polyglot_demo_build", DEMO / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    commit: str = module.build(dest)
    return commit


def polyglot_config(
    checkout: Path, runs: list[dict[str, Any]], store: str, name: str = "polyglot-demo"
) -> SweepConfig:
    raw = {
        "name": name,
        "seed": 7,
        "dataset": {"path": str(checkout), "adapter": "polyglot"},
        "runs": runs,
        "repos": {REPO: {"path": str(checkout)}},
        "specs": [str(SPECS)],
        "execution": {"sandbox_slots": 2, "retry": {"max_attempts": 2}},
        "store": {"url": store},
    }
    return validate_config(raw, "polyglot demo")
