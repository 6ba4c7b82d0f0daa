"""Docker backend of the sandbox contract, on the docker SDK.

A sandbox is a container whose PID 1 is an init (``--init``) running ``sleep infinity``; commands run
through exec. Defaults: no network, memory limit with no swap, CPU quota, pids limit, every capability
dropped except CHOWN, DAC_OVERRIDE and FOWNER (so root in the sandbox can still write, chown and chmod
files the way test suites expect), no-new-privileges, RLIMIT_FSIZE from ``limits.disk_mb``, no Docker
socket, no tmpfs on /tmp. See workers/sandbox/README.md for the measurements behind these choices.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import docker
import requests
import structlog
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import _create_container_args
from docker.types import Ulimit

from workers.errors import SandboxError
from workers.sandbox import labels
from workers.sandbox.base import ExecResult, SandboxConfig
from workers.sandbox.deadline import bounded, one_line
from workers.sandbox.diskwatch import DiskWatch
from workers.sandbox.docker_exec import ExecRequest, run_exec
from workers.sandbox.files import copy_tree, get_file, put_file

T = TypeVar("T")
log = structlog.get_logger(__name__)

CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER")
NOFILE = 8192  # open files; engines whose own hard limit is lower get theirs
API_TIMEOUT_S = 300.0  # socket timeout of the client; each call has its own, shorter deadline


def call(phase: str, timeout: float, fn: Callable[[], T]) -> T:
    """A Docker API call with a deadline; API and connection errors become SandboxError."""
    try:
        return bounded(phase, timeout, fn)
    except (DockerException, requests.RequestException) as exc:
        raise SandboxError(f"{phase}: {one_line(exc)}") from exc


def container_options(config: SandboxConfig, name: str, *, nofile: int | None = NOFILE) -> dict[str, Any]:
    """Keyword arguments of ``containers.create`` for one sandbox (``nofile`` None: the engine's)."""
    limits = config.limits
    memory = f"{limits.memory_mb}m"
    fsize = limits.disk_mb * 1024 * 1024
    options: dict[str, Any] = {
        "image": config.image,
        "name": name,
        "entrypoint": ["sleep", "infinity"],
        "init": config.init,
        "detach": True,
        "labels": {**config.labels, **labels.owner_labels()},
        "environment": dict(config.env),
        "mem_limit": memory,
        "memswap_limit": memory,
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "cap_drop": ["ALL"],
        "cap_add": list(CAPABILITIES),
        "security_opt": ["no-new-privileges"],
        "ulimits": [Ulimit(name="fsize", soft=fsize, hard=fsize)],
        "read_only": False,
    }
    if nofile is not None:
        options["ulimits"].append(Ulimit(name="nofile", soft=nofile, hard=nofile))
    if not config.network:
        options["network_mode"] = "none"
    if config.workdir:
        options["working_dir"] = config.workdir
    return options


class DockerBackend:
    """Creates Docker sandboxes. The client is made on first use (``docker.from_env``)."""

    name = "docker"

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self._client = client
        self._nofile: int | None = NOFILE
        self._quota: bool | None = None  # does the engine's storage take a size quota? (tried once)

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=int(API_TIMEOUT_S))
            except DockerException as exc:
                raise SandboxError(f"no Docker engine answers: {one_line(exc)}") from exc
        return self._client

    def engine_down(self, timeout: float = 5.0) -> str | None:
        """Why the Docker engine does not answer a ping within ``timeout`` seconds, or None."""
        try:
            client = self.client
            call("ping", timeout, client.ping)
        except SandboxError as exc:
            self._client = None  # a new client next time: the engine may come back on a new socket
            where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
            return f"no Docker engine answers at {where}: {one_line(exc).removeprefix('no Docker engine answers: ')}"
        return None

    def create(self, config: SandboxConfig, *, timeout: float = 60.0) -> DockerSandbox:
        """Create and start a sandbox. Options an engine refuses are dropped once, for this backend's
        life: an open-files limit above the engine's own, a storage quota its storage cannot enforce
        (the disk limit is then watched while commands run: workers/sandbox/diskwatch.py)."""
        started = time.monotonic()
        while True:
            remaining = max(timeout - (time.monotonic() - started), 1.0)
            quota, nofile = self._quota is not False, self._nofile
            try:
                sandbox = self._create(config, remaining, nofile, quota=quota)
                break
            except SandboxError as exc:  # another thread may have dropped the option meanwhile
                if nofile is not None and "rlimit type 7" in str(exc):
                    # The engine's own hard limit on open files is lower than NOFILE: inherit the engine's.
                    log.warning("sandbox.nofile_unsupported", nofile=nofile)
                    self._nofile = None
                elif quota and "storage-opt" in str(exc).lower():
                    log.info("sandbox.no_storage_quota", reason=str(exc)[:200])
                    self._quota = False
                else:
                    raise
        self._quota = self._quota if self._quota is not None else True
        log.debug(
            "sandbox.create", container=sandbox.id[:12], duration_s=round(time.monotonic() - started, 4)
        )
        return sandbox

    def _create(
        self, config: SandboxConfig, timeout: float, nofile: int | None, *, quota: bool
    ) -> DockerSandbox:
        started = time.monotonic()
        name = f"evalfleet-{uuid.uuid4().hex[:16]}"
        api = self.client.api
        options = container_options(config, name, nofile=nofile)
        if quota:
            options["storage_opt"] = {"size": f"{config.limits.disk_mb}M"}
        abandoned = threading.Event()

        def create() -> str:
            # containers.create would inspect the new container too: one API call less per sandbox
            args = _create_container_args({**options, "command": None, "version": api._version})
            container_id: str = api.create_container(**args)["Id"]
            if abandoned.is_set():  # the caller gave up waiting: do not leave the container behind
                api.remove_container(container_id, force=True, v=True)
            return container_id

        try:
            container_id = call("create", timeout, create)
            sandbox = DockerSandbox(api, container_id, config, disk_quota=quota)
            call("start", max(timeout - (time.monotonic() - started), 1.0), lambda: api.start(sandbox.id))
        except SandboxError:
            abandoned.set()
            _remove_quietly(api, name)
            raise
        return sandbox


