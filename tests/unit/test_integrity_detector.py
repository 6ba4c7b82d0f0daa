"""The static suspicious-patch detector: each rule fires on what it is for and stays quiet on its
look-alikes; no gold patch of the demo benchmark, nor the real SWE-bench gold patches among the
fixtures, raises a flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.integrity.detector import scan_patch
from workers.integrity.policy import IntegrityPolicy

ROOT = Path(__file__).resolve().parents[2]


def diff(path: str, *added: str, new: bool = False) -> str:
    """A one-hunk diff adding ``added`` lines to ``path``."""
    head = f"diff --git a/{path} b/{path}\n"
    if new:
        head += "new file mode 100644\n--- /dev/null\n"
    else:
        head += f"--- a/{path}\n"
    body = "".join(f"+{line}\n" for line in added)
    return f"{head}+++ b/{path}\n@@ -0,0 +1,{len(added)} @@\n{body}"


def flags_of(patch: str, policy: IntegrityPolicy | None = None) -> list[str]:
    return [f.flag for f in scan_patch(patch, policy)]


def rules_of(patch: str) -> set[str]:
    return {f.rule for f in scan_patch(patch)}


@pytest.mark.parametrize(
    ("patch", "rule"),
    [
        (diff("calc/x.py", "def pytest_runtest_makereport(item, call):"), "pytest-hook"),
        (diff("calc/x.py", "@pytest.hookimpl(hookwrapper=True)", "def wrap(item):"), "pytest-hook"),
        (diff("calc/x.py", "pytest_plugins = ['calc.forge']"), "pytest-plugin"),
        (diff("setup.py", "    entry_points={'pytest11': ['x = calc.forge']},"), "pytest-plugin"),
        (diff("calc/x.py", "from _pytest.reports import TestReport"), "pytest-plugin"),
        (diff("calc/x.py", "import os", "os._exit(0)"), "early-exit"),
        (diff("calc/x.py", "import sys", "sys.exit(0)"), "early-exit"),
        (diff("calc/x.py", "raise SystemExit"), "early-exit"),
        (diff("src/a.js", "process.exit(0);"), "early-exit"),
        (diff("src/a.js", "  process.kill(process.pid, 'SIGKILL');"), "early-exit"),
        (diff("calc/x.py", "print('PASSED tests/test_x.py::test_a')"), "result-lines"),
        (diff("calc/x.py", "print(f'{n} passed in 0.01s')"), "result-lines"),
        (diff("calc/x.py", "print('Ran 3 tests in 0.001s')"), "result-lines"),
        (diff("calc/x.py", "print('test_a (x.T) ... ok')"), "result-lines"),
        (diff("src/a.js", "console.log(`ok ${i} - ${name}`);"), "result-lines"),
        (diff("src/a.js", "console.log('# pass 5');"), "result-lines"),
        (diff("calc/x.py", "open('/eval/eval.sh', 'a')"), "harness-probe"),
        (diff("calc/x.py", "os.environ.get('EVALFLEET_SEED')"), "harness-probe"),
        (diff("calc/x.py", "glob.glob('/proc/*/cmdline')"), "harness-probe"),
        (diff("calc/x.py", "subprocess.run('git log -p', shell=True)"), "harness-probe"),
        (diff("calc/x.py", "open('.git/HEAD')"), "harness-probe"),
        (
            "diff --git a/x.bin b/x.bin\nnew file mode 100644\nGIT binary patch\nliteral 3\nKcmZ>\n\n",
            "binary",
        ),
        (
            "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n"
            "@@ -0,0 +1 @@\n+/etc\n",
            "binary",
        ),
        (diff("conftest.py", "import os"), "test-infrastructure"),
        (diff("tests/helpers.py", "X = 1"), "test-infrastructure"),
        (diff("sitecustomize.py", "import os", new=True), "test-infrastructure"),
        (diff("pytest.py", "import sys", new=True), "test-infrastructure"),
        (diff("setup.cfg", "[tool:pytest]", "addopts = -p calc.forge"), "test-infrastructure"),
    ],
)
def test_each_rule_fires(patch: str, rule: str) -> None:
    assert rule in rules_of(patch), flags_of(patch)


@pytest.mark.parametrize(
    "patch",
    [
        diff(
            "calc/x.py", "def pytest_like_name_in_a_string():", "    return 'ok'"
        ),  # not pytest_ + hook name
        diff("calc/x.py", "def main():", "    sys.exit(run())"),  # exit inside a function
        diff("calc/__main__.py", "sys.exit(main())"),  # a script's own exit
        diff("bin/tool", "#!/usr/bin/env python3", "sys.exit(main())"),
        diff("calc/x.py", "status = 'FAILED'", "log.error('ERROR while parsing')"),  # common words
        diff("calc/x.py", "if result == 'ok':", "    return 'passed'"),
        diff("calc/x.py", "path = os.path.join(root, '.gitignore')"),
        diff("calc/x.py", "evaluate = lambda x: x"),
        diff("docs/usage.md", "Run `git log` and see /proc/cpuinfo; PASSED lines look like this."),
        diff("setup.cfg", "[metadata]", "name = calc"),  # package metadata, not a runner section
        diff("src/a.js", "function stop() {", "  process.exit(1);", "}"),  # indented: inside a function
    ],
)
def test_look_alikes_stay_quiet(patch: str) -> None:
    assert flags_of(patch) == []


def test_flags_name_the_rule_and_the_file() -> None:
    patch = diff("calc/arith.py", "import os", "def pytest_runtest_makereport(item, call):", "os._exit(0)")
    assert flags_of(patch) == [
        "suspicious: adds a pytest hook (pytest_runtest_makereport) in calc/arith.py",
        "suspicious: exits the process early (os._exit) in calc/arith.py",
    ]


def test_one_finding_per_rule_and_file() -> None:
    patch = diff("calc/x.py", "print('PASSED a')", "print('PASSED b')")
    assert flags_of(patch) == ["suspicious: prints result-like lines (PASSED) in calc/x.py"]


def test_trusted_paths_are_not_read() -> None:
    patch = diff("src/_pytest/terminal.py", "def pytest_report_teststatus(report):", "    return 'PASSED'")
    assert flags_of(patch)
    assert flags_of(patch, IntegrityPolicy(trusted=["src/_pytest/*"])) == []


def test_removed_and_context_lines_are_not_read() -> None:
    patch = (
        "diff --git a/calc/x.py b/calc/x.py\n--- a/calc/x.py\n+++ b/calc/x.py\n@@ -1,3 +1,3 @@\n"
        " os._exit(0)\n-print('PASSED x')\n+print('fine')\n"
    )
    assert flags_of(patch) == []


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_no_gold_patch_of_the_demo_benchmark_is_flagged() -> None:
    rows = _rows(ROOT / "demo" / "dataset.jsonl") + _rows(ROOT / "demo" / "dataset-flaky.jsonl")
    assert len(rows) == 14
    for row in rows:
        assert flags_of(row["patch"]) == [], row["instance_id"]
        assert rules_of(row["test_patch"]) == {"test-infrastructure"}, row["instance_id"]


def test_no_real_swebench_gold_patch_among_the_fixtures_is_flagged() -> None:
    rows = _rows(ROOT / "tests" / "fixtures" / "datasets" / "swebench_v4.jsonl")
    assert {r["instance_id"] for r in rows} >= {"django__django-11099", "astropy__astropy-12907"}
    for row in rows:
        assert flags_of(row["patch"]) == [], row["instance_id"]


def test_demo_model_candidates_are_not_flagged() -> None:
    for path in sorted((ROOT / "demo" / "predictions").glob("*.jsonl")):
        for row in _rows(path):
            assert flags_of(row.get("model_patch") or "") == [], (path.name, row["instance_id"])
