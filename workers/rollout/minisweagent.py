"""The built-in scaffold: mini-swe-agent's ``DefaultAgent`` (pinned in the ``rollout`` extra) with its
SWE-bench configuration, its model calls through our ``GatedModel`` and its bash actions through our
sandbox's ``exec`` (run from the Ray worker; the sandbox has no network and never sees a key)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from workers.errors import SandboxError
from workers.rollout.client import EndpointError, EndpointUnavailable
from workers.rollout.contract import RolloutTask, ScaffoldExit
from workers.rollout.gate import BudgetSpent, GatedModel, LimitReached
from workers.rollout.spec import ExitStatus
from workers.rollout.trajectory import Recorder
from workers.sandbox.base import Sandbox

SUBMIT = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
EXIT_STATUS: dict[str, ExitStatus] = {
    "Submitted": "submitted",
    "LimitsExceeded": "limits",
    "TimeExceeded": "limits",
    "BudgetSpent": "budget",
    "RepeatedFormatError": "format_errors",
}


def _import_minisweagent() -> Any:
    """Import quietly: no banner, and its global config (a .env it loads) in a private directory."""
    os.environ.setdefault("MSWEA_SILENT_STARTUP", "1")
    os.environ.setdefault("MSWEA_GLOBAL_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "evalfleet-mswea"))
    import minisweagent

    return minisweagent


def swebench_config() -> dict[str, Any]:
    """mini-swe-agent's own SWE-bench configuration (agent, environment and model sections)."""
    mswea = _import_minisweagent()
    path = Path(mswea.package_dir) / "config" / "benchmarks" / "swebench.yaml"
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config


class SandboxEnvironment:
    """mini-swe-agent's Environment protocol over our Sandbox."""

    def __init__(
        self, sandbox: Sandbox, workdir: str, timeout: float, env: dict[str, str], recorder: Recorder
    ) -> None:
        self.sandbox, self.workdir, self.timeout, self.env, self.recorder = (
            sandbox,
            workdir,
            timeout,
            env,
            recorder,
        )
        self.config = SimpleNamespace(cwd=workdir, timeout=timeout)

    def execute(
        self, action: dict[str, Any], cwd: str = "", *, timeout: float | None = None
    ) -> dict[str, Any]:
        from minisweagent.exceptions import Submitted

        command = str(action.get("command", ""))
        limit = timeout or self.timeout
        res = self.sandbox.exec(
            ["bash", "-c", command], timeout=limit, workdir=cwd or self.workdir, env=self.env
        )
        if res.sandbox_killed:
            raise SandboxError("the sandbox had to be killed to end an agent action")
        text = res.text
        self.recorder.action(command, res)
        info = f"the command timed out after {limit:g} s and was killed" if res.timed_out else ""
        output = {
            "output": text,
            "returncode": -1 if res.returncode is None else res.returncode,
            "exception_info": info,
        }
        lines = text.lstrip().splitlines(keepends=True)
        if lines and lines[0].strip() == SUBMIT and res.returncode == 0:
            submission = "".join(lines[1:])
            raise Submitted(
                {
                    "role": "exit",
                    "content": submission,
                    "extra": {"exit_status": "Submitted", "submission": submission},
                }
            )
        return output

    def get_template_vars(self, **kwargs: Any) -> dict[str, Any]:
        return {"cwd": self.workdir, **kwargs}

    def serialize(self) -> dict[str, Any]:
        return {}


def _exit(status: str, content: str = "") -> dict[str, Any]:
    return {"role": "exit", "content": content or status, "extra": {"exit_status": status, "submission": ""}}


