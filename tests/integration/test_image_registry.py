"""images.registry against a real registry (Debian's docker-registry on 127.0.0.1): a layer built on one
node is pushed, another node pulls it instead of building, the cluster's build lock lets one node build
while the others wait for the push, and pruning counts pulled prebuilt images too."""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path
from typing import Any

import pytest

from workers.images.ensure import ensure_layer
from workers.images.layers import LAYER, PARENT, LayerPlan
from workers.images.manage import list_images, prune
from workers.images.options import ImageOptions
from workers.images.registry import pull_shared, push_shared
from workers.images.state import build_history, touch

pytestmark = pytest.mark.docker

RUN = f"pytest-registry-{os.getpid()}"


def plan(tag: str, parent: str, dockerfile: str) -> LayerPlan:
    return LayerPlan(
        layer="instance",
        tag=tag,
        parent=parent,
        spec_hash=tag.rsplit(":", 1)[1],
        dockerfile=dockerfile,
        labels={LAYER: "instance", PARENT: parent},
        timeout_s=300,
    )


def node(tmp_path: Path, name: str, registry: str) -> ImageOptions:
    """The image settings of one node: its own state and lock directories (its own host)."""
    return ImageOptions(
        state_dir=tmp_path / name / "state", lock_dir=tmp_path / name / "locks", registry=registry
    )


@pytest.fixture
def rootfs(docker_client: Any, base_image: str) -> str:
    return str(docker_client.images.get(base_image).labels["evalfleet.parent"])


@pytest.fixture
def tags(docker_client: Any) -> Any:
    """Unique tags of this test, removed at the end (never an image another test uses)."""
    made: list[str] = []
    yield made
    import docker.errors

    for tag in made:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)


def test_a_layer_pushed_by_one_node_is_pulled_by_another_instead_of_built(
    docker_client: Any, image_registry: Any, rootfs: str, tags: list[str], tmp_path: Path
) -> None:
    tag = f"evalfleet/inst:{RUN}-a"
    tags.append(tag)
    first = node(tmp_path, "a", f"{image_registry.address}/team")
    layer = plan(tag, rootfs, f"FROM {rootfs}\nRUN echo {RUN} > /marker\n")
    built = ensure_layer(docker_client, layer, first)
    assert built.built and not built.pulled
    assert image_registry.tags("team/evalfleet/inst") == [f"{RUN}-a"]  # pushed after the build
    docker_client.images.remove(tag)  # the second node has an engine of its own: it lacks the image
    second = node(tmp_path, "b", f"{image_registry.address}/team")
    broken = plan(tag, rootfs, f"FROM {rootfs}\nRUN exit 1\n")  # a build here would fail: it is not run
    pulled = ensure_layer(docker_client, broken, second)
    assert pulled.pulled and not pulled.built and pulled.image_id == built.image_id
    assert build_history(second.state_dir or Path()) == []
    assert docker_client.images.get(tag).id == built.image_id
    names = {t for i in docker_client.images.list() for t in i.tags}
    assert not any(t.startswith(image_registry.address) for t in names)  # only the content tag is kept


def test_an_unreachable_registry_costs_a_build_not_a_verdict(
    docker_client: Any, rootfs: str, tags: list[str], tmp_path: Path
) -> None:
    from support.registry import free_port

    tag = f"evalfleet/inst:{RUN}-b"
    tags.append(tag)
    options = node(tmp_path, "a", f"127.0.0.1:{free_port()}")  # nothing listens there
    assert pull_shared(docker_client, options.registry or "", tag, timeout_s=30) is None
    result = ensure_layer(docker_client, plan(tag, rootfs, f"FROM {rootfs}\nRUN echo b > /b\n"), options)
    assert result.built and docker_client.images.get(tag).id == result.image_id
    assert push_shared(docker_client, options.registry or "", tag) is False


@pytest.mark.ray
def test_the_cluster_lock_lets_one_node_build_while_the_other_waits_for_the_push(
    docker_client: Any,
    image_registry: Any,
    rootfs: str,
    tags: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two nodes (two Ray worker processes with their own state and file-lock directories) miss one layer
    at once: under the cluster's build lock (a Ray actor) exactly one builds; the other waits and pulls
    what was pushed."""
    import ray

    tag = f"evalfleet/inst:{RUN}-c"
    tags.append(tag)
    assert not ray.is_initialized()
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # as tests/support/raycluster.py
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        layer = plan(tag, rootfs, f"FROM {rootfs}\nRUN sleep 3 && echo c > /c\n")
        nodes = [node(tmp_path, n, image_registry.address) for n in ("a", "b")]

        def ensure_on_a_node(layer: LayerPlan, options: ImageOptions) -> Any:
            """As a node would: its own process and lock directory (defined here: pickled by value)."""
            from workers.images.client import docker_client
            from workers.images.ensure import ensure_layer

            return ensure_layer(docker_client(), layer, options)

        task = ray.remote(num_cpus=1)(ensure_on_a_node)
        t0 = time.monotonic()
        results = ray.get([task.remote(layer, n) for n in nodes], timeout=240)
        builds = [r for n in nodes for r in build_history(n.state_dir or Path()) if r.tag == tag]
        assert len(builds) == 1, builds  # one build for the cluster
        assert sorted((r.built, r.pulled) for r in results) == [(False, True), (True, False)]
        assert results[0].image_id == results[1].image_id
        assert time.monotonic() - t0 < 120
    finally:
        ray.shutdown()


def test_pruning_counts_pulled_prebuilt_images(
    docker_client: Any, image_registry: Any, rootfs: str, tags: list[str], tmp_path: Path
) -> None:
    """A prebuilt image evalfleet pulled (its use recorded, as ensure_prebuilt does) is listed and
    pruned least recently used first, like a layer; an image evalfleet never touched is left alone."""
    options = node(tmp_path, "a", image_registry.address)
    prebuilt = f"{image_registry.address}/swebench/sweb.eval.x86_64.{RUN}:latest"
    other = f"{image_registry.address}/someone/else:{RUN}"
    for name in (prebuilt, other):
        tags.append(name)
        docker_client.images.build(
            fileobj=io.BytesIO(f"FROM {rootfs}\nRUN echo {name} > /n\n".encode()),
            tag=name,
            rm=True,
        )
    touch(options.state_dir or Path(), prebuilt, docker_client.images.get(prebuilt).id, at=time.time() - 7200)
    listed = {i.tag: i for i in list_images(docker_client, options=options)}
    assert listed[prebuilt].layer == "prebuilt" and other not in listed
    only = {LAYER: "prebuilt"}  # this engine is shared: never prune what other tests use
    dry = prune(docker_client, max_age_s=3600, options=options, dry_run=True, select=only)
    assert [i.tag for i in dry] == [prebuilt]
    assert [i.tag for i in prune(docker_client, max_age_s=3600, options=options, select=only)] == [prebuilt]
    names = {t for i in docker_client.images.list() for t in i.tags}
    assert prebuilt not in names and other in names
