"""k8s/: every manifest and every kustomize overlay validates offline (KubeRay CRD schemas made strict,
kubernetes-validate --strict, KubeRay's own rules), the workloads agree with each other and with the
image, and deliberately broken manifests fail for the expected reason (tests/support/k8s.py)."""

from __future__ import annotations

import calendar
import copy
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from support import k8s

from orchestrator.config import load_config
from orchestrator.sweep import run_sweep_id

pytestmark = pytest.mark.k8s

K8S = k8s.ROOT / "k8s"
BROKEN = k8s.ROOT / "tests" / "fixtures" / "k8s-broken"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
COMPONENTS = sorted(p.parent.name for p in (K8S / "components").glob("*/kustomization.yaml"))
WORKLOADS = ("sweep-job", "cluster", "raycronjob", "cronjob")
SOCKET = "unix:///run/dind/docker.sock"
RAY_WORKLOADS = ("RayJob", "RayCluster", "RayCronJob")
SPEC_PATCHES = ("sysbox", "registry-mirror")
CLUSTER_SPEC = K8S / "base" / "cluster-spec.yaml"
WRAPPER = K8S / "image" / "evalfleet-k8s-run"
# Resources an overlay expects to exist already (created by hand, see docs/kubernetes.md).
EXTERNAL = {"dev": set(), "prod": {"Secret/evalfleet-s3"}}


def resource_files() -> list[Path]:
    """YAML files under k8s/ that hold Kubernetes resources (not kustomizations, patches or sweeps)."""
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        docs = k8s.load_docs(path)
        if (
            docs
            and all(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in docs)
            and not any(d["kind"] in ("Kustomization", "Component") for d in docs)
        ):
            found.append(path)
    return found


def manifest_files() -> list[Path]:
    """Resource files complete as written: not the Ray workloads whose cluster spec kustomize copies in
    from k8s/base/cluster-spec.yaml (those are validated rendered, with their component)."""
    return [
        p
        for p in resource_files()
        if not any(
            d["kind"] in RAY_WORKLOADS and not any("headGroupSpec" in c for _, c in k8s.cluster_specs(d))
            for d in k8s.load_docs(p)
        )
    ]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: k8s.render(K8S / "overlays" / name) for name in OVERLAYS}


def compose(tmp_path: Path, components: list[str]) -> list[dict[str, Any]]:
    """The base with these components, rendered through a throwaway kustomization (kustomize wants
    relative paths)."""
    here = tmp_path.resolve()
    here.mkdir(parents=True, exist_ok=True)
    (here / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(K8S / "base", here)],
                "components": [os.path.relpath(K8S / "components" / c, here) for c in components],
            }
        )
    )
    return k8s.render(tmp_path)


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


# --- the validator itself --------------------------------------------------------------------------------


def test_the_vendored_crds_are_the_recorded_kuberay_release() -> None:
    readme = (k8s.CRD_DIR / "README.md").read_text()
    assert f"KubeRay **v{k8s.KUBERAY_VERSION}**" in readme
    recorded = dict(re.findall(r"\| (ray\.io_\w+\.yaml) \| ([0-9a-f]{64}) \|", readme))
    actual = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in k8s.CRD_DIR.glob("*.yaml")}
    assert recorded == actual and len(actual) == 3
    assert set(k8s.crd_validators()) == {"RayCluster", "RayJob", "RayCronJob"}


def test_strict_schemas_close_every_object_with_properties() -> None:
    crd = k8s.load_docs(k8s.CRD_DIR / "ray.io_rayjobs.yaml")[0]
    schema = k8s.strict_schema(
        next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    )
    open_objects, closed = [], 0

    def walk(node: Any, path: str) -> None:
        nonlocal closed
        if isinstance(node, dict):
            if "properties" in node:
                if node.get("additionalProperties") is False:
                    closed += 1
                elif not node.get("x-kubernetes-preserve-unknown-fields"):
                    open_objects.append(path)
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(schema, "$")
    assert open_objects == [] and closed > 500  # pod templates included: thousands of object schemas


def test_int_or_string_fields_accept_both() -> None:
    doc = yaml.safe_load(CLUSTER_SPEC.read_text())
    head = doc["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["resources"] = {
        "requests": {"cpu": 2, "memory": "2Gi"},
        "limits": {"cpu": "2500m", "memory": 4294967296},
    }
    head["ports"][0]["containerPort"] = 6379
    assert k8s.validate(doc) == []
    head["resources"]["requests"]["cpu"] = [2]
    assert [p.path for p in k8s.validate(doc)] == [
        "spec.headGroupSpec.template.spec.containers.0.resources.requests.cpu"
    ]


