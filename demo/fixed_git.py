"""Commit a directory into a fresh git repository with a fixed identity and date, so that its commit
is the same on every machine (the demo sets of demo/polyglot, demo/multilingual, demo/swebench_pro)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

FIXED_GIT_ENV = {
    "GIT_AUTHOR_NAME": "evalfleet demo",
    "GIT_AUTHOR_EMAIL": "demo@evalfleet.invalid",
    "GIT_COMMITTER_NAME": "evalfleet demo",
    "GIT_COMMITTER_EMAIL": "demo@evalfleet.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def commit_all(repo: Path, message: str) -> str:
    """``git init`` + commit of everything in ``repo``; returns the commit."""
    env = {**os.environ, **FIXED_GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()
