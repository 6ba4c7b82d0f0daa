"""Rollout runs in configs and plans: exactly one source per run, prices required by a USD budget, keys
that change with what decides a rollout (not with where the endpoint is), the budget ledger's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.budget import BudgetBook
from orchestrator.config import validate_config
from orchestrator.errors import ConfigError
from orchestrator.sweep import plan_sweep
from workers.rollout.tree import split_diff, without_tests

ROOT = Path(__file__).resolve().parents[2]


def raw(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "configs" / "demo-generate.yaml").read_text())
    data["dataset"]["path"] = str(ROOT / "demo" / "dataset.jsonl")
    data["dataset"]["instances"] = ["demo__calc-1", "demo__calc-2"]
    data["specs"] = [str(ROOT / "configs" / "specs")]
    data["repos"] = {}
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for part in path:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return data


def gen_run(**changes: Any) -> Any:
    return plan_sweep(validate_config(raw(**changes), "test"))


def test_a_run_has_exactly_one_source_and_generate_runs_are_named() -> None:
    with pytest.raises(ConfigError, match="exactly one of"):
        validate_config(raw(runs__0__predictions="x.jsonl"), "test")
    with pytest.raises(ConfigError, match="needs a 'name'"):
        validate_config(raw(runs__0__name=None), "test")
    with pytest.raises(ConfigError, match="'command' is required"):
        validate_config(raw(runs__0__generate__scaffold={"name": "command"}), "test")


def test_a_usd_budget_needs_a_price() -> None:
    with pytest.raises(ConfigError, match="no price for model 'scripted-coder'"):
        validate_config(raw(budget={"usd": 1.0}, prices={}), "test")
    validate_config(raw(budget={"tokens": 1000}, prices={}), "test")  # tokens need no price
    cfg = validate_config(
        raw(budget={"usd": 1.0}, prices={}, runs__0__generate__endpoint__model="openai/gpt-4o"), "test"
    )
    gen = cfg.runs[0].generate
    assert gen is not None and cfg.price_of(gen) is not None  # from the built-in table


def test_keys_follow_what_decides_a_rollout() -> None:
    base = gen_run()
    assert all(it.rollout is not None and it.candidate.patch is None for it in base.items)
    assert (
        base.items[0].rollout is not None and base.items[0].rollout.price is not None
    )  # priced at plan time
    hotter = gen_run(runs__0__generate__sampling={"temperature": 0.7, "max_tokens": 512})
    assert set(base.keys()).isdisjoint(hotter.keys()) and base.sweep_id != hotter.sweep_id
    moved = gen_run(
        runs__0__generate__endpoint={"base_url": "http://elsewhere:9/v1", "model": "scripted-coder"}
    )
    assert moved.keys() == base.keys() and moved.sweep_id == base.sweep_id
    budgeted = gen_run(budget={"tokens": 5})
    assert budgeted.keys() == base.keys() and budgeted.sweep_id == base.sweep_id
    assert {it.candidate.metadata["scaffold"] for it in base.items} == {"mini-swe-agent"}


def test_ledger_never_grants_past_the_budget_and_waits_for_slots() -> None:
    book = BudgetBook(usd=None, tokens=100)
    a = book.reserve("e", 2, 0.0, 60)
    assert a.status == "granted"
    assert book.reserve("e", 2, 0.0, 60).status == "wait"  # fits only if the first settles lower
    book.settle(a.reservation, 0.0, 30)
    b = book.reserve("e", 2, 0.0, 60)
    assert b.status == "granted"
    assert book.reserve("e", 2, 0.0, 20).status == "wait"  # 30 spent + 60 held + 20 > 100
    assert book.reserve("e", 2, 0.0, 80).status == "spent"  # 30 + 80 > 100 whatever settles
    book.settle(b.reservation, 0.0, 60)
    assert book.reserve("e", 2, 0.0, 5).status == "spent"  # spent for good: no call after that
    assert book.state()["exhausted_at"] is not None
    assert book.state()["spent_tokens"] == 90 and book.state()["calls"] == 2
    slots = BudgetBook(usd=None, tokens=None)
    first = slots.reserve("e", 1, 0.0, 1)
    assert (
        slots.reserve("e", 1, 0.0, 1).status == "wait" and slots.reserve("f", 1, 0.0, 1).status == "granted"
    )
    slots.settle(first.reservation, 0.0, 1)
    assert slots.reserve("e", 1, 0.0, 1).status == "granted"


def test_test_files_and_conftest_are_left_out_of_the_patch() -> None:
    diff = "".join(
        f"diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -1 +1 @@\n-x\n+y\n"
        for p in ("calc/ops.py", "tests/test_ops.py", "conftest.py", "calc/__pycache__/ops.cpython-311.pyc")
    )
    kept, excluded = without_tests(diff)
    assert [p for p, _ in split_diff(kept)] == ["calc/ops.py"]
    assert excluded == ["tests/test_ops.py", "conftest.py", "calc/__pycache__/ops.cpython-311.pyc"]


def test_ablation_pairs_and_trajectory_links() -> None:
    from orchestrator.report.rollouts import differs_in, trajectories_table
    from workers.models import Result

    runs = {
        "a": {"labels": {"model": "m1", "scaffold": "mini-swe-agent"}},
        "b": {"labels": {"model": "m1", "scaffold": "command"}},
        "c": {"labels": {"model": "m2", "scaffold": "command"}},
        "d": {"labels": {"model": "m2", "scaffold": "command"}},
    }
    pairs = differs_in([{"a": x, "b": y} for x, y in (("a", "b"), ("a", "c"), ("b", "c"), ("c", "d"))], runs)
    assert [(p["differs_in"], p["ablation"]) for p in pairs] == [
        (["scaffold"], True),
        (["model", "scaffold"], False),
        (["model"], True),
        (["other"], True),  # same labels: sampling or seed differ
    ]
    result = Result(
        key="k1",
        sweep_id="s",
        instance_id="demo__calc-1",
        run="a",
        repeat=0,
        seed=1,
        verdict="resolved",
        flags=["rollout: reads git history: step 1: git log --all"],
        candidate_metadata={"trajectory": "sweeps/s/items/k1/rollout/r1/trajectory.json", "steps": 4},
    )
    html = trajectories_table([result, result.model_copy(update={"candidate_metadata": {}})]) or ""
    assert html.count("<tr>") == 2  # the header and the one rollout result
    assert 'href="../items/k1/rollout/r1/trajectory.json"' in html and "reads git history" in html
