"""Grading evidence: the runner's own counts per runner, the structured report, and their effect on
grade_log. Every resolved instance of the SWE-bench-format fixture logs still resolves with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workers.integrity.counts import AFTER_SUMMARY, MISSING_FAILURES, NO_SUMMARY, TOO_MANY, check_counts
from workers.integrity.structured import (
    DISAGREES,
    MISSING,
    NOT_SEEN,
    StructuredEvidence,
    compare,
    pytest_junit_key,
    read_node_junit,
)
from workers.log_grading import OFFICIAL_END, OFFICIAL_START, grade_log
from workers.models import Instance
from workers.parsers import TestStatus, parse

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
P, F = TestStatus.PASSED, TestStatus.FAILED


def _fixtures() -> list[tuple[str, dict[str, Any], str]]:
    out = []
    for meta_path in sorted(LOGS.glob("*/*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        log = next(p for p in meta_path.parent.glob(meta_path.stem + ".*") if p.suffix != ".json")
        text = log.read_text(encoding="utf-8")
        if meta.get("framed"):
            text = text.split(OFFICIAL_START, 1)[1].split(OFFICIAL_END, 1)[0]
        out.append((f"{meta_path.parent.name}/{meta_path.stem}", meta, text))
    return out


FIXTURES = _fixtures()
RESOLVED = [(n, m, t, i) for n, m, t in FIXTURES for i in m["instances"] if i["resolved"]]


def instance(f2p: list[str], p2p: list[str] | None = None, iid: str = "o__r-1") -> Instance:
    return Instance(
        instance_id=iid, repo="o/r", base_commit="0" * 40, FAIL_TO_PASS=f2p, PASS_TO_PASS=p2p or []
    )


@pytest.mark.parametrize(("name", "meta", "text"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_real_format_logs_agree_with_their_summaries(name: str, meta: dict[str, Any], text: str) -> None:
    problem = check_counts(meta["parser"], text, parse(meta["parser"], text))
    if name == "pytest/pytest_killed":  # cut by SIGKILL before pytest's summary
        assert problem is not None and problem[0] == NO_SUMMARY
    else:
        assert problem is None, problem


@pytest.mark.parametrize(
    ("name", "meta", "text", "inst"), RESOLVED, ids=[f"{r[0]}:{r[3]['instance_id']}" for r in RESOLVED]
)
def test_resolved_fixture_instances_still_resolve(
    name: str, meta: dict[str, Any], text: str, inst: dict[str, Any]
) -> None:
    graded = grade_log(
        instance(inst["FAIL_TO_PASS"], inst["PASS_TO_PASS"], inst["instance_id"]),
        meta["parser"],
        text,
        test_exit_code=meta["test_exit_code"],
        output_seen=True,
    )
    assert graded.resolved and graded.flags == [], graded.reason


PYTEST_OK = "PASSED t.py::test_a\nPASSED t.py::test_b\n============ 2 passed in 0.01s ============\n"


@pytest.mark.parametrize(
    ("parser", "text", "rule"),
    [
        ("pytest", "PASSED t.py::test_a\nPASSED t.py::test_b\n", NO_SUMMARY),
        ("pytest", PYTEST_OK + "PASSED t.py::test_c\n", AFTER_SUMMARY),
        (
            "pytest",
            "PASSED t.py::test_a\nPASSED t.py::test_b\n=== 1 passed, 1 failed in 0.1s ===\n",
            TOO_MANY,
        ),
        ("pytest", "PASSED t.py::test_a\n=== 1 passed, 1 failed in 0.1s ===\n", MISSING_FAILURES),
        ("pytest_v2", "PASSED t.py::test_a\n", NO_SUMMARY),
        ("django", "test_a (m.T) ... ok\ntest_b (m.T) ... ok\n\nRan 1 test in 0.01s\n\nOK\n", TOO_MANY),
        ("django", "test_a (m.T) ... ok\n\nRan 2 tests in 0.01s\n\nFAILED (failures=1)\n", MISSING_FAILURES),
        ("django", "test_a (m.T) ... ok\n", NO_SUMMARY),
        ("sympy", "test_a ok\ntest_b ok\n== tests finished: 1 passed, in 0.1 seconds ==\n", TOO_MANY),
        ("node_tap", "ok 1 - a\nok 2 - b\n1..2\n# tests 1\n# pass 1\n# fail 0\n", TOO_MANY),
        ("node_tap", "ok 1 - a\n1..1\n# tests 1\n# pass 1\n# fail 0\nok 2 - b\n", AFTER_SUMMARY),
        ("node_tap", "ok 1 - a\n", NO_SUMMARY),
        ("cargo", "test a ... ok\ntest b ... ok\ntest result: ok. 1 passed; 0 failed; 0 ignored\n", TOO_MANY),
    ],
)
def test_forged_outputs_disagree_with_the_counts(parser: str, text: str, rule: str) -> None:
    problem = check_counts(parser, text, parse(parser, text))
    assert problem is not None and problem[0] == rule, problem


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        ("pytest", PYTEST_OK),
        (
            "pytest",
            "PASSED t.py::test_p[a b]\nPASSED t.py::test_p[a c]\n== 2 passed, 3 warnings in 0.1s ==\n",
        ),
        ("pytest", "XFAIL t.py::x - why\n=== 1 xfailed in 1.2s (0:00:01) ===\n"),
        ("pytest", "PASSED t.py::a\n===== 1 passed, 1 warnings in 0.12 seconds =====\n"),  # old pytest
        (
            "node_tap",
            "    ok 1 - a\n    ok 2 - b\n    1..2\nok 1 - f.js\n1..1\n# tests 1\n# pass 1\n# fail 0\n",
        ),  # per file
        (
            "node_tap",
            "    ok 1 - a\n    1..1\nok 1 - f.js\n1..1\n# tests 2\n# pass 2\n# fail 0\n",
        ),  # every test
        ("go_test", "--- PASS: TestA (0.00s)\n"),  # go prints no totals: no check
    ],
)
def test_honest_outputs_agree(parser: str, text: str) -> None:
    assert check_counts(parser, text, parse(parser, text)) is None


JUNIT = (
    '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
    '<testcase classname="tests.test_x" name="test_a[1 2]"/>'
    '<testcase classname="tests.test_x.TestK" name="test_b"/>'
    '<testcase classname="tests.test_x" name="test_c"><failure message="boom"/></testcase>'
    "</testsuite></testsuites>"
)


def test_pytest_junit_keys_follow_pytests_mangling() -> None:
    assert pytest_junit_key("tests/test_x.py::test_a[1 2]") == "tests.test_x::test_a[1 2]"
    assert pytest_junit_key("tests/test_x.py::TestK::test_b") == "tests.test_x.TestK::test_b"
    assert pytest_junit_key("a/b.py::t[x/y.py::z]") == "a.b::t[x/y.py::z]"


def _evidence(text: str | None, kind: str = "junit_pytest") -> StructuredEvidence:
    return StructuredEvidence(kind=kind, text=text)  # type: ignore[arg-type]


def test_structured_report_agreement_and_disagreement() -> None:
    inst = instance(
        ["tests/test_x.py::test_a[1", "tests/test_x.py::TestK::test_b"]
    )  # truncated id as SWE-bench
    honest = {"tests/test_x.py::test_a[1": P, "tests/test_x.py::TestK::test_b": P}
    assert compare(_evidence(JUNIT), inst, "pytest", honest) is None
    forged = instance(["tests/test_x.py::test_c"])
    problem = compare(_evidence(JUNIT), forged, "pytest", {"tests/test_x.py::test_c": P})
    assert problem is not None and problem[0] == DISAGREES
    unseen = instance(["tests/test_x.py::test_gone"])
    problem = compare(_evidence(JUNIT), unseen, "pytest", {"tests/test_x.py::test_gone": P})
    assert problem is not None and problem[0] == NOT_SEEN
    problem = compare(_evidence(None), inst, "pytest", honest)
    assert problem is not None and problem[0] == MISSING


NODE_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testcase name="top" classname="test"/>
  <testsuite name="outer" failures="1" errors="0">
    <testcase name="inner ok" classname="test"/>
    <testcase name="inner bad" classname="test"><failure message="x"/></testcase>
  </testsuite>
  <testcase name="skipme" classname="test"><skipped type="skipped" message="true"/></testcase>
  <testcase name="todo" classname="test"><skipped type="todo" message="t"/><failure message="x"/></testcase>
</testsuites>
"""


