"""The catalog of base images: Debian suites with their Python, by short name."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from workers.errors import ImageBuildError

# Installed on top of the minimal rootfs in the base layer: what every env needs.
BASE_TOOLS: tuple[str, ...] = ("ca-certificates", "git", "patch", "procps", "python3", "python3-venv")


class BaseImage(BaseModel):
    """One entry of the base catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Short name used by specs ('bookworm').")
    suite: str = Field(description="Debian suite passed to debootstrap.")
    debian: str = Field(description="Debian release number, for humans.")
    python: str = Field(description="Version of the suite's python3 (checked when the base layer is built).")
    pull_ref: str | None = Field(default=None, description="Registry reference of the same minimal system.")
    variant: str = Field(default="minbase", description="debootstrap --variant.")
    include: tuple[str, ...] = Field(
        default=(), description="Extra packages debootstrap installs (--include)."
    )
    tools: tuple[str, ...] = Field(default=BASE_TOOLS, description="Packages of the base layer.")


BASE_CATALOG: dict[str, BaseImage] = {
    "bookworm": BaseImage(
        name="bookworm", suite="bookworm", debian="12", python="3.11", pull_ref="debian:bookworm-slim"
    ),
    "bullseye": BaseImage(
        name="bullseye", suite="bullseye", debian="11", python="3.9", pull_ref="debian:bullseye-slim"
    ),
}


def get_base(name: str) -> BaseImage:
    try:
        return BASE_CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(BASE_CATALOG))
        raise ImageBuildError(
            f"unknown base image '{name}' -- use one of: {known}", retryable=False
        ) from None
