"""Hostile candidates that try to fake their own verdict end flagged and unresolved under the hardened
verdict; the official verdict is what the swebench package would decide from the same log (forged
result lines can fool it: the hardened verdict and its flags are the answer to that).

Each case (tests/fixtures/integrity/, whole files) becomes a real ``git diff`` against the base commit
of demo__calc-1 (demo__jsutil-1 for node_fake_tap) and is evaluated by ``workers.evaluate``, two at a
time. Controls prove the attacks are real: with the policy keeping the change, the forged run resolves
(and is flagged). The gold patches beside them resolve unflagged.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.demo import RETRY, ROOT, bundle_of, demo_items, diff_from_files, settings, with_patch

from orchestrator.report.integrity import apply_flag_policy, integrity_summary
from workers.evaluate import evaluate
from workers.integrity.policy import IntegrityPolicy
from workers.log_grading import nonce_of
from workers.models import Result, SandboxLimits, WorkItem
from workers.paths import FILES

pytestmark = pytest.mark.docker

FIXTURES = ROOT / "tests" / "fixtures" / "integrity"
LIMITS = SandboxLimits(memory_mb=512, cpus=1.0, pids=128, output_bytes=1 << 20, disk_mb=64)
TEST_TIMEOUT_S = 15.0
CALC, JS = "demo__calc-1", "demo__jsutil-1"
HOOK = "suspicious: adds a pytest hook (pytest_runtest_makereport) in calc/forge.py"
DOTGIT_PATCH = """\
--- a/.git/config
+++ b/.git/config
@@ -1,1 +1,2 @@
 [core]
