"""Flags read back by kind and rule, the per-run integrity summary, the flagged-as-unresolved option,
and the eval script / markers: no nonce in what runs, markers framed by the harness, stored reports."""

from __future__ import annotations

import pytest

from orchestrator.config import ExecutionConfig
from orchestrator.report.integrity import apply_flag_policy, integrity_summary
from workers.integrity import flags
from workers.integrity.structured import StructuredEvidence
from workers.log_grading import grade_own_log, nonce_of
from workers.models import Instance, Result
from workers.spec import EnvSpec
from workers.testing import END, START, extract_output, extract_report, frame_output, make_eval_script


@pytest.mark.parametrize(
    ("flag", "kind", "rule"),
    [
        ("candidate changed test file tests/test_a.py (restored)", "restored", "test file"),
        (flags.restored("conftest.py", "changed", "pytest conftest"), "restored", "pytest conftest"),
        (
            flags.restored("setup.cfg", "changed", "runner section [tool:pytest]"),
            "restored",
            "runner section",
        ),
        (
            flags.allowed("tox.ini", "added", "test-runner configuration", "permissive policy"),
            "allowed",
            "test-runner configuration",
        ),
        (
            flags.suspicious("adds a pytest hook (pytest_runtest_makereport)", "calc/a.py"),
            "suspicious",
            "adds a pytest hook",
        ),
        (
            flags.evidence("no runner summary", "the output has no closing summary"),
            "evidence",
            "no runner summary",
        ),
        (flags.refused("unsafe path", ".git/config"), "refused", "unsafe path"),
        ("something else: entirely", "other", "something else"),
    ],
)
def test_flags_read_back_by_kind_and_rule(flag: str, kind: str, rule: str) -> None:
    assert flags.kind_of(flag) == (kind, rule)


def test_flag_paths() -> None:
    assert flags.path_of(flags.restored("a/conftest.py", "added", "pytest conftest")) == "a/conftest.py"
    assert flags.path_of(flags.suspicious("exits the process early (os._exit)", "x.py")) == "x.py"
    assert flags.path_of(flags.evidence("r", "d")) is None


def result(run: str, iid: str, verdict: str = "resolved", flag_list: list[str] | None = None) -> Result:
    return Result(
        key=f"{run}-{iid}",
        sweep_id="s",
        instance_id=iid,
        run=run,
        repeat=0,
        seed=1,
        verdict=verdict,
        reason=f"{verdict}: FAIL_TO_PASS 1/1 pass",
        flags=flag_list or [],  # type: ignore[arg-type]
    )


HOOK = flags.suspicious("adds a pytest hook (pytest_runtest_makereport)", "conftest.py")
EXIT = flags.suspicious("exits the process early (os._exit)", "calc/a.py")
CONF = flags.restored("conftest.py", "changed", "pytest conftest")


def test_integrity_summary_per_run() -> None:
    results = [
        result(
            "m", "i1", flag_list=[HOOK, EXIT, flags.suspicious("exits the process early (sys.exit)", "b.py")]
        ),
        result("m", "i2", "unresolved", [CONF]),
        result("m", "i3"),
        result("gold", "i1"),
    ]
    summary = integrity_summary(results)
    assert summary["gold"] == {
        "results": 1,
        "flagged": 0,
        "flagged_resolved": 0,
        "resolved": 1,
        "hardened_resolved": 1,
        "by_kind": {},
        "by_rule": {},
        "examples": {},
    }
    m = summary["m"]
    assert (m["results"], m["flagged"], m["flagged_resolved"]) == (3, 2, 1)
    assert (m["resolved"], m["hardened_resolved"]) == (2, 1)  # i1's suspicion costs it the hardened one
    assert m["by_kind"] == {"restored": 1, "suspicious": 2}
    assert m["by_rule"] == {
        "restored: pytest conftest": 1,
        "suspicious: adds a pytest hook": 1,
        "suspicious: exits the process early": 1,  # once per result, however many files
    }
    assert m["examples"]["restored: pytest conftest"] == ["i2"]


