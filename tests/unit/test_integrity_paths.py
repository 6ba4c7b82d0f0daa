"""Restore classification: which paths count as test infrastructure (and which do not), runner
sections of setup.cfg / pyproject.toml, unsafe patch paths, the diff reader and the spec policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workers.integrity.diff import parse_diff, touched_paths
from workers.integrity.infra_paths import InfraKind, classify, unsafe_paths
from workers.integrity.policy import IntegrityPolicy
from workers.integrity.sections import changed_sections
from workers.spec import EnvSpec

K = InfraKind


@pytest.mark.parametrize(
    ("path", "created", "kind"),
    [
        ("conftest.py", False, K.CONFTEST),
        ("tests/unit/conftest.py", True, K.CONFTEST),
        ("pytest.ini", False, K.RUNNER_CONFIG),
        ("tests/pytest.ini", True, K.RUNNER_CONFIG),
        ("tox.ini", False, K.RUNNER_CONFIG),
        ("noxfile.py", False, K.RUNNER_CONFIG),
        ("jest.config.js", False, K.RUNNER_CONFIG),
        (".cargo/config.toml", True, K.RUNNER_CONFIG),
        ("setup.cfg", False, K.RUNNER_SECTIONS),
        ("sub/pyproject.toml", True, K.RUNNER_SECTIONS),
        ("sitecustomize.py", True, K.STARTUP),
        ("src/usercustomize.py", True, K.STARTUP),
        ("sitecustomize/__init__.py", True, K.STARTUP),
        ("evil.pth", True, K.STARTUP),
        ("calc/__pycache__/arith.cpython-311.pyc", True, K.BYTECODE),
        ("calc/arith.pyc", True, K.BYTECODE),
        ("tests/test_arith.py", False, K.TEST_FILE),
        ("tests/helpers.py", False, K.TEST_FILE),
        ("pkg/testing/util.py", False, K.TEST_FILE),
        ("calc/test_extra.py", True, K.TEST_FILE),
        ("test/array.test.js", False, K.TEST_FILE),
        ("pkg/x_test.go", False, K.TEST_FILE),
        ("pytest.py", True, K.SHADOW),
        ("_pytest/__init__.py", True, K.SHADOW),
        ("src/unittest.py", True, K.SHADOW),
        ("json/__init__.py", True, K.SHADOW),
    ],
)
def test_test_infrastructure_is_classified(path: str, created: bool, kind: InfraKind) -> None:
    assert classify(path, created=created) is kind


@pytest.mark.parametrize(
    ("path", "created"),
    [
        ("calc/arith.py", False),
        ("calc/new_module.py", True),
        ("src/_pytest/terminal.py", False),  # pytest's own code, not a test directory
        ("latest.py", True),  # "test" inside a word
        ("attestation/core.py", False),
        ("README.md", False),
        ("pytest.py", False),  # an existing file shadows nothing new
        ("json/encoder.py", True),  # a file inside a package, not a new top-level module
        ("calc/json.py", True),  # not at an import root
        ("package.json", False),
    ],
)
def test_ordinary_code_is_not_infrastructure(path: str, created: bool) -> None:
    assert classify(path, created=created) is None


def test_spec_protected_paths_count() -> None:
    assert classify("bin/test", protect=["bin/test"]) is K.PROTECTED
    assert classify("bin/test") is None


CFG = "[metadata]\nname = calc\n\n[tool:pytest]\naddopts = -ra\n"


@pytest.mark.parametrize(
    ("name", "base", "new", "changed"),
    [
        ("setup.cfg", CFG, CFG.replace("name = calc", "name = calc2"), []),
        ("setup.cfg", CFG, CFG.replace("-ra", "-ra -p forge"), ["[tool:pytest]"]),
        ("setup.cfg", None, "[metadata]\nname = x\n", []),
        ("setup.cfg", None, "[tool:pytest]\naddopts = -p x\n", ["[tool:pytest]"]),
        ("setup.cfg", CFG, CFG + "[testenv:py]\ncommands = true\n", ["[testenv:py]"]),
        (
            "setup.cfg",
            CFG,
            CFG + "[options.entry_points]\npytest11 =\n  x = calc.forge\n",
            ["[options.entry_points] pytest11"],
        ),
        ("setup.cfg", CFG, None, ["[tool:pytest]"]),
        ("pyproject.toml", '[project]\nname = "a"\n', '[project]\nname = "b"\n', []),
        (
            "pyproject.toml",
            '[project]\nname = "a"\n',
            '[project]\nname = "a"\n[tool.pytest.ini_options]\naddopts = "-p x"\n',
            ["[tool.pytest]"],
        ),
        (
            "pyproject.toml",
            "",
            '[project.entry-points.pytest11]\nx = "calc.forge"\n',
            ["[project.entry-points.pytest11]"],
        ),
    ],
)
def test_runner_sections(name: str, base: str | None, new: str | None, changed: list[str]) -> None:
    assert changed_sections(name, base, new) == changed


def test_an_unreadable_file_counts_as_changed() -> None:
    found = changed_sections("pyproject.toml", "[project]\n", "[project\nbroken")
    assert len(found) == 1 and found[0].startswith("unreadable: ")


def test_unsafe_paths() -> None:
    patch = (
        "diff --git a/.git/config b/.git/config\n--- a/.git/config\n+++ b/.git/config\n"
        "--- a/../outside\n+++ b/sub/.git/hooks/pre-commit\n"
        "diff --git a/calc/x.py b/calc/x.py\n--- a/calc/x.py\n+++ b/calc/x.py\n--- /dev/null\n"
    )
    assert unsafe_paths(patch) == [".git/config", "../outside", "sub/.git/hooks/pre-commit"]
    assert unsafe_paths("diff --git a/.github/x.yml b/.github/x.yml\n--- a/.gitignore\n") == []


def test_diff_reader_handles_new_deleted_renamed_and_hunk_lookalikes() -> None:
    patch = (
        "diff --git a/a.py b/a.py\nnew file mode 100644\n--- /dev/null\n+++ b/a.py\n@@ -0,0 +1,2 @@\n"
        "+--- not a header\n++++ nor this\n"
        "diff --git a/b.py b/b.py\ndeleted file mode 100644\n--- a/b.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        "diff --git a/c.py b/d.py\nsimilarity index 100%\nrename from c.py\nrename to d.py\n"
        'diff --git "a/sp ace.py" "b/sp ace.py"\n--- "a/sp ace.py"\n+++ "b/sp ace.py"\n@@ -1 +1 @@\n-a\n+b\n'
    )
    changes = parse_diff(patch)
    assert [(c.old_path, c.new_path, c.created, c.deleted) for c in changes] == [
        (None, "a.py", True, False),
        ("b.py", None, False, True),
        ("c.py", "d.py", False, False),
        ("sp ace.py", "sp ace.py", False, False),
    ]
    assert changes[0].added == [(1, "--- not a header"), (2, "+++ nor this")]
    assert touched_paths(patch) == ["a.py", "b.py", "c.py", "d.py", "sp ace.py"]


def test_plain_diffs_without_git_headers() -> None:
    patch = (
        "--- x.py\t2024-01-01\n+++ x.py\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n"
        "--- y.py\n+++ y.py\n@@ -1 +1 @@\n-c\n+d\n"
    )
    assert [c.path for c in parse_diff(patch)] == ["x.py", "y.py"]


def test_spec_policy_defaults_to_strict_and_validates() -> None:
    spec = EnvSpec(repo="o/r", test_cmd="pytest")
    assert spec.integrity == IntegrityPolicy() and spec.integrity.mode == "strict"
    assert spec.structured_report == "none"
    policy = IntegrityPolicy(allow=["docs/conftest.py"], trusted=["src/_pytest/*"])
    assert policy.allows("docs/conftest.py") and not policy.allows("conftest.py")
    assert policy.trusts("src/_pytest/deep/x.py")
    with pytest.raises(ValidationError):
        IntegrityPolicy(mode="lenient")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        EnvSpec(repo="o/r", test_cmd="pytest", structured_report="xml")  # type: ignore[arg-type]
