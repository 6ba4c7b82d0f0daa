"""Every demo instance x run (39 items) evaluated end to end in real containers by ``workers.evaluate``.

The verdicts must match demo/expected_verdicts.json, and each result leaves SWE-bench's report.json
and its logs in the attempt directory. The specs' own 20 s test limit is kept: the demo's tests take
about 1 s on a quiet machine, but on a busy one (other sweeps beside this test, load ~20 on 2 cores)
node's runner took up to 4 s and a gold run hit an 8 s limit, so a lower limit makes the test flaky.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support.demo import RETRY, demo_items, expected_verdicts, settings

from workers.evaluate import evaluate
from workers.models import Result, WorkItem
from workers.paths import FILES

pytestmark = pytest.mark.docker

BUCKETS = ("FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL")
REPORT_KEYS = {"patch_is_None", "patch_exists", "patch_successfully_applied", "resolved", "tests_status"}


Sweep = tuple[str, list[tuple[WorkItem, Result, Path]]]  # sweep id, [(item, result, its output dir)]


def sweep_containers(client: Any, sweep_id: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"evalfleet.sweep={sweep_id}"}))


@pytest.fixture(scope="module")
def evaluated(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sweep]:
    """The whole demo sweep evaluated two items at a time."""
    sweep_id = f"pytest-demo-{uuid.uuid4().hex[:8]}"
    items = demo_items(sweep_id=sweep_id)
    s = settings(retry=RETRY)
    out = tmp_path_factory.mktemp("demo-sweep")

    def one(item: WorkItem) -> tuple[WorkItem, Result, Path]:
        return item, evaluate(item, s, out / item.key), out / item.key

    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(one, items))
        yield sweep_id, results
    finally:
        for container in sweep_containers(docker_client, sweep_id):
            container.remove(force=True)


def test_every_item_gets_its_expected_verdict(evaluated: Sweep) -> None:
    _, results = evaluated
    got = {(it.candidate.run, it.instance.instance_id): r.verdict for it, r, _ in results}
    expected = {
        (run, iid): verdict for run, by_iid in expected_verdicts().items() for iid, verdict in by_iid.items()
    }
    assert len(got) == 39
    assert got == expected
    for item, result, _ in results:
        assert result.key == item.key and result.sweep_id == item.sweep_id
        assert result.run == item.candidate.run and result.seed == item.seed
        assert [a.n for a in result.attempts] == [1], result.attempts
        assert result.attempts[0].verdict == result.verdict and result.attempts[0].error is None


def test_report_json_has_swebench_shape(evaluated: Sweep) -> None:
    _, results = evaluated
    for item, result, outdir in results:
        report = json.loads((outdir / "attempt-1" / FILES.report).read_text(encoding="utf-8"))
        iid = item.instance.instance_id
        assert list(report) == [iid]
        entry = report[iid]
        assert set(entry) == REPORT_KEYS
        assert entry["resolved"] is (result.verdict == "resolved")
        assert entry["patch_exists"] is (result.verdict != "empty_patch")
        assert entry["patch_is_None"] is (result.verdict == "empty_patch")
        assert entry["patch_successfully_applied"] is result.patch_applied
        assert set(entry["tests_status"]) == set(BUCKETS)
        for bucket in BUCKETS:
            assert set(entry["tests_status"][bucket]) == {"success", "failure"}
        assert result.log_files[FILES.report] == f"attempt-1/{FILES.report}"


def test_logs_of_each_attempt_exist(evaluated: Sweep) -> None:
    _, results = evaluated
    for item, result, outdir in results:
        attempt = outdir / "attempt-1"
        files = {p.name for p in attempt.iterdir()}
        if result.verdict == "empty_patch":  # decided before any container starts
            assert files == {FILES.report}, item.instance.instance_id
            assert result.image is None and result.durations == {}
            continue
        wanted = {FILES.report, FILES.run_log, FILES.patch, FILES.eval_script}
        if result.verdict != "patch_failed":
            wanted.add(FILES.test_output)
        assert files == wanted, (item.instance.instance_id, item.candidate.run, files)
        assert set(result.log_files) == wanted
        assert (attempt / FILES.patch).read_text(encoding="utf-8") == item.candidate.patch
        assert item.instance.instance_id in (attempt / FILES.eval_script).read_text(encoding="utf-8")
        assert (attempt / FILES.run_log).read_text(encoding="utf-8").startswith(f"image {result.image} ")
        assert result.image is not None and result.image.startswith("evalfleet/inst:")
        assert result.image_digest is not None and result.image_digest.startswith("sha256:")
        assert {"image", "start", "patch", "cleanup"} <= set(result.durations)


def test_resolved_gold_lists_every_test(evaluated: Sweep) -> None:
    _, results = evaluated
    gold = [(it, r) for it, r, _ in results if it.candidate.run == "gold"]
    assert len(gold) == 13
    for item, result in gold:
        status = result.tests_status
        assert sorted(status.fail_to_pass.success) == sorted(item.instance.fail_to_pass)
        assert sorted(status.pass_to_pass.success) == sorted(item.instance.pass_to_pass)
        assert status.fail_to_pass.failure == [] and status.pass_to_pass.failure == []
        assert result.patch_applied and result.patch_method == "git apply"
        assert result.test_exit_code == 0
        assert result.flags == []


def test_unresolved_items_name_failing_tests(evaluated: Sweep) -> None:
    _, results = evaluated
    unresolved = [(it, r) for it, r, _ in results if r.verdict == "unresolved"]
    assert len(unresolved) == 5
    for item, result in unresolved:
        failing = result.tests_status.fail_to_pass.failure + result.tests_status.pass_to_pass.failure
        assert failing, (item.instance.instance_id, item.candidate.run)
        assert set(failing) <= set(item.instance.fail_to_pass) | set(item.instance.pass_to_pass)
        assert result.reason.startswith("unresolved: ")
        assert result.test_exit_code not in (None, 0)


def test_patch_failed_items_never_apply(evaluated: Sweep) -> None:
    _, results = evaluated
    failed = [(it, r, d) for it, r, d in results if r.verdict == "patch_failed"]
    assert len(failed) == 3
    for _item, result, outdir in failed:
        assert result.patch_applied is False and result.patch_method is None
        assert result.patch_exists is True
        assert result.reason == "no step of the patch chain applied the patch"
        assert "test" not in result.durations and result.test_exit_code is None
        run_log = (outdir / "attempt-1" / FILES.run_log).read_text(encoding="utf-8")
        assert run_log.count("$ patch --batch --fuzz=5") == 1  # the whole chain was tried


def test_timeouts_are_killed_at_the_limit(evaluated: Sweep) -> None:
    _, results = evaluated
    timeouts = [(it, r) for it, r, _ in results if r.verdict == "timeout"]
    assert len(timeouts) == 3
    for item, result in timeouts:
        limit = item.spec.timeouts.test
        assert limit == 20
        assert result.reason == f"tests exceeded the {limit:g} s wall-clock limit; sandbox killed"
        assert result.patch_applied is True and result.test_exit_code is None
        assert limit <= result.durations["test"] < limit + 10


def test_empty_patches_start_no_container(evaluated: Sweep) -> None:
    _, results = evaluated
    empty = [r for _, r, _ in results if r.verdict == "empty_patch"]
    assert len(empty) == 3
    for result in empty:
        assert result.patch_exists is False and result.patch_applied is False
        assert result.reason == "the candidate patch is empty"


def test_no_container_is_left_behind(docker_client: Any, evaluated: Sweep) -> None:
    sweep_id, _ = evaluated
    assert sweep_containers(docker_client, sweep_id) == []
