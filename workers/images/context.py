"""Build contexts: the site files of the base layer and the repository of the env layer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from workers.errors import ImageBuildError
from workers.images.dockerfiles import REPO_CONTEXT, SITE_CONTEXT
from workers.images.hashing import file_digest, text_digest
from workers.images.options import ImageOptions, resolve_ca_bundle, resolve_pip
from workers.spec import RepoSource

GIT_TIMEOUT_S = 600


def _git(*args: str, timeout: float = GIT_TIMEOUT_S) -> str:
    if shutil.which("git") is None:
        raise ImageBuildError(
            "git is not installed on this host -- install git (apt-get install git)", retryable=False
        )
    try:
        done = subprocess.run(
            ["git", "-c", "safe.directory=*", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ImageBuildError(f"git {args[0]} timed out after {timeout:.0f}s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ImageBuildError(f"git {' '.join(args[:2])} failed: {last}", retryable=False)
    return done.stdout


def repo_digest(source: RepoSource) -> str:
    """What identifies the repository content: the bundle's bytes, a local repo's refs, or the URL."""
    if source.kind == "bundle":
        path = Path(source.location)
        if not path.is_file():
            raise ImageBuildError(
                f"repository bundle {path} does not exist -- check the sweep's repos:", retryable=False
            )
        return "bundle:" + file_digest(path)
    if source.kind == "path":
        path = Path(source.location)
        if not path.exists():
            raise ImageBuildError(
                f"repository {path} does not exist -- check the sweep's repos:", retryable=False
            )
        refs = _git("-C", str(path), "for-each-ref", "--format=%(objectname) %(refname)", timeout=60)
        return "refs:" + text_digest(refs)
    return "url:" + source.location


def add_repo(ctx: Path, source: RepoSource) -> None:
    """A bare mirror of a bundle or local repository at ctx/repo.git, without remotes."""
    if source.kind == "url":
        return
    target = ctx / REPO_CONTEXT
    _git("clone", "--mirror", "--quiet", source.location, str(target))
    _git("-C", str(target), "config", "--remove-section", "remote.origin")


def add_site_files(ctx: Path, options: ImageOptions) -> None:
    """ctx/site/ca.crt (empty when there is no bundle) and ctx/site/pip.conf."""
    site = ctx / SITE_CONTEXT
    site.mkdir(parents=True, exist_ok=True)
    ca = resolve_ca_bundle(options)
    if ca is not None:
        shutil.copyfile(ca, site / "ca.crt")
    else:
        (site / "ca.crt").write_bytes(b"")
    (site / "pip.conf").write_text(resolve_pip(options).conf_text(), encoding="utf-8")
