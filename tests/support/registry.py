"""A real image registry on loopback: Debian's ``docker-registry`` (distribution 2.8), one per session.

Docker's engine treats 127.0.0.0/8 as an insecure registry by default, so plain HTTP on 127.0.0.1 works
without any daemon setting. ``make test`` installs the package (Makefile ``test-deps``).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

MISSING = "docker-registry is not installed (Debian: apt-get install docker-registry; `make test` does it)"


def find_registry() -> str | None:
    return shutil.which("docker-registry")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRegistry:
    """``docker-registry serve`` on 127.0.0.1:<free port>, storage in ``root``, no auth."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.address},
        }
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "config.yml"
        path.write_text(yaml.safe_dump(config))
        binary = find_registry()
        assert binary is not None, MISSING
        log = (self.root / "registry.log").open("ab")
        self.proc = subprocess.Popen([binary, "serve", str(path)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(self.root / 'registry.log').read_text()[-500:]}"
                )
            try:
                with urllib.request.urlopen(f"http://{self.address}/v2/", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer on {self.address} within {timeout_s:.0f} s")

    def tags(self, repository: str) -> list[str]:
        """Tags of ``repository`` in the registry (its HTTP API), [] when it has none."""
        try:
            with urllib.request.urlopen(f"http://{self.address}/v2/{repository}/tags/list", timeout=10) as r:
                return sorted(json.load(r).get("tags") or [])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
