"""A sweep's sandbox pipeline in real containers, in one process as on a Ray worker: the next sandbox
started while tests run (a spare), removal in the background; nothing is left once the process's
pool is closed and its removals are done."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from support.demo import RETRY, demo_items, settings

from workers.evaluate import evaluate
from workers.paths import FILES
from workers.sandbox import removal, spares

pytestmark = pytest.mark.docker

SPARE = "(a spare, started ahead)"


def test_items_of_one_image_take_spares_and_leave_nothing(
    docker_client: Any, base_image: str, tmp_path: Path
) -> None:
    sweep_id = f"pytest-pipeline-{uuid.uuid4().hex[:8]}"
    gold = next(
        it for it in demo_items(sweep_id=sweep_id, run="gold") if it.instance.instance_id == "demo__calc-1"
    )
    items = [gold.model_copy(update={"key": f"{gold.key}-{n}", "repeat": n}) for n in range(3)]
    pipelined = settings(spare_sandboxes=True, background_removal=True, retry=RETRY)
    results = [evaluate(item, pipelined, tmp_path / item.key) for item in items]
    assert [r.verdict for r in results] == ["resolved"] * 3
    logs = [(tmp_path / it.key / "attempt-1" / FILES.run_log).read_text(encoding="utf-8") for it in items]
    assert [SPARE in log for log in logs] == [False, False, True]  # two in a row, then one ahead
    assert all("cleanup" not in r.durations for r in results)  # removal is off the item's path
    assert results[2].durations["start"] < 0.1
    owned = {"label": f"evalfleet.sweep={sweep_id}"}
    spares.close()
    assert removal.drain(60) == 0
    assert docker_client.containers.list(all=True, filters=owned) == []
