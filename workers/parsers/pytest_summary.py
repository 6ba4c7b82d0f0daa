"""pytest ``-rA`` short-summary parsers, one per SWE-bench variant.

Each function reproduces its SWE-bench namesake (``swebench.harness.log_parsers.python``) line for
line, quirks included, because SWE-bench's FAIL_TO_PASS/PASS_TO_PASS ids were produced by them:

- ``pytest``: the id is the first word after the status, so ``t[a b]`` is read as ``t[a``.
- ``pytest_options``: as ``pytest``; a parameter that is an absolute path keeps only its last part.
- ``pytest_v2``: the id is every word after the status (``t[a b]`` stays whole); the text after
  `` - `` is dropped on FAILED lines only; also reads old ``id STATUS`` progress lines.
- ``matplotlib``: ``pytest`` after rewriting ``MouseButton.LEFT``/``RIGHT`` to ``1``/``3``.
- ``seaborn``: PASSED/FAILED only, from summary and ``id PASSED`` progress lines.

One deliberate difference: a line whose first word is not exactly a status (``ERROR: not found:
...``) is ignored, where SWE-bench records a pseudo-test with a non-status value such as ``ERROR:``.
"""

from __future__ import annotations

import re

from workers.parsers.contract import STATUS_VALUES, StatusMap, TestStatus

_SKIP_SUMMARY_COUNT = re.compile(r"^\[\d+\]$")
_V2_COLOUR = re.compile(r"\[(\d+)m")
_V2_CONTROL = str.maketrans("", "", "".join(chr(c) for c in range(1, 32)))


def _record(statuses: StatusMap, status: str, test: str) -> None:
    """Record ``test`` if ``status`` is a real status word (not ``ERROR:``, ``FAILEDx``, ...)."""
    if status in STATUS_VALUES:
        statuses[test] = TestStatus(status)


def _summary_words(line: str) -> list[str] | None:
    """The words of a ``STATUS id [- message]`` summary line, or None if it is not one."""
    if not line.startswith(STATUS_VALUES):
        return None
    if line.startswith(TestStatus.FAILED):
        line = line.replace(" - ", " ")
    words = line.split()
    if len(words) <= 1 or _is_skip_count(words[0], words[1]):
        return None
    return words


def _is_skip_count(status: str, name: str) -> bool:
    """``SKIPPED [3] path:line: reason`` is a count of skips, not a test id."""
    return status == TestStatus.SKIPPED and bool(_SKIP_SUMMARY_COUNT.match(name))


def parse_pytest(output: str) -> StatusMap:
    """SWE-bench ``parse_log_pytest``: ``STATUS id`` summary lines; the id ends at the first space."""
    statuses: StatusMap = {}
    for line in output.split("\n"):
        words = _summary_words(line)
        if words:
            _record(statuses, words[0], words[1])
    return statuses


def _shorten_path_option(test: str) -> str:
    """``t[/tmp/x/y]`` -> ``t[/y]``: parameters that are absolute paths differ between machines.

    As SWE-bench's ``(.*?)\\[(.*)\\]`` search (first ``[`` to last ``]``, the rest dropped), in linear time.
    """
    start, end = test.find("["), test.rfind("]")
    if start == -1 or end < start:
        return test
    main, option = test[:start], test[start + 1 : end]
    if option.startswith("/") and not option.startswith("//") and "*" not in option:
        option = "/" + option.split("/")[-1]
    return f"{main}[{option}]"


def parse_pytest_options(output: str) -> StatusMap:
    """SWE-bench ``parse_log_pytest_options``: ``pytest`` with path parameters shortened."""
    statuses: StatusMap = {}
    for line in output.split("\n"):
        words = _summary_words(line)
        if words:
            _record(statuses, words[0], _shorten_path_option(words[1]))
    return statuses


def parse_pytest_v2(output: str) -> StatusMap:
    """SWE-bench ``parse_log_pytest_v2``: whole ids (with spaces), and old ``id STATUS`` lines."""
    statuses: StatusMap = {}
    for line in output.split("\n"):
        line = _V2_COLOUR.sub("", line).translate(_V2_CONTROL)
        if line.startswith(STATUS_VALUES):
            if line.startswith(TestStatus.FAILED):
                line = line.split(" - ", 1)[0]
            words = line.split()
            if len(words) >= 2 and not _is_skip_count(words[0], words[1]):
                _record(statuses, words[0], " ".join(words[1:]))
        elif line.endswith(STATUS_VALUES):
            words = line.split()
            if len(words) >= 2:
                _record(statuses, words[-1], " ".join(words[:-1]))
    return statuses


def parse_matplotlib(output: str) -> StatusMap:
    """SWE-bench ``parse_log_matplotlib``: ``pytest`` with ``MouseButton`` enum ids as numbers."""
    return parse_pytest(output.replace("MouseButton.LEFT", "1").replace("MouseButton.RIGHT", "3"))


def parse_seaborn(output: str) -> StatusMap:
    """SWE-bench ``parse_log_seaborn``: FAILED summary lines and PASSED progress/summary lines."""
    statuses: StatusMap = {}
    for line in output.split("\n"):
        words = line.split()
        if len(words) < 2:
            continue
        if line.startswith(TestStatus.FAILED):
            statuses[words[1]] = TestStatus.FAILED
        elif f" {TestStatus.PASSED} " in line:
            if words[1] == TestStatus.PASSED:
                statuses[words[0]] = TestStatus.PASSED
        elif line.startswith(TestStatus.PASSED):
            statuses[words[1]] = TestStatus.PASSED
    return statuses
