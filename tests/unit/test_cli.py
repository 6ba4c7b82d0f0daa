"""The CLI: --help is fast, dry runs print the plan, and every bad input is one line with exit code 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main

BAD = Path("tests/fixtures/bad_inputs")
CORPUS = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))
CASES = CORPUS["cases"]
EVALFLEET = str(Path(sys.executable).with_name("evalfleet"))


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["evalfleet", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def case_paths(case: dict[str, str]) -> tuple[Path, Path]:
    dataset = BAD / case["dataset"]
    predictions = BAD / case.get("predictions", CORPUS["default_predictions"])
    return dataset, predictions


def assert_one_line_error(code: int, err: str, expect: list[str]) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("evalfleet: error: ")
    assert "Traceback" not in err
    for needle in expect:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_through_eval(
    case: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, predictions = case_paths(case)
    code, _out, err = run_cli(
        ["eval", "--dataset", str(dataset), "--predictions", str(predictions), "--dry-run"],
        capsys,
        monkeypatch,
    )
    assert_one_line_error(code, err, list(case["expect"]))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_through_config(
    case: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, predictions = case_paths(case)
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"name": "bad", "dataset": {"path": str(dataset)}, "runs": [{"predictions": str(predictions)}]}
        ),
        encoding="utf-8",
    )
    code, _out, err = run_cli(["run", str(cfg), "--dry-run"], capsys, monkeypatch)
    assert_one_line_error(code, err, list(case["expect"]))


def test_demo_dry_run_prints_plan(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["run", "configs/demo.yaml", "--dry-run"], capsys, monkeypatch)
    assert code == 0, err
    assert "13 instances x 3 runs x 1 repeats = 39 work items" in out
    # per repo: items, then instances built here / pulled / neither
    for repo, n, built in (("demo/calc", 15, 5), ("demo/textkit", 12, 4), ("demo/jsutil", 12, 4)):
        cells = [ln.replace("│", " ").split() for ln in out.splitlines()]
        assert [repo, str(n), str(built), "0", "0"] in cells, out


def test_eval_dry_run_matches_config_plan(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(
        [
            "eval",
            "--dataset",
            "demo/dataset.jsonl",
            "--predictions",
            "demo/predictions/model-a.jsonl",
            "--repo",
            "demo/calc=demo/build/bundles/calc.bundle",
            "--dry-run",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "13 instances x 1 runs x 1 repeats = 13 work items" in out
    assert "demo-model-a" in out


def test_set_override_reaches_the_plan(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(
        [
            "run",
            "configs/demo.yaml",
            "--dry-run",
            "--set",
            "repeats=2",
            "--set",
            "dataset.instances=[demo__calc-*]",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "5 instances x 3 runs x 2 repeats = 30 work items" in out


def test_bad_config_field_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: x\ndataset: {path: demo/dataset.jsonl}\nruns: [{gold: true}]\nrepeats: many\n")
    code, _out, err = run_cli(["run", str(cfg), "--dry-run"], capsys, monkeypatch)
    assert_one_line_error(code, err, ["c.yaml", "field 'repeats'", "'many'"])


def test_missing_spec_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    row = json.loads(Path("demo/dataset.jsonl").read_text().splitlines()[0])
    row.update(instance_id="o__unknown-1", repo="o/unknown")
    (tmp_path / "ds.jsonl").write_text(json.dumps(row) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: x\ndataset: {{path: {tmp_path}/ds.jsonl}}\nruns: [{{gold: true}}]\n")
    code, _out, err = run_cli(["run", str(cfg), "--dry-run"], capsys, monkeypatch)
    assert_one_line_error(code, err, ["o/unknown", "no environment spec"])


def test_a_missing_spec_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"name: x\ndataset: {{path: demo/dataset.jsonl}}\nruns: [{{gold: true}}]\nspecs: [{tmp_path}/nope]\n"
    )
    code, _out, err = run_cli(["run", str(cfg), "--dry-run"], capsys, monkeypatch)
    assert_one_line_error(code, err, ["nope", "spec directory not found"])


def test_help_is_fast_and_lists_every_command() -> None:
    t0 = time.monotonic()
    res = subprocess.run([EVALFLEET, "--help"], capture_output=True, text=True, check=True)
    elapsed = time.monotonic() - t0
    for command in ("run", "eval", "status", "report", "compare", "trend", "regrade", "validate", "images"):
        assert f"  {command} " in res.stdout
    assert elapsed < 1.0, f"evalfleet --help took {elapsed:.2f} s"


@pytest.mark.parametrize(
    "command",
    [
        "run",
        "eval",
        "status",
        "report",
        "compare",
        "trend",
        "regrade",
        "validate",
        "images",
        "images build",
        "images list",
        "images prune",
    ],
)
def test_every_command_explains_itself(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _err = run_cli([*command.split(), "--help"], capsys, monkeypatch)
    assert code == 0
    assert "Usage:" in out
    assert len(out.splitlines()) > 4


def test_real_process_exit_code_for_bad_input() -> None:
    res = subprocess.run(
        [
            EVALFLEET,
            "eval",
            "--dataset",
            str(BAD / "ds_malformed_line.jsonl"),
            "--predictions",
            str(BAD / CORPUS["default_predictions"]),
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1


def test_eval_finds_the_built_in_specs_from_any_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path.cwd()
    monkeypatch.chdir(tmp_path)  # no configs/specs here: the specs come from the package
    args = ["eval", "--dataset", str(root / "demo/dataset.jsonl"), "--predictions"]
    code, out, err = run_cli(
        [
            *args,
            str(root / "demo/predictions/gold.jsonl"),
            "--repo",
            f"demo/calc={root}/demo/build/bundles/calc.bundle",
            "--dry-run",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "13 instances x 1 runs x 1 repeats = 13 work items" in out


def test_a_run_id_names_one_sweep_of_a_series(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--run-id` (scheduled re-evaluations on Kubernetes): sweep NAME-RUN_ID, the config's name kept,
    one sweep per run id; without it the sweep id is the config's own."""
    code, out, err = run_cli(
        ["run", "configs/demo.yaml", "--run-id", "20260101-0200", "--dry-run"], capsys, monkeypatch
    )
    assert code == 0, err
    assert out.splitlines()[0] == "sweep demo-20260101-0200"
    code, out, err = run_cli(["run", "configs/demo.yaml", "--dry-run"], capsys, monkeypatch)
    assert code == 0 and re.fullmatch(r"sweep demo-[0-9a-f]{10}", out.splitlines()[0]), out
    code, _out, err = run_cli(
        ["run", "configs/demo.yaml", "--run-id", "a/b", "--dry-run"], capsys, monkeypatch
    )
    assert_one_line_error(code, err, ["--run-id", "bad run id 'a/b'"])
    code, _out, err = run_cli(
        ["run", "configs/demo.yaml", "--run-id", "x", "--resume", "demo-x", "--dry-run"], capsys, monkeypatch
    )
    assert_one_line_error(code, err, ["--run-id and --resume"])
