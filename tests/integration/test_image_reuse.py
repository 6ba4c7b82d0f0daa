"""Two work items that need the same env image, evaluated at once, build it exactly once.

A fresh env spec (a unique no-op install command) gives demo/calc a new env tag; demo__calc-1 and
demo__calc-3 have different base commits (so different instance images) but the same environment
commit. Both are evaluated concurrently by ``workers.evaluate``; the image build records (a fresh
state directory, so only this test's builds are in it) must show the env layer built once and each
instance layer once, and a third evaluation afterwards must build nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support.demo import RETRY, demo_items, rekey, settings

from workers.evaluate import EvalSettings, evaluate
from workers.images import build_chain, build_history
from workers.images.options import ImageOptions
from workers.models import Result, WorkItem

pytestmark = pytest.mark.docker

INSTANCES = ("demo__calc-1", "demo__calc-3")


@pytest.fixture
def fresh_items() -> list[WorkItem]:
    """Gold items of the two instances on a spec whose env tag no image has yet."""
    marker = f"true # evalfleet-test image reuse {uuid.uuid4().hex}"
    items = demo_items(run="gold", instances=INSTANCES, sweep_id=f"pytest-reuse-{uuid.uuid4().hex[:8]}")
    by_id = {it.instance.instance_id: it for it in items}
    spec = by_id[INSTANCES[0]].spec
    spec = spec.model_copy(update={"install": [*spec.install, marker]})
    return [rekey(by_id[iid].model_copy(update={"spec": spec})) for iid in INSTANCES]


@pytest.fixture
def options(tmp_path: Path) -> ImageOptions:
    return ImageOptions(state_dir=tmp_path / "state", lock_dir=tmp_path / "locks")


@pytest.fixture
def planned_tags(
    docker_client: Any, fresh_items: list[WorkItem], options: ImageOptions
) -> Iterator[dict[str, str]]:
    """'env' and each instance id -> the tag it will have; every one of them is removed at the end."""
    tags = {}
    for item in fresh_items:
        assert item.repo_source is not None
        chain = build_chain(item.instance, item.spec, item.repo_source, options)
        tags["env"] = chain[2].tag
        tags[item.instance.instance_id] = chain[3].tag
    assert tags["env"].startswith("evalfleet/env:") and len(set(tags.values())) == 3
    for tag in tags.values():
        assert docker_client.images.list(name=tag) == [], f"{tag} exists before the test"
    yield tags
    for tag in [t for k, t in tags.items() if k != "env"] + [tags["env"]]:  # children first
        if docker_client.images.list(name=tag):
            docker_client.images.remove(tag, force=True)


def test_one_env_build_for_two_concurrent_items(
    base_image: str,
    docker_client: Any,
    fresh_items: list[WorkItem],
    options: ImageOptions,
    planned_tags: dict[str, str],
    tmp_path: Path,
) -> None:
    s: EvalSettings = settings(test_timeout_s=15, retry=RETRY).model_copy(update={"images": options})
    state = options.state_dir
    assert state is not None

    def one(item: WorkItem, out: str) -> Result:
        return evaluate(item, s, tmp_path / out / item.key)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, fresh_items, ["first", "first"]))

    assert [r.verdict for r in results] == ["resolved", "resolved"], [r.reason for r in results]
    assert [r.image for r in results] == [planned_tags[iid] for iid in INSTANCES]
    builds = build_history(state)
    assert sorted((b.layer, b.tag) for b in builds) == sorted(
        [("env", planned_tags["env"])] + [("instance", planned_tags[iid]) for iid in INSTANCES]
    )
    env_id = next(b.image_id for b in builds if b.layer == "env")
    assert docker_client.images.get(planned_tags["env"]).id == env_id
    for iid, result in zip(INSTANCES, results, strict=True):
        image = docker_client.images.get(planned_tags[iid])
        assert image.id == result.image_digest
        assert image.labels["evalfleet.parent"] == planned_tags["env"]
        assert image.labels["evalfleet.instance"] == iid

    again = one(fresh_items[0], "second")
    assert again.verdict == "resolved" and again.image == results[0].image
    assert again.image_digest == results[0].image_digest
    assert build_history(state) == builds
    assert again.durations["image"] < 5
    sweep = fresh_items[0].sweep_id
    assert docker_client.containers.list(all=True, filters={"label": f"evalfleet.sweep={sweep}"}) == []
