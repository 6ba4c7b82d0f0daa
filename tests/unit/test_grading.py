"""Grading: SWE-bench's buckets and resolution, the hardening rules, and the report.json shape."""

from __future__ import annotations

import pytest

from workers import models
from workers.errors import UserInputError
from workers.grading import (
    Grade,
    buckets,
    distrust,
    find_case,
    grade,
    rate,
    resolution_of,
    swebench_report,
    swebench_report_from_result,
)
from workers.models import Instance, Result
from workers.parsers import StatusMap, TestStatus

P, F, S, E, X = (TestStatus.PASSED, TestStatus.FAILED, TestStatus.SKIPPED, TestStatus.ERROR, TestStatus.XFAIL)


def make(f2p: list[str], p2p: list[str], eval_type: str | None = None) -> Instance:
    return Instance(
        instance_id="o__r-1",
        repo="o/r",
        base_commit="0" * 40,
        FAIL_TO_PASS=f2p,
        PASS_TO_PASS=p2p,
        eval_type=eval_type,
    )


def ok(statuses: StatusMap, inst: Instance, code: int | None = 0, output: str = "") -> Grade:
    return grade(inst, statuses, test_exit_code=code, output_seen=True, output=output)


def test_buckets_follow_swebench_status_rules() -> None:
    inst = make(
        ["f_pass", "f_xfail", "f_skip", "f_fail", "f_error", "f_missing"],
        ["p_pass", "p_skip", "p_fail", "p_gone"],
    )
    statuses = {
        "f_pass": P,
        "f_xfail": X,
        "f_skip": S,
        "f_fail": F,
        "f_error": E,
        "p_pass": P,
        "p_skip": S,
        "p_fail": F,
    }
    assert buckets(inst, statuses).model_dump(by_alias=True) == {
        "FAIL_TO_PASS": {
            "success": ["f_pass", "f_xfail"],
            "failure": ["f_skip", "f_fail", "f_error", "f_missing"],
        },
        "PASS_TO_PASS": {"success": ["p_pass", "p_skip"], "failure": ["p_fail", "p_gone"]},
        "FAIL_TO_FAIL": {"success": [], "failure": []},
        "PASS_TO_FAIL": {"success": [], "failure": []},
    }


@pytest.mark.parametrize(
    ("case", "statuses", "found"),
    [
        ("t[a", {"t[a b]": P, "t[a c]": X}, "t[a b]"),
        ("t[a", {"t[a b]": P, "t[a c]": F}, None),
        ("t[a", {"u[a b]": P}, None),
        ("t", {"t[1]": P}, None),
        ("t[a b]", {"t[a b]": F}, "t[a b]"),
    ],
    ids=["agree", "disagree", "no-prefix", "not-truncated", "exact"],
)
def test_truncated_ids_match_agreeing_prefixes(case: str, statuses: StatusMap, found: str | None) -> None:
    assert find_case(case, statuses) == found


def test_rates_and_resolutions() -> None:
    assert rate(models.TestBucket()) == 1.0
    assert rate(models.TestBucket(success=["a"], failure=["b", "c", "d"])) == 0.25
    full = models.TestsStatus()
    partial = models.TestsStatus(fail_to_pass=models.TestBucket(success=["a"], failure=["b"]))
    broken = models.TestsStatus(
        fail_to_pass=models.TestBucket(success=["a"]), pass_to_pass=models.TestBucket(failure=["c"])
    )
    none = models.TestsStatus(fail_to_pass=models.TestBucket(failure=["b"]))
    assert [resolution_of(t) for t in (full, partial, broken, none)] == ["FULL", "PARTIAL", "NO", "NO"]


def test_resolved_grade_and_its_reason() -> None:
    graded = ok({"a": P, "b": X, "c": P, "z": F}, make(["a", "b"], ["c"]), code=1)
    assert (graded.resolved, graded.resolution, graded.verdict) == (True, "FULL", "resolved")
    assert graded.reason == "resolved: FAIL_TO_PASS 2/2 pass, PASS_TO_PASS 1/1 pass"


def test_empty_lists_rate_one_so_any_parsed_run_resolves() -> None:
    assert ok({"x": P}, make([], [])).resolution == "FULL"


def test_partial_grade_names_the_failing_tests_on_one_line() -> None:
    graded = ok({"a": P, "b": F, "c": P}, make(["a", "b", "d\nx", "e", "f"], ["c"]), code=1)
    assert (graded.resolved, graded.resolution, graded.verdict) == (False, "PARTIAL", "unresolved")
    assert (
        graded.reason
        == "unresolved: FAIL_TO_PASS 1/5 pass, PASS_TO_PASS 1/1 pass; failing: b, d x, e and 1 more"
    )


