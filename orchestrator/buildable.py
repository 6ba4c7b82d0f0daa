"""Which instances of a plan can be built on this site, and which need a pulled image (``--dry-run``).

An instance is built here when its repository has a source in ``repos:`` and its spec's needs (the
``needs.json`` of a spec directory, written by ``scripts/translate_swebench_multilingual.py``: the
toolchains and registries of the official image) are met by this site (``workers/images/toolchains.py``).
Otherwise it needs an image: the row's ``image`` or ``images.pull_template``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import ConfigError
from orchestrator.plan import Plan
from workers.images.toolchains import unmet

NEEDS_FILE = "needs.json"


@dataclass
class RepoBuildability:
    """Per repository: instances built here, instances that need an image, and why (reason -> count)."""

    build: set[str] = field(default_factory=set)
    pull: set[str] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)


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


def buildability(plan: Plan, spec_dirs: list[str]) -> dict[str, RepoBuildability]:
    needs = load_needs(spec_dirs)
    out: dict[str, RepoBuildability] = {}
    seen: set[str] = set()
    for item in plan.items:
        inst = item.instance
        entry = out.setdefault(inst.repo, RepoBuildability())
        if inst.instance_id in seen:
            continue
        seen.add(inst.instance_id)
        why: list[str] = []
        if item.repo_source is None:
            why.append("prebuilt image named by the row" if inst.image else "no source in repos:")
        why += unmet(needs.get(inst.repo, {}).get(inst.version, []), item.spec.base)
        if why:
            entry.pull.add(inst.instance_id)
            entry.reasons.update(why)
        else:
            entry.build.add(inst.instance_id)
    return out
