"""The scaffold contract: instance + sandbox + model client -> trajectory (the patch is read from the tree).

A scaffold acts in a running sandbox through ``sandbox.exec`` (run from the Ray worker; the sandbox has
no network and holds no key) and asks the model through a ``GatedModel`` (budget, endpoint slots and
limits are applied there). It returns how it ended and its messages; the rollout runner then reads the
patch from the sandbox's tree and writes the trajectory. Registry: a short name or ``module:Class``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from workers.errors import UserInputError
from workers.models import Instance
from workers.rollout.gate import GatedModel
from workers.rollout.spec import ExitStatus, GenerationSpec
from workers.rollout.trajectory import Recorder
from workers.sandbox.base import Sandbox

SCAFFOLDS: dict[str, tuple[str, str]] = {
    "mini-swe-agent": ("workers.rollout.minisweagent:MiniSweAgent", "evalfleet[rollout]"),
    "command": ("workers.rollout.command:CommandScaffold", "evalfleet[rollout]"),
}


@dataclass(frozen=True)
class RolloutTask:
    """What the agent is asked to do, and where."""

    instance: Instance
    workdir: str
    seed: int
    spec: GenerationSpec
    run: str

    @property
    def text(self) -> str:
        """The task as the agent reads it (the instance id first: a scripted server keys replies on it)."""
        inst = self.instance
        return f"Instance {inst.instance_id} of repository {inst.repo}.\n\n{inst.problem_statement}"


@dataclass
class ScaffoldExit:
    """How a scaffold ended."""

    status: ExitStatus
    message: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)


class Scaffold(Protocol):
    """An agent. ``run`` returns for every ordinary ending (submitted, a limit, the budget, format errors);
    it raises only infrastructure errors (SandboxError, EndpointUnavailable) and EndpointError."""

    name: str

    def run(
        self, task: RolloutTask, sandbox: Sandbox, model: GatedModel, recorder: Recorder
    ) -> ScaffoldExit: ...


def load_scaffold(name: str) -> Scaffold:
    """The scaffold for a short name or ``module:Class``, imported lazily."""
    target, extra = SCAFFOLDS.get(name, (name, ""))
    module_name, sep, class_name = target.partition(":")
    if not sep:
        raise UserInputError(
            f"unknown scaffold {name!r}",
            field="generate.scaffold.name",
            fix=f"use one of {', '.join(SCAFFOLDS)}",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        fix = f"pip install '{extra}'" if extra else "install the package that provides it"
        raise UserInputError(f"scaffold {name!r} cannot be imported ({exc})", fix=fix) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise UserInputError(f"scaffold {name!r}: module {module_name} has no class {class_name}")
    scaffold: Scaffold = cls()
    return scaffold
