"""Grading: parsed test statuses -> SWE-bench's four buckets, a resolution and a one-line reason.

The buckets follow ``swebench.harness.grading.get_eval_tests_report`` (swebench 5):

- a test passes when PASSED or XFAIL; a test missing from the output fails;
- FAIL_TO_PASS: SKIPPED is a failure; PASS_TO_PASS: SKIPPED is success (not a regression);
- a listed id truncated inside its ``[parameters]`` matches the parsed ids it is a prefix of, when
  they agree on pass/fail (SWE-bench's ``_resolve_case``, for the truncated ids in its datasets);
- ``eval_type: fail_only`` (parsers that print failures only): a test fails only when parsed FAILED;
- FAIL_TO_FAIL and PASS_TO_FAIL stay empty;
- an empty list rates 1; FULL when both rates are 1, PARTIAL when 0 < FAIL_TO_PASS < 1 and
  PASS_TO_PASS is 1, else NO; resolved == FULL.

The official rules of ``get_logs_eval`` (swebench 5) also make the grade NO:

(a) no test output was seen, or nothing was parsed from it and the output shows no sign that a
    suite ran (swebench's ``SUITE_RAN``);
(b) the test command exited non-zero (exit code known) but no parsed test is FAILED or ERROR: the
    runner crashed or was killed after printing passes (exit 137, a collection error, a conftest
    printing fake PASSED lines). A non-zero exit with some parsed failure is normal -- pytest exits
    1 when any test fails, listed or not -- and the buckets decide, as in SWE-bench.

So ``Grade.resolved`` is the official verdict. Integrity findings never change it: they are flags
(``evidence: RULE: DETAIL``) and make the hardened verdict (``Grade.hardened``) unresolved:

(c) the parser reported the output as malformed (e.g. a truncated JUnit XML report);
(c') ``fail_only``: nothing was parsed and the test command did not exit 0;
(d) ``workers.log_grading.grade_log``: a run that would resolve must agree with the runner's own
    summary and with the structured report, if the spec asks for one (``harden``; docs/integrity.md).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from workers.errors import UserInputError
from workers.integrity import flags as integrity_flags
from workers.models import Instance, Result, TestBucket, TestsStatus, Verdict
from workers.parsers import StatusMap, TestStatus

Resolution = Literal["FULL", "PARTIAL", "NO"]

_PASSING = (TestStatus.PASSED, TestStatus.XFAIL)
_FAILING = (TestStatus.FAILED, TestStatus.ERROR)
_EVAL_TYPES = ("pass_and_fail", "fail_only")


class Grade(BaseModel):
    """The outcome of grading one test run."""

    tests_status: TestsStatus = Field(description="SWE-bench's four buckets.")
    resolved: bool = Field(description="True exactly when resolution is FULL.")
    resolution: Resolution = Field(description="SWE-bench's RESOLVED_FULL / _PARTIAL / _NO.")
    reason: str = Field(description="Why, in one line.")
    flags: list[str] = Field(default_factory=list, description="Integrity flags raised while grading.")
    found: bool = Field(
        default=True,
        description="The log reads as a test run (swebench's get_logs_eval found it; rules a-b hold).",
    )
    hardened: bool = Field(
        default=False,
        description="Resolved under the hardened verdict: resolved, and no evidence flag was raised.",
    )

    @property
    def verdict(self) -> Verdict:
        return "resolved" if self.resolved else "unresolved"


def harden(graded: Grade, rule: str, detail: str) -> Grade:
    """``graded`` with an ``evidence: rule: detail`` flag (docs/integrity.md): the official verdict
    stands, the hardened one becomes unresolved, and the reason says so."""
    note = f"integrity: {rule}: {detail}"
    reason = graded.reason if not graded.resolved else f"{graded.reason}; hardened: unresolved ({note})"
    return graded.model_copy(
        update={
            "hardened": False,
            "reason": reason,
            "flags": [*graded.flags, integrity_flags.evidence(rule, detail)],
        }
    )


def find_case(case: str, statuses: StatusMap) -> str | None:
    """The parsed id ``case`` stands for: itself, or (if truncated inside ``[``) an agreeing prefix match."""
    if case in statuses:
        return case
    if case.count("[") > case.count("]"):
        matches = [name for name in statuses if name.startswith(case)]
        if matches and len({statuses[name] in _PASSING for name in matches}) == 1:
            return matches[0]
    return None


def _bucket(cases: list[str], statuses: StatusMap, *, skip_ok: bool, fail_only: bool) -> TestBucket:
    bucket = TestBucket()
    for case in cases:
        if fail_only:
            failed = statuses.get(case) == TestStatus.FAILED
            (bucket.failure if failed else bucket.success).append(case)
            continue
        key = find_case(case, statuses)
        status = statuses[key] if key is not None else None
        if status in _PASSING or (skip_ok and status == TestStatus.SKIPPED):
            bucket.success.append(case)
        elif status is None or status in _FAILING or status == TestStatus.SKIPPED:
            bucket.failure.append(case)
    return bucket


def is_fail_only(instance: Instance) -> bool:
    """Whether the instance is graded on failures only (SWE-bench ``EvalType.FAIL_ONLY``)."""
    eval_type = instance.eval_type or "pass_and_fail"
    if eval_type not in _EVAL_TYPES:
        raise UserInputError(
            f"unknown eval_type '{eval_type}' for {instance.instance_id}",
            field="eval_type",
            fix=f"use one of {', '.join(_EVAL_TYPES)}",
        )
    return eval_type == "fail_only"


def buckets(instance: Instance, statuses: StatusMap) -> TestsStatus:
    """SWE-bench's ``get_eval_tests_report`` for one instance (FAIL_TO_FAIL/PASS_TO_FAIL empty)."""
    fail_only = is_fail_only(instance)
    return TestsStatus(
        fail_to_pass=_bucket(instance.fail_to_pass, statuses, skip_ok=False, fail_only=fail_only),
        pass_to_pass=_bucket(instance.pass_to_pass, statuses, skip_ok=True, fail_only=fail_only),
    )


def rate(bucket: TestBucket) -> float:
    """Share of successes; 1 for an empty bucket (SWE-bench ``compute_fail_to_pass``)."""
    total = len(bucket.success) + len(bucket.failure)
    return 1.0 if total == 0 else len(bucket.success) / total


def resolution_of(tests_status: TestsStatus) -> Resolution:
    """SWE-bench ``get_resolution_status`` without the ``RESOLVED_`` prefix."""
    f2p, p2p = rate(tests_status.fail_to_pass), rate(tests_status.pass_to_pass)
    if f2p == 1 and p2p == 1:
        return "FULL"
    if 0 < f2p < 1 and p2p == 1:
        return "PARTIAL"
    return "NO"


SUITE_RAN = re.compile(
    r"Executed [1-9]\d* of \d+"
    r"|TOTAL: [1-9]\d* (?:SUCCESS|FAILED)"
    r"|[1-9]\d* passing"
    r"|Tests:\s+[1-9]\d*"
    r"|Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total"
    r"|^# tests [1-9]\d*"
    r"|[1-9]\d* specs?, \d+ failures?"
    r"|': ok$",
    re.M,
)
"""swebench 5's evidence that a runner executed, for an output nothing was parsed from."""


def distrust(
    statuses: StatusMap,
    *,
    test_exit_code: int | None,
    output_seen: bool,
    output: str = "",
) -> str | None:
    """Why the official harness would not read this run as resolvable (rules a-b), or None."""
    if not output_seen:
        return "no test output was captured"
    if not statuses and not SUITE_RAN.search(output):
        return f"no test results could be parsed from the output (exit code {test_exit_code})"
    if test_exit_code not in (None, 0) and statuses and not any(s in _FAILING for s in statuses.values()):
        return (
            f"test command exited {test_exit_code} but no parsed test failed: "
            "the runner crashed or was killed, or an error happened outside the tests"
        )
    return None


def doubt(
    statuses: StatusMap, *, test_exit_code: int | None, fail_only: bool, parse_problem: str | None
) -> tuple[str, str] | None:
    """(rule, detail) of a hardening rule (c) the parsed statuses break, or None."""
    if parse_problem:
        return "test output malformed", parse_problem
    if fail_only and not statuses and test_exit_code != 0:
        return (
            "nothing parsed",
            f"no failure-only result was parsed and the test command exited {test_exit_code}",
        )
    return None


def _summary(tests_status: TestsStatus) -> str:
    f2p, p2p = tests_status.fail_to_pass, tests_status.pass_to_pass
    text = (
        f"FAIL_TO_PASS {len(f2p.success)}/{len(f2p.success) + len(f2p.failure)} pass, "
        f"PASS_TO_PASS {len(p2p.success)}/{len(p2p.success) + len(p2p.failure)} pass"
    )
    failing = f2p.failure + p2p.failure
    if failing:
        shown = ", ".join(" ".join(name.split())[:120] for name in failing[:3])
        text += f"; failing: {shown}" + (f" and {len(failing) - 3} more" if len(failing) > 3 else "")
    return text


def grade(
    instance: Instance,
    statuses: StatusMap,
    *,
    test_exit_code: int | None,
    output_seen: bool,
    parse_problem: str | None = None,
    output: str = "",
) -> Grade:
    """Grade one test run of ``instance``: SWE-bench's buckets and resolution, rules a-c.

    ``test_exit_code`` is the test command's own exit status (None if unknown); ``output_seen`` says
    whether any test output was captured; ``parse_problem`` is ``ParsedOutput.problem``; ``output``
    is the whole log, searched for swebench's ``SUITE_RAN`` when nothing was parsed.
    """
    fail_only = is_fail_only(instance)
    tests_status = buckets(instance, statuses)
    summary = _summary(tests_status)
    official = distrust(statuses, test_exit_code=test_exit_code, output_seen=output_seen, output=output)
    if official:
        return Grade(
            tests_status=tests_status,
            resolved=False,
            found=False,
            resolution="NO",
            reason=f"{official}; {summary}",
        )
    resolution = resolution_of(tests_status)
    graded = Grade(
        tests_status=tests_status,
        resolved=resolution == "FULL",
        hardened=resolution == "FULL",
        resolution=resolution,
        reason=f"{'resolved' if resolution == 'FULL' else 'unresolved'}: {summary}",
    )
    problem = doubt(statuses, test_exit_code=test_exit_code, fail_only=fail_only, parse_problem=parse_problem)
    return harden(graded, *problem) if problem else graded


def swebench_report(
    instance_id: str,
    *,
    patch_exists: bool,
    patch_applied: bool,
    resolved: bool,
    tests_status: TestsStatus | None = None,
    patch_is_none: bool | None = None,
) -> dict[str, dict[str, Any]]:
    """One item's SWE-bench ``report.json``: ``{iid: {patch_is_None, ..., tests_status?}}``.

    ``patch_is_none`` defaults to ``not patch_exists``; ``tests_status`` (upper-case bucket keys) is
    included when given, i.e. when the tests ran.
    """
    entry: dict[str, Any] = {
        "patch_is_None": (not patch_exists) if patch_is_none is None else patch_is_none,
        "patch_exists": patch_exists,
        "patch_successfully_applied": patch_applied,
        "resolved": resolved,
    }
    if tests_status is not None:
        entry["tests_status"] = tests_status.model_dump(by_alias=True)
    return {instance_id: entry}


def swebench_report_from_result(result: Result) -> dict[str, dict[str, Any]]:
    """``swebench_report`` of a stored result record; tests_status only if the patch applied."""
    return swebench_report(
        result.instance_id,
        patch_exists=result.patch_exists,
        patch_applied=result.patch_applied,
        resolved=result.resolved,
        tests_status=result.tests_status if result.patch_applied else None,
    )
