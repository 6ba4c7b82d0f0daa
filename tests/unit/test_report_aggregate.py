"""write_reports on a small sweep written into a FileStore: report.json's new sections and report.html."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.plan import derive_seed
from orchestrator.report.aggregate import extended_report, primary, write_reports
from orchestrator.report.figures import choose_axes
from orchestrator.report.stats import StatsSettings, pass_at_k, wilson_interval
from orchestrator.report.svg import distinct_labels
from orchestrator.store import FileStore, SweepPaths
from workers import models as wm
from workers.models import Attempt, ErrorInfo, Result, Verdict

SWEEP = "unit-sweep"
SEED = 42


def make_result(
    run: str,
    iid: str,
    verdict: Verdict,
    *,
    repo: str = "org/a",
    repeat: int = 0,
    base_seed: int = SEED,
    meta: dict[str, Any] | None = None,
    test_s: float = 1.0,
    infra_errors: int = 0,
) -> Result:
    ok = verdict == "resolved"
    attempts = [
        Attempt(
            n=i + 1,
            started_at=0,
            finished_at=1,
            error=ErrorInfo(error_class="SandboxError", message="x", phase="start", retryable=True),
        )
        for i in range(infra_errors)
    ]
    attempts.append(Attempt(n=infra_errors + 1, started_at=0, finished_at=2, verdict=verdict))
    return Result(
        key=f"{run}-{iid}-{repeat}-{base_seed}",
        sweep_id=SWEEP,
        instance_id=iid,
        repo=repo,
        run=run,
        repeat=repeat,
        seed=derive_seed(base_seed, run, iid, repeat),
        verdict=verdict,
        tests_status=wm.TestsStatus(
            fail_to_pass=wm.TestBucket(success=["t1"] if ok else [], failure=[] if ok else ["t1"])
        ),
        attempts=attempts,
        durations={"patch": 0.5, "test": test_s},
        harness_version="h1",
        candidate_metadata=meta or {},
    )


def commit_all(store: FileStore, results: list[Result], manifest: dict[str, Any] | None = None) -> None:
    paths = SweepPaths(SWEEP)
    for r in results:
        assert store.put_if_absent(paths.result(r.key), r.model_dump_json().encode())
    base = {"sweep_id": SWEEP, "config": {"seed": SEED}, "planned": len(results), "harness_version": "h1"}
    store.put(paths.manifest, json.dumps({**base, **(manifest or {})}).encode())


def two_runs() -> list[Result]:
    """Run A resolves 6 of 8, run B 3 of 8; two repositories; tokens and cost on A only."""
    out = []
    a: list[Verdict] = [
        "resolved",
        "resolved",
        "resolved",
        "resolved",
        "resolved",
        "resolved",
        "unresolved",
        "timeout",
    ]
    b: list[Verdict] = [
        "resolved",
        "unresolved",
        "resolved",
        "unresolved",
        "patch_failed",
        "resolved",
        "unresolved",
        "empty_patch",
    ]
    for i in range(8):
        repo = "org/a" if i < 4 else "org/b"
        meta = {"tokens": 100 * (i + 1), "cost_usd": 0.5, "scaffold": "mini"}
        out.append(make_result("A", f"i{i}", a[i], repo=repo, meta=meta, test_s=1.0 + i))
        out.append(make_result("B", f"i{i}", b[i], repo=repo, infra_errors=1 if i == 0 else 0))
    return out


def test_report_json_has_intervals_repos_durations_usage_and_comparisons(file_store: FileStore) -> None:
    commit_all(file_store, two_runs())
    keys = write_reports(file_store, SWEEP, StatsSettings(bootstrap=500, seed=1))
    assert keys[-2:] == [SweepPaths(SWEEP).report("report.json"), SweepPaths(SWEEP).report("report.html")]
    report = json.loads(file_store.get(SweepPaths(SWEEP).report("report.json")) or b"")
    a, b = report["runs"]["A"], report["runs"]["B"]
    assert a["stats"]["resolved"] == 6 and a["stats"]["instances"] == 8 and a["stats"]["rate"] == 0.75
    assert a["stats"]["wilson"] == wilson_interval(6, 8).as_list()
    assert a["stats"]["clusters"] == 2 and a["stats"]["clustered_se"] is not None
    assert a["repos"]["org/a"] == {
        "instances": 4,
        "resolved": 4,
        "rate": 1.0,
        "wilson": wilson_interval(4, 4).as_list(),
    }
    assert a["durations"]["test"] == {"n": 8, "total": 36.0, "mean": 4.5, "p50": 4.5, "p90": 7.3, "max": 8.0}
    assert a["usage"]["tokens"] == {
        "total": 3600.0,
        "instances": 8,
        "per_instance": 450.0,
        "per_resolved": 600.0,
    }
    assert a["usage"]["cost_usd"]["per_resolved"] == pytest.approx(4.0 / 6)
    assert b["usage"] == {} and a["labels"] == {"scaffold": "mini"}
    assert b["attempt_stats"] == {
        "attempts": 9,
        "retried_items": 1,
        "max_attempts": 2,
        "infra_errors": 1,
        "error_classes": {"SandboxError": 1},
        "error_items": 0,
    }
    assert a["replicates"] is None
    (pair,) = report["comparisons"]
    assert (pair["a"], pair["b"], pair["both"], pair["only_a"], pair["only_b"], pair["neither"]) == (
        "A",
        "B",
        3,
        3,
        0,
        2,
    )
    assert pair["diff"] == pytest.approx(-3 / 8) and pair["p_value"] == 0.25
    assert report["detectable_difference"]["instances"] == 8
    assert report["settings"] == {"bootstrap": 500, "seed": 1, "confidence": 0.95}
    # the SWE-bench run report keeps its shape
    run_a = json.loads(file_store.get(SweepPaths(SWEEP).report(f"A.{SWEEP}.json")) or b"")
    assert run_a["resolved_instances"] == 6 and run_a["error_instances"] == 1 and run_a["schema_version"] == 2


def test_reports_are_reproducible(file_store: FileStore) -> None:
    commit_all(file_store, two_runs())
    write_reports(file_store, SWEEP)
    first = file_store.get(SweepPaths(SWEEP).report("report.json"))
    html = file_store.get(SweepPaths(SWEEP).report("report.html"))
    write_reports(file_store, SWEEP)
    assert file_store.get(SweepPaths(SWEEP).report("report.json")) == first
    assert file_store.get(SweepPaths(SWEEP).report("report.html")) == html


def test_replicates_across_seeds_and_repeats() -> None:
    results = []
    outcomes = {"i0": [1, 1, 1, 1], "i1": [1, 0, 0, 1], "i2": [0, 0, 0, 0]}  # over (seed, repeat)
    for iid, seq in outcomes.items():
        for j, (seed, repeat) in enumerate([(1, 0), (1, 1), (2, 0), (2, 1)]):
            verdict: Verdict = "resolved" if seq[j] else "unresolved"
            results.append(make_result("A", iid, verdict, repeat=repeat, base_seed=seed))
    report = extended_report(results, {"config": {"seed": 0, "seeds": [1, 2]}}, StatsSettings(bootstrap=200))
    rep = report["runs"]["A"]["replicates"]
    assert rep["replicates"] == 4 and rep["evaluations_per_instance"] == 4
    assert rep["rates"] == pytest.approx([2 / 3, 1 / 3, 1 / 3, 2 / 3], abs=1e-6)
    assert rep["mean"] == pytest.approx(0.5) and rep["se"] == pytest.approx(0.096225, abs=1e-6)
    expected = (pass_at_k(4, 4, 2) + pass_at_k(4, 2, 2) + pass_at_k(4, 0, 2)) / 3
    assert rep["pass_at_k"]["2"] == pytest.approx(expected, abs=1e-6)
    assert rep["pass_hat_k"]["4"] == pytest.approx(1 / 3, abs=1e-6)
    assert set(rep["pass_at_k"]) == {"1", "2", "3", "4"}
    assert report["runs"]["A"]["stats"]["instances"] == 3  # one result per instance: repeat 0, lowest seed
    assert len(primary(results)) == 3


def test_heatmap_axes_prefer_a_model_by_scaffold_grid() -> None:
    grid = [
        make_result(run, "i0", "resolved", meta={"model": model, "scaffold": scaffold})
        for run, model, scaffold in (("r1", "m1", "s1"), ("r2", "m1", "s2"), ("r3", "m2", "s1"))
    ]
    assert choose_axes(grid, grid).title == "model x scaffold"
    flat = [make_result(run, "i0", "resolved", meta={"scaffold": run}) for run in ("r1", "r2")]
    assert choose_axes(flat, flat).title == "run x repository"
    repeats = [make_result("r1", "i0", "resolved", repeat=k) for k in range(2)]
    assert choose_axes(repeats, primary(repeats)).title == "run x repeat"


def test_chart_labels_stay_distinct_when_shortened() -> None:
    names = [f"organisation__very-long-model-name-{i}-with-scaffold-suffix" for i in range(3)]
    labels = distinct_labels(names)
    assert len(set(labels.values())) == 3 and all(len(v) <= 30 for v in labels.values())
    assert labels[names[1]] == "\u2026g-model-name-1-with-scaffold\u2026"
    assert distinct_labels(["gold", "demo-model-a"]) == {"gold": "gold", "demo-model-a": "demo-model-a"}


def one_flagged(file_store: FileStore, flag: str, as_unresolved: bool) -> None:
    """Run "a": i1 resolved with ``flag``, i2 resolved and clean; the sweep config's policy as given."""
    flagged = make_result("a", "i1", "resolved").model_copy(update={"flags": [flag]})
    clean = make_result("a", "i2", "resolved", repo="org/b")
    config = {"config": {"seed": SEED, "execution": {"flagged_as_unresolved": as_unresolved}}}
    commit_all(file_store, [flagged, clean], config)


