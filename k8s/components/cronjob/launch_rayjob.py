"""Run one scheduled sweep: copy the template RayJob, wait for the copy, check the store, delete the copy.

Run by the CronJob's pod (k8s/components/cronjob/cronjob.yaml) in the evalfleet image (kubectl and
evalfleet on PATH), with a service account that may get/create/delete rayjobs.

- **Run id.** The CronJob names its Jobs ``<cronjob>-<schedule time in Unix minutes>``; the pod reads
  its Job's name (JOB_NAME, from the downward API) and makes the run id ``YYYYMMDD-HHMM`` of that
  schedule time (UTC): the sweep is ``<config name>-<run id>``, one per tick, all of one series. A Job
  made by hand (``kubectl create job --from=cronjob/...``) has another name: run id
  ``manual-YYYYMMDD-HHMMSS`` of now, a sweep of its own.
- **The RayJob** is the template's spec, unsuspended, named ``<template name without -template>-<run
  id>``, with ``--run-id <run id>`` added to its entrypoint. The name is deterministic: a retried
  launcher pod (the Job's backoffLimit) finds the RayJob of its tick and follows it; when that one
  failed, it is deleted and created again, and the new run continues the sweep (same sweep id).
- **Success** needs more than a SUCCEEDED RayJob: the sweep's manifest must be in the store and every
  planned item committed. A job that ran something other than evalfleet (an entrypoint cut short by
  the submitter's shell) or evaluated nothing fails the launcher.

Exit code 0 when the sweep succeeded, 1 when it failed or evaluated nothing, 2 on a usage or cluster
error. SIGTERM (the Job's deadline) deletes the RayJob.

Environment: TEMPLATE (the template RayJob's name), CRONJOB (the CronJob's name), JOB_NAME (this pod's
Job), SWEEP_CONFIG (the sweep config, default /config/sweep.yaml), POLL_S (seconds between status
checks, default 30), KEEP_RAYJOB=1 to leave the finished RayJob in place; the store's credentials as
for the Ray pods (AWS_*).
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
TEMPLATE_SUFFIX = "-template"
RUN_ID_FORMAT = "%Y%m%d-%H%M"  # also k8s/image/evalfleet-k8s-run: one series, one format


class KubectlError(RuntimeError):
    pass


def kubectl(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KubectlError(f"kubectl {' '.join(args[:3])}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def run_id_for(job_name: str, cronjob: str, now: float) -> str:
    """The run id of this launch: the schedule time of a CronJob's Job, else ``manual-<now>``."""
    found = re.fullmatch(re.escape(cronjob) + r"-(\d{7,10})", job_name) if cronjob else None
    if found:
        return time.strftime(RUN_ID_FORMAT, time.gmtime(int(found[1]) * 60))
    return "manual-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))


def run_copy(template: dict[str, Any], *, run_id: str, scheduled_at: str) -> dict[str, Any]:
    """The RayJob to create for one run: the template's spec, unsuspended, its entrypoint given the run id."""
    meta = template["metadata"]
    name = meta["name"].removesuffix(TEMPLATE_SUFFIX)
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != "evalfleet.dev/role"}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in DROPPED_ANNOTATIONS}
    spec = copy.deepcopy(template["spec"])
    spec["suspend"] = False
    spec["entrypoint"] = f"{spec['entrypoint'].strip()} --run-id {run_id}"
    return {
        "apiVersion": template["apiVersion"],
        "kind": "RayJob",
        "metadata": {
            "name": f"{name}-{run_id}",
            "labels": {**labels, "evalfleet.dev/template": meta["name"], "evalfleet.dev/run-id": run_id},
            "annotations": {**annotations, "evalfleet.dev/scheduled-at": scheduled_at},
        },
        "spec": spec,
    }


def outcome(status: dict[str, Any]) -> int | None:
    """0 (succeeded) or 1 (failed) once the RayJob has finished, else None."""
    deployment = status.get("jobDeploymentStatus", "")
    job = status.get("jobStatus", "")
    if deployment == "Failed" or job in ("FAILED", "STOPPED"):
        return 1
    if deployment == "Complete":
        return 0 if job == "SUCCEEDED" else 1
    return None


