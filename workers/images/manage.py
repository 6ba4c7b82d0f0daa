"""List and prune evalfleet's images: least recently used first, children before parents, never in use."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel, Field

from workers.images.client import docker_client, docker_errors
from workers.images.layers import INSTANCE, LAYER, PARENT, REPO
from workers.images.options import ImageOptions, state_dir
from workers.images.state import forget, last_used

log = structlog.get_logger(__name__)


class ImageInfo(BaseModel):
    """One evalfleet image."""

    layer: str
    tag: str
    image_id: str
    parent: str | None = None
    repo: str | None = None
    instance: str | None = None
    size: int = Field(description="Bytes, parent layers included (docker's Size).")
    own_size: int = Field(description="Bytes of this layer alone: what removing it frees.")
    created: float = Field(description="Epoch seconds.")
    last_used: float = Field(description="Last use of it or of any image built on it (else its creation).")
    in_use: bool = Field(description="A container (running or not) uses it or an image built on it.")
    labels: dict[str, str] = Field(default_factory=dict)


def _epoch(created: str) -> float:
    # Docker gives nanoseconds; datetime takes microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", created).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def _raw_images(client: Any, used_ids: set[str], uses: Mapping[str, float]) -> dict[str, ImageInfo]:
    found: dict[str, ImageInfo] = {}
    for image in client.images.list(filters={"label": LAYER}):
        labels = dict(image.labels or {})
        tags = [t for t in image.tags if t.startswith("evalfleet/")]
        if not tags:
            continue
        created = _epoch(str(image.attrs.get("Created", "")))
        size = int(image.attrs.get("Size") or 0)
        found[tags[0]] = ImageInfo(
            layer=labels[LAYER],
            tag=tags[0],
            image_id=image.id,
            parent=labels.get(PARENT),
            repo=labels.get(REPO) if labels[LAYER] in ("env", "instance") else None,
            instance=labels.get(INSTANCE) if labels[LAYER] == "instance" else None,
            size=size,
            own_size=size,
            created=created,
            last_used=uses.get(tags[0], created),
            in_use=image.id in used_ids,
            labels=labels,
        )
    found.update(_prebuilt_images(client, used_ids, uses, known=found))
    return found


def _prebuilt_images(
    client: Any, used_ids: set[str], uses: Mapping[str, float], *, known: Mapping[str, ImageInfo]
) -> dict[str, ImageInfo]:
    """Named images evalfleet pulled (SWE-bench's prebuilt instance images: their use is recorded like
    a layer's), so that pruning by age or disk budget counts and removes them too. Their own size is
    their whole size: layers shared with other pulled images are freed only with the last of them."""
    import docker.errors

    found: dict[str, ImageInfo] = {}
    for tag, when in uses.items():
        if tag in known or tag.startswith("evalfleet/"):
            continue
        try:
            image = client.images.get(tag)
        except docker.errors.ImageNotFound:
            continue
        size = int(image.attrs.get("Size") or 0)
        found[tag] = ImageInfo(
            layer="prebuilt",
            tag=tag,
            image_id=image.id,
            size=size,
            own_size=size,
            created=_epoch(str(image.attrs.get("Created", ""))),
            last_used=when,
            in_use=image.id in used_ids,
            labels={LAYER: "prebuilt"},
        )
    return found


def _settle(images: dict[str, ImageInfo]) -> None:
    """Own sizes from parents; last use and in-use flow up from children to parents."""
    for info in images.values():
        parent = images.get(info.parent or "")
        if parent is not None:
            info.own_size = max(0, info.size - parent.size)
    for info in sorted(images.values(), key=lambda i: -_depth(images, i)):
        parent = images.get(info.parent or "")
        if parent is not None:
            parent.last_used = max(parent.last_used, info.last_used)
            parent.in_use = parent.in_use or info.in_use


def _depth(images: Mapping[str, ImageInfo], info: ImageInfo) -> int:
    depth, seen = 0, set()
    while info.parent is not None and info.parent in images and info.tag not in seen:
        seen.add(info.tag)
        info, depth = images[info.parent], depth + 1
    return depth


def list_images(client: Any = None, *, options: ImageOptions | None = None) -> list[ImageInfo]:
    """Every image tagged evalfleet/..., and every named image evalfleet pulled (layer ``prebuilt``),
    parents first, with sizes and last use."""
    client = docker_client(client)
    uses = last_used(state_dir(options or ImageOptions()))
    with docker_errors("listing images"):
        used_ids = {str(c.get("ImageID")) for c in client.api.containers(all=True)}
        images = _raw_images(client, used_ids, uses)
    _settle(images)
    return sorted(images.values(), key=lambda i: (_depth(images, i), i.tag))


def prune(
    client: Any = None,
    *,
    max_age_s: float | None = None,
    disk_budget_bytes: int | None = None,
    dry_run: bool = False,
    options: ImageOptions | None = None,
    select: Mapping[str, str] | None = None,
) -> list[ImageInfo]:
    """Remove images unused for ``max_age_s``, then the least recently used until the images take at most
    ``disk_budget_bytes``. Only images whose labels match ``select`` (all evalfleet images by default) are
    counted and removed; images in use and images with children left are kept. Untagged leftovers of
    failed builds are removed too. Returns what was (or, with ``dry_run``, would be) removed, in order."""
    client = docker_client(client)
    opts = options or ImageOptions()
    if not dry_run:  # untagged leftovers of failed builds (their steps' images) go first
        with docker_errors("pruning dangling images"):
            freed = client.images.prune(filters={"dangling": True, "label": LAYER}).get("SpaceReclaimed")
        log.debug("dangling images removed", bytes=freed)
    images = {i.tag: i for i in list_images(client, options=opts)}
    total = sum(i.own_size for i in images.values() if _matches(i, select))
    now, removed = time.time(), []
    while True:
        leaves = [i for i in images.values() if _matches(i, select) and _removable(i, images)]
        old = [i for i in leaves if max_age_s is not None and now - i.last_used > max_age_s]
        over = disk_budget_bytes is not None and total > disk_budget_bytes
        pick = min(old or (leaves if over else []), key=lambda i: i.last_used, default=None)
        if pick is None:
            break
        if not dry_run and not _remove(client, pick, opts):
            pick.in_use = True  # removal refused (e.g. a container appeared meanwhile): keep it
            continue
        removed.append(images.pop(pick.tag))
        total -= pick.own_size
    if disk_budget_bytes is not None and total > disk_budget_bytes:
        log.warning("disk budget not reached: the rest is in use", total=total, budget=disk_budget_bytes)
    return removed


def _matches(info: ImageInfo, select: Mapping[str, str] | None) -> bool:
    return all(info.labels.get(k) == v for k, v in (select or {}).items())


def _removable(info: ImageInfo, images: Mapping[str, ImageInfo]) -> bool:
    return not info.in_use and not any(i.parent == info.tag for i in images.values())


def _remove(client: Any, info: ImageInfo, options: ImageOptions) -> bool:
    import docker.errors

    try:
        client.images.remove(info.tag)
    except docker.errors.APIError as exc:
        log.warning("image not removed", tag=info.tag, error=str(exc).splitlines()[0][:200])
        return False
    forget(state_dir(options), info.tag)
    log.info("image removed", tag=info.tag, layer=info.layer, own_size=info.own_size)
    return True
