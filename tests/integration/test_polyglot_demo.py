"""The polyglot demo end to end in real containers: one image per language, built from Debian packages.

Gold (the reference solutions) resolves every exercise; the empty run resolves none; the untouched
stubs, whose tests really run, fail every exercise; a candidate that rewrites a test file instead of
the solution fails too, because the eval script restores the test files. First run: the six language
images are built (a few minutes); afterwards they are cached and the module takes well under a minute.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.polyglot import UNTOUCHED_PATCH, build_checkout, polyglot_config

from orchestrator.datasets.polyglot import file_diff
from orchestrator.execute import eval_settings
from orchestrator.sweep import plan_sweep
from workers.evaluate import EvalSettings, evaluate
from workers.models import Result, WorkItem

pytestmark = pytest.mark.docker

LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")
CHEAT_TEST = (
    "import unittest\n\n\nclass LeapTest(unittest.TestCase):\n    def test_nothing(self):\n        pass\n"
)


@pytest.fixture(scope="module")
def results(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[str, str], Result]]:
    root = tmp_path_factory.mktemp("polyglot-demo")
    checkout = root / "checkout"
    build_checkout(checkout)
    test_file = checkout / "python" / "exercises" / "practice" / "leap" / "leap_test.py"
    predictions = root / "predictions.jsonl"
    rows = [
        {
            "instance_id": f"polyglot__{lang}__leap",
            "model_name_or_path": "untouched",
            "model_patch": UNTOUCHED_PATCH,
        }
        for lang in LANGUAGES
    ]
    cheat = file_diff("python/exercises/practice/leap/leap_test.py", test_file.read_text(), CHEAT_TEST)
    predictions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cheat_file = root / "cheat.jsonl"
    row = {"instance_id": "polyglot__python__leap", "model_name_or_path": "cheat", "model_patch": cheat}
    cheat_file.write_text(json.dumps(row) + "\n")
    runs: list[dict[str, Any]] = [
        {"name": "gold", "gold": True},
        {"name": "empty", "empty": True},
        {"name": "untouched", "predictions": str(predictions)},
        {"name": "cheat", "predictions": str(cheat_file)},
    ]
    config = polyglot_config(checkout, runs, f"file://{root / 'store'}")
    sweep_id = f"pytest-polyglot-{uuid.uuid4().hex[:8]}"
    plan = plan_sweep(config, sweep_id=sweep_id)
    settings = EvalSettings.model_validate(
        {**eval_settings(config).model_dump(), "spare_sandboxes": False, "background_removal": False}
    )
    out = root / "items"

    def one(item: WorkItem) -> tuple[tuple[str, str], Result]:
        return (item.candidate.run, item.instance.instance_id), evaluate(item, settings, out / item.key)

    try:
        with ThreadPoolExecutor(2) as pool:
            yield dict(pool.map(one, plan.items))
    finally:
        for container in docker_client.containers.list(
            all=True, filters={"label": f"evalfleet.sweep={sweep_id}"}
        ):
            container.remove(force=True)


def verdicts(results: dict[tuple[str, str], Result], run: str) -> dict[str, str]:
    return {iid.split("__")[1]: r.verdict for (r_run, iid), r in results.items() if r_run == run}


def test_gold_resolves_every_language(results: dict[tuple[str, str], Result]) -> None:
    assert verdicts(results, "gold") == dict.fromkeys(LANGUAGES, "resolved"), {
        k: r.reason for k, r in results.items() if k[0] == "gold"
    }


def test_empty_run_resolves_none(results: dict[tuple[str, str], Result]) -> None:
    assert verdicts(results, "empty") == dict.fromkeys(LANGUAGES, "empty_patch")


def test_untouched_stubs_fail_every_language(results: dict[tuple[str, str], Result]) -> None:
    assert verdicts(results, "untouched") == dict.fromkeys(LANGUAGES, "unresolved")
    for (run, _), result in results.items():
        if run == "untouched":
            assert result.test_exit_code not in (None, 0) and "FAIL_TO_PASS 0/1" in result.reason


def test_a_rewritten_test_file_is_restored_before_the_tests_run(
    results: dict[tuple[str, str], Result],
) -> None:
    cheat = results[("cheat", "polyglot__python__leap")]
    assert cheat.verdict == "unresolved", cheat.reason
