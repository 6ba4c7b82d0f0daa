"""Layered images against a real Docker engine: base from a rootfs, env + instance for a tiny repo,
one build under concurrency, pull fallback, pruning, and pip through the site CA bundle."""

from __future__ import annotations

import io
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from workers.errors import ImageBuildError
from workers.images import (
    ImageOptions,
    LayerBuildError,
    build_history,
    ensure_base_image,
    ensure_instance_image,
    list_images,
    prune,
)
from workers.images.options import resolve_ca_bundle
from workers.images.state import touch
from workers.models import Instance
from workers.spec import EnvSpec, RepoSource

pytestmark = pytest.mark.docker

TEST_REPO = "evalfleet-test/calc"
PRUNE_REPO = "evalfleet-test/prune"


def sh(client: Any, image: str, script: str, *, network: bool = False) -> tuple[int, str]:
    """Run a bash script in a fresh container: (exit code, output)."""
    container = client.containers.create(
        image, ["bash", "-c", script], network_mode="bridge" if network else "none", init=True
    )
    try:
        container.start()
        code = int(container.wait(timeout=180)["StatusCode"])
        return code, container.logs().decode("utf-8", "replace")
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> ImageOptions:
    tmp = tmp_path_factory.mktemp("images")
    return ImageOptions(state_dir=tmp / "state", lock_dir=tmp / "locks")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A two-commit git repo (base commit, then the environment commit) and a bundle of it."""
    root = tmp_path_factory.mktemp("repo")
    work = root / "calc"
    work.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(work), *args], check=True, capture_output=True, text=True
        ).stdout

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    (work / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (work / ".gitignore").write_text("build/\n")
    git("add", ".")
    git("commit", "-qm", f"base {time.time()}")
    base = git("rev-parse", "HEAD").strip()
    (work / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")
    git("commit", "-qam", "env")
    env = git("rev-parse", "HEAD").strip()
    bundle = root / "calc.bundle"
    git("bundle", "create", "-q", str(bundle), "--all")
    return {"path": str(work), "bundle": str(bundle), "base": base, "env": env}


@pytest.fixture(scope="module", autouse=True)
def remove_test_images(docker_client: Any) -> Iterator[None]:
    yield
    for repo_label in (TEST_REPO, PRUNE_REPO):
        images = docker_client.images.list(filters={"label": f"evalfleet.repo={repo_label}"})
        for image in sorted(images, key=lambda i: i.labels.get("evalfleet.layer") != "instance"):
            for tag in image.tags:
                docker_client.images.remove(tag, force=True)


def instance(repo: dict[str, str], iid: str = "evalfleet-test__calc-1") -> Instance:
    return Instance(
        instance_id=iid, repo=TEST_REPO, base_commit=repo["base"], environment_setup_commit=repo["env"]
    )


def spec(**kw: Any) -> EnvSpec:
    data = {
        "repo": TEST_REPO,
        "test_cmd": "python -m pytest",
        "system_packages": ["python3"],
        "install": [
            "python -c 'import calc; assert calc.sub(3, 1) == 2'",
            "mkdir -p build && touch build/x junk",
        ],
        "instance_setup": ["touch made-by-setup.txt"],
    }
    return EnvSpec.model_validate({**data, **kw})


def test_base_image_is_cached(base_image: str, docker_client: Any) -> None:
    ref = ensure_base_image("bookworm", ImageOptions(), client=docker_client)
    assert (ref.tag, ref.source) == (base_image, "local")
    assert ref.seconds < 2
    assert [r.layer for r in ref.layers] == ["rootfs", "base"]
    code, out = sh(
        docker_client, base_image, "python --version; git config --system safe.directory; echo $PIP_CERT"
    )
    assert code == 0
    assert out.split() == ["Python", "3.11.2", "*", "/etc/ssl/certs/ca-certificates.crt"]
    assert docker_client.images.get(base_image).labels["evalfleet.layer"] == "base"


def test_env_and_instance_image(
    base_image: str, repo: dict[str, str], options: ImageOptions, docker_client: Any
) -> None:
    source = RepoSource(kind="path", location=repo["path"])
    ref = ensure_instance_image(instance(repo), spec(), source, options, client=docker_client)
    assert ref.source == "built" and ref.built_layers == ["env", "instance"]
    assert ref.tag.startswith("evalfleet/inst:") and ref.digest.startswith("sha256:")
    script = (
        "cd /testbed; git rev-parse HEAD; git status --porcelain; echo status-end; "
        "python -c 'import calc; print(hasattr(calc, \"sub\"))'; "
        "ls build; ls made-by-setup.txt; test ! -e junk"
    )
    code, out = sh(docker_client, ref.tag, script)
    assert code == 0, out
    assert out.split("status-end")[0].split() == [repo["base"]]  # at the base commit, clean tree
    assert out.split("status-end")[1].split() == ["False", "x", "made-by-setup.txt"]
    labels = docker_client.images.get(ref.tag).labels
    assert labels["evalfleet.instance"] == "evalfleet-test__calc-1" and labels["evalfleet.repo"] == TEST_REPO
    again = ensure_instance_image(instance(repo), spec(), source, options, client=docker_client)
    assert (again.tag, again.source, again.digest) == (ref.tag, "local", ref.digest)
    assert again.seconds < 1


def test_concurrent_ensures_build_each_layer_once(
    base_image: str, repo: dict[str, str], options: ImageOptions, docker_client: Any
) -> None:
    source = RepoSource(kind="bundle", location=repo["bundle"])
    sp = spec(pre_install=["echo concurrency test"])

    def ensure(_: int) -> Any:
        return ensure_instance_image(instance(repo), sp, source, options, client=docker_client)

    with ThreadPoolExecutor(4) as pool:
        refs = list(pool.map(ensure, range(4)))
    assert len({r.tag for r in refs}) == 1
    built = [layer.layer for r in refs for layer in r.layers if layer.built]
    assert sorted(built) == ["env", "instance"]
    history = [
        b.layer
        for b in build_history(options.state_dir or Path())
        if b.tag in {layer.tag for r in refs for layer in r.layers}
    ]
    assert sorted(history) == ["env", "instance"]


def test_failing_install_is_a_clear_error(
    base_image: str, repo: dict[str, str], options: ImageOptions, docker_client: Any
) -> None:
    source = RepoSource(kind="bundle", location=repo["bundle"])
    with pytest.raises(LayerBuildError) as exc:
        ensure_instance_image(
            instance(repo),
            spec(install=["echo about to fail; exit 7"]),
            source,
            options,
            client=docker_client,
        )
    err = exc.value
    assert err.retryable is False
    assert "RUN echo about to fail; exit 7': command failed (exit 7) | about to fail -- log: " in str(err)
    assert err.log_path is not None and "about to fail" in err.log_path.read_text()


def test_build_timeout_stops_the_running_step(
    base_image: str, repo: dict[str, str], options: ImageOptions, docker_client: Any
) -> None:
    source = RepoSource(kind="bundle", location=repo["bundle"])
    hasty = options.model_copy(update={"build_timeout_s": 3.0})
    t0 = time.monotonic()
    with pytest.raises(LayerBuildError, match=r"sleep 120': timed out after 3s \| started") as exc:
        ensure_instance_image(
            instance(repo), spec(install=["echo started; sleep 120"]), source, hasty, client=docker_client
        )
    assert time.monotonic() - t0 < 20 and exc.value.retryable is False


def test_pull_template_falls_back_to_build(
    base_image: str, repo: dict[str, str], options: ImageOptions, docker_client: Any
) -> None:
    source = RepoSource(kind="bundle", location=repo["bundle"])
    template = "registry.invalid/sweb.eval.x86_64.{instance_id}"  # .invalid never resolves: the pull fails
    pulling = options.model_copy(update={"pull_template": template, "pull_timeout_s": 30.0})
    t0 = time.monotonic()
    ref = ensure_instance_image(
        instance(repo, "Evalfleet__pull-1"), spec(), source, pulling, client=docker_client
    )
    assert ref.tag.startswith("evalfleet/inst:") and time.monotonic() - t0 < 60
    strict = pulling.model_copy(update={"on_missing_prebuilt": "error"})
    with pytest.raises(
        ImageBuildError, match=re.escape("registry.invalid/sweb.eval.x86_64.evalfleet_1776_pull-1:latest is")
    ):
        ensure_instance_image(
            instance(repo, "Evalfleet__pull-1"), spec(), source, strict, client=docker_client
        )
    named = instance(repo).model_copy(update={"image": ref.tag})  # a v5 row naming a local image
    got = ensure_instance_image(named, spec(), None, options, client=docker_client)
    assert (got.tag, got.source, got.layers[0].layer) == (ref.tag, "local", "prebuilt")


def _tiny_image(client: Any, tag: str, parent: str, mb: int) -> None:
    dockerfile = f"FROM {parent}\nRUN head -c {mb * 1000000} /dev/urandom > /blob\n"
    labels = {"evalfleet.layer": "instance", "evalfleet.parent": parent, "evalfleet.repo": PRUNE_REPO}
    client.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels=labels, rm=True, nocache=True
    )


def test_prune_lru_under_budget_keeps_in_use(
    base_image: str, options: ImageOptions, docker_client: Any
) -> None:
    rootfs = docker_client.images.get(base_image).labels["evalfleet.parent"]
    a, b, c, d = (f"evalfleet/inst:pytest-prune-{x}" for x in "abcd")
    for tag in (a, b, c):
        _tiny_image(docker_client, tag, rootfs, 1)
    _tiny_image(docker_client, d, c, 1)  # d is built on c
    now = time.time()
    for tag, age in ((a, 4000), (b, 3000), (c, 2000), (d, 1000)):
        touch(options.state_dir or Path(), tag, docker_client.images.get(tag).id, at=now - age)
    select = {"evalfleet.repo": PRUNE_REPO}
    infos = {i.tag: i for i in list_images(docker_client, options=options) if i.tag in {a, b, c, d}}
    assert all(900_000 < i.own_size < 1_300_000 for i in infos.values())
    assert infos[c].last_used == pytest.approx(now - 1000)  # a child's use counts for its parent
    total = sum(i.own_size for i in infos.values())
    user = docker_client.containers.create(a, ["true"])  # a is in use
    try:
        dry = prune(docker_client, disk_budget_bytes=total - 1, dry_run=True, options=options, select=select)
        assert [i.tag for i in dry] == [b]
        assert docker_client.images.list(
            name="evalfleet/inst", filters={"label": f"evalfleet.repo={PRUNE_REPO}"}
        )
        removed = prune(docker_client, disk_budget_bytes=total - 1, options=options, select=select)
        assert [i.tag for i in removed] == [b]
        assert prune(docker_client, max_age_s=3500, options=options, select=select) == []
    finally:
        user.remove(force=True)
    assert [i.tag for i in prune(docker_client, max_age_s=3500, options=options, select=select)] == [a]
    assert [i.tag for i in prune(docker_client, disk_budget_bytes=0, options=options, select=select)] == [
        d,
        c,
    ]
    left = {t for i in docker_client.images.list(name="evalfleet/inst") for t in i.tags}
    assert not left & {a, b, c, d}


def test_pip_in_image_uses_the_ca_bundle(base_image: str, docker_client: Any) -> None:
    bundle = resolve_ca_bundle(ImageOptions())
    if bundle is None:
        pytest.skip("the host has no CA bundle to install")
    certs = re.findall(r"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----", bundle.read_text())
    code, out = sh(docker_client, base_image, "cat $PIP_CERT")
    assert code == 0 and certs and certs[-1] in out  # the host's certificates are trusted in the image
    code, out = sh(
        docker_client,
        base_image,
        "timeout 120 pip download --no-deps --retries 1 --timeout 20 -d /tmp/dl six 2>&1",
        network=True,
    )
    if code != 0:
        last = (out.strip().splitlines() or ["no output"])[-1]
        if re.search(r"resolv|connect|timed out|unreachable|Max retries|No matching distribution", out, re.I):
            pytest.skip(f"no package index is reachable from a container on this host: {last}")
        pytest.fail(f"pip download failed in {base_image}: {last}")
    assert "Successfully downloaded six" in out
