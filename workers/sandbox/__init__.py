"""Sandboxes commands run in: the contract (``base``) and its backends, imported lazily by name."""

from workers.sandbox.base import (
    ExecResult,
    Sandbox,
    SandboxBackend,
    SandboxConfig,
    backend_class,
    get_backend,
)

__all__ = ["ExecResult", "Sandbox", "SandboxBackend", "SandboxConfig", "backend_class", "get_backend"]
