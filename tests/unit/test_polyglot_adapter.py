"""The polyglot adapter on the project's own demo checkout (demo/polyglot/), and the polyglot parsers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.polyglot import build_checkout

from orchestrator.datasets import load_instances
from orchestrator.datasets.polyglot import file_diff
from orchestrator.errors import DatasetError
from workers.parsers import parse
from workers.parsers.polyglot import EXERCISE_TEST


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("polyglot") / "checkout"
    build_checkout(dest)
    return dest


def test_one_instance_per_exercise_with_its_language(checkout: Path) -> None:
    instances = load_instances(checkout, adapter="polyglot")
    assert [i.instance_id for i in instances] == [
        f"polyglot__{lang}__leap" for lang in ("cpp", "go", "java", "javascript", "python", "rust")
    ]
    head = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    for inst in instances:
        assert inst.repo == "Aider-AI/polyglot-benchmark" and inst.version == inst.extra["language"]
        assert inst.base_commit == inst.environment_setup_commit == head.stdout.strip()
        assert inst.fail_to_pass == [EXERCISE_TEST] and inst.pass_to_pass == []
        assert inst.log_parser == f"polyglot_{inst.version}"
        assert "Leap" in inst.problem_statement and inst.extra["solution_files"][0] in inst.problem_statement


def apply(checkout: Path, patch: str, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(checkout), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "apply", "-"], input=patch, text=True, check=True)
    return work


def test_gold_patch_writes_the_reference_over_the_stubs(checkout: Path, tmp_path: Path) -> None:
    by_id = {i.instance_id: i for i in load_instances(checkout, adapter="polyglot")}
    java = by_id["polyglot__java__leap"]
    work = apply(checkout, java.patch, tmp_path)
    exercise = work / "java" / "exercises" / "practice" / "leap"
    reference = exercise / ".meta" / "src" / "reference" / "java"
    for name in ("Leap.java", "Years.java"):  # a reference class without a stub becomes a new file
        assert (exercise / "src" / "main" / "java" / name).read_text() == (reference / name).read_text()
    assert "src/test" not in java.patch  # tests are never part of the gold patch


def test_gold_patches_apply_and_touch_only_solution_files(checkout: Path) -> None:
    for inst in load_instances(checkout, adapter="polyglot"):
        check = subprocess.run(
            ["git", "-C", str(checkout), "apply", "--check", "-"], input=inst.patch, text=True, check=False
        )
        assert check.returncode == 0, inst.instance_id
        touched = {line.split(" b/")[-1] for line in inst.patch.splitlines() if line.startswith("diff --git")}
        solution = set(inst.extra["solution_files"])
        assert touched <= solution | {p.replace(".meta/src/reference/java", "src/main/java") for p in touched}


def test_eval_script_restores_everything_but_the_solution(checkout: Path) -> None:
    inst = next(i for i in load_instances(checkout, adapter="polyglot") if i.version == "rust")
    script = inst.eval_script or ""
    lines = script.splitlines()
    assert lines[0] == "cd rust/exercises/practice/leap || exit 3"
    assert lines[1].startswith(f"git checkout -q {inst.base_commit} -- . ")
    assert "':(exclude)src/lib.rs'" in lines[1] and "':(exclude)Cargo.toml'" in lines[1]
    assert lines[2].startswith("git clean -fdxq -- . ")
    assert "cargo test --offline -- --include-ignored" in script


def test_file_diff_marks_a_missing_final_newline() -> None:
    diff = file_diff("x/a.py", "a\nb", "a\nc\n")
    assert diff.splitlines()[:3] == ["diff --git a/x/a.py b/x/a.py", "--- a/x/a.py", "+++ b/x/a.py"]
    assert "\\ No newline at end of file" in diff
    assert file_diff("x/a.py", "same\n", "same\n") == ""


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("missing", "reads a directory"),
        ("plain_dir", "not a git checkout"),
        ("empty_repo", "no exercises"),
        ("bad_config", "cannot read files.solution"),
    ],
)
def test_bad_checkouts_are_one_line_dataset_errors(tmp_path: Path, setup: str, problem: str) -> None:
    root = tmp_path / "root"
    if setup != "missing":
        root.mkdir()
    if setup in ("empty_repo", "bad_config"):
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    if setup == "bad_config":
        meta = root / "go" / "exercises" / "practice" / "x" / ".meta"
        meta.mkdir(parents=True)
        (meta / "config.json").write_text(json.dumps({"files": {"solution": ["x.go"]}}))
    with pytest.raises(DatasetError) as err:
        load_instances(root, adapter="polyglot")
    assert problem in str(err.value) and "\n" not in str(err.value)


def test_exercise_passes_only_when_tests_ran_and_none_failed() -> None:
    passing = "PASSED leap_test.py::LeapTest::test_a\nPASSED leap_test.py::LeapTest::test_b\n"
    assert parse("polyglot_python", passing)[EXERCISE_TEST] == "PASSED"
    assert (
        parse("polyglot_python", passing + "FAILED leap_test.py::LeapTest::test_c\n")[EXERCISE_TEST]
        == "FAILED"
    )
    assert parse("polyglot_python", "ImportError: no module named leap\n") == {}
    # a C++/Java build error prints no JUnit report: nothing parsed (the grade says so), no parse problem
    assert parse("polyglot_cpp", "leap.cpp:3: error: expected ';'\n") == {}
    truncated = '<?xml version="1.0"?><testsuites><testsuite name="x"><testcase classname="c" name="t"/>'
    assert parse("polyglot_java", truncated)[EXERCISE_TEST] == "FAILED"
