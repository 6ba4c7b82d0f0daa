"""The rollout sandbox's repository: history cut at the base commit before the agent starts, and the
patch read from the tree after it ends (test files left out, as SWE-bench does)."""

from __future__ import annotations

import shlex

from workers.errors import SandboxError
from workers.integrity.diff import parse_diff
from workers.integrity.infra_paths import InfraKind, classify
from workers.sandbox.base import Sandbox

EXCLUDED = (InfraKind.TEST_FILE, InfraKind.CONFTEST, InfraKind.BYTECODE)  # never in a rollout patch


def strip_history_script(base_commit: str) -> str:
    """Leave the base commit and its ancestors only: no future commits, tags, branches, remotes, stashes or
    reflogs (SWE-bench issue 465: agents found the fix in the image's git history)."""
    base = shlex.quote(base_commit)
    return "\n".join(
        [
            "set -e",
            f"git checkout -q --detach {base}",
            "git for-each-ref --format='%(refname)' | while read -r ref; do git update-ref -d \"$ref\"; done",
            'for r in $(git remote); do git remote remove "$r"; done',
            f"git checkout -q -B main {base}",
            "rm -f .git/ORIG_HEAD .git/FETCH_HEAD .git/MERGE_HEAD .git/packed-refs .git/shallow",
            "git reflog expire --expire=now --all",
            "rm -rf .git/logs",
            "git -c gc.reflogExpire=now -c gc.pruneExpire=now gc -q --prune=now",
            f'test "$(git rev-list --all | wc -l)" = "$(git rev-list {base} | wc -l)"',
        ]
    )


def strip_history(sandbox: Sandbox, workdir: str, base_commit: str, timeout: float = 300.0) -> None:
    res = sandbox.exec(["bash", "-c", strip_history_script(base_commit)], timeout=timeout, workdir=workdir)
    if not res.ok:
        raise SandboxError(f"cannot cut the repository's history at the base commit: {res.text[-300:]}")


def tree_diff(sandbox: Sandbox, workdir: str, base_commit: str, timeout: float = 120.0) -> str:
    """The diff of the work tree (new files included, ignored ones not) against the base commit."""
    script = (
        "git add -A >/dev/null 2>&1; "
        f"git -c core.quotepath=off diff --cached --binary --no-color --no-ext-diff {shlex.quote(base_commit)}"
    )
    res = sandbox.exec(["bash", "-c", script], timeout=timeout, workdir=workdir, env={"GIT_PAGER": "cat"})
    if res.timed_out or res.returncode != 0 or res.truncated:
        raise SandboxError(f"cannot read the rollout's diff (exit {res.returncode}): {res.text[-300:]}")
    return res.text


def split_diff(diff: str) -> list[tuple[str, str]]:
    """(path, text) of every file section of a git diff."""
    sections: list[list[str]] = []
    for line in diff.splitlines(keepends=True):
        if line.startswith("diff --git ") or not sections:
            sections.append([])
        sections[-1].append(line)
    out = []
    for lines in sections:
        text = "".join(lines)
        changes = parse_diff(text)
        out.append((changes[0].path if changes else "", text))
    return out


def without_tests(diff: str) -> tuple[str, list[str]]:
    """The diff without test files (their changes are never graded), and the paths left out."""
    kept, excluded = [], []
    for path, text in split_diff(diff):
        if path and classify(path) in EXCLUDED:
            excluded.append(path)
        else:
            kept.append(text)
    return "".join(kept), excluded
