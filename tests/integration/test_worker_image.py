"""The Kubernetes image (k8s/image/Dockerfile) builds with the local Docker engine on evalfleet's base
image, and a container from it runs evalfleet, imports Ray and the Docker SDK, and reaches a Docker
engine through the socket path the pods use (DOCKER_HOST=unix:///run/dind/docker.sock)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "k8s" / "image" / "Dockerfile"
POD_SOCKET_DIR = "/run/dind"
BUILD_TIMEOUT_S = 900


def context_and_args(dest: Path) -> dict[str, str]:
    """k8s/image/context.py: the build context in ``dest`` and this host's site build arguments."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "k8s/image/context.py"), str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def build(client: Any, ctx: Path, tag: str, buildargs: dict[str, str]) -> list[str]:
    """Build with the engine's API (as the SDK does for evalfleet's own images); the log lines."""
    lines: list[str] = []
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    for chunk in client.api.build(
        path=str(ctx),
        tag=tag,
        buildargs=buildargs,
        rm=True,
        forcerm=True,
        decode=True,
        labels={"evalfleet.test": "k8s-image"},
    ):
        if "errorDetail" in chunk:
            tail = "".join(lines[-20:])
            pytest.fail(f"build failed: {chunk['errorDetail'].get('message')}\n{tail}")
        lines.append(chunk.get("stream", ""))
        assert time.monotonic() < deadline, "the image build took too long"
    return lines


def host_socket(client: Any) -> str | None:
    url = str(client.api.base_url)
    path = "/var/run/docker.sock" if url.startswith("http+docker://localhost") else None
    return path if path and os.path.exists(path) else None


@pytest.fixture(scope="module")
def k8s_image(docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The image, built under a tag of this test run only; removed at the end, its layers kept as cache."""
    ctx = tmp_path_factory.mktemp("k8s-image")
    args = context_and_args(ctx)
    tag = f"evalfleet/ray:pytest-{os.getpid()}"
    t0 = time.monotonic()
    log = build(docker_client, ctx, tag, {"BASE_IMAGE": base_image, **args})
    image = docker_client.images.get(tag)
    image.build_seconds = time.monotonic() - t0  # type: ignore[attr-defined]
    image.build_log = log  # type: ignore[attr-defined]
    yield image
    docker_client.images.remove(tag, noprune=True)


def run(client: Any, image: Any, script: str, **kwargs: Any) -> str:
    out: bytes = client.containers.run(
        image.id, ["bash", "-euo", "pipefail", "-c", script], remove=True, **kwargs
    )
    return out.decode()


def test_the_image_is_built_on_the_base_and_caches_dependencies(
    docker_client: Any,
    k8s_image: Any,
    base_image: str,
) -> None:
    assert docker_client.images.get(base_image).id in [layer["Id"] for layer in k8s_image.history()]
    steps = [line for line in k8s_image.build_log if line.startswith("Step ")]
    # dependencies are installed before the source is copied, so a source change reuses their layer
    text = "".join(steps)
    assert text.index("requirements.txt") < text.index("COPY src/")
    assert k8s_image.labels["evalfleet.test"] == "k8s-image"
    assert k8s_image.attrs["Config"]["WorkingDir"] == "/opt/evalfleet"


def test_the_image_runs_evalfleet_ray_docker_and_kubectl(docker_client: Any, k8s_image: Any) -> None:
    out = run(
        docker_client,
        k8s_image,
        (
            "evalfleet --help > /tmp/help && head -1 /tmp/help; "
            'python -c \'import ray, docker; print("ray", ray.__version__, "docker-sdk", docker.__version__)\'; '
            "docker --version; kubectl version --client > /tmp/kubectl && head -1 /tmp/kubectl; "
            "test -f configs/specs/django__django.yaml && echo specs-present; "
            "python -c 'import orchestrator, sys; print(orchestrator.__file__)'"
        ),
    )
    pinned = re.search(r"^ARG RAY_VERSION=(\S+)$", DOCKERFILE.read_text(), re.M)
    assert pinned is not None
    assert "Usage: evalfleet" in out
    assert f"ray {pinned.group(1)} docker-sdk " in out
    assert "Docker version" in out and "Client Version: v" in out
    assert "specs-present" in out
    assert "/opt/venv/lib/python3.11/site-packages/orchestrator/" in out  # installed, not a source tree


def test_the_image_reaches_docker_through_the_pod_socket_path(docker_client: Any, k8s_image: Any) -> None:
    socket = host_socket(docker_client)
    if socket is None:
        pytest.skip("the Docker engine is not on the local unix socket")
    out = run(
        docker_client,
        k8s_image,
        "docker version --format '{{.Server.Version}}'; "
        "python -c 'import docker; print(\"ping\", docker.from_env().ping())'",
        environment={"DOCKER_HOST": f"unix://{POD_SOCKET_DIR}/docker.sock"},
        volumes={socket: {"bind": f"{POD_SOCKET_DIR}/docker.sock", "mode": "rw"}},
    )
    assert "ping True" in out
    assert out.splitlines()[0] == docker_client.version()["Version"]


def test_the_rayjob_entrypoint_runs_evalfleet_from_its_directory(docker_client: Any, k8s_image: Any) -> None:
    """evalfleet-k8s-run (every RayJob's entrypoint) is on PATH, runs with the image's Python, and
    executes `evalfleet run` in /opt/evalfleet with the run id of a RayCronJob tick."""
    job = '{"metadata": {"job_submission_id": "evalfleet-nightly-29450520-abcde"}}'
    out = run(
        docker_client,
        k8s_image,
        f"cd / && RAY_JOB_CONFIG_JSON_ENV_VAR='{job}' evalfleet-k8s-run /missing/sweep.yaml --dry-run 2>&1 || echo rc=$?",
    )
    lines = out.strip().splitlines()
    run_id = time.strftime("%Y%m%d-%H%M", time.gmtime(29450520 * 60))
    assert lines[0] == (
        "evalfleet-k8s-run: evalfleet run /missing/sweep.yaml --set ray.address=auto "
        f"--run-id {run_id} --dry-run"
    )
    assert lines[1].startswith("evalfleet: error: ") and "/missing/sweep.yaml" in lines[1]
    assert lines[-1] == "rc=2"
