"""The sweep's budget ledger: one Ray actor for the whole cluster. Every model call reserves its worst
case before it is made and settles with the real usage after; a call the budget cannot cover is never
made. The ledger also holds each endpoint's cluster-wide concurrency slots (a reservation is a slot).

A re-run starts the ledger at what earlier runs spent (their usage records in the store), so a larger
budget continues the sweep instead of starting the count again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from orchestrator.store import ResultStore, SweepPaths
from workers.rollout.gate import Grant

LEASE_S = 3600.0  # a reservation whose worker died is released after this long


@dataclass
class _Held:
    endpoint: str
    usd: float
    tokens: int
    expires: float


class BudgetBook:
    """The ledger's state (the Ray actor's class; also usable in-process)."""

    def __init__(
        self, usd: float | None, tokens: int | None, spent_usd: float = 0.0, spent_tokens: int = 0
    ) -> None:
        self.usd, self.tokens = usd, tokens
        self.spent_usd, self.spent_tokens = spent_usd, spent_tokens
        self.held: dict[str, _Held] = {}
        self.in_flight: Counter[str] = Counter()
        self.calls = 0
        self.refused = 0
        self.exhausted_at: float | None = None  # once a call does not fit, the budget is spent for good

    def _expire(self) -> None:
        now = time.monotonic()
        for rid in [r for r, h in self.held.items() if h.expires < now]:
            self._release(rid)

    def _release(self, rid: str) -> _Held | None:
        held = self.held.pop(rid, None)
        if held is not None:
            self.in_flight[held.endpoint] -= 1
        return held

    def _fits(self, usd: float, tokens: int, *, with_held: bool) -> bool:
        held_usd = sum(h.usd for h in self.held.values()) if with_held else 0.0
        held_tokens = sum(h.tokens for h in self.held.values()) if with_held else 0
        if self.usd is not None and self.spent_usd + held_usd + usd > self.usd:
            return False
        return self.tokens is None or self.spent_tokens + held_tokens + tokens <= self.tokens

    def reserve(self, endpoint: str, concurrency: int, usd: float, tokens: int) -> Grant:
        self._expire()
        if self.exhausted_at is None and not self._fits(usd, tokens, with_held=False):
            self.exhausted_at = time.time()  # smaller calls may still fit, but none starts a rollout it
        if self.exhausted_at is not None:  # cannot finish: no call after the budget is spent
            self.refused += 1
            return Grant("spent")
        if not self._fits(usd, tokens, with_held=True) or self.in_flight[endpoint] >= concurrency:
            return Grant("wait")  # calls in flight may settle below their reservation, or free a slot
        rid = uuid.uuid4().hex
        self.held[rid] = _Held(endpoint, usd, tokens, time.monotonic() + LEASE_S)
        self.in_flight[endpoint] += 1
        self.calls += 1
        return Grant("granted", rid)

    def settle(self, reservation: str, usd: float, tokens: int) -> None:
        self._release(reservation)  # spent even when its lease expired meanwhile
        self.spent_usd += usd
        self.spent_tokens += tokens

    def state(self) -> dict[str, Any]:
        return {
            "budget_usd": self.usd,
            "budget_tokens": self.tokens,
            "spent_usd": round(self.spent_usd, 8),
            "spent_tokens": self.spent_tokens,
            "calls": self.calls,
            "refused": self.refused,
            "in_flight": sum(self.in_flight.values()),
            "exhausted_at": self.exhausted_at,
        }


class RayLedger:
    """The worker's view of the ledger actor (``workers.rollout.gate.Ledger``)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def reserve(self, endpoint: str, concurrency: int, usd: float, tokens: int) -> Grant:
        import ray

        grant: Grant = ray.get(self.actor.reserve.remote(endpoint, concurrency, usd, tokens))
        return grant

    def settle(self, reservation: str, usd: float, tokens: int) -> None:
        # not awaited: an actor runs one caller's calls in order, so this worker's next reserve sees it
        self.actor.settle.remote(reservation, usd, tokens)


def ledger_name(sweep_id: str) -> str:
    return f"evalfleet-ledger-{sweep_id}"


def start_ledger(sweep_id: str, usd: float | None, tokens: int | None, store: ResultStore) -> Any:
    """Create the sweep's ledger actor (the driver holds the handle; it dies with the driver)."""
    import ray

    spent_usd, spent_tokens = spent_so_far(store, sweep_id)
    actor: Any = (
        ray.remote(BudgetBook)
        .options(name=ledger_name(sweep_id), num_cpus=0, max_restarts=0, get_if_exists=False)
        .remote(usd, tokens, spent_usd, spent_tokens)
    )
    ray.get(actor.state.remote())  # started
    return actor


def find_ledger(sweep_id: str) -> RayLedger | None:
    """The sweep's ledger from inside a task; None outside Ray or when the driver made none."""
    import ray

    if not ray.is_initialized():
        return None
    try:
        return RayLedger(ray.get_actor(ledger_name(sweep_id)))
    except ValueError:
        return None


USAGE_PREFIX = "usage-"


def spent_so_far(store: ResultStore, sweep_id: str) -> tuple[float, int]:
    """USD and tokens spent by earlier runs of the sweep: the usage record every rollout leaves."""
    usd, tokens = 0.0, 0
    for key in store.list(SweepPaths(sweep_id).items):
        if f"/rollout/{USAGE_PREFIX}" not in key:
            continue
        record = json.loads(store.get(key) or b"{}")
        usd += float(record.get("cost_usd", 0.0))
        tokens += int(record.get("tokens", 0))
    return usd, tokens