def test_node_junit_names_nested_tests_as_its_tap_does() -> None:
    assert read_node_junit(NODE_JUNIT) == {
        "top": P,
        "outer": F,
        "outer > inner ok": P,
        "outer > inner bad": F,
        "skipme": TestStatus.SKIPPED,
        "todo": TestStatus.XFAIL,
    }
    inst = instance(["outer > inner ok"], ["top"])
    assert (
        compare(_evidence(NODE_JUNIT, "junit_node"), inst, "node_tap", {"outer > inner ok": P, "top": P})
        is None
    )
    with pytest.raises(ValueError, match="DTD"):
        read_node_junit('<!DOCTYPE x [<!ENTITY a "b">]><testsuites/>')


def test_grade_log_overrules_a_forged_resolution_and_flags_it() -> None:
    inst = instance(["t.py::test_a"], ["t.py::test_b"])
    forged = "PASSED t.py::test_a\nPASSED t.py::test_b\n"
    graded = grade_log(inst, "pytest", forged, test_exit_code=0, output_seen=True)
    # the official verdict is what swebench decides; the hardened one is unresolved, and says why
    assert (graded.resolved, graded.resolution, graded.hardened) == (True, "FULL", False)
    assert graded.reason.startswith("resolved: FAIL_TO_PASS 1/1 pass, PASS_TO_PASS 1/1 pass; hardened: ")
    assert "integrity: no runner summary: " in graded.reason
    assert graded.flags == [
        f"evidence: {NO_SUMMARY}: the output has no closing summary of the test runner (it did not finish)"
    ]
    honest = grade_log(inst, "pytest", PYTEST_OK, test_exit_code=0, output_seen=True)
    assert honest.resolved and honest.hardened and honest.flags == []