@pytest.mark.parametrize("as_unresolved", [False, True])
def test_integrity_is_a_report_dimension_and_the_flag_policy_applies(
    file_store: FileStore, as_unresolved: bool
) -> None:
    one_flagged(
        file_store,
        "suspicious: adds a pytest hook (pytest_runtest_makereport) in calc/arith.py",
        as_unresolved,
    )
    write_reports(file_store, SWEEP)
    report = json.loads(file_store.get(SweepPaths(SWEEP).report("report.json")) or b"")
    integrity = report["runs"]["a"]["integrity"]
    assert integrity["flagged"] == 1
    assert integrity["by_kind"] == {"suspicious": 1}
    assert report["runs"]["a"]["verdicts"]["resolved"] == (1 if as_unresolved else 2)
    html = (file_store.get(SweepPaths(SWEEP).report("report.html")) or b"").decode()
    assert 'id="integrity"' in html and "adds a pytest hook" in html


def test_the_headline_policy_is_chosen_at_report_time_and_both_rates_are_shown(file_store: FileStore) -> None:
    one_flagged(file_store, "evidence: no runner summary: the output has no closing summary", False)
    for choice, headline, resolved in ((None, "official", 2), (True, "hardened", 1), (False, "official", 2)):
        write_reports(file_store, SWEEP, flagged_as_unresolved=choice)
        report = json.loads(file_store.get(SweepPaths(SWEEP).report("report.json")) or b"")
        assert report["verdict_policy"]["headline"] == headline
        assert report["verdict_policy"]["runs"]["a"] == {
            "instances": 2,
            "official_resolved": 2,
            "official_rate": 1.0,
            "hardened_resolved": 1,
            "hardened_rate": 0.5,
            "flagged": 1,
        }
        assert report["runs"]["a"]["verdicts"]["resolved"] == resolved
        html = (file_store.get(SweepPaths(SWEEP).report("report.html")) or b"").decode()
        assert "100.0% (2/2)" in html and "50.0% (1/2)" in html  # official and hardened rates
        assert f"use the {headline} verdicts" in html


