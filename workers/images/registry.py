"""A registry shared by a cluster's nodes (``images.registry``): what one node builds, the others pull.

Layer tags are content hashes, so a tag means the same image everywhere: ``evalfleet/env:<hash>`` is
kept in the registry as ``<registry>/evalfleet/env:<hash>``. Before building a layer a node pulls it
from there (and tags it under its local name); after building one it pushes it. Credentials, when the
registry needs them, come from ``EVALFLEET_REGISTRY_USERNAME`` / ``EVALFLEET_REGISTRY_PASSWORD`` (a
Secret on Kubernetes). A registry that cannot be reached costs a log line, never a verdict: the node
builds as it would without one.
"""

from __future__ import annotations

import os
import time
from typing import Any

import structlog

from workers.images.pull import local_image_id, split_ref, try_pull

log = structlog.get_logger(__name__)

USERNAME_VAR, PASSWORD_VAR = "EVALFLEET_REGISTRY_USERNAME", "EVALFLEET_REGISTRY_PASSWORD"


def remote_ref(registry: str, tag: str) -> str:
    """``127.0.0.1:5000/team`` + ``evalfleet/env:ab12`` -> ``127.0.0.1:5000/team/evalfleet/env:ab12``."""
    return f"{registry.rstrip('/')}/{tag}"


def auth_config() -> dict[str, str] | None:
    """Registry credentials from the environment, or None (anonymous)."""
    user, password = os.environ.get(USERNAME_VAR), os.environ.get(PASSWORD_VAR)
    return {"username": user, "password": password} if user and password else None


def pull_shared(client: Any, registry: str, tag: str, *, timeout_s: float) -> str | None:
    """The image id of ``tag`` pulled from the registry and tagged locally; None when it is not there."""
    import docker.errors

    ref = remote_ref(registry, tag)
    try:  # a manifest request: cheap, and a miss (the usual case before a build) is no pull error
        client.api.inspect_distribution(ref, auth_config=auth_config())
    except (docker.errors.DockerException, OSError) as exc:
        log.debug("not in the registry", ref=ref, error=str(exc).splitlines()[0][:160])
        return None
    image_id = try_pull(client, ref, timeout_s=timeout_s, auth_config=auth_config())
    if image_id is None:
        return None
    repo, name = split_ref(tag)
    client.api.tag(ref, repo, name)
    client.api.remove_image(ref, noprune=True)  # the registry name only: the image keeps its local tag
    return local_image_id(client, tag)


def push_shared(client: Any, registry: str, tag: str) -> bool:
    """Push the local image ``tag`` to the registry; False (logged) when the push fails."""
    import docker.errors

    ref = remote_ref(registry, tag)
    repo, name = split_ref(ref)
    t0 = time.monotonic()
    try:
        client.api.tag(tag, repo, name)
        try:
            for chunk in client.api.push(repo, tag=name, stream=True, decode=True, auth_config=auth_config()):
                if "error" in chunk:
                    log.warning("push failed", ref=ref, error=str(chunk["error"])[:200])
                    return False
        finally:
            client.api.remove_image(ref, noprune=True)
    except (docker.errors.DockerException, OSError) as exc:
        log.warning("push failed", ref=ref, error=str(exc).splitlines()[0][:200])
        return False
    log.info("pushed", ref=ref, seconds=round(time.monotonic() - t0, 2))
    return True