def test_fail_only_counts_only_parsed_failures() -> None:
    inst = make(["a", "b", "c"], ["d"], eval_type="fail_only")
    assert buckets(inst, {"b": E, "c": F}).model_dump()["fail_to_pass"] == {
        "success": ["a", "b"],
        "failure": ["c"],
    }
    # as swebench 5: an empty parse counts only with a sign that the suite ran (SUITE_RAN)
    assert not ok({}, inst, code=0).resolved
    ran = ok({}, inst, code=0, output="# tests 3\n")
    assert ran.resolved and ran.hardened and ran.flags == []
    # officially resolved whatever the exit code; hardened, a non-zero exit with nothing parsed is not
    for code in (1, None):
        graded = ok({}, inst, code=code, output="# tests 3\n")
        assert (graded.resolved, graded.hardened) == (True, False)
        assert graded.flags == [
            f"evidence: nothing parsed: no failure-only result was parsed and the test command exited {code}"
        ]


def test_unknown_eval_type_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="unknown eval_type 'strict'"):
        ok({"a": P}, make(["a"], [], eval_type="strict"))


# --- hardening --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "code", "seen", "problem", "reason"),
    [
        ({"a": P}, 0, False, None, "no test output was captured"),
        ({}, 0, True, None, "no test results could be parsed from the output (exit code 0)"),
        ({"a": P}, 137, True, None, "test command exited 137 but no parsed test failed"),
        ({"a": P, "s": S, "x": X}, 2, True, None, "test command exited 2 but no parsed test failed"),
    ],
    ids=["no-output", "nothing-parsed", "killed", "no-failure-exit-2"],
)
def test_untrustworthy_runs_are_never_resolved(
    statuses: StatusMap, code: int, seen: bool, problem: str | None, reason: str
) -> None:
    graded = grade(make(["a"], []), statuses, test_exit_code=code, output_seen=seen, parse_problem=problem)
    assert (graded.resolved, graded.resolution) == (False, "NO")
    assert graded.reason.startswith(reason)
    assert graded.tests_status.fail_to_pass.success == (["a"] if "a" in statuses else [])
    assert (graded.found, graded.hardened) == (False, False)


def test_a_malformed_output_resolves_officially_and_is_flagged_unresolved_when_hardened() -> None:
    problem = "junit_xml: truncated JUnit XML"
    graded = grade(make(["a"], []), {"a": P}, test_exit_code=0, output_seen=True, parse_problem=problem)
    assert (graded.resolved, graded.verdict, graded.hardened) == (True, "resolved", False)
    assert graded.flags == [f"evidence: test output malformed: {problem}"]
    assert graded.reason.endswith(
        "hardened: unresolved (integrity: test output malformed: junit_xml: truncated JUnit XML)"
    )


def test_a_failing_unlisted_test_with_a_nonzero_exit_still_resolves_as_in_swebench() -> None:
    assert ok({"a": P, "unrelated": F}, make(["a"], []), code=1).resolved
    assert ok({"a": P, "unrelated": E}, make(["a"], []), code=1).resolved


def test_unknown_exit_code_trusts_the_parsed_statuses() -> None:
    assert ok({"a": P}, make(["a"], []), code=None).resolved
    assert distrust({"a": P}, test_exit_code=None, output_seen=True) is None


# --- report.json ------------------------------------------------------------------------------


def test_swebench_report_shape() -> None:
    status = models.TestsStatus(fail_to_pass=models.TestBucket(success=["a"]))
    report = swebench_report(
        "o__r-1", patch_exists=True, patch_applied=True, resolved=True, tests_status=status
    )
    assert report == {
        "o__r-1": {
            "patch_is_None": False,
            "patch_exists": True,
            "patch_successfully_applied": True,
            "resolved": True,
            "tests_status": {
                "FAIL_TO_PASS": {"success": ["a"], "failure": []},
                "PASS_TO_PASS": {"success": [], "failure": []},
                "FAIL_TO_FAIL": {"success": [], "failure": []},
                "PASS_TO_FAIL": {"success": [], "failure": []},
            },
        }
    }
    assert swebench_report("o__r-1", patch_exists=False, patch_applied=False, resolved=False) == {
        "o__r-1": {
            "patch_is_None": True,
            "patch_exists": False,
            "patch_successfully_applied": False,
            "resolved": False,
        }
    }
    empty = swebench_report("i", patch_exists=True, patch_applied=False, resolved=False, patch_is_none=False)
    assert empty["i"]["patch_is_None"] is False


def test_swebench_report_from_a_result_record() -> None:
    result = Result(
        key="k",
        sweep_id="s",
        instance_id="o__r-1",
        run="m",
        repeat=0,
        seed=1,
        verdict="patch_failed",
        patch_exists=True,
    )
    assert swebench_report_from_result(result) == {
        "o__r-1": {
            "patch_is_None": False,
            "patch_exists": True,
            "patch_successfully_applied": False,
            "resolved": False,
        }
    }
