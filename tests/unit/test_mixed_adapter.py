"""The mixed adapter: several datasets with their own adapters as one."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.datasets import load_instances
from orchestrator.errors import DatasetError

DEMO = Path(__file__).resolve().parents[2] / "demo" / "dataset.jsonl"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "parts.yaml"
    path.write_text(text)
    return path


def test_parts_are_concatenated_and_filtered(tmp_path: Path) -> None:
    path = write(tmp_path, f"parts:\n  - {{path: {DEMO}, instances: ['demo__calc-1', 'demo__jsutil-*']}}\n")
    ids = [i.instance_id for i in load_instances(path, adapter="mixed")]
    assert ids[0] == "demo__calc-1" and len(ids) > 1
    assert all(i == "demo__calc-1" or i.startswith("demo__jsutil-") for i in ids)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"parts:\n  - {{path: {DEMO}}}\n  - {{path: {DEMO}}}\n", "is in part 0 and part 1"),
        ("parts:\n  - {path: x.yaml, adapter: mixed}\n", "is itself mixed"),
        ("parts: []\n", "field 'parts'"),
        ("parts:\n  - {path: x, bogus: 1}\n", "field 'parts.0.bogus'"),
    ],
)
def test_bad_mixed_files_are_one_line_errors(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(DatasetError) as err:
        load_instances(write(tmp_path, text), adapter="mixed")
    assert problem in str(err.value) and "\n" not in str(err.value)
