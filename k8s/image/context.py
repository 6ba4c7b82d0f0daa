"""Make the build context of k8s/image/Dockerfile, and say which build arguments go with it.

    python k8s/image/context.py DIR [--extras hf] [--with-rootfs]

DIR receives the Dockerfile, the RayJobs' entrypoint ``evalfleet-k8s-run``, ``requirements.txt`` (evalfleet's dependencies, extras included),
``src/`` (the package and configs/), ``site/ca.crt`` and ``rootfs/``. The site settings come from the
same resolution evalfleet uses for its own images (``workers.images.options``): the CA bundle
(``$PIP_CERT``, ``$REQUESTS_CA_BUNDLE``, ``$SSL_CERT_FILE``, then the system bundle) and the pip index
settings of the host's pip configuration and ``PIP_*`` environment (http(s) URLs only). Prints the
build arguments, one ``NAME=VALUE`` a line (k8s/image/build.sh passes them to ``docker build``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from workers.images.options import (  # noqa: E402  (the repository root is put on the path first)
    ImageOptions,
    proxy_buildargs,
    resolve_ca_bundle,
    resolve_pip,
    rootfs_cache_dir,
)

SOURCES = ("pyproject.toml", "README.md", "orchestrator", "workers", "configs")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", "*.egg-info")


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    """evalfleet's dependencies and those of the chosen extras, as pip requirement lines."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise SystemExit(f"context.py: unknown extra(s) {', '.join(unknown)}; known: {', '.join(optional)}")
    lines = list(project["dependencies"])
    for extra in extras:
        lines += optional[extra]
    return lines


def build_args(options: ImageOptions) -> dict[str, str]:
    """PIP_* and proxy build arguments of this site (unset ones left out)."""
    pip = resolve_pip(options)
    args = {
        "PIP_INDEX_URL": pip.index_url or "",
        "PIP_EXTRA_INDEX_URL": " ".join(pip.extra_index_urls),
        "PIP_TRUSTED_HOST": " ".join(pip.trusted_hosts),
        **proxy_buildargs(options),
    }
    return {k: v for k, v in args.items() if v}


def stage(dest: Path, *, extras: list[str], with_rootfs: bool, options: ImageOptions) -> dict[str, str]:
    """Fill ``dest`` (created if missing) with the build context; the build arguments to use with it."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "k8s/image/Dockerfile", dest / "Dockerfile")
    shutil.copy2(ROOT / "k8s/image/evalfleet-k8s-run", dest / "evalfleet-k8s-run")
    reqs = requirements(ROOT / "pyproject.toml", extras)
    (dest / "requirements.txt").write_text("\n".join(reqs) + "\n", encoding="utf-8")
    src = dest / "src"
    src.mkdir(exist_ok=True)
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=IGNORED, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, src / name)
    site = dest / "site"
    site.mkdir(exist_ok=True)
    ca = resolve_ca_bundle(options)
    (site / "ca.crt").write_bytes(ca.read_bytes() if ca is not None else b"")
    rootfs = dest / "rootfs"
    rootfs.mkdir(exist_ok=True)
    (rootfs / "README").write_text(
        "debootstrapped base tarballs: see k8s/image/Dockerfile\n", encoding="utf-8"
    )
    if with_rootfs:
        for tar in sorted(rootfs_cache_dir(options).glob("*.tar")):
            shutil.copyfile(tar, rootfs / tar.name)
    return build_args(options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="directory to fill (created if missing)")
    parser.add_argument(
        "--extras", default="hf", help="comma-separated extras of evalfleet to install ('' for none)"
    )
    parser.add_argument(
        "--with-rootfs", action="store_true", help="copy evalfleet's cached rootfs tarballs in"
    )
    ns = parser.parse_args()
    extras = [e for e in ns.extras.split(",") if e]
    for name, value in stage(
        ns.dest, extras=extras, with_rootfs=ns.with_rootfs, options=ImageOptions()
    ).items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