def test_the_run_report_is_what_swebench_5_writes_from_the_same_outcomes(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """swebench's own make_run_report over an official log tree of the same outcomes (the oracle)."""
    from swebench.harness.reporting import make_run_report

    from orchestrator.report.aggregate import run_report_name, swebench_run_report

    verdicts: dict[str, Verdict] = {
        "i1": "resolved",
        "i2": "unresolved",
        "i3": "empty_patch",
        "i4": "patch_failed",
    }
    dataset = [{"instance_id": i} for i in ("i1", "i2", "i3", "i4", "i5")]  # i5: no prediction
    predictions = {
        iid: {
            "instance_id": iid,
            "model_name_or_path": "org/model",
            "model_patch": "" if v == "empty_patch" else "d",
        }
        for iid, v in verdicts.items()
    }
    monkeypatch.chdir(tmp_path)
    for iid in ("i1", "i2"):  # the official harness writes report.json for the runs that completed
        folder = tmp_path / "logs" / "run_evaluation" / "R" / "org__model" / iid
        folder.mkdir(parents=True)
        (folder / "report.json").write_text(json.dumps({iid: {"resolved": verdicts[iid] == "resolved"}}))
    official_path = make_run_report(predictions, dataset, "R", report_dir=str(tmp_path / "official"))
    official = json.loads(official_path.read_text())
    results = [make_result("org/model", iid, v) for iid, v in verdicts.items()]
    ours = swebench_run_report(results, len(dataset), "org/model", [d["instance_id"] for d in dataset])
    assert list(ours) == list(official)  # the same keys in the same order
    assert ours == official
    assert official_path.name == run_report_name("org/model", "R") == "org__model.R.json"
