"""The trajectory of one rollout: every message, model call, action and observation, with tokens and
timings. Saved as ``trajectory.json`` next to the rollout's patch."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from workers.rollout.spec import ExitStatus
from workers.sandbox.base import ExecResult

TRAJECTORY_SCHEMA = 1
KEPT_OUTPUT = 32 * 1024  # characters of an action's output kept in the trajectory (head and tail)


def cut(text: str) -> str:
    if len(text) <= KEPT_OUTPUT:
        return text
    half = KEPT_OUTPUT // 2
    return f"{text[:half]}\n... [{len(text) - KEPT_OUTPUT} characters cut] ...\n{text[-half:]}"


class ModelCall(BaseModel):
    """One model call (its retries included: they are not steps)."""

    n: int = Field(description="1-based index in the rollout.")
    started_at: float
    duration_s: float = Field(description="The call itself, retries and their waits included.")
    wait_s: float = Field(default=0.0, description="Waiting for an endpoint slot or the budget ledger.")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0
    server_model: str | None = None
    system_fingerprint: str | None = None
    finish_reason: str | None = None


class Action(BaseModel):
    """One action the agent ran in the sandbox, and what it saw."""

    step: int = Field(description="The model call that asked for it.")
    command: str
    returncode: int | None
    output: str
    timed_out: bool = False
    duration_s: float = 0.0


class Totals(BaseModel):
    steps: int = 0
    model_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    model_s: float = 0.0
    exec_s: float = 0.0
    overhead_s: float = Field(default=0.0, description="Wall time outside model calls and sandbox execs.")


class Trajectory(BaseModel):
    schema_version: int = TRAJECTORY_SCHEMA
    instance_id: str
    run: str
    seed: int
    model: str
    scaffold: str
    exit_status: ExitStatus
    exit_message: str = ""
    server_models: list[str] = Field(default_factory=list)
    system_fingerprints: list[str] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    calls: list[ModelCall] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    totals: Totals = Field(default_factory=Totals)
    flags: list[str] = Field(default_factory=list)
    excluded_paths: list[str] = Field(
        default_factory=list, description="Changed test files left out of the patch."
    )


class Recorder:
    """Collects calls and actions while a scaffold runs (the model gate and the sandbox adapter write)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.calls: list[ModelCall] = []
        self.actions: list[Action] = []

    def action(self, command: str, res: ExecResult) -> None:
        """Record an action the agent ran in the sandbox (the step is the model call that asked for it)."""
        self.actions.append(
            Action(
                step=len(self.calls),
                command=command,
                returncode=res.returncode,
                output=cut(res.text),
                timed_out=res.timed_out,
                duration_s=round(res.duration_s, 4),
            )
        )

    @property
    def tokens(self) -> int:
        return sum(c.prompt_tokens + c.completion_tokens for c in self.calls)

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.calls)

    def totals(self) -> Totals:
        wall = time.monotonic() - self.started
        model_s = sum(c.duration_s for c in self.calls)
        exec_s = sum(a.duration_s for a in self.actions)
        prompt = sum(c.prompt_tokens for c in self.calls)
        completion = sum(c.completion_tokens for c in self.calls)
        return Totals(
            steps=len(self.calls),
            model_calls=len(self.calls),
            retries=sum(c.retries for c in self.calls),
            prompt_tokens=prompt,
            completion_tokens=completion,
            tokens=prompt + completion,
            cost_usd=round(self.cost_usd, 8),
            wall_s=round(wall, 4),
            model_s=round(model_s, 4),
            exec_s=round(exec_s, 4),
            overhead_s=round(max(0.0, wall - model_s - exec_s), 4),
        )
