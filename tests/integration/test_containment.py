"""Hostile candidates end with the right verdict and reason, within their limits, leaving the host and
the other items alone.

Each candidate (tests/fixtures/hostile/<case>/, whole files) becomes a real ``git diff`` against the
base commit of demo__calc-1 and is evaluated by ``workers.evaluate`` in a real container with small
limits. The cases run two at a time, with the instance's gold patch among them, which must still
resolve. The verdicts, and why:

- forkbomb -> unresolved or timeout, both contained; which one is a race. ``div`` forks in a loop, and
  so does every child. The pids limit (128) makes forks fail (BlockingIOError), and the forked copies
  of pytest together soon pass the 256 MiB memory limit, so the kernel kills processes, often the main
  pytest: then the run ends in a few seconds, "unresolved", mostly with "out of memory" (exit 137), or
  with the BlockingIOError failures when pytest got to its summary first. But a bomb can also keep the
  pid table full until the wall-clock limit ("timeout"): the in-container kill cannot start with no
  pid left, so the sandbox itself is killed (at most the limit + ~13 s). On the dev machine about four
  runs in five ended "unresolved".
- memory -> unresolved, "out of memory": the kernel kills pytest (exit 137) when 4 GiB are written
  under a 256 MiB limit.
- disk -> unresolved within seconds: RLIMIT_FSIZE stops each 10 GiB file at 64 MiB (EFBIG; Python
  ignores SIGXFSZ), the candidate's ``div`` then raises.
- network -> unresolved: the sandbox has no network; the host's servers never see a connection.
- flood -> resolved, output cut: the candidate turns pytest's capture off and prints 1 GiB on import,
  then its correct ``div`` passes; only the head and tail (1 MiB) of the output are kept, which hold the
  markers and pytest's summary. Streaming 1 GiB through dockerd takes 3-10 s, so this case alone gets
  a 30 s test limit.
- loop -> timeout at the limit.
- edit_tests -> unresolved and flagged: the test files are restored before the test patch is applied.
- edit_tests_and_fix -> resolved (the real fix is there) and flagged.
"""

from __future__ import annotations

import ipaddress
import select
import shutil
import socket
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.demo import RETRY, ROOT, bundle_of, demo_items, diff_from_files, settings, with_patch

from workers.evaluate import EvalSettings, evaluate
from workers.integrity.policy import IntegrityPolicy
from workers.models import Result, SandboxLimits, WorkItem
from workers.paths import FILES

pytestmark = pytest.mark.docker

HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
INSTANCE = "demo__calc-1"
LIMITS = SandboxLimits(memory_mb=256, cpus=1.0, pids=128, output_bytes=1 << 20, disk_mb=64)
TEST_TIMEOUT_S = 15.0  # the demo tests take ~1 s; a busy machine can make that several
FLOOD_TIMEOUT_S = 30.0
KILL_SLACK_S = 15.0  # in-container kill (up to 10 s when it cannot start) + grace, then the container
FLAG = "candidate changed test file tests/test_arith.py (restored)"
# Longest first, so the two threads finish together; the gold item runs beside the fork bomb.
CASES = (
    "forkbomb",
    "gold",
    "loop",
    "flood",
    "memory",
    "disk",
    "manyfiles",
    "network",
    "edit_tests",
    "edit_tests_and_fix",
)


@dataclass
class Run:
    """One evaluated case."""

    item: WorkItem
    result: Result
    outdir: Path
    wall_s: float

    def output(self) -> str:
        return (self.outdir / "attempt-1" / FILES.test_output).read_text(encoding="utf-8")


@dataclass
class Contained:
    """Every case, and what the host looked like around them."""

    sweep_id: str
    runs: dict[str, Run]
    servers: dict[str, socket.socket]  # "host:port" -> listening socket the network case tries
    disk_free_before: int
    disk_free_after: int
    peak_alloc_bytes: int  # the most memory Python held at once (tracemalloc) while the cases ran


def listen(host: str) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(8)
    return server


def bridge_gateway(client: Any) -> str:
    """The host's address on Docker's default bridge (engines that do not report it use the first host)."""
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


def case_files(case: str, fill: dict[str, str]) -> dict[str, str]:
    """Path in the repository -> content, placeholders filled in."""
    root = HOSTILE / case
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        for key, value in fill.items():
            text = text.replace(key, value)
        files[str(path.relative_to(root))] = text
    return files


def sweep_containers(client: Any, sweep_id: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"evalfleet.sweep={sweep_id}"}))


