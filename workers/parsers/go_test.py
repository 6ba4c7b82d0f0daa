"""``go test -v`` and ``go test -json`` output.

Text: ``--- PASS: TestX (0.00s)``, ``--- FAIL: ...``, ``--- SKIP: ...`` at any indentation (subtests
are ``TestX/sub``), exactly as SWE-bench's ``parse_log_gotest``. JSON (test2json): events whose
``Action`` is ``pass``/``fail``/``skip`` and that carry a ``Test``. Names omit the package, as in the
text format, so the two agree; a name in two packages keeps the later status.
"""

from __future__ import annotations

import json
import re

from workers.parsers.contract import StatusMap, TestStatus

_RESULT_LINE = re.compile(r"^--- (PASS|FAIL|SKIP): (.+) \((.+)\)$")
_STATUS = {"PASS": TestStatus.PASSED, "FAIL": TestStatus.FAILED, "SKIP": TestStatus.SKIPPED}


def _json_event(line: str) -> tuple[str, TestStatus] | None:
    """(test, status) of a test2json end-of-test event line, else None."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    test, action = event.get("Test"), str(event.get("Action", "")).upper()
    if isinstance(test, str) and test and action in _STATUS:
        return test, _STATUS[action]
    return None


def parse_go_test(output: str) -> StatusMap:
    """Statuses of ``go test -v`` (text) or ``go test -json`` (events) output, or a mix of both."""
    statuses: StatusMap = {}
    for raw in output.split("\n"):
        line = raw.strip()
        if line.startswith("{"):
            found = _json_event(line)
            if found:
                statuses[found[0]] = found[1]
            continue
        match = _RESULT_LINE.match(line) if line.endswith(")") else None  # endswith: no backtracking blow-up
        if match:
            statuses[match.group(2)] = _STATUS[match.group(1)]
    return statuses
