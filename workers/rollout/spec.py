"""What a rollout is made of: endpoint, sampling, scaffold, limits and prices (one model, config to worker).

``GenerationSpec`` is the ``generate:`` block of a run in a sweep config, and travels unchanged inside
each rollout ``WorkItem`` to the Ray worker that runs the scaffold. The API key never travels: only the
name of the environment variable holding it (read on the worker, outside the sandbox).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointSpec(_Frozen):
    """An OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI, a gateway)."""

    base_url: str = Field(
        description="Base URL up to /v1, e.g. 'http://vllm.internal:8000/v1' or 'https://api.openai.com/v1'."
    )
    model: str = Field(description="Model name the server expects in requests, e.g. 'Qwen/Qwen3-32B'.")
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable (on every Ray node) holding the API key; "
        "None for servers without authentication. The key itself is never written to a config.",
    )
    concurrency: int = Field(
        default=8, ge=1, le=10_000, description="Model calls in flight to this endpoint, cluster-wide."
    )
    timeout_s: float = Field(default=300.0, gt=0, description="Seconds one HTTP request may take.")
    max_retries: int = Field(
        default=6,
        ge=0,
        le=50,
        description="Retries of one model call on 429, 5xx, timeouts and connection errors (backoff with "
        "jitter, Retry-After honoured); not counted as agent steps.",
    )
    send_seed: bool = Field(
        default=True, description="Send the item's seed as the request's 'seed' (servers may ignore it)."
    )


class SamplingSpec(_Frozen):
    """Sampling parameters of every model call."""

    temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature.")
    top_p: float | None = Field(
        default=None, gt=0, le=1, description="Nucleus sampling; None: server default."
    )
    max_tokens: int = Field(
        default=4096,
        ge=1,
        description="Completion tokens per call (also the worst case the budget reserves).",
    )


class ScaffoldSpec(_Frozen):
    """Which agent acts in the sandbox."""

    name: str = Field(
        default="mini-swe-agent",
        description="'mini-swe-agent' (built in, pinned), 'command' (your own agent, docs/rollouts.md) "
        "or 'module:Class' implementing workers.rollout.contract.Scaffold.",
    )
    command: list[str] | None = Field(
        default=None,
        description="For 'command': the program run on the worker (argv). It gets the instance JSON, an "
        "exec helper for the sandbox and the endpoint URL through its environment (docs/rollouts.md).",
    )
    step_timeout_s: float = Field(default=120.0, gt=0, description="Seconds one agent action may run.")

    @model_validator(mode="after")
    def _command_given(self) -> ScaffoldSpec:
        if (self.name == "command") != (self.command is not None):
            raise ValueError("'command' is required for scaffold 'command' and only for it")
        return self


class RolloutLimits(_Frozen):
    """Per-instance limits of one rollout; the first one reached ends it (its patch is still graded)."""

    steps: int = Field(default=100, ge=1, description="Agent steps (model calls that returned an answer).")
    tokens: int | None = Field(default=None, ge=1, description="Prompt + completion tokens; None: no limit.")
    cost_usd: float | None = Field(default=None, gt=0, description="USD at the price table; None: no limit.")
    wall_time_s: float = Field(default=1800.0, gt=0, description="Wall-clock seconds of the whole rollout.")


class Price(_Frozen):
    """USD per million tokens."""

    input: float = Field(ge=0, description="USD per million prompt tokens.")
    output: float = Field(ge=0, description="USD per million completion tokens.")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


class GenerationSpec(_Frozen):
    """A run that generates its patches: endpoint + sampling + scaffold + limits."""

    endpoint: EndpointSpec = Field(description="The chat-completions server the agent's model calls go to.")
    sampling: SamplingSpec = Field(default_factory=SamplingSpec, description="Sampling parameters.")
    scaffold: ScaffoldSpec = Field(default_factory=ScaffoldSpec, description="The agent.")
    limits: RolloutLimits = Field(default_factory=RolloutLimits, description="Per-instance limits.")
    price: Price | None = Field(
        default=None,
        description="Price of the model; filled from the sweep's price table when planned (None: unknown, "
        "cost recorded as 0 and only a token budget applies).",
    )

    def outcome_fields(self) -> dict[str, object]:
        """What decides a rollout's outcome (enters item keys): not where the server is, nor its key,
        concurrency or retry policy."""
        return {
            "model": self.endpoint.model,
            "send_seed": self.endpoint.send_seed,
            "sampling": self.sampling.model_dump(mode="json"),
            "scaffold": self.scaffold.model_dump(mode="json"),
            "limits": self.limits.model_dump(mode="json"),
        }


ExitStatus = Literal["submitted", "limits", "budget", "format_errors", "endpoint_error", "agent_error"]