def _remove_quietly(api: Any, name: str) -> None:
    with contextlib.suppress(SandboxError, NotFound):
        call("remove", 30.0, lambda: api.remove_container(name, force=True, v=True))


class DockerSandbox:
    """A running container; see ``workers.sandbox.base.Sandbox`` for the contract."""

    def __init__(
        self, api: Any, container_id: str, config: SandboxConfig, *, disk_quota: bool = False
    ) -> None:
        self._api = api
        self._id = container_id
        self.config = config
        self.disk_quota = disk_quota  # the engine enforces limits.disk_mb itself (storage-opt size)
        self._dead: str | None = None

    @property
    def id(self) -> str:
        return self._id

    @property
    def alive(self) -> bool:
        return self._dead is None

    def _check_alive(self, *, files_only: bool = False) -> None:
        """Commands need a running sandbox; files can still be read from a stopped one."""
        if self._dead is not None and not (files_only and self._dead != "removed"):
            raise SandboxError(f"sandbox {self._id[:12]} is gone: {self._dead}")

    def exec(
        self,
        cmd: list[str] | str,
        *,
        timeout: float,
        workdir: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        self._check_alive()
        request = ExecRequest(
            container_id=self._id,
            argv=["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd),
            timeout=timeout,
            output_cap=self.config.limits.output_bytes,
            workdir=workdir or self.config.workdir,
            env=dict(env or {}),
            user=user,
            stdin=stdin,
        )
        watch = contextlib.nullcontext() if self.disk_quota else self._disk_watch()
        try:
            with watch:
                result = run_exec(self._api, request, self._kill_for)
        except (DockerException, requests.RequestException) as exc:
            raise SandboxError(f"exec: {one_line(exc)}") from exc
        if isinstance(watch, DiskWatch) and watch.exceeded:
            result = result.model_copy(update={"disk_exceeded": True, "sandbox_killed": True})
        log.debug(
            "sandbox.exec",
            container=self._id[:12],
            returncode=result.returncode,
            timed_out=result.timed_out,
            oom_killed=result.oom_killed,
            output_bytes=result.output_bytes_total,
            duration_s=round(result.duration_s, 4),
        )
        return result

    def _disk_watch(self) -> DiskWatch:
        limit = self.config.limits.disk_mb * 1024 * 1024
        return DiskWatch(self._api, self._id, limit, lambda: self._kill_for("disk limit"))

    def running(self, *, timeout: float = 10.0) -> bool:
        """Whether the container still runs (a spare started before an engine restart does not)."""
        if self._dead is not None:
            return False
        try:
            state = call("inspect", timeout, lambda: self._api.inspect_container(self._id))["State"]
        except SandboxError:
            return False
        return bool(state.get("Running")) and not state.get("Paused")

    def _kill_for(self, reason: str) -> None:
        log.info("sandbox.killed", container=self._id[:12], reason=reason)
        self.stop()
        self._dead = reason

    def write_file(self, path: str, data: bytes, mode: int = 0o644, *, timeout: float = 60.0) -> None:
        self._check_alive()
        path = self._absolute(path)
        call("write_file", timeout, lambda: put_file(self._api, self._id, path, data, mode))

    def read_file(self, path: str, max_bytes: int, *, timeout: float = 60.0) -> bytes:
        self._check_alive(files_only=True)
        path = self._absolute(path)
        try:
            return call("read_file", timeout, lambda: get_file(self._api, self._id, path, max_bytes))
        except SandboxError as exc:
            if isinstance(exc.__cause__, NotFound):
                raise FileNotFoundError(path) from None
            raise

    def copy_out(self, path: str, host_dir: Path, *, timeout: float = 120.0) -> Path:
        self._check_alive(files_only=True)
        path = self._absolute(path)
        try:
            return call("copy_out", timeout, lambda: copy_tree(self._api, self._id, path, Path(host_dir)))
        except SandboxError as exc:
            if isinstance(exc.__cause__, NotFound):
                raise FileNotFoundError(path) from None
            raise

    def _absolute(self, path: str) -> str:
        if posixpath.isabs(path):
            return path
        if not self.config.workdir:
            raise ValueError(f"relative path {path!r} needs SandboxConfig.workdir")
        return posixpath.join(self.config.workdir, path)

    def stop(self, *, timeout: float = 30.0) -> None:
        self._gone("stop", timeout, lambda: self._api.kill(self._id))
        self._dead = self._dead or "stopped"

    def remove(self, *, timeout: float = 30.0, tries: int = 3) -> None:
        """Remove the container. dockerd sometimes fails a removal under load ("directory not empty"
        after a slow kill) and succeeds a moment later: a server error is retried before giving up."""
        for n in range(1, tries + 1):
            try:
                self._gone(
                    "remove", timeout, lambda: self._api.remove_container(self._id, force=True, v=True)
                )
                break
            except SandboxError as exc:
                server_error = isinstance(exc.__cause__, APIError) and (exc.__cause__.status_code or 0) >= 500
                if n == tries or not server_error:
                    raise
                time.sleep(1.0 * n)
        self._dead = "removed"

    def _gone(self, phase: str, timeout: float, fn: Callable[[], object]) -> None:
        """Run a kill or remove; a container that is already gone or not running counts as done."""
        started = time.monotonic()
        try:
            call(phase, timeout, fn)
        except SandboxError as exc:
            cause = exc.__cause__
            conflict = isinstance(cause, APIError) and cause.status_code == 409  # not running / being removed
            if not (isinstance(cause, NotFound) or conflict):
                raise
        log.debug(
            f"sandbox.{phase}", container=self._id[:12], duration_s=round(time.monotonic() - started, 4)
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()