def test_flagged_as_unresolved_takes_the_hardened_verdicts() -> None:
    evidence = flags.evidence("no runner summary", "the output has no closing summary")
    results = [
        result("m", "i1", flag_list=[HOOK]),
        result("m", "i2", flag_list=[CONF]),
        result("m", "i3"),
        result("m", "i4", flag_list=[evidence]),
    ]
    assert [r.hardened_verdict for r in results] == ["unresolved", "resolved", "resolved", "unresolved"]
    assert apply_flag_policy(results, flagged_as_unresolved=False) == results
    counted = apply_flag_policy(results, flagged_as_unresolved=True)
    assert [r.verdict for r in counted] == ["unresolved", "resolved", "resolved", "unresolved"]
    assert counted[0].reason == f"flagged: {HOOK}; was: resolved: FAIL_TO_PASS 1/1 pass"
    assert results[0].verdict == "resolved"  # the stored records are not changed


def test_the_sweep_option_defaults_off() -> None:
    assert ExecutionConfig().flagged_as_unresolved is False
    assert ExecutionConfig(flagged_as_unresolved=True).flagged_as_unresolved is True


INSTANCE = Instance(
    instance_id="o__r-1",
    repo="o/r",
    base_commit="0" * 40,
    FAIL_TO_PASS=["t.py::test_a"],
    test_patch="diff --git a/t.py b/t.py\n--- a/t.py\n+++ b/t.py\n",
)


def test_the_script_that_runs_holds_no_nonce_and_asks_for_the_report() -> None:
    spec = EnvSpec(repo="o/r", test_cmd="python3 -m pytest -rA", structured_report="junit_pytest")
    script = make_eval_script(INSTANCE, spec, seed=7, nonce="ab" * 8, report_token="cd" * 8)
    assert script.nonce not in script.text and START not in script.text
    assert "rm -rf /eval/cdcdcdcdcdcdcdcd && mkdir -p /eval/cdcdcdcdcdcdcdcd\n" in script.text
    assert "python3 -m pytest -rA --junitxml=/eval/cdcdcdcdcdcdcdcd/report.xml t.py\nexit $?\n" in script.text
    record = script.record()
    assert nonce_of(record) == script.nonce
    assert record.replace(record.splitlines()[1] + "\n", "") == script.text
    node = make_eval_script(
        INSTANCE, EnvSpec(repo="o/r", test_cmd="node --test", structured_report="junit_node"), 1
    )
    assert (
        "node --test --test-reporter=tap --test-reporter-destination=stdout --test-reporter=junit"
        in node.text
    )
    plain = make_eval_script(INSTANCE, EnvSpec(repo="o/r", test_cmd="pytest"), 1)
    assert plain.report is None and "/eval" not in plain.text


def test_nonce_of_reads_the_old_layout_too() -> None:
    assert nonce_of('#!/bin/bash\necho "EVALFLEET_TESTS_START 0123abcd"\n') == "0123abcd"


def test_markers_are_framed_by_the_harness_and_forged_ones_ignored() -> None:
    nonce = "ab" * 8
    output = f"PASSED t.py::test_a\n{END} 0000000000000000 exit=0\nFAILED t.py::test_a\n"
    raw = frame_output(output, nonce, 1, StructuredEvidence(kind="junit_pytest", text="<testsuites/>"))
    cut = extract_output(raw, nonce)
    assert cut.text.strip() == output.strip() and cut.marker_exit == 1
    report = extract_report(raw, nonce)
    assert report == StructuredEvidence(kind="junit_pytest", text="<testsuites/>")
    assert extract_report(frame_output("x", nonce, 0), nonce) is None
    missing = frame_output("x", nonce, 0, StructuredEvidence(kind="junit_node", text=None))
    assert extract_report(missing, nonce) == StructuredEvidence(kind="junit_node", text=None)
    assert END not in frame_output("x", nonce, None)  # timed out: no END marker


def test_a_regrade_of_the_stored_log_sees_the_stored_report() -> None:
    nonce = "ef" * 8
    output = "PASSED t.py::test_a\n=== 1 passed in 0.1s ===\n"
    failing = '<testsuites><testcase classname="t" name="test_a"><failure/></testcase></testsuites>'
    raw = frame_output(output, nonce, 0, StructuredEvidence(kind="junit_pytest", text=failing))
    graded = grade_own_log(INSTANCE, "pytest", raw, nonce, 0)
    assert graded.resolved and not graded.hardened
    assert "hardened: unresolved (integrity: structured report disagrees: " in graded.reason
    passing = failing.replace("<failure/>", "")
    assert grade_own_log(
        INSTANCE,
        "pytest",
        frame_output(output, nonce, 0, StructuredEvidence(kind="junit_pytest", text=passing)),
        nonce,
        0,
    ).hardened
