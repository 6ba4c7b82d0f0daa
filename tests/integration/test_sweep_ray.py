"""Distributed sweeps, end to end with real Ray, Docker and S3: identical verdicts on file:// and s3://,
a worker node killed, the driver killed and resumed, the S3 server down for 20 s, dockerd restarted."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support import sweeps
from support.raycluster import RayTestCluster, session_pids
from support.s3server import SeaweedS3

from orchestrator.commit import load_results
from orchestrator.store import SweepPaths

pytestmark = [pytest.mark.docker, pytest.mark.ray]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    """The whole demo sweep, uninterrupted, on embedded Ray into a file:// store."""
    root = tmp_path_factory.mktemp("reference")
    overrides = [*sweeps.FAST, f"store.url=file://{root}/store"]
    sweeps.run(overrides, root / "run.log")
    return f"file://{root}/store", overrides


def test_demo_sweep_to_file_store_gives_the_expected_verdicts(reference: tuple[str, list[str]]) -> None:
    url, overrides = reference
    store, sid = sweeps.store_at(url), sweeps.sweep_id(overrides)
    got = sweeps.verdicts(store, sid)
    assert len(got) == sweeps.planned(overrides) == 39
    assert got == sweeps.expected_verdicts(store, sid)
    assert set(got.values()) == {"resolved", "unresolved", "patch_failed", "empty_patch", "timeout"}
    reports = {k.rsplit("/", 1)[1] for k in store.list(f"sweeps/{sid}/reports/")}
    assert {
        f"gold.{sid}.json",
        f"demo-model-a.{sid}.json",
        f"demo-model-b.{sid}.json",
        "report.json",
    } <= reports
    assert sweeps.sweep_containers(sid) == []


def test_regrade_of_the_stored_logs_changes_no_verdict(reference: tuple[str, list[str]]) -> None:
    url, overrides = reference
    sid = sweeps.sweep_id(overrides)
    out = subprocess.run(
        [sweeps.EVALFLEET, "regrade", sid, "--store", url], capture_output=True, text=True, check=True
    ).stdout
    regrade = json.loads(sweeps.store_at(url).get(SweepPaths(sid).report("regrade.json")) or b"")
    assert regrade["regraded"] == sum(
        v in ("resolved", "unresolved") for v in sweeps.EXPECTED["gold"].values()
    ) + sum(
        v in ("resolved", "unresolved")
        for run in ("demo-model-a", "demo-model-b")
        for v in sweeps.EXPECTED[run].values()
    )
    assert regrade["changed"] == []
    assert "0 verdicts change" in out


@pytest.mark.s3
def test_demo_sweep_to_s3_matches_file_store(
    reference: tuple[str, list[str]], s3_server: SeaweedS3, tmp_path: Path
) -> None:
    bucket = f"sweep-{int(time.time())}"
    overrides = [
        *sweeps.FAST,
        f"store.url=s3://{bucket}/evals",
        f"store.endpoint_url={s3_server.endpoint_url}",
    ]
    sweeps.run(overrides, tmp_path / "run.log")
    sid = sweeps.sweep_id(overrides)
    assert sid == sweeps.sweep_id(reference[1])  # the store is not part of a sweep's identity
    s3 = sweeps.store_at(f"s3://{bucket}/evals")
    assert sweeps.verdicts(s3, sid) == sweeps.verdicts(sweeps.store_at(reference[0]), sid)
    assert s3.get(SweepPaths(sid).report("report.json")) is not None


def test_driver_killed_then_resumed_equals_uninterrupted_run(
    reference: tuple[str, list[str]], tmp_path: Path
) -> None:
    url = f"file://{tmp_path}/store"
    overrides = [*sweeps.FAST, f"store.url={url}"]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    proc = sweeps.start(overrides, log)
    sweeps.wait_until(lambda: sweeps.committed(store, sid) >= 10, proc, log)
    sweeps.kill_session(proc)  # SIGKILL: the driver and its embedded Ray die at once
    before = {k: store.get(k) for k in store.list(f"sweeps/{sid}/items/") if k.endswith("/result.json")}
    keys_before = {
        k.split("/")[3]: sorted(store.list(f"sweeps/{sid}/items/{k.split('/')[3]}/")) for k in before
    }
    assert 10 <= len(before) < 39

    sweeps.run(overrides, log, "--resume", sid)
    after = {k: store.get(k) for k in store.list(f"sweeps/{sid}/items/") if k.endswith("/result.json")}
    assert len(after) == 39
    for key, data in before.items():  # committed items were not run again
        assert after[key] == data
    for item, files in keys_before.items():
        assert sorted(store.list(f"sweeps/{sid}/items/{item}/")) == files
    ref = sweeps.store_at(reference[0])
    for name in (f"gold.{sid}.json", f"demo-model-a.{sid}.json", f"demo-model-b.{sid}.json"):
        assert json.loads(store.get(SweepPaths(sid).report(name)) or b"") == json.loads(
            ref.get(SweepPaths(sid).report(name)) or b""
        )
    assert sweeps.sweep_containers(sid) == []