@pytest.fixture(scope="module")
def contained(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Contained]:
    sweep_id = f"pytest-hostile-{uuid.uuid4().hex[:8]}"
    gold = demo_items(run="gold", instances=[INSTANCE], sweep_id=sweep_id)[0].model_copy(
        update={"limits": LIMITS}
    )
    gateway = bridge_gateway(docker_client)
    servers = {"127.0.0.1": listen("127.0.0.1"), gateway: listen(gateway)}
    ports = {host: str(s.getsockname()[1]) for host, s in servers.items()}
    fill = {
        "__LOOPBACK_PORT__": ports["127.0.0.1"],
        "__GATEWAY_IP__": gateway,
        "__GATEWAY_PORT__": ports[gateway],
    }
    work = tmp_path_factory.mktemp("hostile")
    items = {"gold": gold}
    for case in CASES:
        if case != "gold":
            patch = diff_from_files(bundle_of(gold), gold.instance.base_commit, case_files(case, fill), work)
            items[case] = with_patch(gold, patch, run=f"hostile-{case}")
    # The flood candidate turns pytest's capture off in pytest.ini; integrity would restore that file,
    # so the spec allows it here: this test is about the output cap, not about the runner's config.
    allow = gold.spec.model_copy(update={"integrity": IntegrityPolicy(allow=["pytest.ini"])})
    items["flood"] = items["flood"].model_copy(update={"spec": allow})
    normal = settings(test_timeout_s=TEST_TIMEOUT_S, retry=RETRY)
    flood = normal.model_copy(update={"test_timeout_s": FLOOD_TIMEOUT_S})

    def one(case: str) -> Run:
        item = items[case]
        s: EvalSettings = flood if case == "flood" else normal
        t0 = time.monotonic()
        result = evaluate(item, s, work / case)
        return Run(item, result, work / case, time.monotonic() - t0)

    docker_root = str(docker_client.info().get("DockerRootDir") or "/")
    free_before = shutil.disk_usage(docker_root).free
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = dict(zip(CASES, pool.map(one, CASES), strict=True))
        peak = tracemalloc.get_traced_memory()[1]
        if not tracing:
            tracemalloc.stop()
        yield Contained(
            sweep_id,
            runs,
            {f"{h}:{ports[h]}": s for h, s in servers.items()},
            free_before,
            shutil.disk_usage(docker_root).free,
            peak,
        )
    finally:
        if not tracing and tracemalloc.is_tracing():
            tracemalloc.stop()
        for container in sweep_containers(docker_client, sweep_id):
            container.remove(force=True)
        for server in servers.values():
            server.close()


def test_the_gold_item_beside_them_still_resolves(contained: Contained) -> None:
    run = contained.runs["gold"]
    assert run.result.verdict == "resolved", run.result.reason
    assert sorted(run.result.tests_status.fail_to_pass.success) == sorted(run.item.instance.fail_to_pass)
    assert run.result.flags == [] and run.result.test_exit_code == 0


def test_fork_bomb_is_contained(contained: Contained) -> None:
    run = contained.runs["forkbomb"]
    result, output = run.result, run.output()
    assert "tests/test_arith.py ....." in output  # the tests before div ran and passed
    if result.verdict == "timeout":  # the bomb held the pid table until the limit
        assert result.reason == f"tests exceeded the {TEST_TIMEOUT_S:g} s wall-clock limit; sandbox killed"
        assert TEST_TIMEOUT_S <= result.durations["test"] < TEST_TIMEOUT_S + KILL_SLACK_S
        return
    assert result.verdict == "unresolved", result.reason
    assert result.durations["test"] < TEST_TIMEOUT_S
    assert sorted(result.tests_status.fail_to_pass.failure) == sorted(run.item.instance.fail_to_pass)
    if result.reason.startswith(f"out of memory (limit {LIMITS.memory_mb} MiB); "):
        assert result.test_exit_code == 137 and " Killed " in output
    else:  # pytest reported the failed forks before anything was killed
        assert "BlockingIOError: [Errno 11] Resource temporarily unavailable" in output


def test_memory_hog_is_killed_for_memory(contained: Contained) -> None:
    run = contained.runs["memory"]
    assert run.result.verdict == "unresolved"
    if "MemoryError" in run.output():  # a host with < 4 GiB RAM + swap refuses the allocation up front
        assert "out of memory" not in run.result.reason
        return
    assert run.result.reason.startswith(f"out of memory (limit {LIMITS.memory_mb} MiB); "), run.result.reason
    assert run.result.test_exit_code == 137
    assert "exit code 137" in run.result.reason
    assert run.result.durations["test"] < TEST_TIMEOUT_S


