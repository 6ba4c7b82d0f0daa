"""Work items of the demo benchmark (configs/demo.yaml), for tests that evaluate them.

Paths in the demo config are relative to the project root; these helpers resolve them there, so tests
work from any working directory. The bundles are built on first use (``demo/build.py``)::

    items = demo_items(run="gold", instances=["demo__calc-1"], sweep_id="pytest-x")
    result = evaluate(items[0], settings(test_timeout_s=8), tmp_path / items[0].key)
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config import SweepConfig, apply_override, validate_config
from orchestrator.execute import eval_settings
from orchestrator.plan import item_key
from orchestrator.sweep import plan_sweep
from workers.evaluate import EvalSettings
from workers.models import Verdict, WorkItem
from workers.retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "configs" / "demo.yaml"
DEMO_DIR = ROOT / "demo"
BUNDLES = DEMO_DIR / "build" / "bundles"
REPOS = ("calc", "textkit", "jsutil")


def ensure_bundles() -> Path:
    """The directory of the demo's git bundles, built by ``demo/build.py`` when one is missing."""
    if not all((BUNDLES / f"{r}.bundle").is_file() for r in REPOS):
        subprocess.run(
            [sys.executable, str(DEMO_DIR / "build.py"), "--out", str(DEMO_DIR / "build")],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return BUNDLES


def _absolute(raw: dict[str, Any]) -> None:
    """Resolve the config's relative paths against the project root, in place."""

    def fix(value: str) -> str:
        return value if Path(value).is_absolute() else str(ROOT / value)

    dataset = raw.get("dataset") or {}
    if dataset.get("path"):
        dataset["path"] = fix(dataset["path"])
    for run in raw.get("runs") or []:
        if run.get("predictions"):
            run["predictions"] = fix(run["predictions"])
    for source in (raw.get("repos") or {}).values():
        for kind in ("path", "bundle"):
            if source.get(kind):
                source[kind] = fix(source[kind])
    raw["specs"] = [fix(d) for d in raw.get("specs") or ["configs/specs"]]


def demo_config(overrides: Sequence[str] = ()) -> SweepConfig:
    """configs/demo.yaml with ``--set``-style overrides, its paths made absolute."""
    ensure_bundles()
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    for item in overrides:
        apply_override(raw, item)
    _absolute(raw)
    return validate_config(raw, str(DEMO_CONFIG))


def demo_items(
    run: str | None = None,
    instances: Iterable[str] | None = None,
    overrides: Sequence[str] = (),
    sweep_id: str | None = None,
) -> list[WorkItem]:
    """The demo sweep's work items (in plan order), optionally only one run's and some instances'."""
    extra = list(overrides)
    if instances is not None:
        extra.append(f"dataset.instances={json.dumps(sorted(instances))}")
    plan = plan_sweep(demo_config(extra), sweep_id=sweep_id)
    return [it for it in plan.items if run is None or it.candidate.run == run]


def with_patch(item: WorkItem, patch: str, run: str | None = None) -> WorkItem:
    """The item with another candidate patch (and run name), its key recomputed."""
    cand = item.candidate.model_copy(update={"patch": patch, "run": run or item.candidate.run})
    return rekey(item.model_copy(update={"candidate": cand}))


def rekey(item: WorkItem) -> WorkItem:
    """The item with its key recomputed from its content (after a model_copy changed it)."""
    key = item_key(item.instance, item.candidate, item.spec, item.repo_source, item.repeat, item.seed)
    return item.model_copy(update={"key": key})


RETRY = RetryPolicy(backoff_s=0.5, jitter_s=0.5)  # the demo's retry policy with shorter waits


def settings(overrides: Sequence[str] = (), **kw: Any) -> EvalSettings:
    """The demo config's EvalSettings, with fields replaced by keyword (e.g. ``test_timeout_s=8``).

    Unless a keyword says otherwise, each item creates its own sandbox and removes it before
    ``evaluate`` returns (a sweep's default pipelines them: tests/integration/test_pipeline.py), so a
    test can count containers right after its items."""
    base = eval_settings(demo_config(overrides)).model_dump()
    base.update(spare_sandboxes=False, background_removal=False)
    return EvalSettings.model_validate({**base, **kw})


def expected_verdicts() -> dict[str, dict[str, Verdict]]:
    """demo/expected_verdicts.json: ``{run: {instance_id: verdict}}``."""
    data: dict[str, dict[str, Verdict]] = json.loads(
        (DEMO_DIR / "expected_verdicts.json").read_text(encoding="utf-8")
    )
    return data


def bundle_of(item: WorkItem) -> Path:
    """The git bundle the demo item's repository comes from."""
    assert item.repo_source is not None and item.repo_source.kind == "bundle", item.repo_source
    return Path(item.repo_source.location)


def diff_from_files(bundle: Path, commit: str, files: dict[str, str], workdir: Path) -> str:
    """A real ``git diff`` that turns ``commit`` of the bundle's repository into one with ``files``
    (path in the repository -> whole new content), as a candidate patch; ``workdir`` holds the clone."""
    repo = workdir / "repo"
    if not repo.exists():
        _git(workdir, "clone", "-q", "--no-checkout", str(bundle), str(repo))
    _git(repo, "checkout", "-q", "-f", commit)
    _git(repo, "clean", "-fdq")
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    diff = _git(repo, "diff", "--cached", "--full-index", "--no-color")
    _git(repo, "reset", "-q", "--hard")
    return diff


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
