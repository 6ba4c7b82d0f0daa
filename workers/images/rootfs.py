"""The rootfs layer: a minimal Debian, pulled when a registry is configured, else debootstrapped.

The debootstrap tarball is cached (``<rootfs_cache_dir>/<suite>-<hash>.tar``) so that a pruned image is
re-imported in seconds; ``docker import`` of it takes about 2 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

from workers.errors import ImageBuildError
from workers.images.build import docker_build
from workers.images.layers import LayerPlan
from workers.images.options import ImageOptions, rootfs_cache_dir
from workers.images.pull import split_ref, try_pull

log = structlog.get_logger(__name__)

ROOTFS_ENV = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["bash"]',
]


def _preflight(name: str) -> None:
    pull_hint = "or set images.pull_base with a registry that serves the base"
    if os.geteuid() != 0:
        raise ImageBuildError(
            f"base image '{name}' must be made with debootstrap, which needs root -- run "
            f"'sudo scripts/build-base-image.sh {name}' once on this host, {pull_hint}",
            retryable=False,
        )
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(
            f"base image '{name}' needs debootstrap -- apt-get install debootstrap, {pull_hint}",
            retryable=False,
        )


def _unmount_under(root: Path) -> None:
    """debootstrap mounts /proc and /sys in the target; a killed run can leave them mounted."""
    mounts = [
        line.split()[1] for line in Path("/proc/mounts").read_text().splitlines() if len(line.split()) > 1
    ]
    for mount in sorted((m for m in mounts if m.startswith(str(root) + "/")), reverse=True):
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)


def _run(cmd: list[str], out: Any, timeout_s: float, what: str) -> None:
    out.write("$ " + " ".join(cmd) + "\n")
    out.flush()
    try:
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ImageBuildError(f"{what} timed out after {timeout_s:.0f}s -- log: {out.name}") from None
    if done.returncode != 0:
        raise ImageBuildError(f"{what} failed (exit {done.returncode}) -- log: {out.name}")


def rootfs_tarball(plan: LayerPlan, options: ImageOptions, log_file: Path) -> Path:
    """The cached tarball of the plan's rootfs, made with debootstrap when missing."""
    base = plan.base
    assert base is not None
    cache = rootfs_cache_dir(options)
    tar = cache / f"{base.suite}-{plan.spec_hash}.tar"
    if tar.is_file():
        return tar
    _preflight(base.name)
    cache.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    include = [f"--include={','.join(base.include)}"] if base.include else []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache, prefix=".debootstrap-") as tmp, log_file.open("w") as out:
        target = Path(tmp) / "root"
        try:
            cmd = [
                "debootstrap",
                f"--variant={base.variant}",
                *include,
                base.suite,
                str(target),
                options.apt_mirror,
            ]
            _run(cmd, out, plan.timeout_s, f"debootstrap {base.suite}")
        finally:
            _unmount_under(target)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (target / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = Path(tmp) / "rootfs.tar"
        _run(
            ["tar", "-C", str(target), "--numeric-owner", "-cf", str(partial), "."],
            out,
            600,
            "tar of the rootfs",
        )
        os.replace(partial, tar)
    log.info("rootfs made", suite=base.suite, tarball=str(tar), seconds=round(time.monotonic() - t0, 1))
    return tar


def import_rootfs(client: Any, plan: LayerPlan, tar: Path) -> str:
    import docker.errors

    repo, tag = split_ref(plan.tag)
    labels = [f"LABEL {k}={json.dumps(v)}" for k, v in plan.labels.items()]
    try:
        client.api.import_image_from_file(str(tar), repository=repo, tag=tag, changes=ROOTFS_ENV + labels)
        return str(client.images.get(plan.tag).id)
    except (docker.errors.DockerException, OSError) as exc:  # requests' errors are OSErrors
        raise ImageBuildError(f"docker import of {tar} failed: {str(exc).splitlines()[0][:200]}") from exc


def make_rootfs(client: Any, plan: LayerPlan, options: ImageOptions, log_file: Path) -> str:
    """Pull (when configured) and relabel, else debootstrap and import. The image id."""
    base = plan.base
    assert base is not None
    if options.pull_base and base.pull_ref:
        ref = options.registry_prefix + base.pull_ref
        if try_pull(client, ref, timeout_s=options.pull_timeout_s):
            with tempfile.TemporaryDirectory(prefix="evalfleet-ctx-") as ctx:
                relabel = plan.model_copy(update={"dockerfile": f"FROM {ref}\n"})
                return docker_build(client, relabel, Path(ctx), options, log_file)
        log.info("base pull failed: falling back to debootstrap", ref=ref)
    return import_rootfs(client, plan, rootfs_tarball(plan, options, log_file))
