"""Drive a sweep: manifest, plan minus committed, Ray, progress, reports. Survives its own death:
every result is committed by the task that made it, so ``--resume`` continues where it stopped."""

from __future__ import annotations

import json
import platform
import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from types import FrameType

import structlog

from orchestrator.commit import committed_keys
from orchestrator.config import SweepConfig
from orchestrator.console import make_console
from orchestrator.errors import (
    ConfigError,
    InfraUnavailable,
    SweepFailure,
    SweepIncomplete,
    describe_failure,
)
from orchestrator.lock import sweep_lock
from orchestrator.logs import configure
from orchestrator.plan import Plan
from orchestrator.progress import SweepProgress
from orchestrator.store import ResultStore, SweepPaths
from orchestrator.task import Summary
from workers import HARNESS_VERSION
from workers.errors import UserInputError
from workers.evaluate import EvalSettings, NodeOptions, engine_probe
from workers.images.options import ImageOptions

log = structlog.get_logger(__name__)
console = make_console(stderr=True)


def eval_settings(config: SweepConfig, driver: str = "") -> EvalSettings:
    """What the workers need of the config; ``driver`` is this driver's run instance id."""
    img = config.images
    options: dict[str, object] = {
        k: v
        for k, v in {
            "ca_bundle": img.ca_bundle,
            "pip_index_url": img.pip_index_url,
            "pip_extra_index_urls": img.pip_extra_index_urls or None,
            "pip_trusted_hosts": img.pip_trusted_hosts or None,
            "apt_mirror": img.apt_mirror,
            "pull_template": img.pull_template,
            "build_timeout_s": img.build_timeout_s,
            "pull_base": img.pull_base,
            "registry_prefix": img.registry_prefix,
            "on_missing_prebuilt": img.on_missing_prebuilt,
            "registry": img.registry,
        }.items()
        if v is not None
    }
    node = {name: getattr(config.execution, name) for name in NodeOptions.model_fields}
    return EvalSettings(**node, images=ImageOptions.model_validate(options), driver=driver)


def store_for(config: SweepConfig) -> ResultStore:
    store = config.store.open()
    store.ensure_ready()
    return store


def write_manifest(store: ResultStore, config: SweepConfig, plan: Plan) -> None:
    """The manifest is written once; a sweep id planned from other inputs is refused."""
    paths = SweepPaths(plan.sweep_id)
    keys = sorted(plan.keys())
    manifest = {
        "schema_version": 1,
        "sweep_id": plan.sweep_id,
        "created_at": time.time(),
        "config": config.model_dump(mode="json"),
        "harness_version": HARNESS_VERSION,
        "python": platform.python_version(),
        "instance_ids": sorted({i.instance_id for i in plan.instances}),
        "runs": plan.runs,
        "planned": len(keys),
        "planned_keys": keys,
    }
    if store.put_if_absent(paths.manifest, json.dumps(manifest, indent=1).encode("utf-8")):
        return
    existing = json.loads(store.get(paths.manifest) or b"{}")
    if sorted(existing.get("planned_keys", [])) != keys:
        raise ConfigError(
            f"sweep {plan.sweep_id} exists in {store.url} with a different plan",
            source="--resume",
            fix="resume it with the config it was started with, or start a new sweep",
        )


def execute_sweep(config: SweepConfig, plan: Plan, *, resume: bool) -> None:
    """Run what is not committed yet, then write the reports (from storage). Raises SweepIncomplete
    when items ended without a verdict (infrastructure failures: a re-run evaluates them again), and
    SweepFailure with one line when the store, the cluster or the engines fail the driver itself."""

    configure(log_file(plan.sweep_id))
    try:
        _execute(config, plan)
    except (UserInputError, SweepFailure, KeyboardInterrupt):
        raise
    except Exception as exc:  # the store, Ray or an engine failed the driver: one line, the rest logged
        log.exception("sweep stopped", sweep=plan.sweep_id)
        raise SweepFailure(
            describe_failure(exc),
            fix=f"committed results are kept; once it is back, resume: evalfleet run CONFIG --resume "
            f"{plan.sweep_id} (traceback: {log_file(plan.sweep_id)})",
        ) from exc


def _execute(config: SweepConfig, plan: Plan) -> None:
    from orchestrator.report.aggregate import write_reports

    store = store_for(config)
    with sweep_lock(store, plan.sweep_id):  # one driver per sweep: a second run fails fast (exit 2)
        write_manifest(store, config, plan)
        todo = plan.without(committed_keys(store, plan.sweep_id))
        done = len(plan.items) - len(todo.items)
        console.print(
            f"sweep {plan.sweep_id}: {len(plan.items)} items, {done} already committed, "
            f"{len(todo.items)} to run -> {store.url}"
        )
        failed = _run(config, plan, todo, done) if todo.items else []
        written = write_reports(
            store, plan.sweep_id, flagged_as_unresolved=config.execution.flagged_as_unresolved
        )
        console.print(f"reports: {', '.join(written)}")
    if failed:
        raise SweepIncomplete(plan.sweep_id, failed)


