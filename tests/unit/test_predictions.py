"""Predictions -> Candidate: the three SWE-bench shapes, run names, and the bad-input corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator import errors
from orchestrator.datasets import load_instances, load_predictions
from orchestrator.errors import PredictionsError
from workers.errors import UserInputError
from workers.models import Candidate, Instance

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = FIXTURES / "datasets"
BAD = FIXTURES / "bad_inputs"
CASES: list[dict[str, Any]] = yaml.safe_load((BAD / "cases.yaml").read_text())["cases"]

DJANGO, ASTROPY, SYMPY = "django__django-11099", "astropy__astropy-12907", "sympy__sympy-20590"


@pytest.fixture(scope="module")
def instances() -> dict[str, Instance]:
    return {i.instance_id: i for i in load_instances(GOOD / "swebench_v4.jsonl")}


def write(path: Path, *objects: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def test_jsonl_keeps_metadata_and_null_patch(instances: dict[str, Instance]) -> None:
    django, astropy, sympy = load_predictions(GOOD / "preds.jsonl", instances=instances)
    assert django.instance_id == DJANGO and django.run == "gpt-4o"
    assert django.patch is not None and django.patch.startswith("diff --git a/django/contrib/auth/")
    tokens = {"in": 1200, "out": 340}
    assert django.metadata == {"scaffold": "mini", "seed": 3, "tokens": tokens, "cost_usd": 0.012}
    # null: an empty patch, not an error
    assert astropy == Candidate(instance_id=ASTROPY, run="gpt-4o", patch=None)
    assert sympy == Candidate(instance_id=SYMPY, run="gpt-4o", patch="")


@pytest.mark.parametrize("name", ["preds_list.json", "preds_dict.json"])
def test_json_list_and_dict_shapes_equal_jsonl(instances: dict[str, Instance], name: str) -> None:
    # preds_dict.json: the first value omits instance_id, the others repeat it
    expected = load_predictions(GOOD / "preds.jsonl", instances=instances)
    assert load_predictions(str(GOOD / name), instances=instances) == expected


def test_run_overrides_the_model_name() -> None:
    candidates = load_predictions(GOOD / "preds.jsonl", run="mini-gpt4o-seed3")
    assert {c.run for c in candidates} == {"mini-gpt4o-seed3"}
    assert all(c.metadata["model_name_or_path"] == "gpt-4o" for c in candidates)
    same = load_predictions(GOOD / "preds.jsonl", run="gpt-4o")
    assert "model_name_or_path" not in same[1].metadata


def test_run_makes_the_model_name_optional(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", {"instance_id": DJANGO, "model_patch": "x"})
    (candidate,) = load_predictions(path, run="r1")
    assert candidate == Candidate(instance_id=DJANGO, run="r1", patch="x")
    with pytest.raises(PredictionsError, match=r"p\.jsonl:1: field 'model_name_or_path': missing required"):
        load_predictions(path)


def test_one_file_may_hold_several_runs(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.jsonl",
        {"instance_id": DJANGO, "model_name_or_path": "a", "model_patch": "1"},
        {"instance_id": DJANGO, "model_name_or_path": "b", "model_patch": "2"},
    )
    assert [(c.run, c.patch) for c in load_predictions(path)] == [("a", "1"), ("b", "2")]
    with pytest.raises(PredictionsError, match=r"p\.jsonl:2: .*duplicate prediction .* \(first at line 1\)"):
        load_predictions(path, run="merged")


def test_without_instances_any_safe_id_is_accepted(tmp_path: Path) -> None:
    prediction = {"instance_id": "flask__flask-4992", "model_name_or_path": "m", "model_patch": ""}
    path = write(tmp_path / "p.jsonl", prediction)
    assert load_predictions(path)[0].instance_id == "flask__flask-4992"


def test_huge_model_patch_is_rejected(tmp_path: Path) -> None:
    big = {"instance_id": DJANGO, "model_name_or_path": "m", "model_patch": "+x\n" * 4_000_000}
    path = write(tmp_path / "huge.jsonl", big)
    with pytest.raises(PredictionsError) as caught:
        load_predictions(path)
    expected = "huge.jsonl:1: field 'model_patch': is 11.4 MiB, larger than the 5.0 MiB limit"
    assert expected in caught.value.one_line()


def test_good_predictions_of_the_corpus_load() -> None:
    by_id = {i.instance_id: i for i in load_instances(BAD / "good_dataset.jsonl")}
    candidates = load_predictions(BAD / "good_predictions.jsonl", instances=by_id)
    assert [c.instance_id for c in candidates] == [DJANGO, ASTROPY, SYMPY]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in CASES if c["kind"] == "predictions"])
def test_bad_predictions(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)  # paths as a user gives them: the message length does not depend on the checkout
    by_id = {i.instance_id: i for i in load_instances(case["dataset"])}
    with pytest.raises(UserInputError) as caught:
        load_predictions(case["predictions"], instances=by_id)
    message = caught.value.one_line()
    assert type(caught.value) is getattr(errors, case["error"])
    assert str(caught.value) == message
    assert "\n" not in message and "\r" not in message
    assert len(message) < 300, message
    for part in case["expect"]:
        assert part in message, f"{part!r} not in {message!r}"
