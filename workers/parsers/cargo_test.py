"""Rust libtest output (``cargo test``): ``test path::name ... ok|FAILED|ignored``.

SWE-bench's ``parse_log_cargo`` reads only one-word names ending in ``ok`` or ``FAILED``. This parser
reads the same lines the same way and also: ``ignored`` (optionally ``ignored, reason``) as
SKIPPED; ``#[should_panic]`` tests (``test name - should panic ... ok``, named ``name``); and doc
tests (``test src/lib.rs - f (line 3) ... ok``, named ``src/lib.rs - f (line 3)``).
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_RESULT_LINE = re.compile(r"^test\s+(.+?)\s+\.\.\.\s+(ok|FAILED|ignored)(?:, .*)?$")
_SHOULD_PANIC = " - should panic"
_STATUS = {"ok": TestStatus.PASSED, "FAILED": TestStatus.FAILED, "ignored": TestStatus.SKIPPED}


def parse_cargo(output: str) -> StatusMap:
    """Statuses of a ``cargo test`` run, keyed by the test path libtest prints."""
    statuses: StatusMap = {}
    for raw in output.split("\n"):
        match = _RESULT_LINE.match(raw.strip())
        if not match:
            continue
        name, outcome = match.groups()
        statuses[name.removesuffix(_SHOULD_PANIC)] = _STATUS[outcome]
    return statuses
