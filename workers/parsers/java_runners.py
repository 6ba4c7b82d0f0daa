"""Runners of SWE-bench Multilingual's Java repositories: Maven run once per test (``-Dtest=...``),
Ant's JUnit task (lombok) and Gradle with SWE-bench's test-logging config (lucene, rxjava).

Each reads the lines SWE-bench's parser of the same name reads (``swebench/harness/log_parsers/java.py``)
and names tests the same way; differences are listed in docs/parity.md.
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_MAVEN_TEST = re.compile(r"^.*-Dtest=(\S+).*$")
_MAVEN_RESULT = re.compile(r"^.*BUILD (SUCCESS|FAILURE)$")
_MAVEN_STATUS = {"SUCCESS": TestStatus.PASSED, "FAILURE": TestStatus.FAILED}
_ANT = re.compile(r"^\s*\[junit\]\s+\[(PASS|FAIL|ERR)\]\s+(.*)$")
_GRADLE_FULL = re.compile(r"^([^>].+)\s+(PASSED|FAILED)$")
_GRADLE_NAME = re.compile(r"^([^>]\S*\s+>\s+\S+)$")
_GRADLE_STATUS_ONLY = re.compile(r"^(PASSED|FAILED)$")


def parse_maven(output: str) -> StatusMap:
    """One ``mvn test -Dtest=NAME`` per test (echoed by ``set -x``), each ending ``BUILD SUCCESS|FAILURE``.

    Maven prints no passing test names, so a test's status is its build's: the n-th ``-Dtest=`` line
    gets the n-th result (first in, first out, also when traces and results interleave)."""
    found: StatusMap = {}
    pending: list[str] = []
    unmatched: list[str] = []
    for raw in output.split("\n"):
        line = raw.strip()
        name = _MAVEN_TEST.match(line)
        if name:
            pending.append(name.group(1))
        result = _MAVEN_RESULT.match(line)
        if result:
            if pending:
                found[pending.pop(0)] = _MAVEN_STATUS[result.group(1)]
            else:
                unmatched.append(result.group(1))
    while pending and unmatched:
        found[pending.pop(0)] = _MAVEN_STATUS[unmatched.pop(0)]
    return found


def parse_ant(output: str) -> StatusMap:
    """Ant's JUnit task with SWE-bench's formatter: ``[junit] [PASS|FAIL|ERR] name``."""
    found: StatusMap = {}
    for raw in output.split("\n"):
        match = _ANT.match(raw.strip())
        if match:
            found[match.group(2)] = TestStatus.PASSED if match.group(1) == "PASS" else TestStatus.FAILED
    return found


def parse_gradle_custom(output: str) -> StatusMap:
    """Gradle with ``events "passed", "failed"``: ``Class > method PASSED``; a name line whose status
    comes on a later line of its own (interleaved output) is paired with that status."""
    found: StatusMap = {}
    pending: str | None = None
    for raw in output.split("\n"):
        line = raw.strip()
        full = _GRADLE_FULL.match(line)
        if full:
            found[full.group(1)] = TestStatus(full.group(2))
            pending = None
            continue
        name = _GRADLE_NAME.match(line)
        if name:
            pending = name.group(1)
            continue
        if pending:
            status = _GRADLE_STATUS_ONLY.match(line)
            if status:
                found[pending] = TestStatus(status.group(1))
                pending = None
    return found
