"""Runners of SWE-bench Multilingual's C/C++ repositories: redis/valkey's Tcl suite, jq's shell tests,
doctest XML (nlohmann/json), micropython's run-tests.py and googletest (fmt).

Each reads the lines SWE-bench's parser of the same name reads (``swebench/harness/log_parsers/c.py``)
and names tests the same way; differences are listed in docs/parity.md.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from workers.parsers.contract import MalformedOutputError, StatusMap, TestStatus

_REDIS = re.compile(r"^\[(ok|err|skip|ignore)\]:\s(.+?)(?:\s\((\d+\s*m?s)\))?$")
_REDIS_STATUS = {
    "ok": TestStatus.PASSED,
    "err": TestStatus.FAILED,
    "skip": TestStatus.SKIPPED,
    "ignore": TestStatus.SKIPPED,
}
_REDIS_WHERE = re.compile(r"\s+in\s+\S+$")
_JQ = re.compile(r"^\s*(PASS|FAIL):\s(.+)$")
_MICROPYTHON = re.compile(r"^(pass|FAIL|skip)\s+(.+)$")
_MICROPYTHON_STATUS = {"pass": TestStatus.PASSED, "FAIL": TestStatus.FAILED, "skip": TestStatus.SKIPPED}
_GTEST = re.compile(r"^.*\[\s*(OK|FAILED)\s*\]\s(.*)\s\(.*\)$")


def _lines(output: str) -> list[str]:
    return [line.strip() for line in output.split("\n")]


def parse_redis(output: str) -> StatusMap:
    """redis/valkey ``./runtest``: ``[ok]: name (N ms)``, ``[err]: name in tests/x.tcl``, ``[skip]``/``[ignore]``."""
    found: StatusMap = {}
    for line in _lines(output):
        match = _REDIS.match(line)
        if match:
            word, name = match.group(1), match.group(2)
            if word == "err":
                name = _REDIS_WHERE.sub("", name)
            found[name] = _REDIS_STATUS[word]
    return found


def _word_then_name(output: str, pattern: re.Pattern[str], statuses: dict[str, TestStatus]) -> StatusMap:
    """Lines whose group 1 is a status word (a key of ``statuses``) and group 2 the test name."""
    found: StatusMap = {}
    for line in _lines(output):
        match = pattern.match(line)
        if match:
            found[match.group(2)] = statuses[match.group(1)]
    return found


def parse_jq(output: str) -> StatusMap:
    """jq's ``make check`` (automake): ``PASS: tests/x.test``, ``FAIL: ...``."""
    return _word_then_name(output, _JQ, {"PASS": TestStatus.PASSED, "FAIL": TestStatus.FAILED})


def parse_micropython(output: str) -> StatusMap:
    """micropython ``tests/run-tests.py``: ``pass  basics/x.py``, ``FAIL ...``, ``skip ...``."""
    return _word_then_name(output, _MICROPYTHON, _MICROPYTHON_STATUS)


def parse_googletest(output: str) -> StatusMap:
    """googletest: ``[       OK ] Suite.Test (0 ms)``, ``[  FAILED  ] Suite.Test (1 ms)``."""
    return _word_then_name(output, _GTEST, {"OK": TestStatus.PASSED, "FAILED": TestStatus.FAILED})


def parse_doctest(output: str) -> StatusMap:
    """doctest ``-s -r=xml``: each ``<SubCase>`` of a ``<TestCase>`` is ``case > subcase``, PASSED when
    every ``<Expression>`` in it succeeded. Only the first ``<doctest>`` document is read, as SWE-bench."""
    start = output.find("<doctest")
    if start == -1:
        return {}
    end = output.find("</doctest>", start)
    if end == -1:
        raise MalformedOutputError("truncated doctest XML (no </doctest>)")
    try:
        root = ET.fromstring(output[start : end + len("</doctest>")])
    except ET.ParseError as exc:
        raise MalformedOutputError(f"invalid doctest XML ({exc})") from None
    found: StatusMap = {}
    for case in root.iter("TestCase"):
        for sub in case.iter("SubCase"):
            ok = all(expr.get("success") == "true" for expr in sub.iter("Expression"))
            found[f"{case.get('name')} > {sub.get('name')}"] = TestStatus.PASSED if ok else TestStatus.FAILED
    return found
