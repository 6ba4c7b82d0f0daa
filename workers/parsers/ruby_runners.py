"""Runners of SWE-bench Multilingual's Ruby repositories: minitest and cucumber (jekyll), test-unit
(fluentd, faker) and RSpec's JSON through SWE-bench's jq transform (fastlane, fpm, rubocop).

Each reads the lines SWE-bench's parser of the same name reads (``swebench/harness/log_parsers/ruby.py``)
and names tests the same way. ``parse_log_jekyll`` picks minitest or cucumber by instance id; our specs
name the parser per instance instead (``scripts/translate_swebench_multilingual.py``).
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_MINITEST = re.compile(r"^(.+)\. .*=.*(\.|F|E).*$")
_CUCUMBER = re.compile(r"^(.*) \.+(\.|F)")
_TEST_UNIT = re.compile(r"^\s*(?:test: )?(.+):\s+(\.|E\b|F\b|O\b)")
_TEST_UNIT_STATUS = {
    ".": TestStatus.PASSED,
    "E": TestStatus.FAILED,
    "F": TestStatus.FAILED,
    "O": TestStatus.SKIPPED,
}
_RSPEC = re.compile(r"(.+) - (passed|failed)")


def _matches(output: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    found = []
    for raw in output.split("\n"):
        match = pattern.match(raw.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def parse_minitest(output: str) -> StatusMap:
    """minitest ``-v``: ``TestX#test_y = 0.01 s = .`` (``F``/``E`` failed)."""
    return {
        name: TestStatus.PASSED if mark == "." else TestStatus.FAILED
        for name, mark in _matches(output, _MINITEST)
    }


def parse_cucumber(output: str) -> StatusMap:
    """cucumber ``--format progress`` with step names: ``name ....`` (``F`` failed)."""
    return {
        name: TestStatus.PASSED if mark == "." else TestStatus.FAILED
        for name, mark in _matches(output, _CUCUMBER)
    }


def parse_ruby_unit(output: str) -> StatusMap:
    """test-unit ``-v``: ``test: name:  .: (0.01)``; ``E``/``F`` failed, ``O`` omitted (SKIPPED)."""
    return {name: _TEST_UNIT_STATUS[mark] for name, mark in _matches(output, _TEST_UNIT)}


def parse_rspec_json(output: str) -> StatusMap:
    """RSpec ``--format json`` through SWE-bench's jq transform: ``full description - passed|failed``."""
    return {
        name: TestStatus.PASSED if word == "passed" else TestStatus.FAILED
        for name, word in _matches(output, _RSPEC)
    }
