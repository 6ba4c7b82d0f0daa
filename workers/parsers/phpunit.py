"""PHPUnit ``--testdox`` output (SWE-bench Multilingual's PHP repositories).

A suite line ``Name (Fully\\Qualified\\Class)`` starts a suite; ``✔ title`` is PASSED, ``✘`` FAILED,
``↩`` SKIPPED, each named ``suite > title``, as SWE-bench's ``parse_log_phpunit``.
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_SUITE = re.compile(r"^(\w.+) \(.+\)$")
_TEST = re.compile(r"^\s*([✔✘↩])\s*(.*)$")
_STATUS = {"✔": TestStatus.PASSED, "✘": TestStatus.FAILED, "↩": TestStatus.SKIPPED}


def parse_phpunit(output: str) -> StatusMap:
    found: StatusMap = {}
    suite: str | None = None
    for line in output.split("\n"):
        head = _SUITE.match(line)
        if head:
            suite = head.group(1)
            continue
        test = _TEST.match(line)
        if test:
            found[f"{suite} > {test.group(2)}"] = _STATUS[test.group(1)]
    return found