def log_file(sweep_id: str) -> Path:
    return Path(".evalfleet/logs") / f"{sweep_id}.jsonl"


def _run(config: SweepConfig, plan: Plan, todo: Plan, done: int) -> list[Summary]:
    """Evaluate ``todo`` on the cluster; returns the summaries of the items left without a verdict."""
    from orchestrator import rollouts
    from orchestrator.scheduler import init_ray, reap_cluster, run_items

    rollouts.check_endpoints(todo)  # rollout items: a wrong endpoint or key is one line, before Ray

    embedded = not config.ray.address
    if embedded:  # before Ray starts: a sweep that cannot run says so in a second, not after Ray's start
        require_engines({"this host": engine_probe(config.execution.backend)()})
    slots = init_ray(
        config.ray.address, sandbox_slots=config.execution.sandbox_slots, num_cpus=config.ray.num_cpus
    )
    if slots < 1:
        raise ConfigError(
            "the Ray cluster advertises no 'sandbox' slots",
            field="ray.address",
            fix="start nodes with --resources='{\"sandbox\": N}'",
        )
    if not embedded:
        from orchestrator.scheduler import engines_down

        require_engines(engines_down(config.execution.backend))
    driver = uuid.uuid4().hex[:12]
    settings = eval_settings(config, driver)
    log.info("driver started", sweep=plan.sweep_id, driver=driver, items=len(todo.items))
    _install_sigterm()
    reap_leftovers(plan.sweep_id, config.execution.backend, everything=False)
    ledger = rollouts.start_budget(config, todo, store_for(config))  # the budget of rollout items
    not_run: Counter[str] = Counter()
    failed: list[Summary] = []
    try:
        with SweepProgress(len(plan.items), done=done, console=console) as progress:
            for summary in run_items(
                todo.items,
                settings,
                config.store,
                slots=slots,
                window_factor=config.execution.max_in_flight_factor,
                batch_size=config.execution.batch_size,
            ):
                if summary.not_run:  # e.g. the budget is spent: not an error, nothing committed
                    not_run[summary.not_run] += 1
                    continue
                if summary.infra_failure:
                    failed.append(summary)
                progress.advance("infra" if summary.infra_failure else summary.verdict)
        for reason, count in sorted(not_run.items()):
            console.print(f"{count} items not run: {reason} (a re-run continues: raise the budget first)")
        rollouts.report_budget(ledger, console)
    except KeyboardInterrupt:
        console.print("interrupted: cancelling tasks and removing this sweep's sandboxes")
        time.sleep(1.0)  # let cancelled workers exit before reaping what they started
        reap_cluster(plan.sweep_id, driver)
        console.print(
            f"committed results are kept; continue with: evalfleet run ... --resume {plan.sweep_id}"
        )
        raise
    reap_cluster(plan.sweep_id, driver)  # nothing of this driver runs any more: leftovers are garbage
    return failed


def require_engines(down: dict[str, str | None]) -> None:
    """Go on when at least one node's sandbox engine answers; say which do not."""
    broken = {node: reason for node, reason in down.items() if reason is not None}
    if down and len(broken) < len(down):
        for node, reason in broken.items():
            log.warning("node cannot run sandboxes: its items wait for its engine", node=node, reason=reason)
        return
    reasons = "; ".join(f"{node}: {reason}" for node, reason in broken.items()) or "no sandbox node"
    raise InfraUnavailable(
        f"no node can run sandboxes ({reasons})",
        fix="start the Docker engine (scripts/ensure-docker.sh) or point DOCKER_HOST at it, then run the "
        "same command again; nothing was evaluated",
    )


def reap_leftovers(sweep_id: str, backend: str, *, everything: bool) -> None:
    """Remove this sweep's sandboxes on this host: those of dead owners, or all of them."""
    if backend != "docker":
        return
    from workers.errors import SandboxError
    from workers.sandbox.janitor import reap

    try:
        removed = reap(sweep_id=sweep_id, dead_owners_only=not everything)
    except SandboxError as exc:  # no engine here (e.g. a Kubernetes head node): nothing to reap
        log.debug("janitor skipped", error=str(exc))
        return
    except Exception as exc:  # cleanup must not hide the reason the sweep stopped
        log.warning("janitor failed", error=str(exc))
        return
    if removed:
        log.info("removed leftover sandboxes", count=len(removed))


def _install_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
