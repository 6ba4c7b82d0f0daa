"""Rust libtest output (``cargo test``): ``test path::name ... ok|FAILED|ignored``.

SWE-bench's ``parse_log_cargo`` reads only one-word names ending in ``ok`` or ``FAILED``. This parser
reads the same lines the same way and also: ``ignored`` (optionally ``ignored, reason``) as
SKIPPED; ``#[should_panic]`` tests (``test name - should panic ... ok``, named ``name``); and doc
tests (``test src/lib.rs - f (line 3) ... ok``, named ``src/lib.rs - f (line 3)``).
"""

from __future__ import annotations

from workers.parsers.contract import StatusMap, TestStatus

_SHOULD_PANIC = " - should panic"
_SEPARATOR = " ... "
_STATUS = {"ok": TestStatus.PASSED, "FAILED": TestStatus.FAILED, "ignored": TestStatus.SKIPPED}


def _result(line: str) -> tuple[str, TestStatus] | None:
    """(name, status) of a ``test NAME ... OUTCOME[, note]`` line (whitespace runs collapsed), else None."""
    if not line.startswith("test "):
        return None
    at = line.find(_SEPARATOR, len("test "))
    while at != -1:
        after = at + len(_SEPARATOR)
        for word, status in _STATUS.items():
            end = after + len(word)
            if line.startswith(word, after) and (end == len(line) or line.startswith(", ", end)):
                return line[len("test ") : at].removesuffix(_SHOULD_PANIC), status
        at = line.find(_SEPARATOR, at + 1)
    return None


def parse_cargo(output: str) -> StatusMap:
    """Statuses of a ``cargo test`` run, keyed by the test path libtest prints."""
    statuses: StatusMap = {}
    for raw in output.split("\n"):
        found = _result(" ".join(raw.split()))
        if found:
            statuses[found[0]] = found[1]
    return statuses
