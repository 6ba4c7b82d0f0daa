"""Bring the test infrastructure a candidate changed back to the base commit, and say so.

Runs after the candidate patch applied (``workers.patch_script`` takes the snapshots and applies the test
patch in the same round trip; the paths restored here are never the test patch's): every path the
candidate changed (the difference between work-tree snapshots taken before and after the patch, and
the patch's own paths) is classified (``paths.classify``). Test infrastructure is restored to its state
before the patch, unless the spec's policy keeps it (``allow`` globs, or ``permissive`` mode); either way one flag per path says what happened. ``setup.cfg`` and ``pyproject.toml`` are
restored whole only when a runner section changed. The files of the test patch are always
restored to the base commit, then patched (``workers.patch_script``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from workers.integrity import flags
from workers.integrity.diff import parse_diff
from workers.integrity.infra_paths import InfraKind, classify
from workers.integrity.policy import IntegrityPolicy
from workers.integrity.sections import changed_sections
from workers.patching import patch_paths, restore_paths
from workers.sandbox.base import ExecResult, Sandbox

log = structlog.get_logger(__name__)


@dataclass
class RestoreOutcome:
    """What the restore did: flags (one per path), the paths restored, and the restore command."""

    flags: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    result: ExecResult | None = None

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok


def changed_paths(candidate_patch: str, between_snapshots: dict[str, str] | None) -> dict[str, str]:
    """Every path the candidate changed -> verb (added / changed / deleted): the patch's own paths, and
    the difference of the work-tree snapshots taken before and after it (a patch can write files
    .gitignore hides, or make ``git add`` fail, which leaves no second snapshot: None)."""
    found: dict[str, str] = {}
    for change in parse_diff(candidate_patch):
        found[change.path] = "added" if change.created else "deleted" if change.deleted else "changed"
    found.update(between_snapshots or {})
    return found


@dataclass(frozen=True)
class RestoreRequest:
    """One attempt's inputs to the restore; ``before`` is the snapshot taken before the patch."""

    workdir: str
    before: str
    candidate_patch: str
    test_patch: str
    policy: IntegrityPolicy
    timeout: float


def _text(res: ExecResult) -> str | None:
    return res.output.decode("utf-8", "replace") if res.ok else None


def _section_change(sandbox: Sandbox, req: RestoreRequest, path: str) -> str | None:
    """``runner section [x], [y]`` when a runner section of ``path`` differs from before the patch."""
    old = _text(
        sandbox.exec(["git", "show", f"{req.before}:{path}"], timeout=req.timeout, workdir=req.workdir)
    )
    new = _text(sandbox.exec(["cat", "--", path], timeout=req.timeout, workdir=req.workdir))
    changed = changed_sections(path, old, new)
    return f"{InfraKind.RUNNER_SECTIONS} {', '.join(changed)}" if changed else None


def restore_infrastructure(sandbox: Sandbox, req: RestoreRequest, changed: dict[str, str]) -> RestoreOutcome:
    """Classify what the candidate changed (``changed_paths``), restore what the policy does not keep,
    flag every path. Only reading a runner section or restoring a path calls into the sandbox."""
    outcome = RestoreOutcome()
    of_test_patch = set(patch_paths(req.test_patch))
    for path, verb in sorted(changed.items()):
        if path in of_test_patch:
            continue
        kind = classify(path, created=verb == "added", protect=req.policy.protect)
        if kind is None:
            continue
        what: str | None = str(kind)
        if kind is InfraKind.RUNNER_SECTIONS:
            what = _section_change(sandbox, req, path)
            if what is None:
                continue  # package metadata only: a legitimate edit
        assert what is not None
        if req.policy.allows(path) or req.policy.mode == "permissive":
            why = "the spec allows it" if req.policy.allows(path) else "permissive policy"
            outcome.flags.append(flags.allowed(path, verb, what, why))
            outcome.kept.append(path)
        else:
            outcome.flags.append(flags.restored(path, verb, what))
            outcome.restored.append(path)
    if outcome.restored:
        outcome.result = restore_paths(sandbox, req.workdir, req.before, outcome.restored, req.timeout)
        log.debug("integrity.restored", paths=outcome.restored, returncode=outcome.result.returncode)
    return outcome
