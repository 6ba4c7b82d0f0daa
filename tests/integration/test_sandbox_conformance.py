"""The sandbox contract, checked the same way against every backend (inspect_ai's self_check idea)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.errors import SandboxError
from workers.models import SandboxLimits
from workers.sandbox import Sandbox, SandboxBackend, SandboxConfig, get_backend

pytestmark = pytest.mark.docker

BACKENDS = ["docker"]
LIMITS = SandboxLimits(memory_mb=256, cpus=1, pids=64, output_bytes=64 * 1024, disk_mb=64)
# Every process's command line, one a line (the minimal image has no ps).
PROCESSES = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> SandboxBackend:
    return get_backend(request.param)


@pytest.fixture
def config(base_image: str, sandbox_labels: dict[str, str]) -> SandboxConfig:
    return SandboxConfig(
        image=base_image,
        limits=LIMITS,
        labels=sandbox_labels,
        env={"EVALFLEET_A": "from-config"},
        workdir="/srv",
    )


@pytest.fixture
def sandbox(backend: SandboxBackend, config: SandboxConfig) -> Iterator[Sandbox]:
    box = backend.create(config, timeout=60)
    yield box
    box.remove()


def test_exit_codes_are_data(sandbox: Sandbox) -> None:
    assert sandbox.exec(["true"], timeout=10).returncode == 0
    failed = sandbox.exec("echo out; echo err >&2; exit 3", timeout=10)
    assert (failed.returncode, failed.timed_out, failed.truncated) == (3, False, False)
    assert sorted(failed.output.splitlines()) == [b"err", b"out"]
    assert failed.output_bytes_total == 8
    assert sandbox.exec(["no-such-command-here"], timeout=10).returncode == 127


def test_env_and_workdir_are_honoured(sandbox: Sandbox) -> None:
    assert sandbox.exec("pwd", timeout=10).output == b"/srv\n"
    assert sandbox.exec(["pwd"], timeout=10, workdir="/tmp").output == b"/tmp\n"
    assert sandbox.exec('echo "$EVALFLEET_A"', timeout=10).output == b"from-config\n"
    assert (
        sandbox.exec('echo "$EVALFLEET_A"', timeout=10, env={"EVALFLEET_A": "per-exec"}).output
        == b"per-exec\n"
    )
    assert sandbox.exec(["id", "-u"], timeout=10, user="nobody").output == b"65534\n"


def test_stdin_reaches_the_command_whole(sandbox: Sandbox) -> None:
    data = bytes(range(256)) * 20_000  # 5 MB: far more than a pipe or a socket buffer holds
    res = sandbox.exec("md5sum", timeout=30, stdin=data)
    assert res.returncode == 0, res.text
    assert res.output.split()[0].decode() == hashlib.md5(data).hexdigest()
    assert sandbox.exec("cat | wc -c", timeout=10, stdin=b"").output.strip() == b"0"


def test_stdin_never_deadlocks(sandbox: Sandbox) -> None:
    data = b"x" * (4 << 20)
    # writes 1 MB before it reads: the writer keeps reading output while it writes
    talky = sandbox.exec("head -c 1000000 /dev/zero | tr '\\0' y; wc -c", timeout=30, stdin=data)
    assert talky.returncode == 0 and talky.output.endswith(b"4194304\n"), talky.output[-100:]
    assert sandbox.exec(["true"], timeout=10, stdin=data).returncode == 0  # never reads it
    t0 = time.monotonic()
    stuck = sandbox.exec(["sleep", "60"], timeout=2, stdin=data)  # never reads, never ends
    assert stuck.timed_out and stuck.returncode is None
    assert time.monotonic() - t0 < 15


def test_write_and_read_binary_file(sandbox: Sandbox) -> None:
    data = bytes(range(256)) * 64
    sandbox.write_file("/srv/deep/er/blob.bin", data, mode=0o600)
    assert sandbox.read_file("/srv/deep/er/blob.bin", max_bytes=1 << 20) == data
    assert sandbox.read_file("deep/er/blob.bin", max_bytes=10) == data[:10]  # relative to the workdir
    assert sandbox.exec("stat -c '%a %s' deep/er/blob.bin", timeout=10).output == b"600 16384\n"
    sandbox.exec("ln -s deep/er/blob.bin /srv/link", timeout=10)
    assert sandbox.read_file("/srv/link", max_bytes=4) == data[:4]
    with pytest.raises(FileNotFoundError):
        sandbox.read_file("/srv/missing", max_bytes=10)
    with pytest.raises(IsADirectoryError):
        sandbox.read_file("/srv/deep", max_bytes=10)


def test_copy_out_a_tree(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.exec("mkdir -p out/sub && printf one > out/a.txt && printf two > out/sub/b.txt", timeout=10)
    copied = sandbox.copy_out("/srv/out", tmp_path)
    assert copied == tmp_path / "out"
    assert (copied / "a.txt").read_bytes() == b"one"
    assert (copied / "sub" / "b.txt").read_bytes() == b"two"


def test_timeout_kills_the_command(sandbox: Sandbox) -> None:
    started = time.monotonic()
    result = sandbox.exec("echo started; sleep 100", timeout=2)
    assert result.timed_out and result.returncode is None
    assert result.output == b"started\n"
    assert 2 <= time.monotonic() - started < 2 + 3
    assert b"sleep 100" not in sandbox.exec(PROCESSES, timeout=10).output


def test_timeout_kills_children_that_ignore_sigterm(sandbox: Sandbox) -> None:
    result = sandbox.exec(
        "sh -c \"trap '' TERM; sleep 1001\" & (trap '' TERM; sleep 1002) & sleep 100", timeout=2
    )
    assert result.timed_out
    assert result.duration_s < 2 + 3
    listing = sandbox.exec(PROCESSES, timeout=10).output
    assert b"sleep 100" not in listing  # 1001, 1002 and 100 all gone
    assert sandbox.exec(["true"], timeout=10).returncode == 0  # the sandbox is still usable


def test_output_is_capped_keeping_head_and_tail(sandbox: Sandbox) -> None:
    result = sandbox.exec("seq 1 100000", timeout=20)
    assert result.returncode == 0 and result.truncated
    assert result.output_bytes_total == len(b"".join(b"%d\n" % i for i in range(1, 100001)))
    assert len(result.output) <= LIMITS.output_bytes
    assert result.output.startswith(b"1\n2\n3\n")
    assert result.output.endswith(b"99999\n100000\n")
    assert b"bytes of output dropped here]" in result.output


def test_stop_and_remove_are_idempotent(backend: SandboxBackend, config: SandboxConfig) -> None:
    box = backend.create(config, timeout=60)
    try:
        box.write_file("/srv/kept.txt", b"kept")
        box.stop()
        box.stop()
        assert not box.alive
        with pytest.raises(SandboxError):
            box.exec(["true"], timeout=10)
    finally:
        box.remove()
        box.remove()
    with pytest.raises(SandboxError):
        box.read_file("/srv/kept.txt", max_bytes=10)


def test_context_manager_removes(backend: SandboxBackend, config: SandboxConfig) -> None:
    with backend.create(config, timeout=60) as box:
        assert box.alive and box.exec("echo hi", timeout=10).output == b"hi\n"
    assert not box.alive
    box.remove()  # still idempotent after the context exited
