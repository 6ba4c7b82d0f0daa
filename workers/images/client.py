"""The Docker client, created lazily (``docker`` is imported only when an image is needed)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workers.errors import ImageBuildError

API_TIMEOUT_S = 300


@functools.lru_cache(maxsize=1)
def _default_client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=API_TIMEOUT_S)
        client.ping()
    except docker.errors.DockerException as exc:
        raise ImageBuildError(
            f"cannot reach the Docker engine: {str(exc).splitlines()[0][:160]} -- start it "
            "(scripts/ensure-docker.sh) or set DOCKER_HOST"
        ) from None
    return client


def docker_client(client: Any = None) -> Any:
    """``client`` itself, or a shared client from the environment (DOCKER_HOST, ...)."""
    return client if client is not None else _default_client()


@contextmanager
def docker_errors(what: str) -> Iterator[None]:
    """Docker API and connection faults (requests' errors are OSErrors) as retryable ImageBuildErrors."""
    import docker.errors

    try:
        yield
    except (docker.errors.DockerException, OSError) as exc:
        first = (str(exc).splitlines() or [""])[0][:200]
        raise ImageBuildError(f"{what}: {type(exc).__name__}: {first}") from exc
