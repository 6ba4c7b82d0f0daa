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
# SWE-bench's three patterns, verbatim. Run over the whole log they can take minutes (catastrophic
# backtracking on long lines); ``_interrupted_passes`` runs them only where they can match.
_TESTING_AGAINST = re.compile(
    r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$", re.M
)
_TESTING_AGAINST_END = re.compile(r" silenced\)\.\nok$", re.M)
_SHORT_PATTERNS = [  # (pattern, how the line before the closing "ok" ends); a match spans <= 4 lines
    (re.compile(r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$", re.M), "/"),
    (
        re.compile(r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$", re.M),
        "System check identified no issues (0 silenced)",
    ),
]
_MAX_WINDOW_LINE = 1000


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
    for name in _interrupted_passes(output):
        statuses[name] = TestStatus.PASSED
    return statuses


def _interrupted_passes(output: str) -> list[str]:
    """Tests SWE-bench's three multi-line patterns pass, found in linear time.

    The first pattern can only end at a `` silenced).`` + ``ok`` pair, so the search stops at the last
    one (each match then consumes up to its end). The other two span at most four lines ending in
    an ``ok`` line, so they run only on those windows (which leave out lines over 1,000 characters).
    """
    names: list[str] = []
    ends = [m.end() for m in _TESTING_AGAINST_END.finditer(output)]
    if ends:
        names += [m.group(1) for m in _TESTING_AGAINST.finditer(output, 0, ends[-1])]
    for pattern, line_end in _SHORT_PATTERNS:
        for start, end in _windows(output, line_end):
            names += [m.group(1) for m in pattern.finditer(output, start, end)]
    return names


def _windows(output: str, line_end: str) -> list[tuple[int, int]]:
    """Merged (start, end) offsets of the <= 4-line windows closed by an ``ok`` line after ``line_end``.

    A window never holds a line over ``_MAX_WINDOW_LINE`` characters (no test result line is that long).
    """
    lines = output.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    windows: list[tuple[int, int]] = []
    for j in range(1, len(lines)):
        if lines[j] != "ok" or not lines[j - 1].endswith(line_end) or len(lines[j - 1]) > _MAX_WINDOW_LINE:
            continue
        first = j - 1
        while first > max(0, j - 3) and len(lines[first - 1]) <= _MAX_WINDOW_LINE:
            first -= 1
        start, end = offsets[first], offsets[j] + len("ok")
        if windows and start <= windows[-1][1]:
            start = windows.pop()[0]
        windows.append((start, end))
    return windows
