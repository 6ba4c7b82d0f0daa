"""Aider polyglot exercises: each language's runner output, plus one verdict for the whole exercise.

An exercise is solved when every one of its tests passes (Aider's benchmark asks the test command to
succeed). The dataset adapter (``orchestrator/datasets/polyglot.py``) lists ``EXERCISE_TEST`` as the
only FAIL_TO_PASS test; these parsers add it to the per-test statuses of the language's runner:
PASSED when at least one test was read and none FAILED or ERROR, FAILED otherwise; a compile error
prints no test at all, and the parse is then empty (the grade says so). The exit code of the test command is checked by the grading rules as for any
instance (``workers/grading.py`` rule b).
"""

from __future__ import annotations

from collections.abc import Callable

from workers.parsers.cargo_test import parse_cargo
from workers.parsers.contract import MalformedOutputError, StatusMap, TestStatus
from workers.parsers.go_test import parse_go_test
from workers.parsers.js_runners import parse_jest
from workers.parsers.junit_xml import parse_junit_xml
from workers.parsers.pytest_summary import parse_pytest

EXERCISE_TEST = "polyglot::exercise"
"""The pseudo-test whose status is the exercise's: the one FAIL_TO_PASS entry of a polyglot instance."""

_FAILING = (TestStatus.FAILED, TestStatus.ERROR)


def with_exercise(statuses: StatusMap) -> StatusMap:
    """``statuses`` plus ``EXERCISE_TEST``: PASSED when none failed. No test read (a build error):
    nothing, so the grade says no test result could be parsed (``workers/grading.py`` rule a)."""
    if not statuses:
        return {}
    solved = not any(s in _FAILING for s in statuses.values())
    return {**statuses, EXERCISE_TEST: TestStatus.PASSED if solved else TestStatus.FAILED}


def _junit_reports(output: str) -> StatusMap:
    """Test cases of the JUnit XML report(s) the eval script printed; none when the build failed."""
    try:
        return parse_junit_xml(output)
    except MalformedOutputError as exc:
        # a damaged report fails the exercise: keep what was read, and mark it as not complete
        return {**exc.partial, "polyglot::report": TestStatus.ERROR} if exc.partial else {}


def _exercise_parser(runner: Callable[[str], StatusMap]) -> Callable[[str], StatusMap]:
    def parse(output: str) -> StatusMap:
        return with_exercise(runner(output))

    return parse


parse_polyglot_python = _exercise_parser(parse_pytest)
parse_polyglot_go = _exercise_parser(parse_go_test)
parse_polyglot_rust = _exercise_parser(parse_cargo)
parse_polyglot_javascript = _exercise_parser(parse_jest)
parse_polyglot_cpp = _exercise_parser(_junit_reports)
parse_polyglot_java = _exercise_parser(_junit_reports)
