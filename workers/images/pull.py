"""Prebuilt images named by reference: SWE-bench's naming, and pulls with a wall-clock limit."""

from __future__ import annotations

import time
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def swebench_image_name(
    instance_id: str, *, namespace: str | None = "swebench", arch: str = "x86_64", tag: str = "latest"
) -> str:
    """The name SWE-bench (harness 4.x/5.x ``ImageSpec.name``) gives an instance image.

    Docker Hub forbids '__' in names, so remote names spell it '_1776_'; the whole name is lowercased.
    """
    key = f"sweb.eval.{arch}.{instance_id}:{tag}"
    if namespace:
        key = f"{namespace}/{key}".replace("__", "_1776_")
    return key.lower()


def pull_ref(template: str, instance_id: str, *, arch: str = "x86_64") -> str:
    """Expand a pull template for an instance, with SWE-bench's mangling ('__' -> '_1776_', lowercase).

    ``swebench/sweb.eval.x86_64.{instance_id}`` and ``django__django-11099`` give
    ``swebench/sweb.eval.x86_64.django_1776_django-11099:latest``. ':latest' is added when the
    template names no tag.
    """
    ref = template.format(instance_id=instance_id, arch=arch).replace("__", "_1776_").lower()
    _, tag = split_ref(ref)
    return ref if tag else f"{ref}:latest"


def split_ref(ref: str) -> tuple[str, str]:
    """'host:5000/a/b:tag' -> ('host:5000/a/b', 'tag'); no tag -> (ref, '')."""
    if "@" in ref:
        repo, _, digest = ref.partition("@")
        return repo, digest
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
        return repo, tag
    return ref, ""


def local_image_id(client: Any, ref: str) -> str | None:
    """Id of the local image named ``ref``, or None."""
    import docker.errors

    try:
        return str(client.images.get(ref).id)
    except docker.errors.ImageNotFound:
        return None


def try_pull(
    client: Any, ref: str, *, timeout_s: float, auth_config: dict[str, str] | None = None
) -> str | None:
    """Pull ``ref``; the image id, or None (logged) when the pull fails or exceeds ``timeout_s``."""
    import docker.errors

    repo, tag = split_ref(ref)
    deadline = time.monotonic() + timeout_s
    t0 = time.monotonic()
    try:
        for chunk in client.api.pull(
            repo, tag=tag or "latest", stream=True, decode=True, auth_config=auth_config
        ):
            if "error" in chunk:
                log.info("pull failed", ref=ref, error=str(chunk["error"])[:200])
                return None
            if time.monotonic() > deadline:
                log.warning("pull timed out", ref=ref, timeout_s=timeout_s)
                return None
    except (docker.errors.DockerException, OSError) as exc:  # requests' errors are OSErrors
        log.info("pull failed", ref=ref, error=str(exc).splitlines()[0][:200])
        return None
    image_id = local_image_id(client, ref)
    log.info("pulled", ref=ref, seconds=round(time.monotonic() - t0, 2), image_id=image_id)
    return image_id
