"""Django's ``runtests.py --verbosity 2`` output (unittest's verbose runner).

Reproduces SWE-bench's ``parse_log_django``, including its answers to the runner's multi-line
quirks: a test whose docstring is printed on its own line is named by that line; an ``ok`` at the
start of a later line (after the test printed something) passes the last test seen; and three known
interruptions (``Testing against Django installed in ...``, ``Internal Server Error: /.../``,
``System check identified no issues (0 silenced)``) between ``...`` and ``ok`` are recognised.
One difference: a bare ``FAIL:``/``ERROR:`` line is ignored (SWE-bench raises IndexError on it).
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_PASS_SUFFIXES = (" ... ok", " ... OK", " ...  OK")
_VERSION_TEST = "--version is equivalent to version"
_DJANGO_7188_PREFIX = "Applying sites.0002_alter_domain_unique...test_no_migrations"
_INTERRUPTED_PASSES = [
    re.compile(
        r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$", re.M
    ),
    re.compile(r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$", re.M),
    re.compile(r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$", re.M),
]


def _line_outcomes(line: str) -> list[tuple[str, TestStatus]]:
    """Every (test, status) one stripped line states, in the order SWE-bench applies them."""
    found: list[tuple[str, TestStatus]] = []
    if _VERSION_TEST in line:
        found.append((_VERSION_TEST, TestStatus.PASSED))
    for suffix in _PASS_SUFFIXES:
        if line.endswith(suffix):
            if line.strip().startswith(_DJANGO_7188_PREFIX):
                line = line.split("...", 1)[-1].strip()
            found.append((line.rsplit(suffix, 1)[0], TestStatus.PASSED))
            break
    if " ... skipped" in line:
        found.append((line.split(" ... skipped")[0], TestStatus.SKIPPED))
    if line.endswith(" ... FAIL"):
        found.append((line.split(" ... FAIL")[0], TestStatus.FAILED))
    if line.startswith("FAIL:") and len(line.split()) > 1:
        found.append((line.split()[1].strip(), TestStatus.FAILED))
    if line.endswith(" ... ERROR"):
        found.append((line.split(" ... ERROR")[0], TestStatus.ERROR))
    if line.startswith("ERROR:") and len(line.split()) > 1:
        found.append((line.split()[1].strip(), TestStatus.ERROR))
    return found


def parse_django(output: str) -> StatusMap:
    """Statuses of a Django test run; names are ``test_x (module.Class)`` or the docstring line."""
    statuses: StatusMap = {}
    prev_test: str | None = None
    for raw in output.split("\n"):
        line = raw.strip()
        if " ... " in line:
            prev_test = line.split(" ... ")[0]
        statuses.update(_line_outcomes(line))
        if line.startswith("ok") and prev_test is not None:
            statuses[prev_test] = TestStatus.PASSED
    for pattern in _INTERRUPTED_PASSES:
        for match in pattern.finditer(output):
            statuses[match.group(1)] = TestStatus.PASSED
    return statuses
