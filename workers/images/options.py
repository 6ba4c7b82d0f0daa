"""Build options: site settings (CA bundle, pip index, proxies, mirrors) and where the cache lives.

Site settings shape how an image is built, not what it is: they never enter a tag (see docs/images.md).
The one exception is ``apt_mirror``, which names where the root filesystem comes from (a snapshot
mirror pins package versions), so it enters the rootfs hash and, through the parents, every tag.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workers.errors import ImageBuildError
from workers.images.hashing import content_hash, file_digest

DEFAULT_APT_MIRROR = "http://deb.debian.org/debian"
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_ENV_VARS = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


class ImageOptions(BaseModel):
    """How images are obtained on this site. Picklable; passed to every worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca_bundle: Path | None = Field(
        default=None, description="CA bundle installed in images (default: the host's, see detect_ca_bundle)."
    )
    detect_ca_bundle: bool = Field(
        default=True,
        description="When ca_bundle is unset, use $PIP_CERT/$REQUESTS_CA_BUNDLE/$SSL_CERT_FILE "
        "or /etc/ssl/certs/ca-certificates.crt, whichever exists first.",
    )
    pip_index_url: str | None = Field(
        default=None, description="pip index URL written to the image's pip.conf."
    )
    pip_extra_index_urls: list[str] = Field(default_factory=list, description="Extra pip index URLs.")
    pip_trusted_hosts: list[str] = Field(default_factory=list, description="pip trusted hosts.")
    pip_from_host: bool = Field(
        default=True,
        description="Fill unset pip settings from the host's pip config and PIP_* env "
        "(http(s) index URLs only: file:// paths do not exist in containers).",
    )
    apt_mirror: str = Field(default=DEFAULT_APT_MIRROR, description="Debian mirror for rootfs and packages.")
    http_proxy: str | None = Field(
        default=None, description="Proxy for builds (build arg, not kept in images)."
    )
    https_proxy: str | None = Field(default=None, description="HTTPS proxy for builds (build arg).")
    no_proxy: str | None = Field(default=None, description="Hosts reached without the proxy (build arg).")
    pull_base: bool = Field(
        default=False,
        description="Try pulling the base catalog's reference (e.g. debian:bookworm-slim) "
        "before debootstrap.",
    )
    registry_prefix: str = Field(
        default="", description="Prefix of base pull references, e.g. 'mirror.local:5000/library/'."
    )
    pull_template: str | None = Field(
        default=None,
        description="Prebuilt image per instance, e.g. 'swebench/sweb.eval.x86_64.{instance_id}'.",
    )
    registry: str | None = Field(
        default=None,
        description="Registry shared by the cluster's nodes, e.g. 'registry.local:5000/evalfleet': layers "
        "are pulled from it before building and pushed to it after (workers/images/registry.py).",
    )
    pull_prebuilt: bool = Field(
        default=True,
        description="Pull an instance's named image (v5 'image' or pull_template) when not local.",
    )
    on_missing_prebuilt: Literal["build", "error"] = Field(
        default="build", description="When a named image is neither local nor pullable: build it, or fail."
    )
    pull_timeout_s: float = Field(default=900, gt=0, description="Wall-clock limit of one pull.")
    build_timeout_s: float | None = Field(
        default=None, gt=0, description="Per-layer build limit; default: the spec's timeouts.build."
    )
    build_network: str = Field(
        default="bridge", description="Docker network mode of builds ('bridge', 'host')."
    )
    rootfs_cache_dir: Path | None = Field(
        default=None,
        description="Where debootstrapped rootfs tarballs are kept (default /var/cache/evalfleet/rootfs).",
    )
    state_dir: Path | None = Field(
        default=None,
        description="Last-use records, build history and build logs (default /var/lib/evalfleet/images).",
    )
    lock_dir: Path | None = Field(
        default=None,
        description="Inter-process build locks (default /var/lock/evalfleet or $XDG_RUNTIME_DIR).",
    )
    lock_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Longest wait for another process's build (default: build limit + 300 s).",
    )

    @field_validator("apt_mirror")
    @classmethod
    def _mirror_is_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "file:/")):
            raise ValueError("apt_mirror must be an http(s):// or file:/ URL")
        return value.rstrip("/")

    @field_validator("registry")
    @classmethod
    def _registry_is_a_name(cls, value: str | None) -> str | None:
        if value is not None and ("://" in value or not value.strip("/")):
            raise ValueError(
                "registry is HOST[:PORT][/PATH] without a scheme, e.g. 'registry.local:5000/evalfleet'"
            )
        return value.rstrip("/") if value else value

    @field_validator("pull_template")
    @classmethod
    def _template_has_id(cls, value: str | None) -> str | None:
        if value is not None and "{instance_id}" not in value:
            raise ValueError("pull_template must contain '{instance_id}'")
        return value


