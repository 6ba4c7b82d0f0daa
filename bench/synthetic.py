"""A synthetic benchmark whose tests sleep a known time: a tiny Python repository, its spec, instances.

The repository ``bench/sleepy`` is built as a local git repository with a fixed identity and fixed
dates, so its commits (and with them the env and instance image tags) are the same on every run and
machine: once built, its images stay warm between benchmark runs. Each instance's test patch adds
``tests/test_sleep.py``, whose ``test_sleep`` sleeps ``sleep_s`` seconds; the candidate (gold) patch
fixes ``sleepy.core.half``, so every gold item is ``resolved``.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_NAME = "bench/sleepy"
CACHE = Path(os.environ.get("EVALFLEET_BENCH_CACHE", "/var/tmp/evalfleet-bench"))
IDENTITY = ("evalfleet bench", "bench@evalfleet.invalid")
DATE = "2024-01-01T00:00:00+0000"
BASE_FILES = {
    "sleepy/__init__.py": "",
    "sleepy/core.py": 'def double(x):\n    return x + x\n\n\ndef half(x):\n    """Half of x."""\n    return x // 2\n',
    "tests/test_core.py": "from sleepy.core import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
    "pyproject.toml": '[project]\nname = "sleepy"\nversion = "1.0"\n',
}
GOLD_PATCH = "".join(
    f"{line}\n"
    for line in (
        "diff --git a/sleepy/core.py b/sleepy/core.py",
        "--- a/sleepy/core.py",
        "+++ b/sleepy/core.py",
        "@@ -4,4 +4,4 @@ def double(x):",
        " ",
        " def half(x):",
        '     """Half of x."""',
        "-    return x // 2",
        "+    return x / 2",
    )
)
F2P = ["tests/test_sleep.py::test_half"]
P2P = ["tests/test_sleep.py::test_sleep"]
SPEC = {
    "repo": REPO_NAME,
    "defaults": {
        "base": "bookworm",
        "system_packages": ["python3", "python3-pytest"],
        "test_cmd": "python3 -m pytest -rA -p no:cacheprovider",
        "test_targets": "files",
        "parser": "pytest",
        "timeouts": {"build": 900, "start": 60, "patch": 60, "test": 120},
    },
    "versions": {"*": {}},
}


def test_file(sleep_s: float) -> str:
    return (
        "import time\n\nfrom sleepy.core import half\n\n\n"
        f"def test_sleep():\n    time.sleep({sleep_s!r})\n\n\n"
        "def test_half():\n    assert half(3) == 1.5\n"
    )


def test_patch(sleep_s: float) -> str:
    lines = test_file(sleep_s).splitlines()
    body = "".join(f"+{ln}\n" for ln in lines)
    return (
        "diff --git a/tests/test_sleep.py b/tests/test_sleep.py\nnew file mode 100644\n"
        f"--- /dev/null\n+++ b/tests/test_sleep.py\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def _git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_AUTHOR_NAME": IDENTITY[0],
        "GIT_AUTHOR_EMAIL": IDENTITY[1],
        "GIT_AUTHOR_DATE": DATE,
        "GIT_COMMITTER_NAME": IDENTITY[0],
        "GIT_COMMITTER_EMAIL": IDENTITY[1],
        "GIT_COMMITTER_DATE": DATE,
    }
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def ensure_repo(root: Path = CACHE) -> tuple[Path, str]:
    """The repository (made once) and its single commit, which is both base and environment commit."""
    repo = root / "repos" / "sleepy"
    if (repo / ".git").is_dir():
        return repo, _git(repo, "rev-parse", "HEAD")
    tmp = repo.with_name(f".sleepy-{os.getpid()}")
    tmp.mkdir(parents=True)
    for rel, text in BASE_FILES.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text, encoding="utf-8")
    _git(tmp, "init", "-q")
    _git(tmp, "add", "-A")
    _git(tmp, "commit", "-q", "-m", "sleepy 1.0")
    os.replace(tmp, repo)
    return repo, _git(repo, "rev-parse", "HEAD")


def instance_row(index: int, commit: str, sleep_s: float) -> dict[str, Any]:
    return {
        "instance_id": f"bench__sleepy-{index}",
        "repo": REPO_NAME,
        "base_commit": commit,
        "environment_setup_commit": commit,
        "version": "1.0",
        "patch": GOLD_PATCH,
        "test_patch": test_patch(sleep_s),
        "problem_statement": "half() truncates",
        "FAIL_TO_PASS": json.dumps(F2P),
        "PASS_TO_PASS": json.dumps(P2P),
    }


@dataclass(frozen=True)
class Workspace:
    """A benchmark's inputs and outputs in one directory: dataset, specs, store."""

    root: Path
    dataset: Path
    specs: Path
    store_url: str
    repo: Path


def make_workspace(
    root: Path,
    *,
    instances: int,
    sleep_s: float,
    install_marker: str | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> Workspace:
    """Write the dataset (``instances`` rows) and the spec; ``install_marker`` gives the env a new tag."""
    repo, commit = ensure_repo()
    root.mkdir(parents=True, exist_ok=True)
    dataset = root / "dataset.jsonl"
    rows = rows if rows is not None else [instance_row(i, commit, sleep_s) for i in range(instances)]
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    specs = root / "specs"
    specs.mkdir(exist_ok=True)
    spec = json.loads(json.dumps(SPEC))
    spec["defaults"]["timeouts"]["test"] = max(60, int(sleep_s * 4) + 60)
    if install_marker:
        spec["defaults"]["install"] = [f"true # {install_marker}"]
    (specs / "bench__sleepy.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return Workspace(root=root, dataset=dataset, specs=specs, store_url=f"file://{root}/store", repo=repo)


def sweep_config(ws: Workspace, *, name: str, slots: int, repeats: int = 1, seed: int = 0) -> dict[str, Any]:
    """A sweep config (as a dict, for ``validate_config``): the gold run over the workspace's dataset."""
    return {
        "name": name,
        "seed": seed,
        "repeats": repeats,
        "dataset": {"path": str(ws.dataset)},
        "runs": [{"gold": True}],
        "repos": {REPO_NAME: {"path": str(ws.repo)}},
        "specs": [str(ws.specs)],
        "execution": {
            "sandbox_slots": slots,
            "max_attempts": 2,
            "limits": {"memory_mb": 512, "cpus": 1.0, "pids": 256, "output_bytes": 1 << 20, "disk_mb": 512},
        },
        "store": {"url": ws.store_url},
    }
