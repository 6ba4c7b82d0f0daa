"""Apply a candidate patch with a fallback chain, then restore the tests and apply the test patch.

The chain follows the official harness (``git apply``, ``--reject``, ``patch --fuzz``) with ``--3way``
added; the tree is reset between tries. Test files are brought back to the base commit after the
candidate patch and the test patch is applied last, so a candidate cannot change the tests that judge it;
the rest of the test infrastructure is restored by ``workers.integrity.restore``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from workers.paths import CONTAINER
from workers.sandbox.base import ExecResult, Sandbox

CHAIN: tuple[tuple[str, str], ...] = (
    ("git apply", "git apply --verbose {p}"),
    ("git apply --reject", "git apply --verbose --reject {p}"),
    ("git apply --3way", "git apply --verbose --3way {p}"),
    ("patch --fuzz=5", "patch --batch --fuzz=5 -p1 -i {p}"),
)
RESET = "git reset --hard -q HEAD && git clean -fdq"
_DIFF_PATH = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)
_NEW_FILE = re.compile(r"^diff --git a/\S+ b/(\S+)\n(?:(?!diff --git).*\n)*?new file mode", re.MULTILINE)


@dataclass
class PatchOutcome:
    """What happened to the candidate patch."""

    applied: bool
    method: str | None
    log: list[str] = field(default_factory=list)


def is_empty_patch(patch: str | None) -> bool:
    return patch is None or not patch.strip()


def patch_paths(patch: str) -> list[str]:
    """Paths a unified git diff touches (new side), in order, without repeats."""
    seen: dict[str, None] = {}
    for _a, b in _DIFF_PATH.findall(patch):
        seen.setdefault(b, None)
    return list(seen)


def created_paths(patch: str) -> set[str]:
    return set(_NEW_FILE.findall(patch))


def _log_exec(log: list[str], title: str, res: ExecResult) -> None:
    log.append(f"$ {title}  # exit={res.returncode}{' timed out' if res.timed_out else ''}")
    text = res.output.decode("utf-8", "replace").rstrip()
    if text:
        log.append(text)


def apply_candidate(sandbox: Sandbox, workdir: str, timeout: float) -> PatchOutcome:
    """Try each step of the chain on a clean tree; the first that exits 0 wins."""
    outcome = PatchOutcome(applied=False, method=None)
    for name, template in CHAIN:
        cmd = template.format(p=shlex.quote(CONTAINER.candidate_patch))
        res = sandbox.exec(["bash", "-c", cmd], timeout=timeout, workdir=workdir)
        _log_exec(outcome.log, cmd, res)
        if res.returncode == 0 and not res.timed_out:
            outcome.applied, outcome.method = True, name
            return outcome
        reset = sandbox.exec(["bash", "-c", RESET], timeout=timeout, workdir=workdir)
        _log_exec(outcome.log, RESET, reset)
    return outcome


def restore_tests(
    sandbox: Sandbox, workdir: str, base_commit: str, test_patch: str, timeout: float
) -> ExecResult:
    """Bring every file the test patch touches back to the base commit (deleting what did not exist)."""
    return restore_paths(sandbox, workdir, base_commit, patch_paths(test_patch), timeout)


def restore_paths(
    sandbox: Sandbox, workdir: str, base_commit: str, paths: list[str], timeout: float
) -> ExecResult:
    """Bring ``paths`` back to the base commit; a path the base commit does not have is deleted."""
    if not paths:
        return ExecResult(returncode=0, output=b"", timed_out=False, duration_s=0.0)
    quoted = " ".join(shlex.quote(p) for p in paths)
    script = (
        f"for f in {quoted}; do "
        f'if git cat-file -e {shlex.quote(base_commit)}:"$f" 2>/dev/null; '
        f'then git checkout -q {shlex.quote(base_commit)} -- "$f"; else rm -rf -- "$f"; fi; done'
    )
    return sandbox.exec(["bash", "-c", script], timeout=timeout, workdir=workdir)


def apply_test_patch(sandbox: Sandbox, workdir: str, timeout: float) -> ExecResult:
    cmd = f"git apply --verbose {shlex.quote(CONTAINER.test_patch)}"
    return sandbox.exec(["bash", "-c", cmd], timeout=timeout, workdir=workdir)


def changed_test_files(sandbox: Sandbox, workdir: str, test_patch: str, timeout: float) -> list[str]:
    """Test files (of the test patch) that the candidate changed: recorded, then overwritten."""
    paths = patch_paths(test_patch)
    if not paths:
        return []
    quoted = " ".join(shlex.quote(p) for p in paths)
    res = sandbox.exec(
        ["bash", "-c", f"git status --porcelain --untracked-files=all -- {quoted}"],
        timeout=timeout,
        workdir=workdir,
    )
    lines = res.output.decode("utf-8", "replace").splitlines()
    return sorted({ln[3:].strip() for ln in lines if len(ln) > 3})