def _as_object(value: Any) -> Any:
    """Tool calls as attribute objects (mini-swe-agent's parser reads ``call.function.arguments``)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _as_object(v) for k, v in value.items()})
    return value


class GatedAgentModel:
    """mini-swe-agent's Model protocol over our GatedModel (tool calls, its ``bash`` tool)."""

    def __init__(self, gate: GatedModel, templates: dict[str, Any]) -> None:
        self.gate = gate
        self.observation_template = str(templates["observation_template"])
        self.format_error_template = str(templates["format_error_template"])
        self.config = SimpleNamespace(model_name=gate.spec.endpoint.model)

    def query(self, messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        from minisweagent.exceptions import FormatError, LimitsExceeded
        from minisweagent.models.utils.actions_toolcall import BASH_TOOL, parse_toolcall_actions

        prepared = [{k: v for k, v in m.items() if k != "extra"} for m in messages]
        try:
            reply = self.gate.complete(prepared, tools=[BASH_TOOL])
        except BudgetSpent as exc:
            raise LimitsExceeded(_exit("BudgetSpent", str(exc))) from None
        except LimitReached as exc:
            raise LimitsExceeded(_exit("LimitsExceeded", str(exc))) from None
        cost = self.gate.recorder.calls[-1].cost_usd
        calls = [_as_object(tc) for tc in reply.message.get("tool_calls") or []]
        try:
            actions = parse_toolcall_actions(
                calls,
                format_error_template=self.format_error_template,
                template_kwargs={"finish_reason": reply.finish_reason},
            )
        except FormatError as exc:
            exc.messages[0]["extra"].update({"cost": cost, "response": reply.message})
            raise
        message = {k: v for k, v in reply.message.items() if v is not None}
        message["extra"] = {"actions": actions, "cost": cost, "timestamp": time.time()}
        return message

    def format_message(self, **kwargs: Any) -> dict[str, Any]:
        return dict(kwargs)

    def format_observation_messages(
        self,
        message: dict[str, Any],
        outputs: list[dict[str, Any]],
        template_vars: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        from minisweagent.models.utils.actions_toolcall import format_toolcall_observation_messages

        messages: list[dict[str, Any]] = format_toolcall_observation_messages(
            actions=message.get("extra", {}).get("actions", []),
            outputs=outputs,
            observation_template=self.observation_template,
            template_vars=template_vars,
        )
        return messages

    def get_template_vars(self, **kwargs: Any) -> dict[str, Any]:
        return {"model_name": self.gate.spec.endpoint.model, **kwargs}

    def serialize(self) -> dict[str, Any]:
        return {}


class MiniSweAgent:
    """Scaffold ``mini-swe-agent``: its DefaultAgent and SWE-bench prompts, unchanged but for the work
    directory (its config says /testbed)."""

    name = "mini-swe-agent"

    def run(self, task: RolloutTask, sandbox: Sandbox, model: GatedModel, recorder: Recorder) -> ScaffoldExit:
        _import_minisweagent()
        from minisweagent.agents.default import DefaultAgent

        config = swebench_config()
        prompts = {
            k: str(config["agent"][k]).replace("/testbed", task.workdir)
            for k in ("system_template", "instance_template")
        }
        limits = task.spec.limits
        env_vars = {
            str(k): str(v) for k, v in config["environment"].get("env", {}).items() if k != "BASH_ENV"
        }
        agent = DefaultAgent(
            GatedAgentModel(model, config["model"]),
            SandboxEnvironment(sandbox, task.workdir, task.spec.scaffold.step_timeout_s, env_vars, recorder),
            system_template=prompts["system_template"],
            instance_template=prompts["instance_template"],
            step_limit=limits.steps,
            cost_limit=0,  # cost and token limits are applied by the gate, the sweep's budget by the ledger
            wall_time_limit_seconds=int(limits.wall_time_s),
        )
        try:
            info = agent.run(task.text)
        except (SandboxError, EndpointError, EndpointUnavailable):
            raise
        except Exception as exc:  # the agent's own failure: an outcome of this rollout, graded as is
            return ScaffoldExit("agent_error", f"{type(exc).__name__}: {exc}"[:300], agent.messages)
        raw = str(info.get("exit_status", ""))
        status = EXIT_STATUS.get(raw, "agent_error")
        last = agent.messages[-1] if agent.messages else {}
        return ScaffoldExit(status, str(last.get("content", raw))[:300], agent.messages)
