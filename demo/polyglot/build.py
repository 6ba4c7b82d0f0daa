#!/usr/bin/env python3
"""Build the polyglot demo checkout: the files under demo/polyglot/ (one Exercism-style exercise per
language, written for evalfleet) committed into a git repository laid out like the Aider polyglot
benchmark. Fixed identity and dates, so the commit is the same on every machine.

    python3 demo/polyglot/build.py DEST      # DEST becomes a git checkout (replaced if it exists)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")
_ENV = {
    "GIT_AUTHOR_NAME": "evalfleet demo",
    "GIT_AUTHOR_EMAIL": "demo@evalfleet.invalid",
    "GIT_COMMITTER_NAME": "evalfleet demo",
    "GIT_COMMITTER_EMAIL": "demo@evalfleet.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def build(dest: Path) -> str:
    """Write the checkout to ``dest``; return its commit."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for language in LANGUAGES:
        shutil.copytree(HERE / language, dest / language)
    env = {**os.environ, **_ENV}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(dest), *args], env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "evalfleet polyglot demo")
    return git("rev-parse", "HEAD")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1])))
