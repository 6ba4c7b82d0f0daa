"""JavaScript runners' line formats: jest ``--verbose``, jest ``--json`` through SWE-bench's jq
transform, vitest ``--reporter=verbose``, Karma's mocha reporter (preact) and TAP (three.js, axios).

Each reads the lines SWE-bench's parsers of the same name read (``parse_log_jest``,
``parse_log_jest_json``, ``parse_log_vitest``, ``parse_log_karma``, ``parse_log_tap`` in ``swebench/harness/log_parsers/javascript.py``), with
the same names and statuses: ``✓ name (5 ms)`` PASSED, ``✕`` FAILED, ``○`` SKIPPED (jest); ``[PASSED]
a > b`` (jest JSON); ``✓ name 5ms`` PASSED, ``\u00d7`` (multiplication sign) FAILED, ``↓`` SKIPPED (vitest). A later line of
the same name overwrites an earlier one, as there.
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_JEST = re.compile(r"^\s*(✓|✕|○)\s(.+?)(?:\s\((\d+\s*m?s)\))?$")
_JEST_STATUS = {"✓": TestStatus.PASSED, "✕": TestStatus.FAILED, "○": TestStatus.SKIPPED}
_JEST_JSON = re.compile(r"^\[(PASSED|FAILED)\]\s(.+)$")
_VITEST = re.compile("^\\s*(✓|\u00d7|↓)" r"\s(.+?)(?:\s(\d+\s*m?s?|\[skipped\]))?$")
_VITEST_STATUS = {"✓": TestStatus.PASSED, "\u00d7": TestStatus.FAILED, "↓": TestStatus.SKIPPED}


def _symbol_lines(output: str, pattern: re.Pattern[str], statuses: dict[str, TestStatus]) -> StatusMap:
    found: StatusMap = {}
    for line in output.split("\n"):
        match = pattern.match(line.strip())
        if match:
            found[match.group(2).strip()] = statuses[match.group(1)]
    return found


def parse_jest(output: str) -> StatusMap:
    """``jest --verbose``: one ``✓|✕|○ title (N ms)`` line per test, titles without their describes."""
    return _symbol_lines(output, _JEST, _JEST_STATUS)


def parse_vitest(output: str) -> StatusMap:
    """``vitest --reporter=verbose``: ``✓|\u00d7|↓ file > describe > title [N ms]`` lines."""
    found: StatusMap = {}
    for line in output.split("\n"):
        match = _VITEST.match(line.strip())
        if match:
            found[match.group(2)] = _VITEST_STATUS[match.group(1)]
    return found


def parse_jest_json(output: str) -> StatusMap:
    """``jest --json`` piped through SWE-bench's jq transform: ``[PASSED] describe > title`` lines."""
    found: StatusMap = {}
    for line in output.split("\n"):
        match = _JEST_JSON.match(line.strip())
        if match:
            found[match.group(2)] = TestStatus(match.group(1))
    return found


_KARMA = re.compile(r"^(\s*)?([✔✖])?\s(.*)$")
_TAP = re.compile(r"^(ok|not ok) (\d+) (.+)$")


def parse_karma(output: str) -> StatusMap:
    """Karma with the mocha reporter, from ``Starting browser`` to ``SUMMARY:``: an indented line
    without a mark opens a describe (a less indented one closes one); ``✔|✖ title`` is named
    ``describe > ... > title``. SWE-bench's own parser calls this logic brittle; ours keeps it as is."""
    found: StatusMap = {}
    indent, suite, started = -1, [], False
    for line in output.split("\n"):
        if line.startswith("SUMMARY:"):
            break
        if "Starting browser" in line:
            started = True
            continue
        match = _KARMA.match(line) if started else None
        if not match:
            continue
        lead, mark, name = match.groups()
        if lead and not mark:
            if len(lead) > indent:
                indent = len(lead)
                suite.append(name)
            elif len(lead) < indent:
                indent = len(lead)
                suite.pop()
                continue
        if mark:
            found[" > ".join([*suite, name])] = TestStatus.PASSED if mark == "✔" else TestStatus.FAILED
    return found


def parse_tap(output: str) -> StatusMap:
    """TAP as SWE-bench's ``parse_log_tap`` reads it: ``ok N name`` PASSED, ``not ok N name`` FAILED,
    the name being everything after the number (a ``- `` and any ``# SKIP`` directive included)."""
    found: StatusMap = {}
    for line in output.split("\n"):
        match = _TAP.match(line.strip())
        if match:
            found[match.group(3)] = TestStatus.PASSED if match.group(1) == "ok" else TestStatus.FAILED
    return found
