"""`evalfleet compare`: paired statistics of any two runs, a regression diff when the patches are the same."""

from __future__ import annotations

import json

import pytest

from orchestrator.commands.report import compare_command
from orchestrator.errors import ConfigError
from orchestrator.report.regression import compare_runs, flipped_tests, patch_digest, same_candidates
from orchestrator.store import FileStore, SweepPaths
from workers import models as wm
from workers.models import Result, Verdict


def make(sweep: str, run: str, iid: str, verdict: Verdict, passed: list[str], failed: list[str]) -> Result:
    return Result(
        key=f"{sweep}-{run}-{iid}",
        sweep_id=sweep,
        instance_id=iid,
        repo="org/a",
        run=run,
        repeat=0,
        seed=1,
        verdict=verdict,
        patch_exists=True,
        tests_status=wm.TestsStatus(
            fail_to_pass=wm.TestBucket(
                success=[t for t in passed if t.startswith("f2p")],
                failure=[t for t in failed if t.startswith("f2p")],
            ),
            pass_to_pass=wm.TestBucket(
                success=[t for t in passed if t.startswith("p2p")],
                failure=[t for t in failed if t.startswith("p2p")],
            ),
        ),
    )


def commit(store: FileStore, result: Result, patch: str) -> None:
    paths = SweepPaths(result.sweep_id)
    key = f"{paths.attempt(result.key, 1)}/patch.diff"
    store.put(key, patch.encode())
    record = result.model_copy(update={"log_files": {"attempt-1/patch.diff": key}})
    store.put_if_absent(paths.result(result.key), record.model_dump_json().encode())
    store.put(paths.manifest, json.dumps({"sweep_id": result.sweep_id}).encode())


NIGHTLY_1: list[tuple[str, Verdict, list[str], list[str]]] = [
    ("i1", "resolved", ["f2p::a", "p2p::b"], []),
    ("i2", "resolved", ["f2p::c", "p2p::d[userID-user_id]"], []),
    ("i3", "unresolved", ["p2p::e"], ["f2p::f"]),
]
NIGHTLY_2: list[tuple[str, Verdict, list[str], list[str]]] = [
    ("i1", "resolved", ["f2p::a", "p2p::b"], []),
    ("i2", "unresolved", ["f2p::c"], ["p2p::d[userID-user_id]"]),  # a regression: a pass-to-pass test broke
    ("i3", "unresolved", ["p2p::e"], ["f2p::f"]),
]


@pytest.fixture
def store(file_store: FileStore) -> FileStore:
    for sweep, rows in (("night-1", NIGHTLY_1), ("night-2", NIGHTLY_2)):
        for iid, verdict, passed, failed in rows:
            commit(file_store, make(sweep, "model", iid, verdict, passed, failed), f"patch of {iid}")
    return file_store


def test_regression_diff_names_changed_instances_and_flipped_tests(
    store: FileStore, capsys: pytest.CaptureFixture[str]
) -> None:
    cmp = compare_command("night-1:model", "night-2", f"file://{store.root}")
    assert cmp.same_candidates is True
    assert [(c.instance_id, c.before, c.after) for c in cmp.changed] == [("i2", "resolved", "unresolved")]
    assert [(f.test, f.before, f.after) for f in cmp.changed[0].flips] == [
        ("p2p::d[userID-user_id]", True, False)
    ]
    assert (cmp.stats.only_a, cmp.stats.only_b, cmp.stats.p_value) == (1, 0, 1.0)
    out = capsys.readouterr().out
    assert "regression diff" in out and "resolved -> unresolved" in out and "p2p::d[userID-user_id]" in out
    assert "McNemar exact p = 1" in out and "B - A = -33.3 points" in out


def test_different_patches_are_a_comparison_not_a_regression_diff(
    file_store: FileStore, capsys: pytest.CaptureFixture[str]
) -> None:
    for iid, verdict, passed, failed in NIGHTLY_1:
        commit(file_store, make("s", "model-a", iid, verdict, passed, failed), f"a's patch of {iid}")
    for iid, verdict, passed, failed in NIGHTLY_2:
        commit(file_store, make("s", "model-b", iid, verdict, passed, failed), f"b's patch of {iid}")
    cmp = compare_command("s:model-a", "s:model-b", f"file://{file_store.root}")
    assert cmp.same_candidates is False
    out = capsys.readouterr().out
    assert "regression diff" not in out and "resolved only by s:model-a: i2" in out
    with pytest.raises(ConfigError, match="has runs"):
        compare_command("s", "s:model-b", f"file://{file_store.root}")


def test_a_patch_that_was_not_stored_is_never_assumed_equal(file_store: FileStore) -> None:
    a = make("x", "r", "i1", "resolved", ["f2p::a"], [])
    b = make("y", "r", "i1", "resolved", ["f2p::a"], [])
    assert patch_digest(file_store, a) is None
    assert same_candidates(file_store, {"i1": a}, {"i1": b}) is False
    empty = a.model_copy(update={"patch_exists": False})
    assert patch_digest(file_store, empty) == patch_digest(file_store, empty.model_copy())


def test_compare_runs_on_partly_overlapping_instances() -> None:
    a = {i: make("x", "a", i, "resolved", ["f2p::a"], []) for i in ("i1", "i2", "i3")}
    b = {i: make("y", "b", i, "unresolved", [], ["f2p::a"]) for i in ("i2", "i3", "i4")}
    cmp = compare_runs(a, b)
    assert cmp.common == ["i2", "i3"] and cmp.only_in_a == ["i1"] and cmp.only_in_b == ["i4"]
    assert cmp.resolved_only_a == ["i2", "i3"] and cmp.stats.n == 2
    assert [(f.test, f.before, f.after) for f in flipped_tests(a["i2"], b["i2"])] == [("f2p::a", True, False)]
