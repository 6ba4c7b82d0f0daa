#!/usr/bin/env python3
"""Build the SWE-bench Multilingual-style demo: the Go repository demo/gostack at its base commit and a
SWE-bench row for its one instance (a panic on an empty stack), written for evalfleet.

    python3 demo/multilingual/build.py DEST     # DEST/gostack (git repository), DEST/dataset.jsonl

The row's spec is configs/specs/demo-multilingual/demo__gostack.yaml. Fixed identity and dates, so
the commit is the same on every machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fixed_git import commit_all

HERE = Path(__file__).resolve().parent / "gostack"


def _diff(repo: Path, overlay: Path) -> str:
    """The diff that lays ``overlay``'s files over the base commit (the tree is reset afterwards)."""
    for src in overlay.iterdir():
        shutil.copy(src, repo / src.name)
    diff = subprocess.run(
        ["git", "-C", str(repo), "diff", "--full-index", "--no-color"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "."], check=True)
    return diff


def build(dest: Path) -> Path:
    """Write the repository and the dataset; return the dataset file."""
    repo = dest / "gostack"
    if repo.exists():
        shutil.rmtree(repo)
    shutil.copytree(HERE / "base", repo)
    commit = commit_all(repo, "gostack")
    row = {
        "instance_id": "demo__gostack-1",
        "repo": "demo/gostack",
        "base_commit": commit,
        "version": "1",
        "problem_statement": "Stack.Pop panics on an empty stack; it should return ok == false.",
        "patch": _diff(repo, HERE / "fix"),
        "test_patch": _diff(repo, HERE / "test_patch"),
        "FAIL_TO_PASS": ["TestPopEmpty"],
        "PASS_TO_PASS": ["TestPush"],
    }
    dataset = dest / "dataset.jsonl"
    dataset.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return dataset


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1])))
