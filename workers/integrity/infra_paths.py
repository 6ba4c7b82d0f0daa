"""Which repository paths count as test infrastructure, and what kind each is.

A path a candidate changes is test infrastructure when the code that runs or judges the tests reads
it: test files, ``conftest.py``, the runner's configuration, interpreter startup hooks, bytecode, or a
new top-level module that would shadow the test runner or a standard module. ``setup.cfg`` and
``pyproject.toml`` hold package metadata too, so only their runner sections count
(``workers.integrity.sections``).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import PurePosixPath


class InfraKind(StrEnum):
    """Kinds of test infrastructure, worded for flags (``restored x: candidate changed it (<kind>)``)."""

    TEST_FILE = "test file"
    CONFTEST = "pytest conftest"
    RUNNER_CONFIG = "test-runner configuration"
    RUNNER_SECTIONS = "runner section"
    STARTUP = "interpreter startup hook"
    BYTECODE = "bytecode"
    SHADOW = "module shadowing the test runner or the standard library"
    PROTECTED = "protected by the spec"


TEST_DIRS = frozenset({"test", "tests", "testing", "e2e", "__tests__"})
TEST_FILE_GLOBS = (
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "tests.py",
    "*.test.js",
    "*.test.cjs",
    "*.test.mjs",
    "*.test.ts",
    "*.spec.js",
    "*.spec.ts",
    "*_test.go",
)
RUNNER_CONFIG_FILES = frozenset(
    {"pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml", "tox.ini", "noxfile.py"}
)
RUNNER_CONFIG_GLOBS = ("jest.config.*", "vitest.config.*", ".mocharc*", "karma.conf.*", "ava.config.*")
CARGO_CONFIGS = frozenset({".cargo/config", ".cargo/config.toml"})
SECTION_FILES = frozenset({"setup.cfg", "pyproject.toml"})
STARTUP_MODULES = frozenset({"sitecustomize", "usercustomize"})
RUNNER_MODULES = frozenset(
    {
        "pytest",
        "_pytest",
        "py",
        "pluggy",
        "iniconfig",
        "nose",
        "nose2",
        "coverage",
        "xdist",
        "hypothesis",
    }
)
SHADOW_NAMES = RUNNER_MODULES | frozenset(sys.stdlib_module_names)
IMPORT_ROOTS = ("", "src/")


def is_test_file(path: str) -> bool:
    """A file of the test suite: under a test directory, or named like a test module."""
    parts = PurePosixPath(path).parts
    if any(part in TEST_DIRS for part in parts[:-1]):
        return True
    return bool(parts) and any(fnmatchcase(parts[-1], g) for g in TEST_FILE_GLOBS)


def _top_level_module(path: str) -> str | None:
    """The top-level module a new file defines at an import root (``x.py``, ``x/__init__.py``), else None."""
    for root in IMPORT_ROOTS:
        if not path.startswith(root):
            continue
        rest = PurePosixPath(path[len(root) :]).parts
        if len(rest) == 1 and rest[0].endswith(".py"):
            return rest[0][:-3]
        if len(rest) == 2 and rest[1] == "__init__.py":  # a new regular package
            return rest[0]
    return None


def is_shadowing(path: str) -> bool:
    """A new file that would be imported instead of the test runner or a standard module."""
    module = _top_level_module(path)
    return module is not None and module in SHADOW_NAMES


def classify(
    path: str, *, created: bool = False, protect: tuple[str, ...] | list[str] = ()
) -> InfraKind | None:
    """The kind of test infrastructure ``path`` is, or None for ordinary code.

    ``created`` says the candidate added the path (only new files can shadow modules);
    ``protect`` are the spec's extra globs (``IntegrityPolicy.protect``).
    """
    p = PurePosixPath(path)
    name = p.name
    if name == "conftest.py":
        return InfraKind.CONFTEST
    if (
        name in RUNNER_CONFIG_FILES
        or path in CARGO_CONFIGS
        or any(fnmatchcase(name, g) for g in RUNNER_CONFIG_GLOBS)
    ):
        return InfraKind.RUNNER_CONFIG
    if name in SECTION_FILES:
        return InfraKind.RUNNER_SECTIONS
    if (
        name.endswith(".pth")
        or p.stem in STARTUP_MODULES
        or any(part in STARTUP_MODULES for part in p.parts[:-1])
    ):
        return InfraKind.STARTUP
    if name.endswith((".pyc", ".pyo")) or "__pycache__" in p.parts:
        return InfraKind.BYTECODE
    if is_test_file(path):
        return InfraKind.TEST_FILE
    if any(fnmatchcase(path, g) for g in protect):
        return InfraKind.PROTECTED
    if created and is_shadowing(path):
        return InfraKind.SHADOW
    return None


_HEADER_PREFIXES = (
    "diff ",
    "--- ",
    "+++ ",
    "*** ",
    "Index: ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
)


def _unsafe(path: str) -> bool:
    parts = path.strip('"').split("/")
    return ".git" in parts or ".." in parts or (path.startswith("/") and path != "/dev/null")


def unsafe_paths(patch: str) -> list[str]:
    """Paths a patch names inside ``.git`` or outside the repository (``..``, absolute paths).

    ``git apply`` refuses them, but ``patch --fuzz`` (the chain's last step) writes ``.git/config``,
    whose ``core.fsmonitor`` then runs a command at the harness's next ``git status``. Every header-like
    line is read, hunks included, so no diff dialect slips past; a false alarm needs a removed line
    that starts with ``-- `` and names ``.git/``.
    """
    found: dict[str, None] = {}
    for line in patch.split("\n"):
        if not line.startswith(_HEADER_PREFIXES):
            continue
        for word in line.split()[1:]:
            name = word[2:] if word[:2] in ("a/", "b/") else word
            if "/" in word and _unsafe(name):
                found.setdefault(name, None)
    return list(found)
