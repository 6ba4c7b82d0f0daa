"""Fixtures shared by the integration tests. Several helpers edit this file: append, do not rewrite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# --- docker engine and base image (sandbox helper) ---------------------------------------------------

# Every sandbox a test creates carries this sweep label, so the session's end can reap leftovers.
TEST_SWEEP = f"pytest-{os.getpid()}"


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A docker SDK client; the test is skipped when no Docker engine answers."""
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        if os.environ.get("CI"):  # `make test` starts an engine: in CI a missing one is a failure
            pytest.fail(f"no Docker engine answers: {exc}")
        pytest.skip(f"no Docker engine answers: {exc}")
    return client


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """Tag of evalfleet's bookworm base image (Debian 12, Python 3.11 venv on PATH, git, patch).

    Made once per machine: debootstrap into the rootfs cache (needs root), ``docker import``, then the
    base layer's build; later sessions find the tag and return at once.
    """
    from workers.images import ImageOptions, ensure_base_image

    return ensure_base_image("bookworm", ImageOptions(), client=docker_client).tag


@pytest.fixture(scope="session")
def sandbox_labels(docker_client: Any) -> Iterator[dict[str, str]]:
    """Labels for test sandboxes; at the end of the session every sandbox still carrying them is reaped."""
    yield {"evalfleet.sweep": TEST_SWEEP, "evalfleet.item": "pytest", "evalfleet.attempt": "1"}
    from workers.sandbox.janitor import reap

    reap(docker_client, sweep_id=TEST_SWEEP, dead_owners_only=False)


# --- image registry on loopback (k8s helper) -----------------------------------------------------------


@pytest.fixture(scope="session")
def image_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's docker-registry on 127.0.0.1 for the session (tests/support/registry.py)."""
    from support.registry import MISSING, LocalRegistry, find_registry

    if find_registry() is None:
        if os.environ.get("CI"):  # `make test` installs it: in CI a missing one is a failure
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    registry = LocalRegistry(tmp_path_factory.mktemp("registry"))
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()