class PipSettings(BaseModel):
    """What goes into the image's /etc/pip.conf."""

    model_config = ConfigDict(frozen=True)

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()

    def conf_text(self) -> str:
        lines = ["[global]"]
        if self.index_url:
            lines.append(f"index-url = {self.index_url}")
        if self.extra_index_urls:
            lines.append("extra-index-url = " + " ".join(self.extra_index_urls))
        if self.trusted_hosts:
            lines.append("trusted-host = " + " ".join(self.trusted_hosts))
        return "\n".join(lines) + "\n"


def resolve_ca_bundle(options: ImageOptions) -> Path | None:
    """The CA bundle to install, or None. An explicit bundle that does not exist is an error."""
    if options.ca_bundle is not None:
        if not options.ca_bundle.is_file():
            raise ImageBuildError(
                f"ca_bundle {options.ca_bundle} is not a file -- set images.ca_bundle to a PEM file",
                retryable=False,
            )
        return options.ca_bundle
    if not options.detect_ca_bundle:
        return None
    candidates = [os.environ.get(v, "") for v in CA_ENV_VARS] + [str(SYSTEM_CA_BUNDLE)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _http_urls(values: list[str]) -> list[str]:
    return [v for v in values if v.startswith(("http://", "https://"))]


def host_pip_config() -> dict[str, list[str]]:
    """index-url / extra-index-url / trusted-host from the host's pip config files and PIP_* env."""
    files = [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        Path.home() / ".pip/pip.conf",
        Path.home() / ".config/pip/pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    found: dict[str, list[str]] = {}
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install", "download"):
            for key in ("index-url", "extra-index-url", "trusted-host"):
                if parser.has_option(section, key):
                    found[key] = parser.get(section, key).split()
    for key in ("index-url", "extra-index-url", "trusted-host"):
        env = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if env:
            found[key] = env.split()
    return found


def resolve_pip(options: ImageOptions) -> PipSettings:
    """Explicit options first; unset ones from the host when pip_from_host (http(s) URLs only)."""
    host = host_pip_config() if options.pip_from_host else {}
    index = options.pip_index_url or next(iter(_http_urls(host.get("index-url", []))), None)
    extra = options.pip_extra_index_urls or _http_urls(host.get("extra-index-url", []))
    trusted = options.pip_trusted_hosts or host.get("trusted-host", [])
    return PipSettings(index_url=index, extra_index_urls=tuple(extra), trusted_hosts=tuple(trusted))


def proxy_buildargs(options: ImageOptions) -> dict[str, str]:
    """Docker's predefined proxy build args: used by RUN steps, never stored in the image."""
    args: dict[str, str] = {}
    for name, value in (
        ("http_proxy", options.http_proxy),
        ("https_proxy", options.https_proxy),
        ("no_proxy", options.no_proxy),
    ):
        if value:
            args[name] = args[name.upper()] = value
    return args


def site_hash(options: ImageOptions) -> str:
    """Digest of the site settings baked into base images (a label, never part of a tag)."""
    ca = resolve_ca_bundle(options)
    return content_hash({"ca": file_digest(ca) if ca else None, "pip": resolve_pip(options).conf_text()}, 12)


def _root() -> bool:
    return os.geteuid() == 0


def state_dir(options: ImageOptions) -> Path:
    if options.state_dir is not None:
        return options.state_dir
    if _root():
        return Path("/var/lib/evalfleet/images")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(base) / "evalfleet/images"


def lock_dir(options: ImageOptions) -> Path:
    if options.lock_dir is not None:
        return options.lock_dir
    if _root():
        return Path("/var/lock/evalfleet")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "evalfleet/locks" if runtime else Path(f"/tmp/evalfleet-{os.getuid()}/locks")


def rootfs_cache_dir(options: ImageOptions) -> Path:
    if options.rootfs_cache_dir is not None:
        return options.rootfs_cache_dir
    if _root():
        return Path("/var/cache/evalfleet/rootfs")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evalfleet/rootfs"