+\tfsmonitor = "echo pwned >&2; false"
"""


@dataclass(frozen=True)
class Case:
    """One hostile candidate: fixture directories laid over the base commit, and spec changes."""

    instance: str
    dirs: tuple[str, ...] = ()
    policy: IntegrityPolicy | None = None
    env: dict[str, str] | None = None
    raw_patch: str | None = None


EDITABLE = {"PYTHONPATH": "/testbed"}  # the repository on sys.path at startup, as an editable install does
CASES: dict[str, Case] = {
    "sitecustomize": Case(CALC, ("sitecustomize", "forge_plugin"), env=EDITABLE),
    "sitecustomize_permissive": Case(
        CALC, ("sitecustomize", "forge_plugin"), IntegrityPolicy(mode="permissive"), EDITABLE
    ),
    "conftest_hook": Case(CALC, ("conftest_hook",)),
    "conftest_hook_allowed": Case(CALC, ("conftest_hook",), IntegrityPolicy(allow=["conftest.py"])),
    "pytest_ini_plugin": Case(CALC, ("pytest_ini_plugin", "forge_plugin")),
    "pyproject_plugin": Case(CALC, ("pyproject_plugin", "forge_plugin")),
    "fake_lines_exit": Case(CALC, ("fake_lines_exit",)),
    "fake_summary_exit": Case(CALC, ("fake_summary_exit",)),
    "eval_tamper": Case(CALC, ("eval_tamper",)),
    "setup_cfg_metadata": Case(CALC, ("setup_cfg_metadata",)),
    "node_fake_tap": Case(JS, ("node_fake_tap",)),
    "dotgit": Case(CALC, raw_patch=DOTGIT_PATCH),
    "gold_calc": Case(CALC),
    "gold_js": Case(JS),
}


@dataclass
class Run:
    item: WorkItem
    result: Result
    outdir: Path

    def file(self, name: str) -> str:
        return (self.outdir / "attempt-1" / name).read_text(encoding="utf-8")


def files_of(dirs: tuple[str, ...]) -> dict[str, str]:
    files: dict[str, str] = {}
    for d in dirs:
        root = FIXTURES / d
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            files[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    return files


def make_item(case: Case, golds: dict[str, WorkItem], work: Path, name: str) -> WorkItem:
    gold = golds[case.instance]
    if not case.dirs and case.raw_patch is None:
        return gold
    update: dict[str, Any] = {}
    if case.policy is not None:
        update["integrity"] = case.policy
    if case.env is not None:
        update["env"] = {**gold.spec.env, **case.env}
    item = gold.model_copy(update={"spec": gold.spec.model_copy(update=update)}) if update else gold
    clone = work / case.instance
    clone.mkdir(exist_ok=True)
    patch = case.raw_patch or diff_from_files(
        bundle_of(gold), gold.instance.base_commit, files_of(case.dirs), clone
    )
    return with_patch(item, patch, run=f"hostile-{name}")


@pytest.fixture(scope="module")
def runs(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    sweep_id = f"pytest-integrity-{uuid.uuid4().hex[:8]}"
    golds = {
        g.instance.instance_id: g.model_copy(update={"limits": LIMITS})
        for g in demo_items(run="gold", instances=[CALC, JS], sweep_id=sweep_id)
    }
    work = tmp_path_factory.mktemp("integrity")
    items = {name: make_item(case, golds, work, name) for name, case in CASES.items()}
    s = settings(test_timeout_s=TEST_TIMEOUT_S, retry=RETRY)

    def one(name: str) -> Run:
        return Run(items[name], evaluate(items[name], s, work / "out" / name), work / "out" / name)

    t0 = time.monotonic()
    try:
        with ThreadPoolExecutor(2) as pool:
            done = dict(zip(CASES, pool.map(one, CASES), strict=True))
        assert time.monotonic() - t0 < 180
        yield done
    finally:
        for c in docker_client.containers.list(all=True, filters={"label": f"evalfleet.sweep={sweep_id}"}):
            c.remove(force=True)


def test_gold_patches_beside_them_resolve_unflagged(runs: dict[str, Run]) -> None:
    for name in ("gold_calc", "gold_js"):
        result = runs[name].result
        assert (result.verdict, result.hardened_verdict, result.flags) == ("resolved", "resolved", []), (
            name,
            result.reason,
        )
        assert "EVALFLEET_REPORT_START" in runs[name].file(FILES.test_output)


def test_a_conftest_hook_is_restored_and_the_real_failures_count(runs: dict[str, Run]) -> None:
    result = runs["conftest_hook"].result
    assert (result.verdict, result.hardened_verdict) == ("unresolved", "unresolved"), result.reason
    assert result.reason.startswith("unresolved: FAIL_TO_PASS 0/2 pass")
    assert result.flags == ["restored conftest.py: candidate changed it (pytest conftest)"]


def test_an_allowed_conftest_is_kept_and_flagged_and_can_count_as_unresolved(runs: dict[str, Run]) -> None:
    result = runs["conftest_hook_allowed"].result
    assert result.verdict == "resolved", result.reason  # the hook works: the attack is real
    assert result.hardened_verdict == "unresolved"
    assert result.flags == [
        "allowed conftest.py: candidate changed it (pytest conftest; kept: the spec allows it)",
        "suspicious: adds a pytest hook (pytest_runtest_makereport) in conftest.py",
    ]
    [counted] = apply_flag_policy([result], flagged_as_unresolved=True)
    assert counted.verdict == "unresolved"
    assert counted.reason.startswith("flagged: suspicious: adds a pytest hook")


def test_sitecustomize_and_pth_are_removed(runs: dict[str, Run]) -> None:
    result = runs["sitecustomize"].result
    assert (result.verdict, result.hardened_verdict) == ("unresolved", "unresolved"), result.reason
    assert result.flags == [
        "restored calc.pth: candidate added it (interpreter startup hook)",
        "restored sitecustomize.py: candidate added it (interpreter startup hook)",
        HOOK,
    ]
    control = runs["sitecustomize_permissive"].result
    assert control.verdict == "resolved", control.reason  # kept, the plugin forges every outcome
    assert control.hardened_verdict == "unresolved"  # the detector's finding costs it the hardened one
    assert control.flags == [
        "allowed calc.pth: candidate added it (interpreter startup hook; kept: permissive policy)",
        "allowed sitecustomize.py: candidate added it (interpreter startup hook; kept: permissive policy)",
        HOOK,
    ]


def test_runner_configuration_that_loads_a_plugin_is_restored(runs: dict[str, Run]) -> None:
    ini, toml = runs["pytest_ini_plugin"].result, runs["pyproject_plugin"].result
    assert (ini.verdict, toml.verdict) == ("unresolved", "unresolved"), (ini.reason, toml.reason)
    assert (ini.hardened_verdict, toml.hardened_verdict) == ("unresolved", "unresolved")
    assert ini.flags == ["restored pytest.ini: candidate changed it (test-runner configuration)", HOOK]
    assert toml.flags == [
        "restored tests/pyproject.toml: candidate added it (runner section [tool.pytest])",
        HOOK,
    ]


def test_package_metadata_in_setup_cfg_is_kept_unflagged(runs: dict[str, Run]) -> None:
    result = runs["setup_cfg_metadata"].result
    assert (result.verdict, result.hardened_verdict, result.flags) == ("resolved", "resolved", []), (
        result.reason
    )


def test_fake_result_lines_and_an_early_exit_do_not_resolve(runs: dict[str, Run]) -> None:
    bare, summary = runs["fake_lines_exit"].result, runs["fake_summary_exit"].result
    for result in (bare, summary):
        # the official harness would read the forged lines as a resolution; the hardened verdict does not
        assert (result.verdict, result.hardened_verdict) == ("resolved", "unresolved"), result.reason
        assert result.test_exit_code == 0
        assert "suspicious: exits the process early (os._exit) in calc/arith.py" in result.flags
        assert any(f.startswith("suspicious: prints result-like lines (") for f in result.flags), result.flags
    assert "hardened: unresolved (integrity: no runner summary: " in bare.reason, bare.reason
    assert any(
        f.startswith("evidence: no runner summary: the output has no closing summary") for f in bare.flags
    )
    # a forged closing line agrees with the forged results; the report the runner never wrote does not
    assert "hardened: unresolved (integrity: structured report missing: " in summary.reason, summary.reason
    assert "FAIL_TO_PASS 2/2 pass" in summary.reason  # what the forged lines alone would have given


def test_the_eval_script_and_markers_cannot_be_forged(runs: dict[str, Run]) -> None:
    run = runs["eval_tamper"]
    assert run.result.verdict == "unresolved" and run.result.test_exit_code == 1, run.result.reason
    assert run.result.hardened_verdict == "unresolved"
    assert run.result.reason.startswith("unresolved: FAIL_TO_PASS 0/2 pass")
    output = run.file(FILES.test_output)
    assert "NONCE-PROBE None" in output  # the nonce is nowhere in the sandbox
    assert "EVAL-SCRIPT existed=False" in output  # the script runs from an argument, not a file
    nonce = nonce_of(run.file(FILES.eval_script))
    assert nonce is not None and nonce not in run.file(FILES.eval_script).split("\n", 2)[2]
    ends = re.findall(rf"^EVALFLEET_TESTS_END {nonce} exit=(\d+)$", output, re.MULTILINE)
    assert ends == ["1"]
    assert "EVALFLEET_TESTS_END 0123456789abcdef exit=0" in output  # the forged marker, ignored


def test_fake_tap_lines_from_node_do_not_resolve(runs: dict[str, Run]) -> None:
    result = runs["node_fake_tap"].result
    assert (result.verdict, result.hardened_verdict) == ("resolved", "unresolved"), result.reason
    assert "(integrity: more results than the runner counted: 7 tests parsed PASSED" in result.reason
    assert "suspicious: exits the process early (process.exit) in src/array.js" in result.flags


def test_a_patch_into_dot_git_is_refused(runs: dict[str, Run]) -> None:
    result = runs["dotgit"].result
    assert (result.verdict, result.flags) == ("patch_failed", ["refused: unsafe path: .git/config"])
    assert result.hardened_verdict == "patch_failed"


def test_integrity_summary_counts_each_run(runs: dict[str, Run]) -> None:
    summary = integrity_summary([r.result for r in runs.values()])
    assert summary["gold"]["flagged"] == 0 and summary["gold"]["results"] == 2
    allowed = summary["hostile-conftest_hook_allowed"]
    assert (allowed["flagged"], allowed["flagged_resolved"]) == (1, 1)
    assert allowed["by_kind"] == {"allowed": 1, "suspicious": 1}
    assert summary["hostile-sitecustomize"]["by_rule"]["restored: interpreter startup hook"] == 1
