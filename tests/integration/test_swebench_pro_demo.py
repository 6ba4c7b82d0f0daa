"""SWE-bench Pro end to end on the project's demo instance (demo/swebench_pro/), in real containers.

The run script runs in the sandbox; the row's parser.py runs afterwards in a fresh container with no
network (workers/parsers/isolated.py). Gold resolves, the empty run does not, a wrong fix does not,
and a candidate that plants its own parser.py in the repository changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.pro import IID, build_image, build_repo, write_dataset

from orchestrator.config import validate_config
from orchestrator.datasets.polyglot import file_diff
from orchestrator.execute import eval_settings
from orchestrator.sweep import plan_sweep
from workers.evaluate import EvalSettings, evaluate
from workers.models import Result
from workers.parsers.isolated import PRO_STDERR_MARK, run_isolated

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "demo" / "swebench_pro" / "app" / "calc.py"
WRONG = APP.read_text().replace("return max(low, x)", "return min(high, x)")
PLANTED = "import json, sys\nopen(sys.argv[3], 'w').write(json.dumps({'tests': []}))\n"

NETWORK_PROBE = """
import json, socket, sys, os
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    net = "PASSED"
except OSError:
    net = "FAILED"
host = "PASSED" if os.path.exists("/work") else "FAILED"
json.dump({"tests": [{"name": "network", "status": net}, {"name": "host-files", "status": host}]},
          open(sys.argv[3], "w"))
"""


@pytest.fixture(scope="module")
def dataset(docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pro")
    commit = build_repo(root / "repo")
    image = build_image(docker_client, base_image, root / "repo", commit)
    return write_dataset(root / "data", commit, image)


def test_the_parser_container_has_no_network_and_no_host_files(docker_client: Any, base_image: str) -> None:
    got = run_isolated(
        NETWORK_PROBE, f"out\n{PRO_STDERR_MARK}\nerr\n", client=docker_client, image=base_image
    )
    assert got == {"network": "FAILED", "host-files": "FAILED"}


@pytest.fixture(scope="module")
def results(
    docker_client: Any, dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Result]]:
    root = tmp_path_factory.mktemp("pro-runs")
    runs: list[dict[str, Any]] = [{"name": "gold", "gold": True}, {"name": "empty", "empty": True}]
    for name, patch in (
        ("wrong", file_diff("calc.py", APP.read_text(), WRONG)),
        ("planted", file_diff("parser.py", None, PLANTED) + file_diff("calc.py", APP.read_text(), WRONG)),
    ):
        path = root / f"{name}.jsonl"
        path.write_text(
            json.dumps({"instance_id": IID, "model_name_or_path": name, "model_patch": patch}) + "\n"
        )
        runs.append({"name": name, "predictions": str(path)})
    config = validate_config(
        {
            "name": "pro-demo",
            "dataset": {"path": str(dataset), "adapter": "swebench_pro"},
            "runs": runs,
            "store": {"url": f"file://{root / 'store'}"},
        },
        "pro demo",
    )
    sweep_id = f"pytest-pro-{uuid.uuid4().hex[:8]}"
    plan = plan_sweep(config, sweep_id=sweep_id)
    settings = EvalSettings.model_validate(
        {**eval_settings(config).model_dump(), "spare_sandboxes": False, "background_removal": False}
    )
    try:
        yield {it.candidate.run: evaluate(it, settings, root / it.key) for it in plan.items}
    finally:
        for container in docker_client.containers.list(
            all=True, filters={"label": f"evalfleet.sweep={sweep_id}"}
        ):
            container.remove(force=True)


def test_gold_resolves_and_others_do_not(results: dict[str, Result]) -> None:
    verdicts = {run: r.verdict for run, r in results.items()}
    assert verdicts == {
        "gold": "resolved",
        "empty": "empty_patch",
        "wrong": "unresolved",
        "planted": "unresolved",
    }, {run: r.reason for run, r in results.items()}
    assert "FAIL_TO_PASS 1/1 pass, PASS_TO_PASS 3/3 pass" in results["gold"].reason
    assert "PASS_TO_PASS 2/3 pass; failing: test_calc.CalcTest.test_clamp_low" in results["wrong"].reason
