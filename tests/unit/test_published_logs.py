"""Real published logs of the official harness (tests/fixtures/published/, sources in its README):
`regrade --dataset D --logs DIR` agrees with the published verdicts at least as often as the
`swebench` package's own grading of the same logs (the oracle), parses every log as swebench does,
and flags no gold patch.

Each source directory holds ``<instance_id>/test_output.txt`` and the published ``report.json`` as the
harness wrote them, a ``dataset.jsonl`` whose test lists are the report's buckets (success + failure),
and ``source.json`` (repository, commit, path, system).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.regrade import regrade_external
from workers.log_grading import official_section
from workers.parsers import parse_output
from workers.spec import SpecCatalog

sb_grading = pytest.importorskip("swebench.harness.grading", reason="the swebench package is not installed")
sb_parsers = pytest.importorskip("swebench.harness.log_parsers")
sb_types = pytest.importorskip("swebench.types")

PUBLISHED = Path(__file__).resolve().parents[1] / "fixtures" / "published"
SOURCES = sorted(p for p in PUBLISHED.iterdir() if p.is_dir())
GOLD_FLAG_RATE_MAX = 0.005


def _rows(source: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in (source / "dataset.jsonl").read_text().splitlines()]


def _published(source: Path, iid: str) -> bool:
    return bool(json.loads((source / iid / "report.json").read_text())[iid]["resolved"])


def _parser(row: dict[str, Any]) -> str:
    spec = SpecCatalog.with_builtin().find(row["repo"], row["version"])
    assert spec is not None, row["instance_id"]
    return spec.parser


def _swebench(source: Path, row: dict[str, Any], tmp_path: Path) -> bool:
    """swebench's own verdict of the published log (its parser of the same name)."""
    spec = sb_types.TestSpec(
        instance_id=row["instance_id"],
        image="",
        eval_script_list=[],
        repo=row["repo"],
        version=row["version"],
        FAIL_TO_PASS=row["FAIL_TO_PASS"],
        PASS_TO_PASS=row["PASS_TO_PASS"],
        log_parser=f"parse_log_{_parser(row)}",
        eval_type="pass_and_fail",
    )
    prediction = {"instance_id": row["instance_id"], "model_name_or_path": "m", "model_patch": "diff"}
    log = source / row["instance_id"] / "test_output.txt"
    return bool(sb_grading.get_eval_report(spec, prediction, str(log), True)[row["instance_id"]]["resolved"])


def _ours(source: Path, tmp_path: Path) -> dict[str, Any]:
    """`regrade --dataset --logs` on a copy of the logs (it writes report.json beside each)."""
    logs = tmp_path / source.name
    for row in _rows(source):
        (logs / row["instance_id"]).mkdir(parents=True)
        shutil.copy(source / row["instance_id"] / "test_output.txt", logs / row["instance_id"])
    return regrade_external(str(source / "dataset.jsonl"), logs, [])


def test_the_set_is_there_with_its_sources() -> None:
    assert len(SOURCES) >= 3
    readme = (PUBLISHED / "README.md").read_text()
    for source in SOURCES:
        meta = json.loads((source / "source.json").read_text())
        assert meta["repo_source"] in readme and meta["commit"] in readme, source.name


def test_regrade_agrees_with_published_verdicts_at_least_as_often_as_swebench(tmp_path: Path) -> None:
    total = ours_agree = theirs_agree = 0
    for source in SOURCES:
        summary = _ours(source, tmp_path)
        resolved = set(summary["resolved_ids"])
        for row in _rows(source):
            published = _published(source, row["instance_id"])
            total += 1
            ours_agree += (row["instance_id"] in resolved) == published
            theirs_agree += _swebench(source, row, tmp_path) == published
    assert total == sum(len(_rows(s)) for s in SOURCES)
    assert ours_agree >= theirs_agree, (ours_agree, theirs_agree, total)
    assert ours_agree == total  # on this set: every published verdict


def test_parse_equals_swebench_parse_on_every_published_log() -> None:
    for source in SOURCES:
        for row in _rows(source):
            content = (source / row["instance_id"] / "test_output.txt").read_text()
            section = official_section(content)
            assert section is not None, (source.name, row["instance_id"])
            name = _parser(row)
            ours = {k: v.value for k, v in parse_output(name, section).statuses.items()}
            theirs = sb_parsers.PARSER_REGISTRY[f"parse_log_{name}"](section, None)
            assert ours == theirs, (source.name, row["instance_id"])


def test_gold_patches_are_flagged_on_at_most_half_a_percent_of_the_logs(tmp_path: Path) -> None:
    gold = [s for s in SOURCES if json.loads((s / "source.json").read_text())["system"] == "gold"]
    logs = flagged = 0
    for source in gold:
        summary = _ours(source, tmp_path)
        logs += summary["graded_instances"]
        flagged += len(summary["flagged"])
    assert logs >= 2
    assert flagged / logs <= GOLD_FLAG_RATE_MAX, (flagged, logs)
