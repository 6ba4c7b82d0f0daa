"""SymPy's ``bin/test`` output (its own runner, verbose mode).

Reproduces SWE-bench's ``parse_log_sympy``: ``test_x ok`` / ``test_x F`` / ``test_x E`` lines give
PASSED / FAILED / ERROR; a failure header ``____ sympy/x/tests/test_y.py:test_z ____`` records
``sympy/x/tests/test_y.py:test_z`` as FAILED. Other markers (``f`` expected failure, ``s``, ``X``)
are not recorded, as in SWE-bench.
"""

from __future__ import annotations

from workers.parsers.contract import StatusMap, TestStatus

_LINE_ENDINGS = ((" E", TestStatus.ERROR), (" F", TestStatus.FAILED), (" ok", TestStatus.PASSED))


def failure_header(line: str) -> str | None:
    """What SWE-bench's ``(_*) (.*)\\.py:(.*) (_*)`` finds in one line, in linear time.

    The regex matches at most once per line: from the first space to the last space, provided a
    ``.py:`` lies between them; the name is the text in between.
    """
    first, last = line.find(" "), line.rfind(" ")
    body = line[first + 1 : last] if first != -1 else ""
    return body if ".py:" in body else None


def parse_sympy(output: str) -> StatusMap:
    """Statuses of a ``bin/test -C --verbose`` run, keyed by bare test function name."""
    statuses: StatusMap = {}
    lines = output.split("\n")
    for line in lines:
        header = failure_header(line)
        if header is not None:
            statuses[header] = TestStatus.FAILED
    for raw in lines:
        line = raw.strip()
        if not line.startswith("test_"):
            continue
        for ending, status in _LINE_ENDINGS:
            if line.endswith(ending):
                statuses[line.split()[0]] = status
    return statuses
