"""What the spec directories say an image of a repository version needs (``needs.json``): read by
``--dry-run`` (``orchestrator/commands/run.image_sources``) to say which instances can be built here.

An instance is built here when its repository has a source in ``repos:`` and its spec's needs (the
``needs.json`` of a spec directory, written by ``scripts/translate_swebench_multilingual.py``: the
toolchains and registries of the official image) are met by this site (``workers/images/toolchains.py``).
Otherwise it needs an image: the row's ``image`` or ``images.pull_template``.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.errors import ConfigError

NEEDS_FILE = "needs.json"


def load_needs(spec_dirs: list[str]) -> dict[str, dict[str, list[str]]]:
    """repo -> version -> needs, from every spec directory's ``needs.json`` (later directories win)."""
    needs: dict[str, dict[str, list[str]]] = {}
    for directory in spec_dirs:
        path = Path(directory) / NEEDS_FILE
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path}: not JSON ({exc})", fix="regenerate it with its script") from None
        for repo, versions in data.items():
            needs.setdefault(repo, {}).update(versions)
    return needs
