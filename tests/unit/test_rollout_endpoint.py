"""The endpoint client against the scripted chat-completions server on 127.0.0.1 (no Docker): retries
on 429 (Retry-After honoured), 5xx and hangs, not counted as steps; one-line errors for a wrong key,
model or address; the seed sent; what the server says about itself recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.llmserver import MODEL, Fault, Script, ScriptedLLM

from workers.rollout.client import ChatClient, EndpointError, EndpointUnavailable, check_endpoint
from workers.rollout.gate import GatedModel, Grant, Unlimited
from workers.rollout.spec import EndpointSpec, GenerationSpec, Price, RolloutLimits, SamplingSpec
from workers.rollout.trajectory import Recorder

TASK = [{"role": "user", "content": "Instance demo__x-1 of repository demo/x.\n\nFix it."}]


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM({"demo__x-1": Script(["ls", "cat a.py"])}, api_key="sk-right")
    server.start()
    yield server
    server.stop()


def endpoint(llm: ScriptedLLM, **kw: object) -> EndpointSpec:
    return EndpointSpec.model_validate(
        {
            "base_url": llm.base_url,
            "model": MODEL,
            "api_key_env": "EVALFLEET_TEST_KEY",
            "timeout_s": 1.0,
            **kw,
        }
    )


def client(llm: ScriptedLLM, key: str = "sk-right", **kw: object) -> ChatClient:
    return ChatClient(
        endpoint(llm, **kw), SamplingSpec(max_tokens=64), api_key=key, seed=42, first_backoff_s=0.05
    )


def test_retries_on_429_500_and_a_hang_then_answers(llm: ScriptedLLM) -> None:
    llm.fault("demo__x-1", 1, Fault(status=429, retry_after=1.0), Fault(status=500), Fault(hang_s=3.0))
    t0 = time.monotonic()
    reply = client(llm).complete(TASK)
    assert time.monotonic() - t0 >= 1.0 + 1.0  # Retry-After waited, then the 1 s timeout of the hang
    assert reply.retries == 3
    assert [c.status for c in llm.calls] == [429, 500, 200, 200]  # the hang answered after the timeout
    assert llm.calls[0].seed == 42
    assert reply.server_model == MODEL and reply.system_fingerprint == "fp_scripted_1"
    assert reply.message["tool_calls"][0]["function"]["name"] == "bash"
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0


def test_retries_exhausted_is_an_infra_error(llm: ScriptedLLM) -> None:
    llm.fault("demo__x-1", 1, *[Fault(status=503)] * 3)
    with pytest.raises(EndpointUnavailable, match="HTTP 503"):
        client(llm, max_retries=2).complete(TASK)
    assert llm.count(status=503) == 3


def test_retries_are_not_steps(llm: ScriptedLLM) -> None:
    llm.fault("demo__x-1", 1, Fault(status=429, retry_after=0.1))
    spec = GenerationSpec(endpoint=endpoint(llm), price=Price(input=1.0, output=2.0))
    recorder = Recorder()
    gate = GatedModel(client(llm), spec, Unlimited(), recorder)
    gate.complete(TASK)
    assert len(recorder.calls) == 1 and recorder.calls[0].retries == 1
    assert recorder.totals().steps == 1 and llm.count(status=None) == 2
    assert recorder.calls[0].cost_usd == pytest.approx(
        (recorder.calls[0].prompt_tokens * 1.0 + recorder.calls[0].completion_tokens * 2.0) / 1e6
    )


def test_wrong_key_model_or_address_is_one_line(llm: ScriptedLLM) -> None:
    with pytest.raises(EndpointError) as bad_key:
        check_endpoint(endpoint(llm), "sk-wrong")
    assert "HTTP 401" in bad_key.value.one_line() and "$EVALFLEET_TEST_KEY" in bad_key.value.one_line()
    with pytest.raises(EndpointError) as bad_model:
        check_endpoint(endpoint(llm, model="gpt-nonexistent"), "sk-right")
    assert "does not serve model 'gpt-nonexistent'" in bad_model.value.one_line()
    with pytest.raises(EndpointError) as bad_url:
        check_endpoint(endpoint(llm, base_url="http://127.0.0.1:9/v1"), "sk-right")
    assert "cannot reach endpoint" in bad_url.value.one_line()
    assert check_endpoint(endpoint(llm), "sk-right") == [MODEL]
    with pytest.raises(EndpointError, match="HTTP 401"):  # a call with a wrong key: no retry
        client(llm, key="sk-wrong").complete(TASK)
    assert "\n" not in bad_key.value.one_line()


class _Spent:
    def reserve(self, endpoint: str, concurrency: int, usd: float, tokens: int) -> Grant:
        return Grant("spent")

    def settle(self, reservation: str, usd: float, tokens: int) -> None:
        raise AssertionError("nothing to settle")


def test_no_call_when_the_budget_refuses_and_limits_stop(llm: ScriptedLLM) -> None:
    from workers.rollout.gate import BudgetSpent, LimitReached

    spec = GenerationSpec(endpoint=endpoint(llm), limits=RolloutLimits(tokens=10))
    with pytest.raises(BudgetSpent):
        GatedModel(client(llm), spec, _Spent(), Recorder()).complete(TASK)
    assert llm.count(status=None) == 0
    gate = GatedModel(client(llm), spec, Unlimited(), Recorder())
    gate.complete(TASK)
    with pytest.raises(LimitReached, match="token limit 10"):
        gate.complete(TASK)
    assert llm.count(status=None) == 1


def test_cli_wrong_key_is_one_line_and_exit_2(llm: ScriptedLLM, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    args = [
        str(Path(sys.executable).with_name("evalfleet")),
        "run",
        str(root / "configs" / "demo-generate.yaml"),
    ]
    for o in (
        f"runs.0.generate.endpoint.base_url={llm.base_url}",
        "runs.0.generate.endpoint.api_key_env=EVALFLEET_TEST_KEY",
        f"store.url=file://{tmp_path}/store",
    ):
        args += ["--set", o]
    env = {**os.environ, "EVALFLEET_TEST_KEY": "sk-wrong"}
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("evalfleet: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr
    assert "HTTP 401" in errors[0] and "check the key in $EVALFLEET_TEST_KEY" in errors[0]
    assert llm.count(status=None) == 0  # checked with GET /models: no chat call made
