"""Dockerfile text of the base, env and instance layers.

Every command runs as its own exec-form ``RUN`` under ``bash -euo pipefail`` (JSON-encoded, so
multi-line commands need no escaping) and shows up as its own step in the build log. The text is
site-neutral (no CA, proxy or index in it): it is hashed into the layer's tag.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable

from workers.images.base import BaseImage
from workers.spec import EnvSpec, RepoSource

PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
SITE_CA = "/usr/local/share/ca-certificates/evalfleet-site.crt"
REPO_CONTEXT = "repo.git"  # bare mirror of the repository in the build context (bundle and path sources)
SITE_CONTEXT = "site"  # site/ca.crt and site/pip.conf: not hashed


def run(command: str) -> str:
    return "RUN " + json.dumps(["/bin/bash", "-euo", "pipefail", "-c", command])


def apt_install(packages: Iterable[str]) -> str:
    """apt-get update + install with retries; the package lists are not kept."""
    names = " ".join(shlex.quote(p) for p in packages)
    retries = "-o Acquire::Retries=5"
    return run(
        f"for i in 1 2 3; do apt-get update {retries} && break; sleep $((i * 5)); done; "
        f"apt-get install -y --no-install-recommends {retries} {names}; "
        "apt-get clean; rm -rf /var/lib/apt/lists/*"
    )


def base_dockerfile(parent: str, base: BaseImage, apt_mirror: str) -> str:
    sources = f"deb {apt_mirror} {base.suite} main"
    git_config = " && ".join(
        f"git config --system {k} {shlex.quote(v)}"
        for k, v in (
            ("user.email", "evalfleet@localhost"),
            ("user.name", "evalfleet"),
            ("safe.directory", "*"),
            ("advice.detachedHead", "false"),
            ("init.defaultBranch", "main"),
        )
    )
    py_check = f"import sys; assert '%d.%d' % sys.version_info[:2] == {base.python!r}, sys.version"
    return "\n".join(
        [
            f"# evalfleet base layer: {base.name} (Debian {base.debian}, Python {base.python})",
            f"FROM {parent}",
            "ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 "
            "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1",
            run(
                f"rm -f /etc/apt/sources.list.d/*.sources; echo {shlex.quote(sources)} >/etc/apt/sources.list"
            ),
            apt_install(base.tools),
            f"COPY {SITE_CONTEXT}/ca.crt {SITE_CA}",
            f"COPY {SITE_CONTEXT}/pip.conf /etc/pip.conf",
            run(f"[ -s {SITE_CA} ] || rm -f {SITE_CA}; update-ca-certificates >/dev/null"),
            run(f"python3 -c {shlex.quote(py_check)} && python3 -m venv --system-site-packages /opt/venv"),
            run(git_config),
            f"ENV PATH={PATH} VIRTUAL_ENV=/opt/venv PIP_CERT={CA_FILE} REQUESTS_CA_BUNDLE={CA_FILE} "
            f"SSL_CERT_FILE={CA_FILE} CURL_CA_BUNDLE={CA_FILE} NODE_EXTRA_CA_CERTS={CA_FILE}",
            'CMD ["bash"]',
            "",
        ]
    )


def _repo_steps(source: RepoSource, workdir: str, commit: str) -> list[str]:
    wd, ref = shlex.quote(workdir), shlex.quote(commit)
    checkout = f"git -C {wd} checkout -q -f {ref}"
    if source.kind == "url":
        url = shlex.quote(source.location)
        return [
            run(f"git clone -q --no-checkout {url} {wd} && git -C {wd} remote remove origin && {checkout}")
        ]
    return [
        f"COPY {REPO_CONTEXT} {workdir}/.git",
        run(f"git -C {wd} config --bool core.bare false && {checkout}"),
    ]


def env_dockerfile(parent: str, spec: EnvSpec, source: RepoSource, env_commit: str) -> str:
    lines = [f"# evalfleet env layer: {spec.repo} {spec.version} at {env_commit}", f"FROM {parent}"]
    if spec.system_packages:
        lines.append(apt_install(spec.system_packages))
    lines += _repo_steps(source, spec.workdir, env_commit)
    lines.append(f"WORKDIR {spec.workdir}")
    lines += [run(cmd) for cmd in spec.pre_install]
    if spec.pip_packages:
        lines.append(run("pip install " + " ".join(shlex.quote(p) for p in spec.pip_packages)))
    lines += [run(cmd) for cmd in spec.install]
    return "\n".join([*lines, ""])


def instance_dockerfile(parent: str, spec: EnvSpec, base_commit: str) -> str:
    """A single step, since this layer is built per instance and every step costs a container: checkout
    of the base commit, the setup commands (each in a subshell), then files the setup left untracked
    are listed in .git/info/exclude so that the tree is clean."""
    ref = shlex.quote(base_commit)
    missing = shlex.quote(f"evalfleet: base commit {base_commit} is not in the env image's history")
    script = [
        f"cd {shlex.quote(spec.workdir)}",
        f"git cat-file -e {ref}^{{commit}} || {{ echo {missing} >&2; exit 3; }}",
        f"git checkout -q -f {ref}",
        "git clean -fdq",
    ]
    for cmd in spec.instance_setup:
        script += [
            f"echo {shlex.quote('evalfleet: instance_setup: ' + cmd.splitlines()[0][:200])}",
            f"( {cmd}\n)",
        ]
    script += [
        "git ls-files --others --exclude-standard | sed 's|^|/|' >> .git/info/exclude",
        "if ! git diff --quiet HEAD; then echo 'evalfleet: warning: instance_setup changed tracked files:'; "
        "git status --short; fi",
        f'test "$(git rev-parse HEAD)" = "$(git rev-parse {ref}^{{commit}})"',
    ]
    return "\n".join(
        [
            f"# evalfleet instance layer: {spec.repo} at {base_commit}",
            f"FROM {parent}",
            run("\n".join(script)),
            "",
        ]
    )