def test_disk_filler_stops_at_the_file_size_limit(contained: Contained) -> None:
    run = contained.runs["disk"]
    assert run.result.verdict == "unresolved", run.result.reason
    output = run.output()
    # Each file stops at the per-file limit; the two together pass the sandbox's total, so the disk
    # watch may end the sandbox before the second probe reports (which one comes first is timing).
    probes = [
        f"DISKPROBE {p}: File too large after {LIMITS.disk_mb} MiB"
        for p in ("/tmp/evalfleet-hostile.bin", "hostile.bin")
    ]
    if run.result.reason.startswith("disk limit"):
        assert f"more than {LIMITS.disk_mb} MiB" in run.result.reason
    else:
        assert all(probe in output for probe in probes), output[-2000:]
        assert run.result.reason.startswith("unresolved: FAIL_TO_PASS 0/2 pass")
    assert "wrote" not in output
    assert run.result.durations["test"] < TEST_TIMEOUT_S
    # The sandboxes wrote at most a few hundred MiB, and those went with them; other processes on this
    # host may write too, so only a loss far above that counts.
    assert contained.disk_free_before - contained.disk_free_after < 2 << 30


def test_many_small_files_stop_at_the_sandbox_disk_limit(contained: Contained) -> None:
    """8 GiB in 1 MiB files, each far below the per-file limit: the sandbox's total use is what stops it."""
    run = contained.runs["manyfiles"]
    assert run.result.verdict == "unresolved", run.result.reason
    assert (
        run.result.reason == f"disk limit: the sandbox wrote more than {LIMITS.disk_mb} MiB; sandbox killed"
    )
    assert "wrote 8 GiB" not in run.output()
    assert run.result.durations["test"] < TEST_TIMEOUT_S
    assert contained.disk_free_before - contained.disk_free_after < 2 << 30


def test_network_reaches_nothing_on_the_host(contained: Contained) -> None:
    run = contained.runs["network"]
    assert run.result.verdict == "unresolved", run.result.reason
    output = run.output()
    for target, server in contained.servers.items():
        assert f"NETPROBE {target} " in output
        readable, _, _ = select.select([server], [], [], 0)
        assert readable == [], f"the host server {target} got a connection"
    assert " connected" not in output
    loopback = next(t for t in contained.servers if t.startswith("127.0.0.1:"))
    assert f"NETPROBE {loopback} ConnectionRefusedError" in output  # the sandbox's own loopback
    assert "Network is unreachable" in output  # no route off the sandbox


def test_output_flood_is_cut_and_the_tests_still_count(contained: Contained) -> None:
    run = contained.runs["flood"]
    assert run.result.verdict == "resolved", run.result.reason
    head, _, total = run.result.reason.rpartition(" bytes of ")
    assert head.endswith(f"; output cut to {LIMITS.output_bytes}")
    assert int(total) > 1 << 30
    saved = (run.outdir / "attempt-1" / FILES.test_output).stat().st_size
    assert LIMITS.output_bytes // 2 < saved <= LIMITS.output_bytes + 4096
    assert "bytes of output dropped here]" in run.output()
    # The driver held a few copies of the cut output (and nine items' worth of evidence) at most: never
    # anything near the 1 GiB flood.
    assert contained.peak_alloc_bytes < 64 << 20, contained.peak_alloc_bytes


def test_endless_loop_times_out(contained: Contained) -> None:
    run = contained.runs["loop"]
    assert run.result.verdict == "timeout"
    assert run.result.reason == f"tests exceeded the {TEST_TIMEOUT_S:g} s wall-clock limit; sandbox killed"
    assert TEST_TIMEOUT_S <= run.result.durations["test"] < TEST_TIMEOUT_S + 5
    assert run.result.test_exit_code is None


def test_edited_tests_are_restored_and_flagged(contained: Contained) -> None:
    run = contained.runs["edit_tests"]
    assert run.result.verdict == "unresolved", run.result.reason
    assert run.result.flags == [FLAG]
    assert sorted(run.result.tests_status.fail_to_pass.failure) == sorted(run.item.instance.fail_to_pass)
    output = run.output()
    assert (
        ">       assert div(a, b) == expected" in output and "assert True" not in output
    )  # the real tests ran
    fixed = contained.runs["edit_tests_and_fix"]
    assert fixed.result.verdict == "resolved", fixed.result.reason
    assert fixed.result.flags == [FLAG]


def test_every_case_ran_once_in_its_own_sandbox(docker_client: Any, contained: Contained) -> None:
    for case, run in contained.runs.items():
        assert [a.n for a in run.result.attempts] == [1], (case, run.result.attempts)
        assert run.result.attempts[0].error is None
        assert run.result.patch_applied, case
        assert run.wall_s < (FLOOD_TIMEOUT_S if case == "flood" else TEST_TIMEOUT_S) + KILL_SLACK_S + 30
    assert sweep_containers(docker_client, contained.sweep_id) == []
