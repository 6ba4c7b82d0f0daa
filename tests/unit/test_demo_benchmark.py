"""The demo benchmark under demo/: reproducible, and its dataset and expected verdicts are true.

Runs the demo repositories' own tests on the host (python3 -m pytest, node --test): no Docker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "demo"
BUILD = DEMO / "build.py"
TEST_TIMEOUT = 60


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


DATASET = load_jsonl(DEMO / "dataset.jsonl")
FLAKY = load_jsonl(DEMO / "dataset-flaky.jsonl")
EXPECTED: dict[str, dict[str, str]] = json.loads((DEMO / "expected_verdicts.json").read_text())
PREDICTIONS = {
    path.stem: {row["instance_id"]: row for row in load_jsonl(path)}
    for path in sorted((DEMO / "predictions").glob("*.jsonl"))
}
MODEL_RUNS = {"demo-model-a": "model-a", "demo-model-b": "model-b"}
ROWS = {row["instance_id"]: row for row in DATASET + FLAKY}
FLAKY_IDS = set(json.loads((DEMO / "flaky.json").read_text()))
PYTEST_LINE = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+)")
TAP_LINE = re.compile(r"^\s*(ok|not ok) \d+ - (.*?)(?: # .*)?$")


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    return env


def git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=repo, env=git_env(), input=stdin, capture_output=True, text=True, check=False
    )


def build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BUILD), *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def check_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("demo-build")
    return build("--check", "--out", str(out)), out


@pytest.fixture(scope="module")
def bundles(check_run: tuple[subprocess.CompletedProcess[str], Path]) -> Path:
    return check_run[1] / "bundles"


def checkout(bundles: Path, row: dict, dest: Path) -> Path:
    repo = dest / "repo"
    bundle = bundles / f"{row['repo'].split('/')[-1]}.bundle"
    assert git(dest, "clone", "-q", str(bundle), str(repo)).returncode == 0
    assert git(repo, "checkout", "-q", row["base_commit"]).returncode == 0
    return repo


def apply(repo: Path, patch: str) -> None:
    proc = git(repo, "apply", "-", stdin=patch)
    assert proc.returncode == 0, proc.stderr


def touched_test_files(row: dict) -> list[str]:
    return sorted(re.findall(r"^diff --git a/\S+ b/(\S+)$", row["test_patch"], flags=re.M))


def run_tests(repo: Path, row: dict) -> dict[str, bool]:
    """Run the test files the test patch touches; return {test name: passed}."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NODE_"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # as bare as Debian's pytest
    if (repo / "package.json").exists():
        if not shutil.which("node"):
            pytest.skip("node is not installed")
        cmd, pattern = ["node", "--test", "--test-reporter=tap", *touched_test_files(row)], TAP_LINE
    else:
        cmd = [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", *touched_test_files(row)]
        pattern = PYTEST_LINE
    proc = subprocess.run(
        cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=TEST_TIMEOUT, check=False
    )
    status: dict[str, bool] = {}
    for line in proc.stdout.splitlines():
        if match := pattern.match(line):
            outcome, name = match.groups()
            status[name] = status.get(name, True) and outcome in ("PASSED", "ok")
    return status


def listed_tests(row: dict) -> tuple[list[str], list[str]]:
    return json.loads(row["FAIL_TO_PASS"]), json.loads(row["PASS_TO_PASS"])


def test_checked_in_data_is_reproducible(check_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = check_run
    assert proc.returncode == 0, proc.stderr


def test_two_builds_give_identical_commits(bundles: Path, tmp_path: Path) -> None:
    proc = build("--out", str(tmp_path / "build"), "--data-out", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr
    first = json.loads((bundles.parent / "commits.json").read_text())
    second = json.loads((tmp_path / "build" / "commits.json").read_text())
    assert first == second
    for bundle in sorted(bundles.glob("*.bundle")):
        heads = [
            git(tmp_path, "bundle", "list-heads", str(b)).stdout
            for b in (bundle, tmp_path / "build" / "bundles" / bundle.name)
        ]
        assert heads[0] == heads[1] and "refs/heads/main" in heads[0]
    for row in DATASET + FLAKY:
        shas = list(first[row["repo"]].values())
        assert row["base_commit"] in shas
        assert row["environment_setup_commit"] == shas[0]
    assert len({row["base_commit"] for row in DATASET}) >= 2 * len(first)


@pytest.mark.parametrize("iid", sorted(ROWS))
def test_gold_patch_turns_fail_to_pass(iid: str, bundles: Path, tmp_path: Path) -> None:
    row = ROWS[iid]
    fail_to_pass, pass_to_pass = listed_tests(row)
    repo = checkout(bundles, row, tmp_path)
    apply(repo, row["test_patch"])
    before = run_tests(repo, row)
    assert not [name for name in fail_to_pass if before.get(name)], "FAIL_TO_PASS passing before the fix"
    assert all(before.get(name) for name in pass_to_pass), before
    apply(repo, row["patch"])
    after = run_tests(repo, row)
    if iid not in FLAKY_IDS:
        assert all(after.get(name) for name in fail_to_pass + pass_to_pass), after
        return
    assert all(after.get(name) for name in pass_to_pass), after
    outcomes = {all(after.get(name) for name in fail_to_pass)}
    for _ in range(30):  # both outcomes within 30 runs, unless the instance is not flaky at all
        if len(outcomes) == 2:
            break
        outcomes.add(all(run_tests(repo, row).get(name) for name in fail_to_pass))
    assert outcomes == {True, False}


CANDIDATES = [(run, iid, verdict) for run in MODEL_RUNS for iid, verdict in sorted(EXPECTED[run].items())]


@pytest.mark.parametrize(("run", "iid", "verdict"), CANDIDATES, ids=[f"{r}-{i}" for r, i, _ in CANDIDATES])
def test_candidate_verdict(run: str, iid: str, verdict: str, bundles: Path, tmp_path: Path) -> None:
    row, patch = ROWS[iid], PREDICTIONS[MODEL_RUNS[run]][iid]["model_patch"]
    if verdict == "empty_patch":
        assert patch == ""
        return
    repo = checkout(bundles, row, tmp_path)
    if verdict == "patch_failed":
        assert git(repo, "apply", "-", stdin=patch).returncode != 0
        assert git(repo, "apply", "--3way", "-", stdin=patch).returncode != 0
        if shutil.which("patch"):
            cmd = ["patch", "--batch", "--forward", "--fuzz=5", "-p1", "--dry-run"]
            proc = subprocess.run(cmd, cwd=repo, input=patch, capture_output=True, text=True, check=False)
            assert proc.returncode != 0
        return
    apply(repo, patch)
    apply(repo, row["test_patch"])
    if verdict == "timeout":
        return  # loops forever by design; only checked to apply
    fail_to_pass, pass_to_pass = listed_tests(row)
    status = run_tests(repo, row)
    resolved = all(status.get(name) for name in fail_to_pass + pass_to_pass)
    assert ("resolved" if resolved else "unresolved") == verdict, status


def test_runs_cover_every_instance_and_verdict() -> None:
    ids = {row["instance_id"] for row in DATASET}
    assert len(ids) >= 12
    assert {row["instance_id"] for row in FLAKY} == FLAKY_IDS
    assert not ids & FLAKY_IDS
    assert set(EXPECTED) == {"gold", *MODEL_RUNS}
    for run, verdicts in EXPECTED.items():
        assert set(verdicts) == ids, run
    assert set(EXPECTED["gold"].values()) == {"resolved"}
    model_verdicts = [v for run in MODEL_RUNS for v in EXPECTED[run].values()]
    for verdict in ("resolved", "unresolved", "patch_failed", "empty_patch", "timeout"):
        assert model_verdicts.count(verdict) >= 2, verdict
    for stem, run in (("gold", "gold"), *((stem, run) for run, stem in MODEL_RUNS.items())):
        assert set(PREDICTIONS[stem]) == ids
        for pred in PREDICTIONS[stem].values():
            assert pred["model_name_or_path"] == run
            assert {"scaffold", "seed", "tokens", "cost_usd"} <= set(pred)
    for iid, pred in PREDICTIONS["gold"].items():
        assert pred["model_patch"] == ROWS[iid]["patch"]