@pytest.fixture
def cluster(tmp_path: Path):  # type: ignore[no-untyped-def]
    c = RayTestCluster(tmp_path)
    try:
        c.start_head(sandbox=1)
        yield c
    finally:
        c.stop()


def test_worker_node_killed_mid_sweep(cluster: RayTestCluster, tmp_path: Path) -> None:
    worker = cluster.add_worker(sandbox=1)
    cluster.wait_for_nodes(2)
    url = f"file://{tmp_path}/store"
    overrides = [
        *sweeps.FAST,
        f"store.url={url}",
        f"ray.address={cluster.address}",
        "dataset.instances=[demo__calc-*]",
    ]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    proc = sweeps.start(overrides, log)

    def worker_is_evaluating() -> bool:
        return bool(set(sweeps.running_owners(sid, store)) & set(session_pids(worker.pid)))

    sweeps.wait_until(worker_is_evaluating, proc, log, timeout=300)
    cluster.kill_node(worker)
    sweeps.finish(proc, log)

    results = load_results(store, sid)
    assert len(results) == sweeps.planned(overrides) == 15
    assert len({r.key for r in results}) == 15  # every item committed exactly once
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)
    lost = [a for r in results for a in r.attempts if a.error and a.error.error_class == "AttemptLost"]
    assert lost, "the item running on the killed node should show its lost attempt"
    assert sweeps.sweep_containers(sid) == []


@pytest.mark.s3
def test_s3_down_for_20_seconds_mid_sweep(s3_server: SeaweedS3, tmp_path: Path) -> None:
    bucket = f"outage-{int(time.time())}"
    url = f"s3://{bucket}/evals"
    overrides = [*sweeps.FAST, f"store.url={url}", "dataset.instances=[demo__textkit-*]"]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    store.ensure_ready()
    proc = sweeps.start(overrides, log)
    sweeps.wait_until(lambda: sweeps.committed(store, sid) >= 3, proc, log)
    with s3_server.outage():
        time.sleep(20)
    sweeps.finish(proc, log)
    assert len(sweeps.verdicts(store, sid)) == sweeps.planned(overrides) == 12
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)


def test_docker_daemon_restarted_mid_sweep(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/store"
    overrides = [
        *sweeps.FAST,
        f"store.url={url}",
        "dataset.instances=[demo__jsutil-*, demo__calc-1, demo__calc-2]",
    ]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    proc = sweeps.start(overrides, log)
    sweeps.wait_until(
        lambda: sweeps.committed(store, sid) >= 2 and bool(sweeps.running_owners(sid, store)), proc, log
    )
    sweeps.restart_dockerd()
    sweeps.finish(proc, log)
    results = load_results(store, sid)
    assert len(results) == sweeps.planned(overrides) == 18
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)
    infra = [a for r in results for a in r.attempts if a.error is not None and a.error.retryable]
    assert infra, "the restart should have cost at least one attempt, retried as an infra failure"
    # The node waited for its engine: attempts that failed while it was down did not use up the budget.
    assert any(not a.counted for a in infra), [(a.n, a.error, a.counted) for a in infra]
    assert all(r.verdict != "error" for r in results)
    assert sweeps.sweep_containers(sid) == []


def test_ctrl_c_cancels_cleanly_and_the_sweep_resumes(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/store"
    overrides = [*sweeps.FAST, f"store.url={url}", "dataset.instances=[demo__textkit-*]"]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    proc = sweeps.start(overrides, log)
    sweeps.wait_until(
        lambda: sweeps.committed(store, sid) >= 2 and bool(sweeps.running_owners(sid, store)), proc, log
    )
    before = {k: store.get(k) for k in store.list(f"sweeps/{sid}/items/") if k.endswith("/result.json")}
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the driver
    assert proc.wait(timeout=120) == 130, log.read_text()[-2000:]
    assert sweeps.sweep_containers(sid) == [], "Ctrl-C must not leave sandboxes behind"
    for key, data in before.items():
        assert store.get(key) == data
    sweeps.run(overrides, log, "--resume", sid)
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)
    assert len(sweeps.verdicts(store, sid)) == 12
