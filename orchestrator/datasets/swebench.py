"""SWE-bench rows -> Instance: v4 rows and v5 rows (which may add image, eval_script, log_parser, eval_type).

Required: ``instance_id`` (a safe storage key), ``repo`` (owner/name) and ``base_commit``; a row
without ``image`` + ``eval_script`` must also carry a ``test_patch`` column (it may be empty). The
other fields default to '' / [] (v5 fields to None) when missing or null. Columns outside the schema
go to ``extra``; a float ``version`` (3.0 in some dumps) becomes the string SWE-bench uses ("3.0").
"""

from __future__ import annotations

from orchestrator.datasets.fields import COMMIT, REPO, Fields, as_object
from orchestrator.datasets.locations import Entry, Location
from orchestrator.datasets.readers import (
    DATASET_FORMATS,
    check_file,
    is_saved_hf_dataset,
    read_parquet,
    read_text_records,
)
from orchestrator.datasets.source import DatasetSource
from orchestrator.errors import DatasetError
from workers.models import Instance

TEXT_FIELDS = (
    "patch",
    "test_patch",
    "problem_statement",
    "hints_text",
    "created_at",
    "environment_setup_commit",
)
V5_FIELDS = ("image", "eval_script", "log_parser", "eval_type")
TEST_LISTS = ("FAIL_TO_PASS", "PASS_TO_PASS")
SCHEMA = frozenset({"instance_id", "repo", "base_commit", "version", *TEXT_FIELDS, *V5_FIELDS, *TEST_LISTS})

_ROW_FIX = "each row is an object with instance_id, repo, base_commit and the other SWE-bench fields"
_LIST_EXPECTED = "a list of row objects"


class SweBenchAdapter:
    """Loads SWE-bench-format datasets from .json, .jsonl, .parquet or Hugging Face."""

    name = "swebench"

    def load(self, source: DatasetSource) -> list[Instance]:
        instances: list[Instance] = []
        first: dict[str, Location] = {}
        for entry in read_rows(source):
            instance = row_to_instance(entry)
            seen = first.setdefault(instance.instance_id, entry.where)
            if seen is not entry.where:
                problem = f"duplicate instance_id {instance.instance_id!r} (first at {seen.describe()})"
                fix = "keep one row per instance"
                raise entry.where.error(DatasetError, problem, field="instance_id", fix=fix)
            instances.append(instance)
        return instances


def read_rows(source: DatasetSource) -> list[Entry]:
    """The raw rows of a dataset source (not yet checked), in order; never empty."""
    if source.hf_name is not None:
        from orchestrator.datasets.hub import read_hub

        entries = read_hub(source.hf_name, source.split, source.revision)
    else:
        entries = _read_file_rows(source)
    if not entries:
        raise DatasetError("the dataset has no rows", source=source.label, fix="give at least one row")
    return entries


def _read_file_rows(source: DatasetSource) -> list[Entry]:
    path = source.path
    assert path is not None
    if is_saved_hf_dataset(path):
        from orchestrator.datasets.hub import read_hub

        return read_hub(str(path), source.split, source.revision)
    suffix = check_file(path, DatasetError, DATASET_FORMATS)
    if suffix == ".parquet":
        return read_parquet(path, DatasetError)
    shape, entries = read_text_records(path, suffix, DatasetError, _LIST_EXPECTED)
    if shape == "dict":
        raise DatasetError(
            "the file holds a JSON object, expected a list of row objects",
            source=str(path),
            line=1,
            fix="write a list of rows (pandas: to_json(orient='records')) or use .jsonl",
        )
    return entries


def row_to_instance(entry: Entry) -> Instance:
    """One checked row."""
    row = as_object(entry, DatasetError, "the row", _ROW_FIX)
    fields = Fields(row, entry.where, DatasetError)
    data: dict[str, object] = {
        "instance_id": fields.identifier("instance_id"),
        "repo": fields.pattern("repo", REPO, "of the form owner/name", "e.g. django/django"),
        "base_commit": fields.pattern("base_commit", COMMIT, "a commit hash", "the commit patches apply to"),
        "version": fields.version("version"),
        **{name: fields.text(name) for name in TEXT_FIELDS},
        **{name: fields.optional_text(name) for name in V5_FIELDS},
        **{name: fields.test_list(name) for name in TEST_LISTS},
        "extra": {key: value for key, value in row.items() if key not in SCHEMA},
    }
    if "test_patch" not in row and not (data["image"] and data["eval_script"]):
        raise fields.fail(
            "test_patch",
            "missing required field (rows without image + eval_script need it)",
            "add the test patch (it may be empty), or image and eval_script for a v5 row",
        )
    return Instance.model_validate(data)
