"""SymPy's ``bin/test`` output (its own runner, verbose mode).

Reproduces SWE-bench's ``parse_log_sympy``: ``test_x ok`` / ``test_x F`` / ``test_x E`` lines give
PASSED / FAILED / ERROR; a failure header ``____ sympy/x/tests/test_y.py:test_z ____`` records
``sympy/x/tests/test_y.py:test_z`` as FAILED. Other markers (``f`` expected failure, ``s``, ``X``)
are not recorded, as in SWE-bench.
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_FAILURE_HEADER = re.compile(r"(_*) (.*)\.py:(.*) (_*)")
_LINE_ENDINGS = ((" E", TestStatus.ERROR), (" F", TestStatus.FAILED), (" ok", TestStatus.PASSED))


def parse_sympy(output: str) -> StatusMap:
    """Statuses of a ``bin/test -C --verbose`` run, keyed by bare test function name."""
    statuses: StatusMap = {}
    for match in _FAILURE_HEADER.findall(output):
        statuses[f"{match[1]}.py:{match[2]}"] = TestStatus.FAILED
    for raw in output.split("\n"):
        line = raw.strip()
        if not line.startswith("test_"):
            continue
        for ending, status in _LINE_ENDINGS:
            if line.endswith(ending):
                statuses[line.split()[0]] = status
    return statuses
