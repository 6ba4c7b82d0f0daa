"""What a set of instances needs: every layer once, parents first (for ``evalfleet images build``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workers.errors import ImageBuildError
from workers.images.client import docker_client, docker_errors
from workers.images.layers import LAYERS, REPO, build_chain
from workers.images.options import ImageOptions
from workers.images.prebuilt import prebuilt_ref
from workers.images.pull import local_image_id
from workers.models import Instance
from workers.spec import EnvSpec, RepoSource

ORDER = {name: i for i, name in enumerate((*LAYERS, "prebuilt"))}


class PlannedImage(BaseModel):
    """One image a set of instances needs."""

    model_config = ConfigDict(frozen=False)

    layer: str = Field(description="rootfs, base, env, instance, or prebuilt (named, pulled when missing).")
    tag: str
    parent: str | None = None
    repo: str | None = None
    instance_ids: list[str] = Field(default_factory=list, description="Instances whose image needs this one.")
    present: bool | None = Field(default=None, description="Whether it exists locally (None: not checked).")


def plan_images(
    items: Iterable[tuple[Instance, EnvSpec, RepoSource | None]],
    options: ImageOptions,
    *,
    client: Any = None,
    check_local: bool = True,
) -> list[PlannedImage]:
    """Every image the items need, deduplicated, parents first; the build chain is listed unless a named
    image is present locally."""
    planned: dict[str, PlannedImage] = {}
    docker = docker_client(client) if check_local else None

    def add(layer: str, tag: str, parent: str | None, repo: str | None, iid: str) -> PlannedImage:
        entry = planned.setdefault(tag, PlannedImage(layer=layer, tag=tag, parent=parent, repo=repo))
        if iid not in entry.instance_ids:
            entry.instance_ids.append(iid)
        if docker is not None and entry.present is None:
            with docker_errors("planning images"):
                entry.present = local_image_id(docker, tag) is not None
        return entry

    for instance, spec, source in items:
        iid = instance.instance_id
        ref = prebuilt_ref(instance, options)
        if ref is not None and add("prebuilt", ref, None, instance.repo, iid).present:
            continue
        if source is None:
            if ref is None:
                raise ImageBuildError(
                    f"{iid}: no repository source for {instance.repo} and no image named -- "
                    "add the repository under repos: in the sweep config",
                    retryable=False,
                )
            continue
        if spec.unbuildable:
            continue  # no build here: its items fail at build time with the reason (ensure.py)
        for plan in build_chain(instance, spec, source, options):
            add(plan.layer, plan.tag, plan.parent, plan.labels.get(REPO), iid)
    return sorted(planned.values(), key=lambda p: ORDER[p.layer])
