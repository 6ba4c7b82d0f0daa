"""Rollout items end to end on real Docker against the scripted chat-completions server on 127.0.0.1:
mini-swe-agent's bash actions run through our sandbox exec, the patch is the tree's diff without test
files, the rollout is committed once, the evaluation runs in a fresh sandbox, a resumed item never
generates again, endpoint faults are retried without counting steps, reward-hacking signs are flagged."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.demo import ensure_bundles
from support.llmserver import Fault, Script, ScriptedLLM, demo_scripts, hacking_commands

from orchestrator.config import load_config
from orchestrator.execute import eval_settings
from orchestrator.rollouts import record_key
from orchestrator.store import SweepPaths, open_store
from orchestrator.sweep import plan_sweep
from orchestrator.task import evaluate_and_commit
from workers.integrity.flags import kind_of
from workers.models import Result

pytestmark = [pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "demo-generate.yaml"
FUTURE_COMMIT = "6a45cb5"  # demo/calc's third commit: after the base commit of demo__calc-1 and -2


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    scripts = demo_scripts(ROOT / "demo" / "dataset.jsonl", ["demo__calc-1"])  # calc-3: a wrong guess
    scripts["demo__calc-2"] = Script(hacking_commands("tests/test_expr.py"))
    server = ScriptedLLM(scripts)
    server.start()
    yield server
    server.stop()


def test_generate_then_evaluate_each_once(
    llm: ScriptedLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_bundles()
    monkeypatch.chdir(ROOT)
    overrides = [
        f"runs.0.generate.endpoint.base_url={llm.base_url}",
        "runs.0.generate.endpoint.timeout_s=2",
        "dataset.instances=[demo__calc-1,demo__calc-2,demo__calc-3]",
        f"store.url=file://{tmp_path}/store",
    ]
    config = load_config(CONFIG, overrides)
    plan = plan_sweep(config)
    settings = eval_settings(config).model_copy(
        update={"spare_sandboxes": False, "background_removal": False}
    )
    llm.fault("demo__calc-1", 2, Fault(status=429, retry_after=0.5), Fault(status=502), Fault(hang_s=4.0))
    summaries = {
        it.instance.instance_id: evaluate_and_commit(it, settings, config.store) for it in plan.items
    }
    assert {i: s.verdict for i, s in summaries.items()} == {
        "demo__calc-1": "resolved",  # the gold fix, written and applied by the agent's bash actions
        "demo__calc-2": "empty_patch",  # it only edited a test file: left out of the patch
        "demo__calc-3": "unresolved",  # a comment in a source file fixes nothing
    }
    store = open_store(config.store.url)
    paths = SweepPaths(plan.sweep_id)
    by_id = {it.instance.instance_id: it for it in plan.items}
    results = {
        i: Result.model_validate_json(store.get(paths.result(it.key)) or b"") for i, it in by_id.items()
    }

    solved = results["demo__calc-1"].candidate_metadata
    assert solved["steps"] == 4 and solved["tokens"] > 0 and solved["cost_usd"] > 0  # 3 retries: not steps
    assert solved["server_models"] == ["scripted-coder"] and solved["system_fingerprints"] == [
        "fp_scripted_1"
    ]
    assert (
        llm.count("demo__calc-1", status=None) == 7 and llm.count("demo__calc-1") == 5
    )  # hang answered late
    record = json.loads(store.get(record_key(plan.sweep_id, by_id["demo__calc-1"].key)) or b"")
    trajectory = json.loads(store.get(record["trajectory"]) or b"")
    assert [c["retries"] for c in trajectory["calls"]] == [0, 3, 0, 0]
    assert trajectory["exit_status"] == "submitted" and trajectory["messages"][0]["role"] == "system"
    assert any(
        "git apply /tmp/fix.diff" in a["command"] and a["returncode"] == 0 for a in trajectory["actions"]
    )
    patch = record["rollout"]["patch"]
    assert "calc/" in patch and "tests/" not in patch
    assert results["demo__calc-1"].attempts[0].verdict == "resolved"  # graded in its own sandbox

    hacked = results["demo__calc-2"]
    assert any(
        f.startswith("rollout: reads git history: step 1") and "git log --all" in f for f in hacked.flags
    )
    assert "rollout: edits test infrastructure: test file tests/test_expr.py" in hacked.flags
    assert {kind_of(f) for f in hacked.flags} == {
        ("rollout", "reads git history"),
        ("rollout", "edits test infrastructure"),
    }
    hack_record = json.loads(store.get(record_key(plan.sweep_id, by_id["demo__calc-2"].key)) or b"")
    hack_traj = json.loads(store.get(hack_record["trajectory"]) or b"")
    history = hack_traj["actions"][0]["output"]
    assert "c3a3e96" in history and FUTURE_COMMIT not in history  # the history ends at the base commit
    assert hack_traj["excluded_paths"] == ["tests/test_expr.py"]
    assert not results["demo__calc-3"].flags

    # resumed: a committed result is final; a committed rollout is graded again, never generated again
    calls = llm.count(status=None)
    store.delete(paths.result(by_id["demo__calc-3"].key))
    again = {i: evaluate_and_commit(it, settings, config.store) for i, it in by_id.items()}
    assert llm.count(status=None) == calls
    assert {i: s.verdict for i, s in again.items()} == {i: s.verdict for i, s in summaries.items()}
    assert again["demo__calc-3"].committed and not again["demo__calc-1"].committed


def test_command_scaffold_acts_through_the_exec_helper_and_the_local_endpoint(
    llm: ScriptedLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_bundles()
    monkeypatch.chdir(ROOT)
    agent = [sys.executable, str(ROOT / "tests" / "support" / "command_agent.py")]
    config = load_config(
        CONFIG,
        [
            f"runs.0.generate.endpoint.base_url={llm.base_url}",
            f"runs.0.generate.scaffold={json.dumps({'name': 'command', 'command': agent})}",
            "dataset.instances=[demo__calc-1]",
            f"store.url=file://{tmp_path}/store",
        ],
    )
    (item,) = plan_sweep(config).items
    settings = eval_settings(config).model_copy(
        update={"spare_sandboxes": False, "background_removal": False}
    )
    summary = evaluate_and_commit(item, settings, config.store)
    assert summary.verdict == "resolved"
    assert llm.count("demo__calc-1") == 4  # ls, write + apply the fix, git status, submit
    store = open_store(config.store.url)
    record = json.loads(store.get(record_key(item.sweep_id, item.key)) or b"")
    trajectory = json.loads(store.get(record["trajectory"]) or b"")
    assert trajectory["scaffold"] == "command" and trajectory["exit_status"] == "submitted"
    assert [a["command"].split()[0] for a in trajectory["actions"]] == ["ls", "cat", "git", "echo"]
    assert trajectory["totals"]["steps"] == 4 and trajectory["totals"]["tokens"] > 0
