"""Rollout sweeps on real Ray (embedded and two nodes), Docker and the scripted server: the budget runs
out mid-sweep and a re-run with more continues; the driver is SIGKILLed and the resumed sweep generates
no committed rollout again (the server's call count proves it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import rollouts, sweeps
from support.demo import ensure_bundles
from support.llmserver import ScriptedLLM, demo_scripts
from support.raycluster import RayTestCluster

from orchestrator.commit import load_results
from orchestrator.store import open_store

pytestmark = [pytest.mark.docker, pytest.mark.ray]
ROOT = Path(__file__).resolve().parents[2]
INSTANCES = [
    "demo__calc-1",
    "demo__calc-2",
    "demo__calc-3",
    "demo__textkit-1",
    "demo__textkit-2",
    "demo__textkit-3",
]
SOLVED = ["demo__calc-1", "demo__textkit-1", "demo__textkit-3"]
EXPECTED = {i: ("resolved" if i in SOLVED else "unresolved") for i in INSTANCES}


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    ensure_bundles()
    server = ScriptedLLM(demo_scripts(ROOT / "demo" / "dataset.jsonl", SOLVED))
    server.start()
    yield server
    server.stop()


def test_budget_spent_mid_sweep_then_a_larger_budget_continues(llm: ScriptedLLM, tmp_path: Path) -> None:
    url, log = f"file://{tmp_path}/store", tmp_path / "run.log"
    sets = rollouts.overrides(llm.base_url, url, INSTANCES, "budget.tokens=14000")
    items = rollouts.items(sets)
    sid, store = items[0].sweep_id, open_store(url)
    sweeps.finish(rollouts.start(sets, log), log)

    text = log.read_text()
    first = {r.instance_id: r.verdict for r in load_results(store, sid)}
    assert 1 <= len(first) < len(INSTANCES), text[-2000:]
    assert f"{len(INSTANCES) - len(first)} items not run: budget" in text  # not errors
    usage = rollouts.usage_records(store, sid)
    assert sum(u["tokens"] for u in usage) <= 14000  # never past the budget
    assert llm.count(status=None) == sum(u["steps"] for u in usage)  # every call was granted and recorded
    granted = re.search(r"model calls: (\d+) this run; .*budget spent: calls refused from then on", text)
    assert granted is not None and int(granted.group(1)) == llm.count(status=None)  # none past the ledger
    assert all(first[i] == EXPECTED[i] for i in first)

    llm.phase = 2
    more = rollouts.overrides(llm.base_url, url, INSTANCES, "budget.tokens=200000")
    sweeps.finish(rollouts.start(more, log), log)
    final = {r.instance_id: r.verdict for r in load_results(store, sid)}
    assert final == EXPECTED
    for iid in first:  # committed before: not generated again
        assert llm.count(iid, status=None, phase=2) == 0
    assert sum(u["tokens"] for u in rollouts.usage_records(store, sid)) <= 200000


def test_driver_killed_mid_sweep_then_resumed_generates_nothing_twice(
    llm: ScriptedLLM, tmp_path: Path
) -> None:
    url, log = f"file://{tmp_path}/store", tmp_path / "run.log"
    sets = rollouts.overrides(llm.base_url, url, INSTANCES)
    items = rollouts.items(sets)
    sid, store = items[0].sweep_id, open_store(url)
    proc = rollouts.start(sets, log)
    sweeps.wait_until(lambda: len(rollouts.rollout_records(store, items)) >= 2, proc, log, timeout=300)
    sweeps.kill_session(proc)  # SIGKILL: the driver, its embedded Ray and the ledger die at once
    before = rollouts.rollout_records(store, items)
    assert 2 <= len(before) < len(INSTANCES)

    llm.phase = 2
    sweeps.finish(rollouts.start(sets, log, "--resume", sid), log)
    assert {r.instance_id: r.verdict for r in load_results(store, sid)} == EXPECTED
    for iid, record in before.items():  # a committed rollout is never generated again
        assert llm.count(iid, status=None, phase=2) == 0, iid
        assert rollouts.rollout_records(store, items)[iid] == record
    assert sweeps.sweep_containers(sid) == []


def test_generate_and_evaluate_on_two_ray_nodes_one_call_at_a_time(llm: ScriptedLLM, tmp_path: Path) -> None:
    cluster = RayTestCluster(tmp_path)
    try:
        cluster.start_head(sandbox=1)
        cluster.add_worker(sandbox=1)
        cluster.wait_for_nodes(2)
        url, log = f"file://{tmp_path}/store", tmp_path / "run.log"
        llm.delay_s = 0.3  # long calls: two nodes' rollouts would overlap but for the endpoint's limit
        sets = rollouts.overrides(
            llm.base_url,
            url,
            INSTANCES,
            f"ray.address={cluster.address}",
            "runs.0.generate.endpoint.concurrency=1",
        )
        items = rollouts.items(sets)
        sweeps.finish(rollouts.start(sets, log), log)
        store = open_store(url)
        assert {r.instance_id: r.verdict for r in load_results(store, items[0].sweep_id)} == EXPECTED
        nodes = {str(r["node"]) for r in rollouts.rollout_records(store, items).values()}
        assert len(nodes) == 2  # rollouts ran on both nodes
        for iid in INSTANCES:  # one generation per instance: the scripted steps, each once
            assert llm.count(iid, status=None) == (4 if iid in SOLVED else 3)
        assert llm.max_in_flight == 1  # the endpoint's cluster-wide concurrency limit held
    finally:
        cluster.stop()
