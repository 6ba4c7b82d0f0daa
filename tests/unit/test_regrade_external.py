"""`evalfleet regrade --dataset D --logs DIR`: grade logs laid out as published for official SWE-bench runs
(DIR/<instance_id>/test_output.txt), writing report.json beside each and a summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands.regrade import regrade_external

FIXTURES = Path("tests/fixtures/logs")
FRAMED = sorted(
    p
    for p in FIXTURES.glob("*/*.json")
    if json.loads(p.read_text()).get("framed") and json.loads(p.read_text())["instances"]
)


def layout(tmp_path: Path) -> tuple[Path, Path, dict[str, bool]]:
    """Every framed fixture log under logs/<iid>/test_output.txt, and a dataset of its instances."""
    logs, rows, expected = tmp_path / "logs", [], {}
    for meta_path in FRAMED:
        meta = json.loads(meta_path.read_text())
        log_text = meta_path.with_suffix(".log").read_text(encoding="utf-8")
        for inst in meta["instances"]:
            iid = inst["instance_id"] if inst["instance_id"] not in expected else f"{inst['instance_id']}-2"
            (logs / iid).mkdir(parents=True)
            (logs / iid / "test_output.txt").write_text(log_text, encoding="utf-8")
            rows.append(
                {
                    "instance_id": iid,
                    "repo": inst["repo"],
                    "base_commit": "0" * 40,
                    "test_patch": "",
                    "FAIL_TO_PASS": inst["FAIL_TO_PASS"],
                    "PASS_TO_PASS": inst["PASS_TO_PASS"],
                    "log_parser": meta["parser"],
                }
            )
            expected[iid] = inst["resolved"]
    dataset = tmp_path / "dataset.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return dataset, logs, expected


def test_fixtures_are_there() -> None:
    assert len(FRAMED) >= 5


def test_external_logs_are_graded_like_the_fixtures_say(tmp_path: Path) -> None:
    dataset, logs, expected = layout(tmp_path)
    summary = regrade_external(str(dataset), logs, ["configs/specs"])
    assert sorted(summary["resolved_ids"]) == sorted(i for i, ok in expected.items() if ok)
    assert sorted(summary["unresolved_ids"]) == sorted(i for i, ok in expected.items() if not ok)
    assert summary["missing_ids"] == []
    for iid, ok in expected.items():
        report = json.loads((logs / iid / "report.json").read_text())
        entry = report[iid]
        assert entry["resolved"] is ok
        if ok:  # an unresolved log may also be one the official harness does not read as a run
            assert entry["patch_successfully_applied"] is True
        assert set(entry["tests_status"]) == {"FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"}
    assert json.loads((logs / "summary.json").read_text()) == summary


def test_a_log_of_a_patch_that_did_not_apply_is_unresolved(tmp_path: Path) -> None:
    dataset, logs, expected = layout(tmp_path)
    iid = next(i for i, ok in expected.items() if ok)
    out = logs / iid / "test_output.txt"
    out.write_text(">>>>> Patch Apply Failed\n" + out.read_text(), encoding="utf-8")
    summary = regrade_external(str(dataset), logs, ["configs/specs"])
    assert iid in summary["unresolved_ids"]
    assert json.loads((logs / iid / "report.json").read_text())[iid]["patch_successfully_applied"] is False


def test_cli_regrade_external_and_its_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, logs, _ = layout(tmp_path)
    monkeypatch.setattr(sys, "argv", ["evalfleet", "regrade", "--dataset", str(dataset), "--logs", str(logs)])
    with pytest.raises(SystemExit) as ok:
        main()
    assert ok.value.code == 0
    assert "resolved" in capsys.readouterr().out
    monkeypatch.setattr(
        sys, "argv", ["evalfleet", "regrade", "--dataset", str(dataset), "--logs", str(tmp_path / "nope")]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    assert "not a directory" in capsys.readouterr().err


def test_logs_of_versions_that_cannot_be_built_here_are_graded_with_the_built_in_specs(
    tmp_path: Path,
) -> None:
    """Grading needs the parser and the test lists only: rows of a version no base here provides (their
    spec has no recipe) grade like the others, with the parser of the built-in spec."""
    from workers.spec import SpecCatalog

    catalog = SpecCatalog.with_builtin()
    dataset, logs, expected = layout(tmp_path)
    rows = [json.loads(ln) for ln in dataset.read_text().splitlines()]
    changed = 0
    for row in rows:
        unbuildable = [
            s for s in catalog.specs_of(row["repo"]) if s.unbuildable and s.parser == row["log_parser"]
        ]
        if unbuildable:
            row["version"] = unbuildable[0].version
            del row["log_parser"]
            changed += 1
    assert changed >= 3  # several repos (django, sympy, matplotlib, ...) have such versions
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = regrade_external(str(dataset), logs, [])
    assert sorted(summary["resolved_ids"]) == sorted(i for i, ok in expected.items() if ok)
    assert (
        summary["flagged"] == {} and summary["hardened_resolved_instances"] == summary["resolved_instances"]
    )
