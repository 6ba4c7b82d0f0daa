"""Aider polyglot benchmark checkout -> Instance: one instance per Exercism exercise.

The source is a git checkout of the public benchmark repository (Aider-AI/polyglot-benchmark):
``<language>/exercises/practice/<exercise>/`` with ``.meta/config.json`` naming the solution, test and
example files. Each instance:

- ``repo`` is ``Aider-AI/polyglot-benchmark`` and ``version`` the language, so the environment spec
  (``configs/specs/polyglot/``) gives one image per language toolchain, shared by all its exercises;
  ``base_commit`` is the checkout's HEAD;
- ``problem_statement``: the exercise's ``.docs/instructions*.md`` and the files to edit;
- ``patch`` (gold): the reference solution (``.meta/example*``, ``.meta/proof.ci.js``, Java's
  ``.meta/src/reference/java/``, Rust's ``.meta/Cargo-example.toml``) written over the stubs;
- ``eval_script``: restores every tracked file of the exercise but the solution files to the base
  commit and removes untracked ones (so the test files are always the benchmark's), enables every
  test as Aider's benchmark does, and runs the language's tests (``TEST_COMMANDS``);
- ``FAIL_TO_PASS`` is ``[EXERCISE_TEST]``: solved when every test passes (``workers/parsers/polyglot.py``).

The candidate is a patch to the solution files, as for SWE-bench; ``docs/benchmarks.md`` says how the
Java tests run without Gradle.
"""

from __future__ import annotations

import difflib
import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orchestrator.datasets.source import DatasetSource
from orchestrator.errors import DatasetError
from workers.models import Instance
from workers.parsers.polyglot import EXERCISE_TEST

REPO_NAME = "Aider-AI/polyglot-benchmark"
LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")
JAVA_REFERENCE = ".meta/src/reference/java/"

_JAVA_CP = "/usr/share/java/junit-platform-console-standalone.jar:/usr/share/java/assertj-core.jar"
_BABEL_CONFIG = 'module.exports = { presets: [["@babel/preset-env", { targets: { node: "current" } }]] };'
"""Replaces the exercise's babel.config.js, whose preset (@exercism/babel-preset-javascript) Debian lacks."""
TEST_COMMANDS: dict[str, str] = {
    "python": "python3 -m pytest -rA -p no:cacheprovider {tests}",
    "go": "go test -v ./...",
    "rust": "cargo test --offline -- --include-ignored",
    "javascript": (
        "sed -i -E 's/\\bxtest\\(/test(/g; s/\\bxit\\(/it(/g; s/\\bxdescribe\\(/describe(/g' {tests}\n"
        f"echo {shlex.quote(_BABEL_CONFIG)} > babel.config.js\n"
        "NODE_PATH=/usr/share/nodejs jest --ci --verbose --no-cache --testTimeout=60000 --rootDir . "
        "{tests}"
    ),
    "cpp": (
        "mkdir -p build && cd build && cmake -DEXERCISM_RUN_ALL_TESTS=1 .. >/dev/null "
        "&& make {exercise} || exit 1\n"
        "./{exercise} --reporter junit"
    ),
    "java": (
        "sed -i -E 's/@Disabled(\\([^)]*\\))?//' {tests}\n"
        f"CP={_JAVA_CP}\n"
        "B=$(mktemp -d)\n"
        "javac -encoding UTF-8 -nowarn -d $B/main $(find src/main/java -name '*.java') || exit 1\n"
        "javac -encoding UTF-8 -nowarn -cp $B/main:$CP -d $B/test $(find src/test/java -name '*.java') || exit 1\n"
        "java -jar /usr/share/java/junit-platform-console-standalone.jar --disable-banner "
        "--details=none --class-path $B/main:$B/test:$CP --scan-class-path $B/test --reports-dir $B/reports\n"
        "r=$?; cat $B/reports/*.xml; exit $r"
    ),
}
"""Language -> test command, run in the exercise directory ({tests}: the test files; {exercise}: its name)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of the checkout, read from its ``.meta/config.json``."""

    language: str
    name: str
    directory: str  # relative to the checkout root
    solution: tuple[str, ...]
    tests: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def instance_id(self) -> str:
        return f"polyglot__{self.language}__{self.name}"


class PolyglotAdapter:
    """Loads the exercises of an Aider polyglot benchmark checkout (``dataset.path`` is its root)."""

    name = "polyglot"

    def load(self, source: DatasetSource) -> list[Instance]:
        root = _checkout_root(source)
        commit = _head(root)
        exercises = [ex for lang in LANGUAGES for ex in _exercises(root, lang)]
        if not exercises:
            raise DatasetError(
                f"{root}: no exercises under <language>/exercises/practice/",
                fix="point dataset.path at a checkout of github.com/Aider-AI/polyglot-benchmark",
            )
        return [_instance(root, commit, ex) for ex in exercises]


def _checkout_root(source: DatasetSource) -> Path:
    if source.path is None or not source.path.is_dir():
        where = source.path if source.path is not None else source.label
        raise DatasetError(
            f"{where}: the polyglot adapter reads a directory",
            field="dataset.path",
            fix="set dataset.path to a git checkout of github.com/Aider-AI/polyglot-benchmark",
        )
    return source.path


