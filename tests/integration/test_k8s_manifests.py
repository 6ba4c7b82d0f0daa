"""k8s/: every manifest and every kustomize overlay validates offline (KubeRay CRD schemas made strict,
kubernetes-validate --strict, KubeRay's own rules), the workloads agree with each other and with the
image, and deliberately broken manifests fail for the expected reason (tests/support/k8s.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from support import k8s

from orchestrator.config import load_config

pytestmark = pytest.mark.k8s

K8S = k8s.ROOT / "k8s"
BROKEN = k8s.ROOT / "tests" / "fixtures" / "k8s-broken"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
COMPONENTS = sorted(p.parent.name for p in (K8S / "components").glob("*/kustomization.yaml"))
WORKLOADS = ("sweep-job", "cluster", "raycronjob", "cronjob")
SOCKET = "unix:///run/dind/docker.sock"
# Resources an overlay expects to exist already (created by hand, see docs/kubernetes.md).
EXTERNAL = {"dev": set(), "prod": {"Secret/evalfleet-s3"}}


def manifest_files() -> list[Path]:
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


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: k8s.render(K8S / "overlays" / name) for name in OVERLAYS}


def compose(tmp_path: Path, components: list[str]) -> list[dict[str, Any]]:
    """The base with these components, rendered through a throwaway kustomization (kustomize wants
    relative paths)."""
    here = tmp_path.resolve()
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
    doc = yaml.safe_load((K8S / "components/sweep-job/rayjob.yaml").read_text())
    head = doc["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["resources"] = {
        "requests": {"cpu": 2, "memory": "2Gi"},
        "limits": {"cpu": "2500m", "memory": 4294967296},
    }
    head["ports"][0]["containerPort"] = 6379
    assert k8s.validate(doc) == []
    head["resources"]["requests"]["cpu"] = [2]
    assert [p.path for p in k8s.validate(doc)] == [
        "spec.rayClusterSpec.headGroupSpec.template.spec.containers.0.resources.requests.cpu"
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
    "raycronjob-long-name.yaml": {("operator", "metadata.name", "has 44 characters, at most 41")},
    "cronjob-typo-field.yaml": {("schema", "spec", "'concurencyPolicy' was unexpected")},
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
    kinds = {d["kind"] for p in manifest_files() for d in k8s.load_docs(p)}
    assert {"RayJob", "RayCluster", "RayCronJob", "CronJob", "ServiceAccount", "Role", "RoleBinding"} <= kinds


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
    parts = [*WORKLOADS, "sysbox"] if component == "sysbox" else [component]
    docs = compose(tmp_path, parts)
    assert k8s.validate_all(docs) == []
    assert k8s.dangling(docs) == {"Secret/evalfleet-s3"}


def test_the_sysbox_component_drops_privileges_from_every_worker(tmp_path: Path) -> None:
    docs = compose(tmp_path, [*WORKLOADS, "sysbox"])
    clusters = [c for d in docs for _, c in k8s.cluster_specs(d)]
    assert len(clusters) == 4
    for cluster in clusters:
        pod = cluster["workerGroupSpecs"][0]["template"]
        assert pod["spec"]["runtimeClassName"] == "sysbox-runc"
        assert "privileged" not in pod["spec"]["initContainers"][0].get("securityContext", {})
        assert pod["metadata"]["annotations"]["io.kubernetes.cri-o.userns-mode"].startswith("auto")


# --- the workloads agree ------------------------------------------------------------------------------------


def _pods(cluster: dict[str, Any]) -> dict[str, Any]:
    """What must be the same wherever a cluster is defined: pods and Ray parameters, not the scale."""
    workers = [
        {k: v for k, v in g.items() if k not in ("replicas", "minReplicas", "maxReplicas")}
        for g in cluster.get("workerGroupSpecs", [])
    ]
    return {"rayVersion": cluster.get("rayVersion"), "head": cluster["headGroupSpec"], "workers": workers}


def test_every_workload_defines_the_same_cluster() -> None:
    clusters = {}
    for component in WORKLOADS:
        for path in sorted((K8S / "components" / component).glob("*.yaml")):
            for doc in k8s.load_docs(path):
                for _, cluster in k8s.cluster_specs(doc) if isinstance(doc, dict) else []:
                    clusters[f"{component}/{path.name}"] = _pods(cluster)
    assert len(clusters) == 4
    reference = clusters.pop("sweep-job/rayjob.yaml")
    for where, cluster in clusters.items():
        assert cluster == reference, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_an_overlay_patches_every_cluster_alike(
    overlay: str, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    clusters = [(d["kind"], c) for d in rendered[overlay] for _, c in k8s.cluster_specs(d)]
    assert clusters
    for kind, cluster in clusters[1:]:
        assert _pods(cluster) == _pods(clusters[0][1]), kind
        assert cluster["workerGroupSpecs"][0]["replicas"] == clusters[0][1]["workerGroupSpecs"][0]["replicas"]


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
                    assert any(m["mountPath"] == "/config" for m in container["volumeMounts"])
                slots = json.loads(worker["rayStartParams"]["resources"][1:-1].replace("\\", ""))
                assert slots["sandbox"] >= 1, where


def test_every_sweep_is_run_against_its_own_cluster_from_the_mounted_config() -> None:
    for path in manifest_files():
        for doc in k8s.load_docs(path):
            for _, spec in k8s.rayjob_specs(doc):
                entrypoint = " ".join(spec["entrypoint"].split())
                assert entrypoint.startswith("cd /opt/evalfleet && evalfleet run /config/sweep.yaml")
                assert "--set ray.address=auto" in entrypoint
                assert spec["shutdownAfterJobFinishes"] is True and spec["ttlSecondsAfterFinished"] > 0


@pytest.mark.parametrize("path", sorted(K8S.rglob("sweep.yaml")), ids=lambda p: str(p.relative_to(K8S)))
def test_the_sweep_configs_load(path: Path) -> None:
    config = load_config(path, ["name=nightly-20260101"])  # as the scheduled entrypoints override it
    assert config.ray.address == "auto" and config.store.url.startswith("s3://")
    assert load_config(path).name


# --- the CronJob's launcher --------------------------------------------------------------------------------


def launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "launch_rayjob", K8S / "components/cronjob/launch_rayjob.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_launcher_copies_the_template_into_a_valid_running_rayjob(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    template = next(
        d for d in by_kind(rendered["prod"], "RayJob") if d["metadata"]["name"].endswith("-template")
    )
    template["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    run = launcher().run_copy(template, scheduled_at="2026-01-01T02:00:00Z")
    assert k8s.validate(run) == []
    assert run["metadata"]["generateName"] == "evalfleet-nightly-"
    assert run["spec"]["suspend"] is False and template["spec"]["suspend"] is True
    assert run["spec"]["rayClusterSpec"] == template["spec"]["rayClusterSpec"]
    assert run["metadata"]["labels"]["evalfleet.dev/template"] == "evalfleet-nightly-template"
    assert "evalfleet.dev/role" not in run["metadata"]["labels"]
    assert run["metadata"]["annotations"] == {"evalfleet.dev/scheduled-at": "2026-01-01T02:00:00Z"}


def test_the_launcher_reads_the_rayjob_status() -> None:
    outcome = launcher().outcome
    assert outcome({}) is None
    assert outcome({"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"}) is None
    assert outcome({"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED"}) == 0
    assert outcome({"jobDeploymentStatus": "Complete", "jobStatus": "FAILED"}) == 1
    assert outcome({"jobDeploymentStatus": "Failed"}) == 1
    assert outcome({"jobDeploymentStatus": "Running", "jobStatus": "STOPPED"}) == 1


def test_the_scheduler_may_do_what_the_launcher_does_and_no_more(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered["prod"]
    (role,) = by_kind(docs, "Role")
    assert role["rules"] == [
        {
            "apiGroups": ["ray.io"],
            "resources": ["rayjobs"],
            "verbs": ["get", "list", "watch", "create", "delete"],
        }
    ]
    (cron,) = by_kind(docs, "CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "evalfleet-scheduler"
    assert pod["containers"][0]["env"][0] == {"name": "TEMPLATE", "value": "evalfleet-nightly-template"}
    ray_pods = [p for d in docs if d["kind"] == "RayJob" for p in k8s.pod_specs(d)]
    assert ray_pods and all(p["automountServiceAccountToken"] is False for p in ray_pods)
