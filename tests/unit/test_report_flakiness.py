"""Flakiness analysis of repeated evaluations, and the sweep `evalfleet validate` builds (no containers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.commands.validate import BASELINE_RUN, ValidateOptions, validation_config
from orchestrator.errors import ConfigError
from orchestrator.plan import read_exclude_file
from orchestrator.report.flakiness import analyse, exclusion_text
from orchestrator.sweep import plan_sweep
from workers import models as wm
from workers.models import Result, Verdict

ROOT = Path(__file__).resolve().parents[2]


def make(run: str, iid: str, repeat: int, verdict: Verdict, passed: list[str], failed: list[str]) -> Result:
    return Result(
        key=f"{run}-{iid}-{repeat}",
        sweep_id="v",
        instance_id=iid,
        repo="org/a",
        run=run,
        repeat=repeat,
        seed=repeat,
        verdict=verdict,
        tests_status=wm.TestsStatus(pass_to_pass=wm.TestBucket(success=passed, failure=failed)),
    )


def results() -> list[Result]:
    out = []
    for k in range(6):
        ok = k % 2 == 0
        out.append(
            make(
                "gold",
                "flaky",
                k,
                "resolved" if ok else "unresolved",
                ["t_a", "t_mode"] if ok else ["t_a"],
                [] if ok else ["t_mode"],
            )
        )
        out.append(make("gold", "stable", k, "resolved" if k != 3 else "error", ["t_a"], []))
        out.append(make("gold", "broken", k, "unresolved", [], ["t_x"]))
        # the baseline's verdict never changes, but one of its tests does: still flaky
        out.append(make(BASELINE_RUN, "stable2", k, "unresolved", ["t_p"] if k else [], [] if k else ["t_p"]))
    return out


def test_analyse_finds_varying_verdicts_and_tests_only() -> None:
    report = analyse(results())
    assert report.flaky_ids == ["flaky", "stable2"]
    assert report.gold_unresolved == ["broken"]
    by_key = {(v.run, v.instance_id): v for v in report.instances}
    flaky = by_key[("gold", "flaky")]
    assert flaky.verdicts == {"resolved": 3, "unresolved": 3} and flaky.evaluations == 6
    assert [(t.test, t.passed, t.failed) for t in flaky.tests] == [("t_mode", 3, 3)]
    stable = by_key[("gold", "stable")]
    assert not stable.flaky and stable.errors == 1 and stable.verdicts == {"resolved": 5}
    assert [(t.test, t.passed, t.failed) for t in by_key[(BASELINE_RUN, "stable2")].tests] == [("t_p", 5, 1)]
    data = report.to_dict()
    assert data["flaky_instances"] == ["flaky", "stable2"] and data["evaluations"] == 6
    assert json.loads(json.dumps(data)) == data


def test_exclusion_list_is_read_back_by_the_sweep_config(tmp_path: Path) -> None:
    path = tmp_path / "flaky-exclude.txt"
    path.write_text(exclusion_text(analyse(results())), encoding="utf-8")
    assert read_exclude_file(str(path)) == ["flaky", "stable2"]


def test_validation_of_a_dataset_runs_gold_and_a_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    options = ValidateOptions(
        repeats=4,
        baseline=True,
        repos=[f"demo/calc={ROOT}/demo/build/bundles/calc.bundle"],
        specs=[str(ROOT / "configs/specs")],
        store=f"file://{tmp_path}/store",
        overrides=['dataset.instances=["demo__calc-*"]'],
    )
    config = validation_config(str(ROOT / "demo/dataset.jsonl"), options)
    assert config.name == "validate-dataset" and config.repeats == 4
    assert [(r.gold, r.name) for r in config.runs] == [(True, None), (False, BASELINE_RUN)]
    assert config.store.url == f"file://{tmp_path}/store" and set(config.repos) == {"demo/calc"}
    plan = plan_sweep(config)
    assert len(plan.items) == 5 * 2 * 4  # demo__calc-1..5, two runs, four repeats
    baseline = next(it for it in plan.items if it.candidate.run == BASELINE_RUN)
    assert ".evalfleet-baseline" in (baseline.candidate.patch or "")
    assert plan_sweep(config).sweep_id == plan.sweep_id  # a second validate continues the same sweep


def test_validation_of_a_sweep_config_keeps_its_environment() -> None:
    config = validation_config(
        str(ROOT / "configs/demo.yaml"), ValidateOptions(repeats=3, store="file:///tmp/x")
    )
    assert config.name == "demo-validate" and config.repeats == 3
    assert [r.gold for r in config.runs] == [True]
    assert config.dataset.path == "demo/dataset.jsonl" and config.execution.sandbox_slots == 2
    with pytest.raises(ConfigError, match="nothing to run"):
        validation_config(str(ROOT / "configs/demo.yaml"), ValidateOptions(gold=False))
