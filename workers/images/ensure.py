"""Public entry points: make sure the image of an instance exists, building missing layers once."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field

from workers.errors import ImageBuildError
from workers.images.build import docker_build
from workers.images.client import docker_client, docker_errors
from workers.images.context import add_repo, add_site_files
from workers.images.layers import SITE, LayerPlan, base_plans, build_chain
from workers.images.locks import EnsureResult, ensure_once
from workers.images.options import ImageOptions, lock_dir, state_dir
from workers.images.prebuilt import ensure_prebuilt, prebuilt_ref
from workers.images.pull import local_image_id
from workers.images.registry import pull_shared, push_shared
from workers.images.rootfs import make_rootfs
from workers.images.state import log_path, record_build, touch
from workers.models import Instance
from workers.spec import EnvSpec, RepoSource

log = structlog.get_logger(__name__)


class ImageRef(BaseModel):
    """The image an evaluation runs in, and how it was obtained."""

    model_config = ConfigDict(frozen=True)

    tag: str = Field(description="Image reference to start sandboxes from.")
    digest: str = Field(description="Local image id (sha256:...).")
    source: Literal["local", "pulled", "built"] = Field(
        description="'built' when this call built a layer, 'pulled' when it pulled (a named image, or a "
        "layer from the cluster's registry), else 'local'."
    )
    layers: list[EnsureResult] = Field(default_factory=list, description="Per layer, parents first.")
    seconds: float = Field(default=0.0, description="Wall time of the call.")

    @property
    def built_layers(self) -> list[str]:
        return [r.layer for r in self.layers if r.built]


def _build_layer(client: Any, plan: LayerPlan, options: ImageOptions) -> str:
    log_file = log_path(state_dir(options), plan.tag)
    log.info("building image", layer=plan.layer, tag=plan.tag, log=str(log_file))
    t0 = time.monotonic()
    if plan.layer == "rootfs":
        image_id = make_rootfs(client, plan, options, log_file)
    else:
        with tempfile.TemporaryDirectory(prefix="evalfleet-ctx-") as tmp:
            ctx = Path(tmp)
            if plan.layer == "base":
                add_site_files(ctx, options)
            if plan.source is not None:
                add_repo(ctx, plan.source)
            image_id = docker_build(client, plan, ctx, options, log_file)
    seconds = time.monotonic() - t0
    record_build(state_dir(options), tag=plan.tag, layer=plan.layer, image_id=image_id, seconds=seconds)
    log.info("built image", layer=plan.layer, tag=plan.tag, seconds=round(seconds, 1))
    if options.registry:  # for the other nodes of the cluster (they pull before building)
        push_shared(client, options.registry, plan.tag)
    return image_id


def ensure_layer(client: Any, plan: LayerPlan, options: ImageOptions) -> EnsureResult:
    """The layer's image: present already, or built by exactly one caller on this host."""
    registry = options.registry
    result = ensure_once(
        plan.layer,
        plan.tag,
        find=lambda: local_image_id(client, plan.tag),
        build=lambda: _build_layer(client, plan, options),
        lock_dir=lock_dir(options),
        timeout_s=options.lock_timeout_s or plan.timeout_s + 300,
        fetch=(
            (lambda: pull_shared(client, registry, plan.tag, timeout_s=options.pull_timeout_s))
            if registry
            else None
        ),
    )
    touch(state_dir(options), plan.tag, result.image_id)
    if plan.layer == "base" and not result.built:
        _check_site(client, plan)
    return result


def _check_site(client: Any, plan: LayerPlan) -> None:
    found = (client.images.get(plan.tag).labels or {}).get(SITE)
    if found != plan.labels.get(SITE):
        log.warning(
            "base image was built with other site settings (CA bundle / pip index); prune it to rebuild",
            tag=plan.tag,
        )


def _ref(results: list[EnsureResult], t0: float) -> ImageRef:
    last = results[-1]
    if any(r.built for r in results):
        source: Literal["local", "pulled", "built"] = "pulled" if last.layer == "prebuilt" else "built"
    elif any(r.pulled for r in results):
        source = "pulled"
    else:
        source = "local"
    return ImageRef(
        tag=last.tag,
        digest=last.image_id,
        source=source,
        layers=results,
        seconds=round(time.monotonic() - t0, 3),
    )


def ensure_base_image(name: str, options: ImageOptions, *, client: Any = None) -> ImageRef:
    """The base layer (and its rootfs) of a catalog entry, e.g. 'bookworm'."""
    t0 = time.monotonic()
    client = docker_client(client)
    with docker_errors(f"base image {name}"):
        results = [ensure_layer(client, plan, options) for plan in base_plans(name, options)]
    return _ref(results, t0)


def ensure_instance_image(
    instance: Instance, spec: EnvSpec, source: RepoSource | None, options: ImageOptions, *, client: Any = None
) -> ImageRef:
    """The image to evaluate ``instance`` in: a named image when one applies, else base -> env -> instance.

    Raises ImageBuildError: retryable for network and Docker faults, not for a failing install
    command or a missing repository (the message names the log file).
    """
    t0 = time.monotonic()
    client = docker_client(client)
    with docker_errors(f"image of {instance.instance_id}"):
        named = _named_image(client, instance, source, options)
        results = [named] if named is not None else _build_instance(client, instance, spec, source, options)
    return _ref(results, t0)


def _named_image(
    client: Any, instance: Instance, source: RepoSource | None, options: ImageOptions
) -> EnsureResult | None:
    """The instance's named image, local or pulled; None when it must be built instead."""
    ref = prebuilt_ref(instance, options)
    if ref is None:
        if source is None:
            raise ImageBuildError(
                f"{instance.instance_id}: no repository source for {instance.repo} and no image named -- "
                "add the repository under repos: in the sweep config",
                retryable=False,
            )
        return None
    found = ensure_prebuilt(client, ref, options)
    if found is None and (options.on_missing_prebuilt == "error" or source is None):
        fix = (
            "set images.on_missing_prebuilt=build"
            if source is not None
            else f"configure a repository source for {instance.repo} under repos:"
        )
        raise ImageBuildError(  # retryable: a pull fails for network reasons too
            f"{instance.instance_id}: image {ref} is neither local nor pullable -- make it available or {fix}"
        )
    if found is None:
        log.info("named image unavailable: building", instance=instance.instance_id, ref=ref)
    return found


def unbuildable_message(instance: Instance, spec: EnvSpec) -> str:
    """The one-line reason an item of a version no base here provides cannot get an image."""
    return (
        f"{instance.instance_id}: {instance.repo} {instance.version} {spec.unbuildable}: pull a prebuilt "
        "image (images.pull_template) or add a base that provides it"
    )


def _build_instance(
    client: Any, instance: Instance, spec: EnvSpec, source: RepoSource | None, options: ImageOptions
) -> list[EnsureResult]:
    assert source is not None  # _named_image raised otherwise
    if spec.unbuildable:
        raise ImageBuildError(unbuildable_message(instance, spec), retryable=False)
    chain = build_chain(instance, spec, source, options)
    top = chain[-1]
    image_id = local_image_id(client, top.tag)
    if image_id:  # the common case: nothing to build, parents not even looked at
        touch(state_dir(options), top.tag, image_id)
        return [EnsureResult(layer=top.layer, tag=top.tag, image_id=image_id, built=False)]
    return [ensure_layer(client, plan, options) for plan in chain]