def _head(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DatasetError(
            f"{root}: not a git checkout ({done.stderr.strip()})",
            field="dataset.path",
            fix="clone the benchmark repository (its commit is the instances' base commit)",
        )
    return done.stdout.strip()


def _exercises(root: Path, language: str) -> list[Exercise]:
    practice = root / language / "exercises" / "practice"
    if not practice.is_dir():
        return []
    found = []
    for directory in sorted(p for p in practice.iterdir() if (p / ".meta" / "config.json").is_file()):
        config = directory / ".meta" / "config.json"
        try:
            files = json.loads(config.read_text(encoding="utf-8"))["files"]
            solution, tests = tuple(files["solution"]), tuple(files["test"])
            examples = tuple(files.get("example", ()))
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(
                f"{config}: cannot read files.solution/test/example ({exc})",
                fix="use an unmodified checkout of the benchmark",
            ) from None
        rel = str(directory.relative_to(root))
        found.append(Exercise(language, directory.name, rel, solution, tests, examples))
    return found


def gold_targets(ex: Exercise) -> dict[str, str]:
    """Reference file -> the solution path it is written to (both relative to the exercise)."""
    targets: dict[str, str] = {}
    free = list(ex.solution)
    for example in ex.examples:
        if ex.language == "java" and example.startswith(JAVA_REFERENCE):
            target = "src/main/java/" + example.removeprefix(JAVA_REFERENCE)
        else:
            suffix = Path(example).suffix
            target = next((s for s in free if Path(s).suffix == suffix), "")
            if not target:
                continue
        targets[example] = target
        if target in free:
            free.remove(target)
    if ex.language == "rust":
        targets[".meta/Cargo-example.toml"] = "Cargo.toml"  # used when it exists: the example's crates
    return targets


def gold_patch(root: Path, ex: Exercise) -> str:
    """A git-style diff writing the reference solution over the stubs."""
    base = root / ex.directory
    parts = []
    for example, target in gold_targets(ex).items():
        new_file = base / example
        if not new_file.is_file():
            continue
        old_file = base / target
        old = old_file.read_text(encoding="utf-8") if old_file.is_file() else None
        parts.append(file_diff(f"{ex.directory}/{target}", old, new_file.read_text(encoding="utf-8")))
    return "".join(parts)


def file_diff(path: str, old: str | None, new: str) -> str:
    """A ``git diff`` of one file (``old`` None: a new file), "\\ No newline" markers included."""
    if old == new:
        return ""
    head = f"diff --git a/{path} b/{path}\n"
    if old is None:
        head += f"new file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    else:
        head += f"--- a/{path}\n+++ b/{path}\n"
    lines = difflib.unified_diff(_lines(old or ""), _lines(new), n=3)
    body = [line for i, line in enumerate(lines) if i >= 2]  # drop difflib's own ---/+++ lines
    return head + "".join(body)


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


KEEP_NEW_FILES: dict[str, tuple[str, ...]] = {"java": ("src/main/java",)}
"""Where a candidate may add files of its own: Java references use helper classes beside the solution.
Everywhere else a file the candidate adds to the exercise is removed before the tests run (Aider's
benchmark lets a model edit only the solution files)."""


def eval_script(ex: Exercise, commit: str) -> str:
    """Restore the exercise but its solution files, enable every test, run the language's tests."""
    solution = [shlex.quote(f":(exclude){s}") for s in ex.solution]
    new_files = [shlex.quote(f":(exclude){d}") for d in KEEP_NEW_FILES.get(ex.language, ())]
    tests = " ".join(shlex.quote(t) for t in ex.tests)
    command = TEST_COMMANDS[ex.language].replace("{tests}", tests).replace("{exercise}", ex.name)
    return (
        f"cd {shlex.quote(ex.directory)} || exit 3\n"
        f"git checkout -q {shlex.quote(commit)} -- . {' '.join(solution)} || exit 3\n"
        f"git clean -fdxq -- . {' '.join(solution + new_files)}\n"
        f"{command}\n"
    )


def problem_statement(root: Path, ex: Exercise) -> str:
    docs = root / ex.directory / ".docs"
    parts = [
        (docs / name).read_text(encoding="utf-8")
        for name in ("introduction.md", "instructions.md", "instructions.append.md")
        if (docs / name).is_file()
    ]
    files = ", ".join(f"{ex.directory}/{s}" for s in ex.solution)
    tests = ", ".join(f"{ex.directory}/{t}" for t in ex.tests)
    parts.append(f"Edit only {files}. The tests in {tests} must pass; do not change them.\n")
    return "\n".join(parts)


def _instance(root: Path, commit: str, ex: Exercise) -> Instance:
    return Instance(
        instance_id=ex.instance_id,
        repo=REPO_NAME,
        base_commit=commit,
        environment_setup_commit=commit,
        version=ex.language,
        patch=gold_patch(root, ex),
        problem_statement=problem_statement(root, ex),
        fail_to_pass=[EXERCISE_TEST],
        eval_script=eval_script(ex, commit),
        log_parser=f"polyglot_{ex.language}",
        extra={
            "language": ex.language,
            "exercise": ex.name,
            "solution_files": [f"{ex.directory}/{s}" for s in ex.solution],
            "test_files": [f"{ex.directory}/{t}" for t in ex.tests],
        },
    )
