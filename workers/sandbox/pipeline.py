"""How an attempt gets and gives back its sandbox: the one object behind which the speed-ups live.

``SandboxPipeline(spares, background_removal)`` is what ``workers.attempt`` uses; with
both off it is plain create-then-remove. With spares on, the next sandbox of the same image is started
while the current tests run (``workers.sandbox.spares``, a pool per worker process); with background
removal on, a finished sandbox is removed in a background thread once the next tests start
(``workers.sandbox.removal``). Both pools live as long as the worker process (they outlast one task) and
are drained at its exit.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from workers.errors import SandboxError, one_line
from workers.sandbox import removal, spares
from workers.sandbox.base import Sandbox, SandboxBackend, SandboxConfig

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SandboxPipeline:
    """Where an attempt's sandbox comes from and where it goes (see the module's docstring)."""

    spares: bool = False
    background_removal: bool = False

    def start(
        self, backend: SandboxBackend, config: SandboxConfig, *, timeout: float
    ) -> tuple[Sandbox, bool]:
        """A running sandbox for ``config``, and whether it is a spare started ahead."""
        if self.spares:
            return spares.acquire(backend, config, timeout=timeout)
        return backend.create(config, timeout=timeout), False

    def tests_started(self) -> None:
        """The slot's engine work can overlap the tests now: start the next spare, remove the last one."""
        if self.spares:
            spares.tests_started()
        if self.background_removal:
            removal.tests_started()

    def finish(self, sandbox: Sandbox, *, timeout: float) -> bool:
        """Give the sandbox back: removed now (True when that happened here) or in the background."""
        if self.spares:
            spares.settle(timeout)  # the spare started for the next item exists before this one returns
        if self.background_removal:
            removal.remove_later(sandbox)
            return False
        try:
            sandbox.remove()
        except SandboxError as exc:  # the janitor reaps it later; the verdict stands
            log.warning("sandbox removal failed", container=sandbox.id[:12], error=one_line(exc))
        return True
