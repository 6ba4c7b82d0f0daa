"""Exceptions of the data plane, named for their phase.

Ordinary outcomes (a failing test, a patch that does not apply) are data in a ``Result``,
never exceptions. Exceptions are for infrastructure faults and for bad user input.
"""

from __future__ import annotations


class EvalfleetError(Exception):
    """Base of every evalfleet exception."""

    retryable: bool = False


class UserInputError(EvalfleetError):
    """The user's own input is wrong: shown as one line, without a traceback, exit code 2.

    The message names where (file, line, field), what was found and how to fix it.
    """

    exit_code = 2

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [f"{where}:" if where else ""]
        if self.field:
            parts.append(f"field '{self.field}':")
        parts.append(self.problem.rstrip("."))
        text = " ".join(p for p in parts if p)
        if self.fix:
            text += f" -- {self.fix.rstrip('.')}"
        return " ".join(text.split())


class SpecError(UserInputError):
    """An environment spec under configs/specs/ is invalid."""


class InfraError(EvalfleetError):
    """A fault of the infrastructure (Docker API, network, storage): retried with backoff."""

    retryable = True


class SandboxError(InfraError):
    """The sandbox could not be created, started, reached or removed."""


class ImageBuildError(InfraError):
    """An image could not be built or pulled."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one short line: its message with whitespace collapsed (its type's name when the
    message is empty), cut to ``limit`` characters. The one error-to-line helper of the project."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