def test_evidence_is_not_consulted_for_runs_that_fail_anyway() -> None:
    inst = instance(["t.py::test_a"])
    graded = grade_log(inst, "pytest", "FAILED t.py::test_a\n", test_exit_code=1, output_seen=True)
    assert not graded.resolved and graded.flags == []


# --- calibration on published SWE-bench logs (issue 12): shapes that flagged gold patches ----------


def test_sympy_summary_wider_than_the_terminal_has_no_padding() -> None:
    # sympy centres the line to 80 columns; wider text is printed bare, with a space each side
    text = (
        "test_a ok\ntest_b ok\ntest_c f\ntest_d E\n"
        " tests finished: 2 passed, 1 expected to fail, 1 exceptions, in 19.73 seconds \n"
        "DO *NOT* COMMIT!\n"
    )
    assert check_counts("sympy", text, parse("sympy", text)) is None
    forged = "test_a ok\ntest_b ok\ntest_c ok\n tests finished: 2 passed, in 0.1 seconds \n"
    problem = check_counts("sympy", forged, parse("sympy", forged))
    assert problem is not None and problem[0] == TOO_MANY


NESTED = """\
PASSED testing/test_a.py::test_outer
----------------------------- Captured stdout call -----------------------------
============================= test session starts ==============================
collected 2 items

test_inner.py ..                                                         [100%]
=========================== short test summary info ============================
PASSED test_inner.py::test_one
PASSED test_inner.py::test_two
============================== 2 passed in 0.01s ===============================
=========================== short test summary info ============================
PASSED testing/test_a.py::test_outer
PASSED testing/test_a.py::test_other
============================== 2 passed in 1.20s ===============================
"""


def test_nested_pytester_sessions_of_pytests_own_suite_add_their_counts() -> None:
    assert check_counts("pytest", NESTED, parse("pytest", NESTED)) is None
    # without the captured section, an earlier summary is not a nested session: the bound stays
    bare = NESTED.replace(
        "----------------------------- Captured stdout call -----------------------------\n", ""
    )
    problem = check_counts("pytest", bare, parse("pytest", bare))
    assert problem is not None and problem[0] == TOO_MANY


def test_a_wrappers_error_line_after_the_summary_is_not_a_forged_result() -> None:
    wrapped = (
        PYTEST_OK + "ERROR conda.cli.main_run:execute(124): `conda run pytest -rA` failed. (See above)\n"
    )
    assert check_counts("pytest", wrapped, parse("pytest", wrapped)) is None
    forged = PYTEST_OK + "PASSED t.py::test_c\n"
    assert check_counts("pytest", forged, parse("pytest", forged))[0] == AFTER_SUMMARY  # type: ignore[index]
