"""Layer plans: what each layer is built from, and the tag that content hashes to.

rootfs (imported or pulled OS) -> base (tools, Python venv, git config, site CA) -> env (repo at the
environment commit and its dependencies) -> instance (checkout of the base commit).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workers.images.base import BaseImage, get_base
from workers.images.context import repo_digest
from workers.images.dockerfiles import base_dockerfile, env_dockerfile, instance_dockerfile
from workers.images.hashing import content_hash
from workers.images.options import ImageOptions, site_hash
from workers.models import Instance
from workers.spec import EnvSpec, RepoSource, Timeouts

Layer = Literal["rootfs", "base", "env", "instance"]
LAYERS: tuple[Layer, ...] = ("rootfs", "base", "env", "instance")
REPOSITORY = {
    "rootfs": "evalfleet/rootfs",
    "base": "evalfleet/base",
    "env": "evalfleet/env",
    "instance": "evalfleet/inst",
}
DEFAULT_BUILD_TIMEOUT_S = Timeouts().build

# Label keys on every evalfleet image.
LAYER, SPEC_HASH, PARENT, REPO, INSTANCE, SITE = (
    "evalfleet.layer",
    "evalfleet.spec-hash",
    "evalfleet.parent",
    "evalfleet.repo",
    "evalfleet.instance",
    "evalfleet.site",
)


class LayerPlan(BaseModel):
    """One layer to ensure: its tag, parent and recipe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    layer: Layer
    tag: str = Field(description="Content-hash tag.")
    parent: str | None = Field(description="Tag of the parent layer (None for rootfs).")
    spec_hash: str = Field(description="The hash in the tag.")
    dockerfile: str | None = Field(default=None, description="None for rootfs (imported or pulled).")
    labels: dict[str, str] = Field(default_factory=dict)
    source: RepoSource | None = Field(default=None, description="Repository of an env layer.")
    base: BaseImage | None = Field(default=None, description="Catalog entry of rootfs and base layers.")
    timeout_s: float = Field(description="Wall-clock limit of building this layer.")


def _labels(layer: Layer, spec_hash: str, parent: str | None, **extra: str) -> dict[str, str]:
    labels = {LAYER: layer, SPEC_HASH: spec_hash, **extra}
    if parent:
        labels[PARENT] = parent
    return labels


def rootfs_plan(base: BaseImage, options: ImageOptions) -> LayerPlan:
    h = content_hash(
        {
            "layer": "rootfs",
            "suite": base.suite,
            "variant": base.variant,
            "include": list(base.include),
            "mirror": options.apt_mirror,
        }
    )
    return LayerPlan(
        layer="rootfs",
        tag=f"{REPOSITORY['rootfs']}:{base.name}-{h}",
        parent=None,
        spec_hash=h,
        labels=_labels("rootfs", h, None, **{"evalfleet.base": base.name}),
        base=base,
        timeout_s=options.build_timeout_s or DEFAULT_BUILD_TIMEOUT_S,
    )


def base_plans(name: str, options: ImageOptions) -> tuple[LayerPlan, LayerPlan]:
    """The rootfs and base layers of a catalog entry."""
    base = get_base(name)
    rootfs = rootfs_plan(base, options)
    text = base_dockerfile(rootfs.tag, base, options.apt_mirror)
    h = content_hash({"layer": "base", "parent": rootfs.tag, "dockerfile": text})
    plan = LayerPlan(
        layer="base",
        tag=f"{REPOSITORY['base']}:{base.name}-{h}",
        parent=rootfs.tag,
        spec_hash=h,
        dockerfile=text,
        base=base,
        timeout_s=rootfs.timeout_s,
        labels=_labels("base", h, rootfs.tag, **{"evalfleet.base": base.name, SITE: site_hash(options)}),
    )
    return rootfs, plan


def env_commit(instance: Instance) -> str:
    return instance.environment_setup_commit or instance.base_commit


def env_plan(
    parent: str, instance: Instance, spec: EnvSpec, source: RepoSource, options: ImageOptions
) -> LayerPlan:
    commit = env_commit(instance)
    text = env_dockerfile(parent, spec, source, commit)
    h = content_hash({"layer": "env", "parent": parent, "dockerfile": text, "repo": repo_digest(source)})
    return LayerPlan(
        layer="env",
        tag=f"{REPOSITORY['env']}:{h}",
        parent=parent,
        spec_hash=h,
        dockerfile=text,
        source=source,
        labels=_labels("env", h, parent, **{REPO: spec.repo, "evalfleet.env-commit": commit}),
        timeout_s=options.build_timeout_s or spec.timeouts.build,
    )


def instance_plan(parent: str, instance: Instance, spec: EnvSpec, options: ImageOptions) -> LayerPlan:
    text = instance_dockerfile(parent, spec, instance.base_commit)
    h = content_hash({"layer": "instance", "parent": parent, "dockerfile": text})
    return LayerPlan(
        layer="instance",
        tag=f"{REPOSITORY['instance']}:{h}",
        parent=parent,
        spec_hash=h,
        dockerfile=text,
        labels=_labels(
            "instance",
            h,
            parent,
            **{
                REPO: spec.repo,
                INSTANCE: instance.instance_id,
                "evalfleet.base-commit": instance.base_commit,
            },
        ),
        timeout_s=options.build_timeout_s or spec.timeouts.build,
    )


def build_chain(
    instance: Instance, spec: EnvSpec, source: RepoSource, options: ImageOptions
) -> list[LayerPlan]:
    """rootfs, base, env and instance plans of one instance, parents first."""
    rootfs, base = base_plans(spec.base, options)
    env = env_plan(base.tag, instance, spec, source, options)
    return [rootfs, base, env, instance_plan(env.tag, instance, spec, options)]
