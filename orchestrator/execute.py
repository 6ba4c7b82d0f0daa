"""Drive a sweep: manifest, plan minus committed, Ray, progress, reports. Survives its own death:
every result is committed by the task that made it, so ``--resume`` continues where it stopped."""

from __future__ import annotations

import json
import platform
import signal
import time
from pathlib import Path
from types import FrameType

import structlog

from orchestrator.commit import committed_keys
from orchestrator.config import SweepConfig
from orchestrator.console import make_console
from orchestrator.errors import ConfigError
from orchestrator.lock import sweep_lock
from orchestrator.logs import configure
from orchestrator.plan import Plan
from orchestrator.progress import SweepProgress
from orchestrator.store import ResultStore, SweepPaths, open_store
from workers import HARNESS_VERSION
from workers.evaluate import EvalSettings
from workers.images.options import ImageOptions

log = structlog.get_logger(__name__)
console = make_console(stderr=True)


def eval_settings(config: SweepConfig) -> EvalSettings:
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
    return EvalSettings(
        backend=config.execution.backend,
        images=ImageOptions.model_validate(options),
        max_attempts=config.execution.max_attempts,
        background_removal=config.execution.background_removal,
        spare_sandboxes=config.execution.spare_sandboxes,
    )


def store_for(config: SweepConfig) -> ResultStore:
    store = open_store(config.store.url, endpoint_url=config.store.endpoint_url, region=config.store.region)
    ensure = getattr(store, "ensure_bucket", None)
    if ensure is not None:
        ensure()
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
    """Run what is not committed yet, then write the reports (from storage)."""
    from orchestrator.report.aggregate import write_reports

    configure(Path(".evalfleet/logs") / f"{plan.sweep_id}.jsonl")
    store = store_for(config)
    with sweep_lock(store, plan.sweep_id):  # one driver per sweep: a second run fails fast (exit 2)
        write_manifest(store, config, plan)
        todo = plan.without(committed_keys(store, plan.sweep_id))
        done = len(plan.items) - len(todo.items)
        console.print(
            f"sweep {plan.sweep_id}: {len(plan.items)} items, {done} already committed, "
            f"{len(todo.items)} to run -> {store.url}"
        )
        if todo.items:
            _run(config, plan, todo, done)
        written = write_reports(store, plan.sweep_id)
        console.print(f"reports: {', '.join(written)}")


def _run(config: SweepConfig, plan: Plan, todo: Plan, done: int) -> None:
    from orchestrator.scheduler import init_ray, reap_cluster, run_items

    slots = init_ray(
        config.ray.address, sandbox_slots=config.execution.sandbox_slots, num_cpus=config.ray.num_cpus
    )
    if slots < 1:
        raise ConfigError(
            "the Ray cluster advertises no 'sandbox' slots",
            field="ray.address",
            fix="start nodes with --resources='{\"sandbox\": N}'",
        )
    settings = eval_settings(config)
    _install_sigterm()
    reap_leftovers(plan.sweep_id, config.execution.backend, everything=False)
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
                progress.advance(summary.verdict)
    except KeyboardInterrupt:
        console.print("interrupted: cancelling tasks and removing this sweep's sandboxes")
        time.sleep(1.0)  # let cancelled workers exit before reaping what they started
        reap_cluster(plan.sweep_id)
        console.print(
            f"committed results are kept; continue with: evalfleet run ... --resume {plan.sweep_id}"
        )
        raise
    reap_cluster(plan.sweep_id)  # nothing of this sweep runs any more: leftovers are garbage


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
