"""The contract every test-output parser follows: text in, ``{test name: TestStatus}`` out."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, Field

from workers.errors import EvalfleetError


class TestStatus(StrEnum):
    """Status of one test; the same values as SWE-bench's ``TestStatus``."""

    __test__ = False  # not a pytest test class

    PASSED = "PASSED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    ERROR = "ERROR"
    XFAIL = "XFAIL"


STATUS_VALUES: tuple[str, ...] = tuple(s.value for s in TestStatus)

StatusMap = dict[str, TestStatus]
Parser = Callable[[str], StatusMap]
"""A parser takes the test output (ANSI codes already stripped) and returns the status of each test."""


class MalformedOutputError(EvalfleetError):
    """Raised by a parser whose input is recognisably broken (e.g. a truncated XML report).

    ``partial`` holds what could be recovered before the damage. ``parse_output`` turns this into
    ``ParsedOutput.problem``; it never escapes ``parse``.
    """

    def __init__(self, problem: str, *, partial: StatusMap | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.partial: StatusMap = dict(partial or {})


class ParsedOutput(BaseModel):
    """What a parser made of one test output."""

    parser: str = Field(description="Parser name as requested.")
    statuses: dict[str, TestStatus] = Field(default_factory=dict, description="Test name -> status.")
    problem: str | None = Field(
        default=None, description="Why the output could not be read completely (None when it could)."
    )


_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, cursor moves, OSC titles) from ``text``."""
    return _ANSI.sub("", text)
