"""generate(item) -> Rollout: the scaffold acts in a sandbox of the instance image, the patch is read from
the tree. The evaluation of that patch happens later, in a fresh sandbox from the clean image."""

from __future__ import annotations

import os

import structlog
from pydantic import BaseModel, Field

from workers.errors import SandboxError
from workers.evaluate import EvalSettings
from workers.integrity.diff import touched_paths
from workers.models import WorkItem
from workers.rollout.client import ChatClient
from workers.rollout.contract import RolloutTask, Scaffold, ScaffoldExit, load_scaffold
from workers.rollout.gate import GatedModel, Ledger, Unlimited
from workers.rollout.scan import scan
from workers.rollout.spec import ExitStatus
from workers.rollout.trajectory import Recorder, Trajectory
from workers.rollout.tree import strip_history, tree_diff, without_tests
from workers.sandbox.base import Sandbox, SandboxConfig, get_backend
from workers.sandbox.labels import item_labels

log = structlog.get_logger(__name__)
ROLLOUT_ATTEMPT = 0  # the label of a rollout sandbox's attempt (evaluation attempts count from 1)
SANDBOX_GRACE_S = (
    900.0  # a rollout sandbox's lifetime past the wall-time limit (then any janitor may reap it)
)


class Rollout(BaseModel):
    """What one rollout produced: the patch (test files left out) and a summary of its trajectory."""

    patch: str
    exit_status: ExitStatus
    exit_message: str = ""
    steps: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    flags: list[str] = Field(default_factory=list)
    server_models: list[str] = Field(default_factory=list)
    system_fingerprints: list[str] = Field(default_factory=list)
    image: str | None = None

    @property
    def started(self) -> bool:
        """False when the budget refused the very first model call: nothing was generated."""
        return not (self.exit_status == "budget" and self.steps == 0)

    @classmethod
    def of(cls, patch: str, t: Trajectory, image: str | None) -> Rollout:
        return cls(
            patch=patch,
            exit_status=t.exit_status,
            exit_message=t.exit_message,
            steps=t.totals.steps,
            tokens=t.totals.tokens,
            cost_usd=t.totals.cost_usd,
            wall_s=t.totals.wall_s,
            flags=t.flags,
            server_models=t.server_models,
            system_fingerprints=t.system_fingerprints,
            image=image,
        )

    def metadata(self) -> dict[str, object]:
        """Keys the evaluation's result carries (reports read tokens, cost_usd, steps)."""
        return {
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 8),
            "steps": self.steps,
            "rollout_wall_s": round(self.wall_s, 3),
            "exit_status": self.exit_status,
            "server_models": self.server_models,
            "system_fingerprints": self.system_fingerprints,
            "rollout_flags": self.flags,
        }


def act(
    scaffold: Scaffold, task: RolloutTask, sandbox: Sandbox, ledger: Ledger | None
) -> tuple[ScaffoldExit, Recorder]:
    """The scaffold acting in a running sandbox, its model calls through the gate (key read here, on the
    worker). What any task format reuses: SWE-bench reads a patch afterwards, Terminal-Bench runs its
    verifier in the same sandbox."""
    spec = task.spec
    key = os.environ.get(spec.endpoint.api_key_env) if spec.endpoint.api_key_env else None
    client = ChatClient(spec.endpoint, spec.sampling, api_key=key, seed=task.seed)
    recorder = Recorder()
    try:
        return scaffold.run(
            task, sandbox, GatedModel(client, spec, ledger or Unlimited(), recorder), recorder
        ), recorder
    finally:
        client.close()


def generate(
    item: WorkItem, settings: EvalSettings, ledger: Ledger | None = None
) -> tuple[Rollout, Trajectory]:
    """Run the item's scaffold on its instance; writes nothing to the store (the caller commits)."""
    from workers.images import ensure_instance_image

    spec = item.rollout
    if spec is None:
        raise ValueError(f"item {item.key} is not a rollout item")
    image = ensure_instance_image(item.instance, item.spec, item.repo_source, settings.images)
    config = SandboxConfig(
        image=image.tag,
        limits=item.limits,
        network=False,
        workdir=item.spec.workdir,
        labels=item_labels(
            item.sweep_id,
            item.key,
            ROLLOUT_ATTEMPT,
            driver=settings.driver,
            ttl_s=spec.limits.wall_time_s + SANDBOX_GRACE_S,
        ),
    )
    task = RolloutTask(item.instance, item.spec.workdir, item.seed, spec, item.candidate.run)
    scaffold = load_scaffold(spec.scaffold.name)
    sandbox = get_backend(settings.backend).create(config, timeout=item.spec.timeouts.start)
    try:
        strip_history(sandbox, task.workdir, item.instance.base_commit)
        ended, recorder = act(scaffold, task, sandbox, ledger)
        totals = recorder.totals()
        full = tree_diff(sandbox, task.workdir, item.instance.base_commit)
    finally:
        try:
            sandbox.remove()
        except SandboxError as exc:  # the janitor reaps it later
            log.warning("rollout sandbox removal failed", item=item.key, error=str(exc))
    patch, excluded = without_tests(full)
    flags = scan(recorder.actions, touched_paths(full))
    models = sorted({c.server_model for c in recorder.calls if c.server_model})
    prints = sorted({c.system_fingerprint for c in recorder.calls if c.system_fingerprint})
    trajectory = Trajectory(
        instance_id=item.instance.instance_id,
        run=item.candidate.run,
        seed=item.seed,
        model=spec.endpoint.model,
        scaffold=spec.scaffold.name,
        exit_status=ended.status,
        exit_message=ended.message,
        server_models=models,
        system_fingerprints=prints,
        messages=ended.messages,
        calls=recorder.calls,
        actions=recorder.actions,
        totals=totals,
        flags=flags,
        excluded_paths=excluded,
    )
    return Rollout.of(patch, trajectory, image.tag), trajectory
