#!/usr/bin/env python3
"""Build the polyglot demo checkout: the files under demo/polyglot/ (one Exercism-style exercise per
language, written for evalfleet) committed into a git repository laid out like the Aider polyglot
benchmark. Fixed identity and dates, so the commit is the same on every machine.

    python3 demo/polyglot/build.py DEST      # DEST becomes a git checkout (replaced if it exists)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fixed_git import commit_all

HERE = Path(__file__).resolve().parent
LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")


def build(dest: Path) -> str:
    """Write the checkout to ``dest``; return its commit."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for language in LANGUAGES:
        shutil.copytree(HERE / language, dest / language)
    return commit_all(dest, "evalfleet polyglot demo")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1])))
