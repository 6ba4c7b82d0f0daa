"""Run one scheduled sweep: copy the template RayJob, wait for the copy to finish, delete it.

Run by the CronJob's pod (k8s/components/cronjob/cronjob.yaml) with kubectl and a service account that
may get/create/watch/delete rayjobs. The template is a suspended RayJob kept in the namespace (so that
kustomize overlays patch it like any other RayJob); each run is an unsuspended copy named
``<template name without -template>-<5 random characters>``. Exit code 0 when the sweep succeeded,
1 when it failed, 2 on a usage or cluster error. SIGTERM (the Job's deadline) deletes the copy.

Environment: TEMPLATE (the template RayJob's name), POLL_S (seconds between status checks, default 30),
KEEP_RAYJOB=1 to leave the finished RayJob in place.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
TEMPLATE_SUFFIX = "-template"


def kubectl(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args[:3])}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def run_copy(template: dict[str, Any], *, scheduled_at: str) -> dict[str, Any]:
    """The RayJob to create for one run: the template's spec, unsuspended, under a generated name."""
    meta = template["metadata"]
    name = meta["name"].removesuffix(TEMPLATE_SUFFIX)
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != "evalfleet.dev/role"}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in DROPPED_ANNOTATIONS}
    spec = copy.deepcopy(template["spec"])
    spec["suspend"] = False
    return {
        "apiVersion": template["apiVersion"],
        "kind": "RayJob",
        "metadata": {
            "generateName": f"{name}-",
            "labels": {**labels, "evalfleet.dev/template": meta["name"]},
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
        except RuntimeError as exc:
            if attempt == attempts - 1:
                raise
            print(f"retrying: {exc}", file=sys.stderr, flush=True)
            time.sleep(poll_s)
    raise AssertionError("unreachable")


def main() -> int:
    template_name = os.environ.get("TEMPLATE", "")
    if not template_name:
        print("launch_rayjob: set TEMPLATE to the name of the template RayJob", file=sys.stderr)
        return 2
    poll_s = float(os.environ.get("POLL_S", "30"))
    scheduled_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    template = json.loads(kubectl("get", "rayjob", template_name, "-o", "json"))
    name = kubectl(
        "create",
        "-f",
        "-",
        "-o",
        "jsonpath={.metadata.name}",
        stdin=json.dumps(run_copy(template, scheduled_at=scheduled_at)),
    ).strip()
    print(f"created rayjob {name} from {template_name}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    code = 2
    try:
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
                    print(
                        f"rayjob {name} failed: {status.get('reason', '')} {status.get('message', '')}".strip()
                    )
                code = result
                return code
            time.sleep(poll_s)
    except KeyboardInterrupt:
        print(f"stopped: deleting rayjob {name}", flush=True)
        return 2
    finally:
        if os.environ.get("KEEP_RAYJOB") != "1" or code == 2:
            kubectl("delete", "rayjob", name, "--wait=false", "--ignore-not-found")


if __name__ == "__main__":
    sys.exit(main())