BROKEN_CASES: dict[str, set[tuple[str, str, str]]] = {
    # fixture -> {(rule, path, words of the message)}: exactly these problems, no others
    "rayjob-typo-field.yaml": {("schema", "spec", "'shutdownAfterJobFinish' was unexpected")},
    "rayjob-typo-in-pod-template.yaml": {
        (
            "schema",
            "spec.rayClusterSpec.headGroupSpec.template.spec.containers.0",
            "'imagePullPolicyy' was unexpected",
        ),
    },
    "raycluster-string-replicas.yaml": {
        ("schema", "spec.workerGroupSpecs.0.replicas", "'2' is not of type 'integer'"),
    },
    "rayjob-long-name.yaml": {("operator", "metadata.name", "has 60 characters, at most 47")},
    "rayjob-ttl-without-shutdown.yaml": {
        ("operator", "spec.ttlSecondsAfterFinished", "needs shutdownAfterJobFinishes: true"),
    },
    "raycluster-numeric-raystartparams.yaml": {
        ("schema", "spec.headGroupSpec.rayStartParams.num-cpus", "0 is not of type 'string'"),
        ("operator", "spec.headGroupSpec.rayStartParams.num-cpus", "rayStartParams values must be strings"),
    },
    "raycluster-resources-twice.yaml": {
        ("operator", "spec.workerGroupSpecs.0.resources", "both in rayStartParams and in resources"),
    },
    "raycluster-unquoted-resources.yaml": {
        ("operator", "spec.workerGroupSpecs.0.rayStartParams.resources", "is not in double quotes"),
    },
    "raycronjob-long-name.yaml": {("operator", "metadata.name", "has 44 characters, at most 36")},
    "cronjob-typo-field.yaml": {("schema", "spec", "'concurencyPolicy' was unexpected")},
    "raycluster-token-auth-old-ray.yaml": {
        ("operator", "spec.authOptions.mode", "token auth needs rayVersion >= 2.52.0"),
    },
}


def test_every_broken_fixture_has_a_case() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(BROKEN_CASES)


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_a_broken_manifest_fails_for_the_expected_reason(name: str) -> None:
    problems = k8s.validate_all(k8s.load_docs(BROKEN / name))
    expected = BROKEN_CASES[name]
    assert {(p.rule, p.path) for p in problems} == {(rule, path) for rule, path, _ in expected}, problems
    for rule, path, words in expected:
        messages = [p.message for p in problems if (p.rule, p.path) == (rule, path)]
        assert any(words in m for m in messages), (words, messages)


# --- the project's manifests ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_file_validates(path: Path) -> None:
    assert k8s.validate_all(k8s.load_docs(path)) == []


