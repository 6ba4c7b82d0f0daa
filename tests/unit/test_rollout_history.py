"""The history cut of a rollout sandbox, run by bash on a real git repository: nothing after the base
commit survives (commits, tags, branches, remotes, stashes, reflogs, unreachable objects); the base
commit's own history does."""

from __future__ import annotations

import subprocess
from pathlib import Path

from workers.rollout.tree import strip_history_script

ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, name: str) -> str:
    (repo / f"{name}.txt").write_text(name)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", name)
    return git(repo, "rev-parse", "HEAD")


def test_nothing_after_the_base_commit_survives(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first, base = commit(repo, "first"), commit(repo, "base")
    future = commit(repo, "the-fix")
    git(repo, "tag", "v2", future)
    git(repo, "branch", "fix-branch", future)
    git(repo, "remote", "add", "origin", "https://example.invalid/repo.git")
    git(repo, "update-ref", "refs/remotes/origin/main", future)
    git(repo, "checkout", "-q", base)
    (repo / "base.txt").write_text("stashed")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "stash", "-q")
    git(repo, "checkout", "-q", "-f", base)

    subprocess.run(
        ["bash", "-c", strip_history_script(base)], cwd=repo, env=ENV, check=True, capture_output=True
    )

    assert git(repo, "rev-list", "--all").split() == [base, first]
    assert git(repo, "rev-parse", "HEAD") == base
    assert git(repo, "tag") == "" and git(repo, "remote") == "" and git(repo, "stash", "list") == ""
    assert git(repo, "for-each-ref", "--format=%(refname)") == "refs/heads/main"
    assert "the-fix" not in git(repo, "log", "--all", "--reflog", "--oneline")
    missing = subprocess.run(["git", "cat-file", "-e", future], cwd=repo, env=ENV, check=False)
    assert missing.returncode != 0  # the future commit's objects are gone, not only unreferenced
    assert "unreachable" not in git(repo, "fsck", "--unreachable", "--no-reflogs")
