"""Infrastructure failures are never verdicts (real Docker, Ray and S3): an engine nobody can reach, an
engine lost while items run, an object store gone for longer than its retries, and two drivers of one
config into two stores at the same time."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from support import sweeps
from support.s3server import SeaweedS3

from orchestrator.commit import committed_keys, failures, load_results

pytestmark = [pytest.mark.docker, pytest.mark.ray]
SUBSET = "dataset.instances=[demo__calc-1, demo__calc-2]"  # 6 items: 2 instances x 3 runs


def error_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("evalfleet: error:")]


def test_no_engine_exits_with_one_line_commits_nothing_and_a_rerun_evaluates_all(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/store"
    overrides = [*sweeps.FAST, f"store.url={url}", SUBSET]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    proc = sweeps.start(overrides, log, env={"DOCKER_HOST": f"unix://{tmp_path}/no-such-docker.sock"})
    assert sweeps.wait(proc, log, timeout=300) == 3, log.read_text()[-3000:]
    [line] = error_lines(log)
    assert "no node can run sandboxes" in line and "no-such-docker.sock" in line, line
    assert "Traceback" not in log.read_text()
    assert committed_keys(store, sid) == set()

    sweeps.run(overrides, tmp_path / "rerun.log")  # the engine is there now
    assert len(sweeps.verdicts(store, sid)) == sweeps.planned(overrides) == 6
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)


def test_items_the_engine_failed_are_recorded_not_judged_and_a_resume_evaluates_them(tmp_path: Path) -> None:
    """The engine restarts under items whose node may not wait for it (engine_wait_s=0) and whose one
    attempt is used up: they end as infrastructure failures, the sweep exits 3, and --resume gives
    every item its expected verdict, keeping the failed attempts."""
    url = f"file://{tmp_path}/store"
    overrides = [
        *sweeps.FAST,
        f"store.url={url}",
        "dataset.instances=[demo__calc-*]",
        "execution.retry.max_attempts=1",
        "execution.retry.engine_wait_s=0",
        "execution.spare_sandboxes=false",  # a spare keeps its "spare" label: each item in its own sandbox
    ]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    slow = {
        key
        for key, (run, iid) in sweeps.plan_keys(overrides).items()
        if sweeps.EXPECTED[run][iid] == "timeout"
    }
    assert slow, "the demo has candidates that loop until their time limit"
    proc = sweeps.start(overrides, log)
    sweeps.wait_until(lambda: bool(slow & set(sweeps.running_items(sid))), proc, log)
    sweeps.restart_dockerd()  # kills the looping candidate's sandbox long before its 12 s limit
    assert sweeps.wait(proc, log) == 3, log.read_text()[-3000:]
    lines = error_lines(log)
    assert len(lines) == 1 and "have no verdict: infrastructure failures" in lines[0], lines
    assert f"--resume {sid}" in lines[0]
    assert "Traceback" not in log.read_text()
    failed = failures(store, sid)
    assert failed, "the restart should have left at least one item without a verdict"
    assert all(r.verdict != "error" for r in load_results(store, sid))

    sweeps.run([*sweeps.FAST, f"store.url={url}", "dataset.instances=[demo__calc-*]"], log, "--resume", sid)
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)
    assert len(sweeps.verdicts(store, sid)) == sweeps.planned(overrides)
    assert failures(store, sid) == []
    by_key = {r.key: r for r in load_results(store, sid)}
    for earlier in failed:  # the failed attempt is kept beside the one that reached the verdict
        attempts = by_key[earlier.key].attempts
        assert attempts[0].error is not None and attempts[-1].error is None
        assert attempts[0].driver != attempts[-1].driver
    assert sweeps.sweep_containers(sid) == []


@pytest.mark.s3
def test_store_gone_longer_than_its_retries_ends_the_driver_with_one_line(
    s3_server: SeaweedS3, tmp_path: Path
) -> None:
    bucket = f"gone-{int(time.time())}"
    url = f"s3://{bucket}/evals"
    overrides = [
        *sweeps.FAST,
        f"store.url={url}",
        "store.retry_window_s=5",
        "dataset.instances=[demo__calc-*]",
    ]
    store, sid, log = sweeps.store_at(url), sweeps.sweep_id(overrides), tmp_path / "run.log"
    store.ensure_ready()
    proc = sweeps.start(overrides, log)
    sweeps.wait_until(lambda: sweeps.committed(store, sid) >= 1, proc, log)
    s3_server.kill()
    try:
        rc = sweeps.wait(proc, log, timeout=300)
    finally:
        s3_server.restart()
    assert rc == 3, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()
    lines = error_lines(log)
    assert lines and any("object store" in line for line in lines), lines
    sweeps.run(overrides, tmp_path / "resume.log", "--resume", sid)
    assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)
    assert len(sweeps.verdicts(store, sid)) == sweeps.planned(overrides)


def test_two_drivers_of_one_config_into_two_stores_both_finish(tmp_path: Path) -> None:
    """Same sweep id, two stores: each driver's janitor removes only its own sandboxes."""
    runs = []
    for name in ("a", "b"):
        url = f"file://{tmp_path}/{name}/store"
        overrides = [*sweeps.FAST, f"store.url={url}", "dataset.instances=[demo__calc-*]"]
        log = tmp_path / f"{name}.log"
        runs.append((sweeps.store_at(url), overrides, log, sweeps.start(overrides, log)))
    assert sweeps.sweep_id(runs[0][1]) == sweeps.sweep_id(runs[1][1])
    for store, overrides, log, proc in runs:
        sweeps.finish(proc, log)
        sid = sweeps.sweep_id(overrides)
        assert len(sweeps.verdicts(store, sid)) == sweeps.planned(overrides)
        assert sweeps.verdicts(store, sid) == sweeps.expected_verdicts(store, sid)
        results = load_results(store, sid)
        assert all(a.error is None for r in results for a in r.attempts)
        for r in results:  # the node's own log lines of the item, bound to it, next to its other logs
            if r.verdict == "empty_patch":  # decided without a sandbox: nothing was logged
                continue
            lines = (store.get(r.log_files["attempt-1/worker.jsonl"]) or b"").decode().splitlines()
            items = [json.loads(line).get("item") for line in lines]  # background threads bind none
            assert r.key in items and set(items) <= {r.key, None}
    assert sweeps.sweep_containers(sweeps.sweep_id(runs[0][1])) == []


def test_embedded_ray_starts_quietly_with_token_auth(tmp_path: Path) -> None:
    """A default run prints no Ray warning a user must decode (token auth on, no dashboard)."""
    url = f"file://{tmp_path}/store"
    overrides = [*sweeps.FAST, f"store.url={url}", "dataset.instances=[demo__calc-1]"]
    log = tmp_path / "run.log"
    sweeps.finish(sweeps.start(overrides, log, ray_auth=None), log)
    text = log.read_text()
    assert not re.search(r"(?i)\bwarning\b|token authentication", text), text
    assert len(sweeps.verdicts(sweeps.store_at(url), sweeps.sweep_id(overrides))) == 3
