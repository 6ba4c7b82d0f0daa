"""The model client a scaffold gets: every call passes the budget ledger (reserve before, settle after),
the endpoint's cluster-wide concurrency limit and the rollout's own limits, and is recorded."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from workers.rollout.client import ChatClient, ModelReply
from workers.rollout.spec import GenerationSpec, Price
from workers.rollout.trajectory import ModelCall, Recorder

CHARS_PER_TOKEN = 3  # a generous estimate of prompt tokens before the server counts them


@dataclass(frozen=True)
class Grant:
    """The ledger's answer to a reservation."""

    status: Literal["granted", "wait", "spent"]
    reservation: str = ""


class Ledger(Protocol):
    """The sweep's budget and endpoint slots (a Ray actor in a sweep; ``Unlimited`` alone)."""

    def reserve(self, endpoint: str, concurrency: int, usd: float, tokens: int) -> Grant: ...

    def settle(self, reservation: str, usd: float, tokens: int) -> None: ...


class Unlimited:
    """No budget; concurrency is not limited (one process, one rollout)."""

    def reserve(self, endpoint: str, concurrency: int, usd: float, tokens: int) -> Grant:
        return Grant("granted", "local")

    def settle(self, reservation: str, usd: float, tokens: int) -> None:
        return None


class BudgetSpent(Exception):
    """The sweep's budget cannot cover the next call: the rollout stops before making it."""


class LimitReached(Exception):
    """A per-instance limit (tokens, cost) is reached: the rollout ends and its patch is graded."""


def estimate_tokens(messages: list[dict[str, Any]], max_tokens: int) -> tuple[int, int]:
    """Worst-case (prompt, completion) tokens of a call, before making it."""
    prompt = len(json.dumps(messages, ensure_ascii=False)) // CHARS_PER_TOKEN + 16
    return prompt, max_tokens


class GatedModel:
    """What scaffolds call: ``complete(messages, tools)`` -> ModelReply; raises BudgetSpent, LimitReached,
    EndpointError (wrong endpoint or key) or EndpointUnavailable (retries exhausted)."""

    def __init__(self, client: ChatClient, spec: GenerationSpec, ledger: Ledger, recorder: Recorder) -> None:
        self.client, self.spec, self.ledger, self.recorder = client, spec, ledger, recorder
        self.price = spec.price or Price(input=0.0, output=0.0)
        self.endpoint_key = f"{spec.endpoint.base_url}|{spec.endpoint.model}"

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> ModelReply:
        self._check_limits()
        prompt, completion = estimate_tokens(messages, self.spec.sampling.max_tokens)
        t0 = time.monotonic()
        grant = self._reserve(self.price.cost(prompt, completion), prompt + completion)
        wait = time.monotonic() - t0
        started = time.time()
        reply: ModelReply | None = None
        try:
            reply = self.client.complete(messages, tools)
        finally:
            used = (reply.prompt_tokens, reply.completion_tokens) if reply else (0, 0)
            self.ledger.settle(grant.reservation, self.price.cost(*used), sum(used))
        self.recorder.calls.append(
            ModelCall(
                n=len(self.recorder.calls) + 1,
                started_at=started,
                duration_s=reply.duration_s,
                wait_s=round(wait, 4),
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                cost_usd=round(self.price.cost(reply.prompt_tokens, reply.completion_tokens), 8),
                retries=reply.retries,
                server_model=reply.server_model,
                system_fingerprint=reply.system_fingerprint,
                finish_reason=reply.finish_reason,
            )
        )
        return reply

    def _reserve(self, usd: float, tokens: int) -> Grant:
        pause = 0.01
        while True:
            grant = self.ledger.reserve(self.endpoint_key, self.spec.endpoint.concurrency, usd, tokens)
            if grant.status == "granted":
                return grant
            if grant.status == "spent":
                raise BudgetSpent("the sweep's budget is spent")
            time.sleep(pause)  # every slot of the endpoint is busy
            pause = min(pause * 2, 0.25)

    def _check_limits(self) -> None:
        limits = self.spec.limits
        if limits.tokens is not None and self.recorder.tokens >= limits.tokens:
            raise LimitReached(f"token limit {limits.tokens} reached")
        if limits.cost_usd is not None and self.recorder.cost_usd >= limits.cost_usd:
            raise LimitReached(f"cost limit {limits.cost_usd:g} USD reached")
