"""The sandbox contract: what every backend (docker now; others later) provides.

Modelled on inspect_ai's ``SandboxEnvironment``: ``exec`` returns an ``ExecResult`` (a non-zero exit,
a timeout, an OOM kill or an output flood are data), and exceptions are for infrastructure faults only
(``SandboxError``, retryable). Importing this module never imports a backend's SDK.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from workers.errors import UserInputError
from workers.models import SandboxLimits

# Short backend names -> ("module:Class", the pip requirement providing the backend's SDK).
BACKENDS: dict[str, tuple[str, str]] = {
    "docker": ("workers.sandbox.docker:DockerBackend", "docker>=7.0"),
}


class ExecResult(BaseModel):
    """What one command did inside a sandbox."""

    model_config = ConfigDict(frozen=True)

    returncode: int | None = Field(
        description="Exit code (128+N when killed by signal N); None when it timed out or was killed by us."
    )
    output: bytes = Field(description="stdout and stderr interleaved as written, cut to the output cap.")
    timed_out: bool = Field(default=False, description="The wall-clock limit was hit and the command killed.")
    truncated: bool = Field(default=False, description="Output exceeded the cap: head and tail kept.")
    output_bytes_total: int = Field(default=0, description="Bytes the command wrote, before any cut.")
    duration_s: float = Field(default=0.0, description="Wall-clock seconds from start to result.")
    oom_killed: bool = Field(default=False, description="A process of the sandbox was killed for memory.")
    sandbox_killed: bool = Field(
        default=False, description="The whole sandbox was killed to end the command; it is unusable now."
    )
    disk_exceeded: bool = Field(
        default=False,
        description="The sandbox wrote more than its disk limit (limits.disk_mb in all) and was killed.",
    )

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


class SandboxConfig(BaseModel):
    """How to create one sandbox."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    image: str = Field(description="Image (tag or id) the sandbox runs; must be present locally.")
    limits: SandboxLimits = Field(default_factory=SandboxLimits, description="Resource limits.")
    network: bool = Field(default=False, description="Give the sandbox a network; off while tests run.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Extra labels, e.g. from labels.item_labels(sweep, item, attempt)."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Environment of every command.")
    workdir: str | None = Field(default=None, description="Working directory of commands; image's if None.")
    init: bool = Field(
        default=True, description="Run an init as PID 1 that reaps orphans and forwards signals."
    )


@runtime_checkable
class Sandbox(Protocol):
    """A running, isolated environment commands execute in. Use as a context manager."""

    @property
    def id(self) -> str: ...

    @property
    def alive(self) -> bool:
        """False once the sandbox was killed or removed; further calls raise SandboxError."""
        ...

    def exec(
        self,
        cmd: list[str] | str,
        *,
        timeout: float,
        workdir: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        """Run ``cmd`` (a string runs under ``/bin/sh -c``); the process tree is killed at ``timeout``.

        ``stdin``: bytes the command reads on its standard input, closed after them (none: no stdin).
        """
        ...

    def write_file(self, path: str, data: bytes, mode: int = 0o644, *, timeout: float = 60.0) -> None: ...

    def read_file(self, path: str, max_bytes: int, *, timeout: float = 60.0) -> bytes:
        """At most ``max_bytes`` of the file (ask for one byte more to tell a cut file apart).

        Raises FileNotFoundError when the path does not exist, IsADirectoryError for a directory.
        """
        ...

    def copy_out(self, path: str, host_dir: Path, *, timeout: float = 120.0) -> Path:
        """Copy a file or directory tree out into ``host_dir``; returns the host path of the copy."""
        ...

    def running(self, *, timeout: float = 10.0) -> bool:
        """Whether the sandbox still runs (a spare started before an engine restart does not)."""
        ...

    def stop(self, *, timeout: float = 30.0) -> None:
        """Kill every process (SIGKILL; never a graceful stop). Idempotent."""
        ...

    def remove(self, *, timeout: float = 30.0) -> None:
        """Kill and delete the sandbox. Idempotent; never hangs past ``timeout``."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class SandboxBackend(Protocol):
    """Creates sandboxes of one kind."""

    name: str

    def create(self, config: SandboxConfig, *, timeout: float = 60.0) -> Sandbox:
        """Create and start a sandbox; SandboxError when that fails or takes longer than ``timeout``."""
        ...

    def engine_down(self) -> str | None:
        """Why this node's sandbox engine cannot be reached right now, in one line, or None when it
        answers. A cheap probe (seconds at most), called after infrastructure errors and before a sweep;
        a backend without an engine of its own returns None."""
        ...


def backend_class(name: str) -> type[SandboxBackend]:
    """The backend class for a short name (``docker``) or a ``module:Class`` path, imported lazily."""
    target, requirement = BACKENDS.get(name, (name, ""))
    module_name, sep, class_name = target.partition(":")
    if not sep or not module_name or not class_name:
        known = ", ".join(sorted(BACKENDS))
        raise UserInputError(f"unknown sandbox backend '{name}'", fix=f"use one of {known} or 'module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        fix = f"pip install '{requirement}'" if requirement else "install the package that provides it"
        raise UserInputError(f"sandbox backend '{name}' cannot be imported ({exc})", fix=fix) from None
    backend = getattr(module, class_name, None)
    if not isinstance(backend, type):
        raise UserInputError(f"sandbox backend '{name}': module {module_name} has no class {class_name}")
    return backend


@functools.cache
def get_backend(name: str) -> SandboxBackend:
    """The backend for a short name or ``module:Class``, made once per process (it holds a client)."""
    return backend_class(name)()