def poll(name: str, poll_s: float, *, attempts: int = 10) -> dict[str, Any]:
    """The RayJob's status; API errors are retried (a control-plane hiccup must not end the run)."""
    for attempt in range(attempts):
        try:
            return json.loads(kubectl("get", "rayjob", name, "-o", "json")).get("status") or {}
        except KubectlError as exc:
            if attempt == attempts - 1:
                raise
            print(f"retrying: {exc}", file=sys.stderr, flush=True)
            time.sleep(poll_s)
    raise AssertionError("unreachable")


def create_or_resume(body: dict[str, Any], poll_s: float) -> None:
    """Create the RayJob; if this tick's RayJob exists (a retried launcher), follow it, or, when it
    failed, replace it so that the sweep continues on a new cluster."""
    name = body["metadata"]["name"]
    try:
        kubectl("create", "-f", "-", stdin=json.dumps(body))
        print(f"created rayjob {name}", flush=True)
        return
    except KubectlError as exc:
        if "AlreadyExists" not in str(exc) and "already exists" not in str(exc):
            raise
    if outcome(poll(name, poll_s)) != 1:
        print(f"rayjob {name} exists: following it", flush=True)
        return
    print(f"rayjob {name} failed before: replacing it (the sweep continues)", flush=True)
    kubectl("delete", "rayjob", name, "--wait=true")
    kubectl("create", "-f", "-", stdin=json.dumps(body))


def evaluated(config_path: str, run_id: str) -> str | None:
    """Why the sweep of this run is not complete in its store, or None when every planned item is."""
    from orchestrator.commit import committed_keys
    from orchestrator.config import load_config
    from orchestrator.store import SweepPaths, open_store
    from orchestrator.sweep import run_sweep_id

    config = load_config(Path(config_path))
    sweep = run_sweep_id(config, run_id)
    store = open_store(config.store.url, endpoint_url=config.store.endpoint_url, region=config.store.region)
    manifest = store.get(SweepPaths(sweep).manifest)
    if manifest is None:
        return f"sweep {sweep} has no manifest in {store.url}: the job did not run evalfleet"
    planned = int(json.loads(manifest).get("planned", 0))
    committed = len(committed_keys(store, sweep))
    if planned == 0 or committed < planned:
        return f"sweep {sweep} evaluated {committed} of {planned} planned items"
    print(f"sweep {sweep}: {committed} of {planned} items committed in {store.url}", flush=True)
    return None


def follow(name: str, poll_s: float) -> int:
    last = None
    while True:
        status = poll(name, poll_s)
        shown = (status.get("jobDeploymentStatus"), status.get("jobStatus"))
        if shown != last:
            print(f"rayjob {name}: deployment {shown[0] or '-'}, job {shown[1] or '-'}", flush=True)
            last = shown
        result = outcome(status)
        if result is not None:
            if result:
                why = f"{status.get('reason', '')} {status.get('message', '')}".strip()
                print(f"rayjob {name} failed: {why}", flush=True)
            return result
        time.sleep(poll_s)


def main() -> int:
    template_name = os.environ.get("TEMPLATE", "")
    if not template_name:
        print("launch_rayjob: set TEMPLATE to the name of the template RayJob", file=sys.stderr)
        return 2
    poll_s = float(os.environ.get("POLL_S", "30"))
    now = time.time()
    run_id = run_id_for(os.environ.get("JOB_NAME", ""), os.environ.get("CRONJOB", ""), now)
    template = json.loads(kubectl("get", "rayjob", template_name, "-o", "json"))
    body = run_copy(
        template, run_id=run_id, scheduled_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    )
    name = body["metadata"]["name"]

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    code = 2
    try:
        create_or_resume(body, poll_s)
        code = follow(name, poll_s)
        if code == 0:
            problem = evaluated(os.environ.get("SWEEP_CONFIG", "/config/sweep.yaml"), run_id)
            if problem:
                print(f"rayjob {name} succeeded but {problem}", flush=True)
                code = 1
        return code
    except KeyboardInterrupt:
        print(f"stopped: deleting rayjob {name}", flush=True)
        return 2
    finally:
        if os.environ.get("KEEP_RAYJOB") != "1" or code == 2:
            kubectl("delete", "rayjob", name, "--wait=false", "--ignore-not-found")


if __name__ == "__main__":
    sys.exit(main())