def test_every_kind_is_covered_by_the_manifest_files() -> None:
    kinds = {d["kind"] for p in resource_files() for d in k8s.load_docs(p)}
    assert {"RayJob", "RayCluster", "RayCronJob", "CronJob", "ServiceAccount", "Role", "RoleBinding"} <= kinds
    assert "NetworkPolicy" in kinds


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_validates_and_references_only_what_exists(
    overlay: str,
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered[overlay]
    assert k8s.validate_all(docs) == []
    assert k8s.dangling(docs) == EXTERNAL[overlay]
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    assert namespaces == {f"evalfleet-{overlay}" if overlay != "prod" else "evalfleet"}


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_component_renders_with_the_base_and_validates(component: str, tmp_path: Path) -> None:
    # components that patch the cluster spec go before the workloads, which copy it
    parts = [component, *WORKLOADS] if component in SPEC_PATCHES else [component]
    docs = compose(tmp_path, parts)
    assert k8s.validate_all(docs) == []
    assert k8s.dangling(docs) == {"Secret/evalfleet-s3"}


def test_the_sysbox_component_drops_privileges_from_every_worker(tmp_path: Path) -> None:
    docs = compose(tmp_path, ["sysbox", *WORKLOADS])  # before the workloads, which copy the spec
    clusters = [c for d in docs for _, c in k8s.cluster_specs(d)]
    assert len(clusters) == 4
    for cluster in clusters:
        pod = cluster["workerGroupSpecs"][0]["template"]
        assert pod["spec"]["runtimeClassName"] == "sysbox-runc"
        assert "privileged" not in pod["spec"]["initContainers"][0].get("securityContext", {})
        assert pod["metadata"]["annotations"]["io.kubernetes.cri-o.userns-mode"].startswith("auto")


# --- the workloads agree ------------------------------------------------------------------------------------


def test_every_workload_runs_the_one_cluster_spec(tmp_path: Path) -> None:
    """The cluster spec is written once (k8s/base/cluster-spec.yaml) and copied into every workload by
    kustomize; the source itself is local-config: not in the output."""
    (source,) = k8s.load_docs(CLUSTER_SPEC)
    docs = compose(tmp_path, list(WORKLOADS))
    clusters = {k8s.resource_id(d): c for d in docs for _, c in k8s.cluster_specs(d)}
    assert sorted(clusters) == [
        "RayCluster/evalfleet",
        "RayCronJob/evalfleet-nightly",
        "RayJob/evalfleet-nightly-template",
        "RayJob/evalfleet-sweep",
    ]
    for where, cluster in clusters.items():
        assert cluster == source["spec"], where
    assert "RayCluster/evalfleet-cluster-spec" not in {k8s.resource_id(d) for d in docs}
    for component in WORKLOADS:  # and nowhere else is a cluster written out
        for path in (K8S / "components" / component).glob("*.yaml"):
            assert "headGroupSpec" not in path.read_text(), path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_an_overlay_patches_every_cluster_alike(
    overlay: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    clusters = [(d["kind"], c) for d in rendered[overlay] for _, c in k8s.cluster_specs(d)]
    assert clusters
    for kind, cluster in clusters[1:]:
        assert cluster == clusters[0][1], kind


def test_the_manifests_ray_version_is_the_images() -> None:
    pinned = re.search(r"^ARG RAY_VERSION=(\S+)$", (K8S / "image/Dockerfile").read_text(), re.M)
    assert pinned is not None
    versions = {
        c["rayVersion"] for p in manifest_files() for d in k8s.load_docs(p) for _, c in k8s.cluster_specs(d)
    }
    assert versions == {pinned.group(1)}


def test_pods_are_wired_to_docker_s3_and_the_sweep_config(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for docs in rendered.values():
        for doc in docs:
            for where, cluster in k8s.cluster_specs(doc):
                head = cluster["headGroupSpec"]["template"]["spec"]
                assert head["containers"][0]["name"] == "ray-head"  # KubeRay: the Ray container is the first
                worker = cluster["workerGroupSpecs"][0]
                pod = worker["template"]["spec"]
                dind = pod["initContainers"][0]
                ray = pod["containers"][0]
                assert dind["restartPolicy"] == "Always" and dind["args"] == ["dockerd", f"--host={SOCKET}"]
                assert {"name": "DOCKER_HOST", "value": SOCKET} in ray["env"]
                socket_dir = {m["name"]: m["mountPath"] for m in dind["volumeMounts"]}
                assert socket_dir["docker-socket"] == "/run/dind" and "docker-storage" in socket_dir
                assert {m["name"]: m["mountPath"] for m in ray["volumeMounts"]}[
                    "docker-socket"
                ] == "/run/dind"
                for container in (head["containers"][0], ray):
                    env = {e["name"] for e in container["env"]}
                    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3"} <= env
                    assert "AWS_DEFAULT_REGION" in env and "AWS_REGION" not in env
                    assert any(m["mountPath"] == "/config" for m in container["volumeMounts"])
                slots = json.loads(worker["rayStartParams"]["resources"][1:-1].replace("\\", ""))
                assert slots["sandbox"] >= 1, where


def test_every_entrypoint_is_one_command_without_shell_syntax(tmp_path: Path) -> None:
    """KubeRay pastes the entrypoint unquoted into a shell line: anything the shell would split on
    (&&, ;, |, $(...), quotes, redirections) would run in the submitter pod instead (see the
    submitter tests below, which run that line)."""
    specs = [s for d in compose(tmp_path, list(WORKLOADS)) for _, s in k8s.rayjob_specs(d)]
    assert len(specs) == 3
    for spec in specs:
        words = spec["entrypoint"].split()
        assert words[0] == "evalfleet-k8s-run" and "/config/sweep.yaml" in words
        assert not re.search(r"[;&|$`'\"<>(){}\\]", spec["entrypoint"]), spec["entrypoint"]
        assert spec["shutdownAfterJobFinishes"] is True and spec["ttlSecondsAfterFinished"] > 0
        assert spec["backoffLimit"] >= 1  # a retry (a new cluster) continues the same sweep


@pytest.mark.parametrize("path", sorted(K8S.rglob("sweep.yaml")), ids=lambda p: str(p.relative_to(K8S)))
def test_the_sweep_configs_load(path: Path) -> None:
    config = load_config(path)
    assert config.ray.address == "auto" and config.store.url.startswith("s3://")
    assert run_sweep_id(config, "20260101-0200") == f"{config.name}-20260101-0200"


# --- the CronJob's launcher --------------------------------------------------------------------------------


def load_script(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_loader(name, importlib.machinery.SourceFileLoader(name, str(path)))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launcher() -> ModuleType:
    return load_script("launch_rayjob", K8S / "components/cronjob/launch_rayjob.py")


def wrapper() -> ModuleType:
    """k8s/image/evalfleet-k8s-run, the RayJobs' entrypoint (a script without .py)."""
    return load_script("evalfleet_k8s_run", WRAPPER)


def prod_template(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return copy.deepcopy(
        next(d for d in by_kind(rendered["prod"], "RayJob") if d["metadata"]["name"].endswith("-template"))
    )


def test_the_launcher_copies_the_template_into_a_valid_running_rayjob(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    template = prod_template(rendered)
    template["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    run = launcher().run_copy(template, run_id="20260101-0200", scheduled_at="2026-01-01T02:00:07Z")
    assert k8s.validate(run) == []
    assert run["metadata"]["name"] == "evalfleet-nightly-20260101-0200"
    assert run["spec"]["suspend"] is False and template["spec"]["suspend"] is True
    assert run["spec"]["entrypoint"] == "evalfleet-k8s-run /config/sweep.yaml --run-id 20260101-0200"
    assert run["spec"]["rayClusterSpec"] == template["spec"]["rayClusterSpec"]
    assert run["metadata"]["labels"]["evalfleet.dev/template"] == "evalfleet-nightly-template"
    assert run["metadata"]["labels"]["evalfleet.dev/run-id"] == "20260101-0200"
    assert "evalfleet.dev/role" not in run["metadata"]["labels"]
    assert run["metadata"]["annotations"] == {"evalfleet.dev/scheduled-at": "2026-01-01T02:00:07Z"}
    manual = launcher().run_copy(template, run_id="manual-20260101-031205", scheduled_at="x")
    assert k8s.validate(manual) == []  # the longest run id still fits KubeRay's 47 characters


def test_the_run_id_is_the_schedule_time_and_a_manual_run_is_distinct() -> None:
    """A CronJob names its Jobs <cronjob>-<schedule time in Unix minutes>; the launcher and the
    RayCronJob path (evalfleet-k8s-run) turn a tick into the same run id."""
    run_id_for = launcher().run_id_for
    tick = calendar.timegm((2026, 1, 1, 2, 0, 0))
    job = f"evalfleet-nightly-{tick // 60}"
    assert run_id_for(job, "evalfleet-nightly", now=tick + 95) == "20260101-0200"
    assert run_id_for(job, "evalfleet-nightly", now=tick + 86400) == "20260101-0200"  # a retried pod
    assert wrapper().run_id_at(tick) == "20260101-0200"
    manual = run_id_for("evalfleet-by-hand", "evalfleet-nightly", now=tick + 4325)
    assert manual == "manual-20260101-031205"
    assert run_id_for("evalfleet-nightly-manual", "evalfleet-nightly", now=tick) == "manual-20260101-020000"


def test_the_launcher_reads_the_rayjob_status() -> None:
    outcome = launcher().outcome
    assert outcome({}) is None
    assert outcome({"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"}) is None
    assert outcome({"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED"}) == 0
    assert outcome({"jobDeploymentStatus": "Complete", "jobStatus": "FAILED"}) == 1
    assert outcome({"jobDeploymentStatus": "Failed"}) == 1
    assert outcome({"jobDeploymentStatus": "Running", "jobStatus": "STOPPED"}) == 1


def test_the_launcher_fails_a_succeeded_job_that_evaluated_nothing(tmp_path: Path) -> None:
    """A SUCCEEDED RayJob is not enough: the sweep of the run id must be in the store with every planned
    item committed (the broken entrypoint of KubeRay issue 3802 succeeded without running evalfleet)."""
    from orchestrator.execute import write_manifest
    from orchestrator.store import open_store
    from orchestrator.sweep import plan_sweep

    raw = yaml.safe_load(Path("configs/demo.yaml").read_text())
    raw["store"] = {"url": f"file://{tmp_path / 'store'}"}
    config_path = tmp_path / "sweep.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    evaluated = launcher().evaluated
    problem = evaluated(str(config_path), "20260101-0200")
    assert problem == (
        f"sweep demo-20260101-0200 has no manifest in file://{tmp_path / 'store'}: the job did not run evalfleet"
    )
    config = load_config(config_path)
    plan = plan_sweep(config, sweep_id=run_sweep_id(config, "20260101-0200"))
    write_manifest(open_store(config.store.url), config, plan)
    problem = evaluated(str(config_path), "20260101-0200")
    assert problem == f"sweep demo-20260101-0200 evaluated 0 of {len(plan.items)} planned items"
    assert evaluated(str(config_path), "20260102-0200") is not None  # another tick: another sweep


def test_the_scheduler_may_do_what_the_launcher_does_and_no_more(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered["prod"]
    (role,) = by_kind(docs, "Role")
    source = (K8S / "components/cronjob/launch_rayjob.py").read_text()
    verbs = set(re.findall(r'kubectl\(\s*"(\w+)"', source))  # every kubectl call, all on rayjobs
    assert verbs == {"get", "create", "delete"}
    assert set(re.findall(r'kubectl\(\s*"\w+",\s*"(\w+)"', source)) - {"-f"} == {"rayjob"}
    assert role["rules"] == [
        {
            "apiGroups": ["ray.io"],
            "resources": ["rayjobs"],
            "verbs": sorted(verbs, key=["get", "create", "delete"].index),
        }
    ]
    (cron,) = by_kind(docs, "CronJob")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "evalfleet-scheduler"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["TEMPLATE"]["value"] == "evalfleet-nightly-template"
    assert env["CRONJOB"]["value"] == cron["metadata"]["name"]
    assert (
        env["JOB_NAME"]["valueFrom"]["fieldRef"]["fieldPath"]
        == "metadata.labels['batch.kubernetes.io/job-name']"
    )


# --- the entrypoint as KubeRay runs it ----------------------------------------------------------------------

STUB_RAY = """#!{python}
# `ray` in the submitter pod: records its argv; `job submit` runs the entrypoint as Ray's job
# supervisor does (list2cmdline of the words after --, through /bin/sh, with the job config in the
# environment); `job status` says "not submitted yet".
import json, os, subprocess, sys
args = sys.argv[1:]
def record(**kw):
    with open(os.environ["STUB_LOG"], "a") as f:
        f.write(json.dumps(kw) + "\\n")
record(who="ray", argv=args, context=os.environ.get("STUB_CONTEXT", "submitter"))
if args[:2] == ["job", "status"]:
    sys.exit(1)
if args[:2] == ["job", "submit"]:
    words = args[args.index("--") + 1:]
    sid = args[args.index("--submission-id") + 1]
    job = json.dumps({{"runtime_env": {{}}, "metadata": {{"job_submission_id": sid, "job_name": sid}}}})
    env = dict(os.environ, STUB_CONTEXT="ray-job", RAY_JOB_CONFIG_JSON_ENV_VAR=job)
    done = subprocess.run(subprocess.list2cmdline(words), shell=True, env=env)
    record(who="ray-job", rc=done.returncode)
    sys.exit(0 if "--no-wait" in args else done.returncode)
"""
STUB_EVALFLEET = """#!{python}
import json, os, sys
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(dict(who="evalfleet", argv=sys.argv[1:], cwd=os.getcwd(),
                            context=os.environ.get("STUB_CONTEXT", "submitter"))) + "\\n")
"""


def run_submitter(
    tmp_path: Path, rayjob: dict[str, Any], job_id: str, mode: str | None = None
) -> list[dict[str, Any]]:
    """Run KubeRay 1.7's submitter command line for ``rayjob`` with stub ``ray``, ``python`` (the
    dashboard health check) and ``evalfleet`` first on PATH and the real evalfleet-k8s-run; what
    each was called with, in order."""
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for name, text in (("ray", STUB_RAY), ("evalfleet", STUB_EVALFLEET), ("python", "#!/bin/sh\nexit 0\n")):
        (stubs / name).write_text(text.format(python=sys.executable))
        (stubs / name).chmod(0o755)
    if not (stubs / "evalfleet-k8s-run").exists():
        (stubs / "evalfleet-k8s-run").symlink_to(WRAPPER)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    log = tmp_path / "calls.jsonl"
    log.unlink(missing_ok=True)
    argv = k8s.submitter_command(rayjob, job_id=job_id, mode=mode)
    done = subprocess.run(
        argv,
        env={"PATH": f"{stubs}:{os.environ['PATH']}", "STUB_LOG": str(log), "EVALFLEET_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def evalfleet_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if c["who"] == "evalfleet"]


@pytest.mark.parametrize("mode", ["K8sJobMode", "SidecarMode"])
def test_the_one_off_rayjob_runs_the_whole_sweep_as_the_ray_job(
    mode: str, rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    (rayjob,) = [d for d in by_kind(rendered["dev"], "RayJob")]
    calls = run_submitter(tmp_path, rayjob, job_id="evalfleet-sweep-x7k2q", mode=mode)
    (submit,) = [c for c in calls if c["who"] == "ray" and c["argv"][:2] == ["job", "submit"]]
    assert submit["argv"][submit["argv"].index("--") + 1 :] == ["evalfleet-k8s-run", "/config/sweep.yaml"]
    assert evalfleet_calls(calls) == [
        {
            "who": "evalfleet",
            "argv": [
                "run",
                "/config/sweep.yaml",
                "--set",
                "ray.address=auto",
            ],  # no run id: the config's sweep
            "cwd": str(tmp_path / "home"),
            "context": "ray-job",
        }
    ]
    assert {"who": "ray-job", "rc": 0} in calls


def test_the_raycronjob_tick_runs_its_sweep_under_the_schedule_time(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """RayCronJob's child is <name>-<Unix minutes> with the jobTemplate as spec; the run id comes
    from the submission id <rayjob>-<5 characters> (KubeRay 1.7 getRayJobName, GenerateRayJobId)."""
    cron = compose(tmp_path / "k", ["raycronjob"])
    (raycronjob,) = by_kind(cron, "RayCronJob")
    minutes = int(time.time() // 60)
    child = {
        "metadata": {"name": f"{raycronjob['metadata']['name']}-{minutes}"},
        "spec": raycronjob["spec"]["jobTemplate"],
    }
    assert len(child["metadata"]["name"]) <= k8s.MAX_RAYJOB_NAME
    calls = run_submitter(tmp_path, child, job_id=f"{child['metadata']['name']}-b4r9z")
    run_id = time.strftime("%Y%m%d-%H%M", time.gmtime(minutes * 60))
    (call,) = evalfleet_calls(calls)
    assert call["context"] == "ray-job"
    assert call["argv"] == ["run", "/config/sweep.yaml", "--set", "ray.address=auto", "--run-id", run_id]
    # a tick the operator created late, after an outage: skipped, nothing evaluated
    stale = f"{raycronjob['metadata']['name']}-{minutes - 120}"
    calls = run_submitter(tmp_path, {**child, "metadata": {"name": stale}}, job_id=f"{stale}-q8w2e")
    assert evalfleet_calls(calls) == [] and {"who": "ray-job", "rc": 0} in calls


def test_the_cronjob_launchers_rayjob_runs_its_sweep_under_its_run_id(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    run = launcher().run_copy(
        prod_template(rendered), run_id="20260101-0200", scheduled_at="2026-01-01T02:00:07Z"
    )
    calls = run_submitter(tmp_path, run, job_id=f"{run['metadata']['name']}-m3n4p")
    (call,) = evalfleet_calls(calls)
    assert call["context"] == "ray-job" and call["cwd"] == str(tmp_path / "home")
    assert call["argv"] == [
        "run",
        "/config/sweep.yaml",
        "--set",
        "ray.address=auto",
        "--run-id",
        "20260101-0200",
    ]


def test_the_old_shell_entrypoint_ran_evalfleet_in_the_submitter(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """What the submitter tests catch (KubeRay issues 3802, 3929): `cd DIR && evalfleet run ...` made
    `cd DIR` the Ray job and ran evalfleet in the submitter pod."""
    (rayjob,) = copy.deepcopy(by_kind(rendered["dev"], "RayJob"))
    rayjob["spec"]["entrypoint"] = (
        "cd /opt/evalfleet && evalfleet run /config/sweep.yaml --set ray.address=auto"
    )
    calls = run_submitter(tmp_path, rayjob, job_id="evalfleet-sweep-x7k2q")
    (submit,) = [c for c in calls if c["who"] == "ray" and c["argv"][:2] == ["job", "submit"]]
    assert submit["argv"][submit["argv"].index("--") + 1 :] == ["cd", "/opt/evalfleet"]
    assert [c["context"] for c in evalfleet_calls(calls)] == ["submitter"]


def test_the_wrapper_refuses_a_missing_config_and_keeps_given_options() -> None:
    command = wrapper().command
    with pytest.raises(SystemExit, match="usage"):
        command([], {}, 0.0)
    job = json.dumps({"metadata": {"job_submission_id": "evalfleet-nightly-29450520-abcde"}})
    env = {"RAY_JOB_CONFIG_JSON_ENV_VAR": job}
    tick = 29450520 * 60
    assert command(["c.yaml", "--run-id", "mine"], env, tick)[-2:] == ["--run-id", "mine"]
    assert command(["c.yaml", "--dry-run"], env, tick) == [
        "evalfleet",
        "run",
        "c.yaml",
        "--set",
        "ray.address=auto",
        "--run-id",
        wrapper().run_id_at(tick),
        "--dry-run",
    ]
    assert command(["--starting-deadline-s", "60", "c.yaml"], env, tick + 61) == (
        f"skipped: the tick of {wrapper().run_id_at(tick)} is 61 s old, past the starting deadline of 60 s"
    )
    # a one-off RayJob's submission id has no schedule time: the config's own sweep
    other = {
        "RAY_JOB_CONFIG_JSON_ENV_VAR": json.dumps(
            {"metadata": {"job_submission_id": "evalfleet-sweep-abcde"}}
        )
    }
    assert "--run-id" not in command(["c.yaml"], other, tick)


# --- autoscaling, storage, scheduling, security ----------------------------------------------------------------


def all_clusters(rendered: dict[str, list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{overlay}:{k8s.resource_id(d)}", c)
        for overlay, docs in rendered.items()
        for d in docs
        for _, c in k8s.cluster_specs(d)
    ]


def test_the_autoscaler_is_on_with_a_replica_range_and_an_api_token(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for where, cluster in all_clusters(rendered):
        assert cluster["enableInTreeAutoscaling"] is True, where
        assert cluster["autoscalerOptions"]["idleTimeoutSeconds"] >= 900, where  # image caches stay warm
        for group in cluster["workerGroupSpecs"]:
            assert 1 <= group["minReplicas"] < group["maxReplicas"], where
        head = cluster["headGroupSpec"]["template"]["spec"]
        # KubeRay binds its autoscaler Role to the head's service account; the sidecar needs the token
        assert (
            head["serviceAccountName"] == "evalfleet-ray-head"
            and head["automountServiceAccountToken"] is True
        )
        worker = cluster["workerGroupSpecs"][0]["template"]["spec"]
        assert (
            worker["serviceAccountName"] == "evalfleet-ray"
            and worker["automountServiceAccountToken"] is False
        )
    for docs in rendered.values():
        accounts = {d["metadata"]["name"]: d for d in by_kind(docs, "ServiceAccount")}
        assert accounts["evalfleet-ray"]["automountServiceAccountToken"] is False
        assert "evalfleet-ray-head" in accounts


def test_ray_token_auth_is_on_everywhere(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for where, cluster in all_clusters(rendered):
        assert cluster["authOptions"] == {"mode": "token"}, where


def test_every_pod_requests_ephemeral_storage_and_no_worker_pod_limits_it(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """A worker's emptyDir past the pod's summed ephemeral-storage limits gets the pod evicted: requests
    (scheduling) everywhere, limits nowhere in a worker pod; the emptyDir's sizeLimit within dind's request."""
    units = {"Gi": 1 << 30, "Mi": 1 << 20}

    def size(text: str) -> int:
        return int(text[:-2]) * units[text[-2:]]

    for overlay, docs in rendered.items():
        pods = [p for d in docs for p in k8s.pod_specs(d)]
        assert pods
        for pod in pods:
            for container in pod["containers"] + pod.get("initContainers", []):
                requests = container["resources"]["requests"]
                assert "ephemeral-storage" in requests, (overlay, container["name"])
        for where, cluster in all_clusters({overlay: docs}):
            pod = cluster["workerGroupSpecs"][0]["template"]["spec"]
            for container in pod["containers"] + pod["initContainers"]:
                assert "ephemeral-storage" not in container["resources"].get("limits", {}), where
            storage = next(v for v in pod["volumes"] if v["name"] == "docker-storage")
            if "emptyDir" in storage:
                dind = pod["initContainers"][0]["resources"]["requests"]["ephemeral-storage"]
                assert size(storage["emptyDir"]["sizeLimit"]) <= size(dind), where
            else:  # prod: a claim per worker, created and deleted with the pod
                claim = storage["ephemeral"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]
                assert size(claim["storage"]) >= 100 << 30, where


def test_the_network_policy_fences_the_sandbox_workers(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for overlay, docs in rendered.items():
        (policy,) = by_kind(docs, "NetworkPolicy")
        spec = policy["spec"]
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
        selector = spec["podSelector"]["matchLabels"]
        for where, cluster in all_clusters({overlay: docs}):
            workers = cluster["workerGroupSpecs"][0]["template"]["metadata"]["labels"]
            head = cluster["headGroupSpec"]["template"]["metadata"]["labels"]
            assert selector.items() <= workers.items(), where  # selects every worker pod
            assert not selector.items() <= head.items(), where  # and not the head
        blocks = [p["ipBlock"] for rule in spec["egress"] for p in rule.get("to", []) if "ipBlock" in p]
        for block in blocks:
            assert block["cidr"] == "0.0.0.0/0"
            for denied in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"):
                assert denied in block["except"]  # cluster ranges and the metadata service (169.254.169.254)
        peers = [p for rule in spec["egress"] for p in rule.get("to", []) if "ipBlock" not in p]
        assert {
            "podSelector": {"matchLabels": {"ray.io/is-ray-node": "yes"}}
        } in peers  # the head, other workers
        dns = [r for r in spec["egress"] if any(p.get("port") == 53 for p in r.get("ports", []))]
        assert dns and dns[0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
        assert any(
            p.get("podSelector", {}).get("matchLabels") == {"evalfleet.dev/sandbox-egress": "allowed"}
            for p in peers
        )  # an in-cluster object store or registry, by label


def test_the_namespaces_admit_the_privileged_dind_sidecar(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for docs in rendered.values():
        (namespace,) = by_kind(docs, "Namespace")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_the_region_variable_is_the_one_botocore_reads(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for docs in rendered.values():
        text = yaml.safe_dump_all(docs)
        assert "AWS_REGION" not in text.replace("AWS_DEFAULT_REGION", "")
    for path in K8S.rglob("*"):
        if path.is_file():
            assert "AWS_REGION" not in path.read_text().replace("AWS_DEFAULT_REGION", ""), path


def test_scheduled_runs_do_not_pile_up_and_retries_continue(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    (cron,) = by_kind(rendered["prod"], "CronJob")
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid" and 0 < spec["startingDeadlineSeconds"] <= 6 * 3600
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    assert spec["jobTemplate"]["spec"]["backoffLimit"] >= 1
    (raycron,) = by_kind(compose(tmp_path, ["raycronjob"]), "RayCronJob")
    assert len(raycron["metadata"]["name"]) <= 36  # KubeRay 1.7 MaxRayCronJobNameLength
    words = raycron["spec"]["jobTemplate"]["entrypoint"].split()
    assert (
        words[:3] == ["evalfleet-k8s-run", "--starting-deadline-s", words[2]]
        and 0 < float(words[2]) <= 6 * 3600
    )


def test_every_worker_prunes_its_images_within_its_storage(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """The image-pruner container keeps each worker's images (evalfleet's layers and pulled prebuilt
    images) under a budget below the Docker storage, least recently used first, sharing the use
    records the Ray worker writes."""
    units = {"G": 1 << 30, "Gi": 1 << 30}

    def size(text: str) -> int:
        number = re.match(r"\d+", text)
        assert number is not None
        return int(number.group()) * units[text[number.end() :]]

    for where, cluster in all_clusters(rendered):
        pod = cluster["workerGroupSpecs"][0]["template"]["spec"]
        ray, pruner = pod["containers"]
        assert pruner["name"] == "image-pruner" and "evalfleet images prune --budget" in pruner["args"][0]
        env = {e["name"]: e.get("value") for e in pruner["env"]}
        assert env["DOCKER_HOST"] == SOCKET
        storage = next(v for v in pod["volumes"] if v["name"] == "docker-storage")
        room = (
            storage["emptyDir"]["sizeLimit"]
            if "emptyDir" in storage
            else storage["ephemeral"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
        )
        assert size(env["EVALFLEET_PRUNE_BUDGET"]) < size(room), where
        mounts = [{m["name"]: m["mountPath"] for m in c["volumeMounts"]} for c in (ray, pruner)]
        assert all(m["image-state"] == "/var/lib/evalfleet" for m in mounts), (
            where
        )  # ImageOptions' state_dir as root
        registry = {e["name"]: e for e in ray["env"]}
        for var in ("EVALFLEET_REGISTRY_USERNAME", "EVALFLEET_REGISTRY_PASSWORD"):
            assert registry[var]["valueFrom"]["secretKeyRef"]["optional"] is True  # a login only where needed


def test_the_registry_mirror_component_reaches_every_workers_dockerd(tmp_path: Path) -> None:
    docs = compose(tmp_path, ["registry-mirror", *WORKLOADS])
    clusters = [c for d in docs for _, c in k8s.cluster_specs(d)]
    assert len(clusters) == 4
    for cluster in clusters:
        args = cluster["workerGroupSpecs"][0]["template"]["spec"]["initContainers"][0]["args"]
        mirror = [a for a in args if a.startswith("--registry-mirror=")]
        assert args[:2] == ["dockerd", f"--host={SOCKET}"] and len(mirror) == 1
        host = mirror[0].split("://", 1)[1].rstrip("/")
        assert f"--insecure-registry={host}" in args  # an http:// mirror must be named insecure too
