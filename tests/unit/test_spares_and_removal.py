"""The sandbox pipeline of a worker process: spares started ahead, removal in the background (the
containers themselves are exercised by the sweep tests in tests/integration)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from workers.sandbox import labels, removal, spares
from workers.sandbox.base import SandboxConfig


class FakeSandbox:
    def __init__(self, config: SandboxConfig, n: int) -> None:
        self.config, self.n, self.removed = config, n, threading.Event()

    @property
    def id(self) -> str:
        return f"fake-{self.n:012d}"

    def remove(self, *, timeout: float = 30.0) -> None:
        self.removed.set()

    def running(self) -> bool:
        return not DEAD.is_set()


DEAD = threading.Event()  # set: every fake sandbox reports it no longer runs (an engine restart)


class FakeBackend:
    name = "fake"

    def __init__(self) -> None:
        self.made: list[FakeSandbox] = []
        self.lock = threading.Lock()

    def engine_down(self) -> str | None:
        return None

    def create(self, config: SandboxConfig, *, timeout: float = 60.0) -> Any:
        with self.lock:
            box = FakeSandbox(config, len(self.made))
            self.made.append(box)
            return box


def config(image: str, item: str, sweep: str = "s1") -> SandboxConfig:
    return SandboxConfig(image=image, labels=labels.item_labels(sweep, item, 1))


@pytest.fixture(autouse=True)
def _drained() -> Any:
    yield
    removal.drain(5)


def test_a_spare_is_started_only_after_two_items_in_a_row_share_a_configuration() -> None:
    pool, backend = spares.SparePool(), FakeBackend()
    first, hit1 = pool.acquire(backend, config("img", "a"), timeout=5)
    pool.tests_started()
    assert not hit1 and len(backend.made) == 1  # one item says nothing about the next
    second, hit2 = pool.acquire(backend, config("img", "b"), timeout=5)
    assert not hit2 and len(backend.made) == 2
    pool.tests_started()  # now a spare is started, while b's tests run
    third, hit3 = pool.acquire(backend, config("img", "c"), timeout=5)
    assert hit3 and len({first.id, second.id, third.id}) == 3
    assert third.config.labels[labels.ITEM] == "spare"
    assert third.config.labels[labels.SWEEP] == "s1"


def test_a_spare_of_another_configuration_is_removed_not_used() -> None:
    pool, backend = spares.SparePool(), FakeBackend()
    for item in ("a", "b"):
        pool.acquire(backend, config("img", item), timeout=5)
        pool.tests_started()
    other, hit = pool.acquire(backend, config("other-img", "c"), timeout=5)
    assert not hit and other.config.image == "other-img"
    spare = backend.made[2]
    assert spare.config.image == "img"
    removal.tests_started()
    assert spare.removed.wait(5)


def test_no_spare_across_sweeps_and_none_for_alternating_images() -> None:
    pool, backend = spares.SparePool(), FakeBackend()
    for image in ("x", "y", "x", "y"):
        _, hit = pool.acquire(backend, config(image, "i"), timeout=5)
        pool.tests_started()
        assert not hit
    assert len(backend.made) == 4
    assert spares.spare_key(config("x", "a", "s1")) != spares.spare_key(config("x", "a", "s2"))


def test_an_old_spare_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    pool, backend = spares.SparePool(), FakeBackend()
    for item in ("a", "b"):
        pool.acquire(backend, config("img", item), timeout=5)
        pool.tests_started()
    monkeypatch.setattr(spares, "MAX_AGE_S", 0.0)
    time.sleep(0.01)
    _, hit = pool.acquire(backend, config("img", "c"), timeout=5)
    assert not hit


def test_a_spare_that_no_longer_runs_is_removed_not_used() -> None:
    pool, backend = spares.SparePool(), FakeBackend()
    for item in ("a", "b"):
        pool.acquire(backend, config("img", item), timeout=5)
        pool.tests_started()
    DEAD.set()
    try:
        fresh, hit = pool.acquire(backend, config("img", "c"), timeout=5)
    finally:
        DEAD.clear()
    assert not hit and fresh is backend.made[3]
    assert backend.made[2].removed.wait(5)


def test_close_removes_the_spare() -> None:
    pool, backend = spares.SparePool(), FakeBackend()
    for item in ("a", "b"):
        pool.acquire(backend, config("img", item), timeout=5)
        pool.tests_started()
    removal.tests_started()
    pool.close()
    assert backend.made[2].removed.is_set()


def test_removal_waits_for_the_next_tests_or_its_hold_time(monkeypatch: pytest.MonkeyPatch) -> None:
    box = FakeSandbox(config("img", "a"), 1)
    removal.remove_later(box)
    assert not box.removed.wait(0.3)  # held: the next item's patch phase has the engine
    removal.tests_started()
    assert box.removed.wait(5)
    monkeypatch.setattr(removal, "HOLD_S", 0.2)
    late = FakeSandbox(config("img", "b"), 2)
    removal.remove_later(late)  # no tests start after it (the sweep's last item): it goes anyway
    assert late.removed.wait(5)
    assert removal.drain(5) == 0 and removal.pending() == 0
