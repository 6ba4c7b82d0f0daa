"""Datasets -> Instance: every format, v4 and v5 rows, and the bad-input corpus (dataset cases)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from orchestrator import errors
from orchestrator.datasets import fields, load_instances
from orchestrator.errors import ConfigError, DatasetError
from workers.errors import UserInputError
from workers.models import Instance

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = FIXTURES / "datasets"
BAD = FIXTURES / "bad_inputs"
CASES: list[dict[str, Any]] = yaml.safe_load((BAD / "cases.yaml").read_text())["cases"]

DJANGO = "django__django-11099"
IDS = [DJANGO, "astropy__astropy-12907", "sympy__sympy-20590"]


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (GOOD / name).read_text().splitlines() if line.strip()]


def row(**changes: Any) -> dict[str, Any]:
    base = {"instance_id": DJANGO, "repo": "django/django", "base_commit": "d26b2424", "test_patch": ""}
    return {**base, **changes}


def write_jsonl(path: Path, *objects: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def test_jsonl_v4_rows_decode_json_encoded_test_lists() -> None:
    instances = load_instances(GOOD / "swebench_v4.jsonl")
    assert [i.instance_id for i in instances] == IDS
    django = instances[0]
    assert django.repo == "django/django"
    assert django.version == "3.0"
    assert django.fail_to_pass == [
        "test_ascii_validator (auth_tests.test_validators.UsernameValidatorsTests)"
    ]
    assert django.pass_to_pass == ["test_help_text (auth_tests.test_validators.MinimumLengthValidatorTest)"]
    assert django.environment_setup_commit == "419a78300f7cd27611196e1e464d50fd0385ff27"
    assert django.patch.startswith("diff --git a/django/contrib/auth/validators.py")
    assert django.image is None and django.extra == {}


def test_json_list_with_float_version_null_text_and_extra_columns() -> None:
    instances = load_instances(str(GOOD / "swebench_v4.json"))
    same, extra = load_instances(GOOD / "swebench_v4.jsonl"), {"difficulty": "<15 min fix"}
    assert instances == [*same[:2], same[2].model_copy(update={"extra": extra})]
    assert instances[0].version == "3.0"  # 3.0 (a float) in the file
    assert instances[1].hints_text == ""  # null in the file
    assert instances[2].extra == {"difficulty": "<15 min fix"}


def test_v5_rows_with_image_and_eval_script_need_no_test_patch() -> None:
    requests, tokio = load_instances(GOOD / "swebench_v5.jsonl")
    assert requests.image == "swebench/sweb.eval.x86_64.psf_1776_requests-2317:latest"
    assert requests.eval_script is not None and requests.eval_script.startswith("#!/bin/bash")
    assert (requests.log_parser, requests.eval_type, requests.test_patch) == ("pytest", "pytest", "")
    assert requests.extra == {"language": "python"}
    assert tokio.fail_to_pass == ["net::tcp::test_x"] and tokio.pass_to_pass == []
    assert (tokio.eval_type, tokio.version, tokio.hints_text, tokio.created_at) == (None, "", "", "")


def test_bom_crlf_and_blank_lines_are_accepted() -> None:
    instances = load_instances(GOOD / "bom_crlf_blank_lines.jsonl")
    assert instances == load_instances(GOOD / "swebench_v4.jsonl")[:2]


def test_parquet_rows_match_jsonl(tmp_path: Path) -> None:
    data = rows("swebench_v4.jsonl")
    table = pa.Table.from_pylist(data).set_column(
        list(data[0]).index("version"), "version", pa.array([3.0, 4.3, 1.7], pa.float64())
    )
    pq.write_table(table, tmp_path / "d.parquet")
    assert load_instances(tmp_path / "d.parquet") == load_instances(GOOD / "swebench_v4.jsonl")


def test_parquet_nulls_timestamps_and_list_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "instance_id": [DJANGO],
            "repo": ["django/django"],
            "base_commit": ["d26b2424"],
            "test_patch": [None],
            "hints_text": pa.array([None], pa.string()),
            "created_at": pa.array([1_553_053_578_000], pa.timestamp("ms")),
            "FAIL_TO_PASS": pa.array([["test_a", "test_b"]], pa.list_(pa.string())),
            "stars": [12],
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    (instance,) = load_instances(tmp_path / "d.parquet")
    assert (instance.test_patch, instance.hints_text) == ("", "")
    assert instance.created_at == "2019-03-20T03:46:18"
    assert instance.fail_to_pass == ["test_a", "test_b"]
    assert instance.extra == {"stars": 12}


@pytest.mark.parametrize(("given", "expected"), [(3, "3"), (0.12, "0.12"), (2.0, "2.0"), ("1.10", "1.10")])
def test_numeric_versions_become_swebench_strings(tmp_path: Path, given: object, expected: str) -> None:
    (instance,) = load_instances(write_jsonl(tmp_path / "d.jsonl", row(version=given)))
    assert instance.version == expected


@pytest.mark.parametrize(
    "instance_id",
    [
        DJANGO,
        "scikit-learn__scikit-learn-10297",
        "Automattic__wp-calypso-21409",
        "sphinx-doc__sphinx-8721",
        "pydata__xarray-3364",
        "my_suite.task-1",
    ],
)
def test_swebench_ids_are_safe(tmp_path: Path, instance_id: str) -> None:
    (instance,) = load_instances(write_jsonl(tmp_path / "d.jsonl", row(instance_id=instance_id)))
    assert instance.instance_id == instance_id


def test_empty_test_lists(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", row(FAIL_TO_PASS="", PASS_TO_PASS="[]"))
    (instance,) = load_instances(path)
    assert (instance.fail_to_pass, instance.pass_to_pass) == ([], [])


@pytest.mark.parametrize("field", ["patch", "problem_statement"])
def test_huge_field_is_rejected_with_its_size(tmp_path: Path, field: str) -> None:
    path = write_jsonl(tmp_path / "huge.jsonl", row(), row(instance_id="a__b-1", **{field: "x" * 11_000_000}))
    with pytest.raises(DatasetError) as caught:
        load_instances(path)
    message = caught.value.one_line()
    assert f"huge.jsonl:2: field '{field}': is 10.5 MiB, larger than the 5.0 MiB limit" in message
    assert "MAX_FIELD_BYTES" in message


def test_field_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", row(patch="é" * 600))  # 1,200 bytes
    monkeypatch.setattr(fields, "MAX_FIELD_BYTES", 1000)
    with pytest.raises(DatasetError, match="field 'patch'"):
        load_instances(path)
    monkeypatch.setattr(fields, "MAX_FIELD_BYTES", 2000)
    assert load_instances(path)[0].patch == "é" * 600


def test_exactly_one_source() -> None:
    with pytest.raises(DatasetError, match="exactly one dataset"):
        load_instances()
    with pytest.raises(DatasetError, match="exactly one dataset"):
        load_instances(GOOD / "swebench_v4.jsonl", hf_name="princeton-nlp/SWE-bench")


def test_adapters_by_name_or_module_class() -> None:
    path = GOOD / "swebench_v4.jsonl"
    by_class = load_instances(path, adapter="orchestrator.datasets.swebench:SweBenchAdapter")
    assert by_class == load_instances(path, adapter="swebench")
    with pytest.raises(
        ConfigError,
        match=r"unknown dataset adapter 'nope' -- use one of mixed, polyglot, swebench, swebench_pro",
    ):
        load_instances(GOOD / "swebench_v4.jsonl", adapter="nope")
    with pytest.raises(ConfigError, match="cannot import dataset adapter"):
        load_instances(GOOD / "swebench_v4.jsonl", adapter="no_such_module:Adapter")


def test_hugging_face_needs_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    with pytest.raises(DatasetError) as caught:
        load_instances(hf_name="princeton-nlp/SWE-bench_Lite")
    assert caught.value.one_line() == (
        "princeton-nlp/SWE-bench_Lite: loading a Hugging Face dataset needs the 'datasets' package"
        " -- pip install 'evalfleet[hf]'"
    )


def test_hugging_face_saved_dataset(tmp_path: Path) -> None:
    hf = pytest.importorskip("datasets")
    data = rows("swebench_v4.jsonl")
    hf.DatasetDict({"test": hf.Dataset.from_list(data)}).save_to_disk(str(tmp_path / "dd"))
    hf.Dataset.from_list(data).save_to_disk(str(tmp_path / "ds"))
    expected = load_instances(GOOD / "swebench_v4.jsonl")
    assert load_instances(hf_name=str(tmp_path / "dd"), split="test") == expected
    assert load_instances(tmp_path / "ds") == expected  # a save_to_disk directory given as a path
    with pytest.raises(DatasetError, match="no split 'dev' in the saved dataset -- use one of: test"):
        load_instances(hf_name=str(tmp_path / "dd"), split="dev")


def test_first_error_in_file_order_wins(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", row(), row(), row(repo="x"))
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: field 'instance_id': duplicate"):
        load_instances(path)


def test_good_dataset_of_the_corpus_loads() -> None:
    assert [i.instance_id for i in load_instances(BAD / "good_dataset.jsonl")] == IDS
    assert all(isinstance(i, Instance) for i in load_instances(BAD / "good_dataset.jsonl"))


def corpus(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in CASES if case["kind"] == kind]


def assert_one_line_error(exc: UserInputError, case: dict[str, Any]) -> None:
    message = exc.one_line()
    assert type(exc) is getattr(errors, case["error"])
    assert str(exc) == message
    assert "\n" not in message and "\r" not in message
    assert len(message) < 300, message
    for part in case["expect"]:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize("case", corpus("dataset"))
def test_bad_dataset(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)  # paths as a user gives them: the message length does not depend on the checkout
    with pytest.raises(UserInputError) as caught:
        load_instances(case["dataset"])
    assert_one_line_error(caught.value, case)


def test_corpus_is_large_and_its_files_exist() -> None:
    assert len(CASES) >= 35
    absent = {"ds_missing_file.jsonl", "pred_missing_file.jsonl"}
    for case in CASES:
        for key in ("dataset", "predictions"):
            if key in case and case[key] not in absent:
                assert (BAD / case[key]).exists(), case[key]
