"""The patch chain and the path helpers of the patch phase (run by ``workers.patch_script``).

The chain follows the official harness (``git apply``, ``--reject``, ``patch --fuzz``) with ``--3way``
added; the tree is reset between tries. Test files are brought back to the base commit after the
candidate patch and the test patch is applied last, so a candidate cannot change the tests that judge it;
the rest of the test infrastructure is restored by ``workers.integrity.restore``.
"""

from __future__ import annotations

import re
import shlex

from workers.sandbox.base import ExecResult, Sandbox

CHAIN: tuple[tuple[str, str], ...] = (
    ("git apply", "git apply --verbose {p}"),
    ("git apply --reject", "git apply --verbose --reject {p}"),
    ("git apply --3way", "git apply --verbose --3way {p}"),
    ("patch --fuzz=5", "patch --batch --fuzz=5 -p1 -i {p}"),
)
RESET = "git reset --hard -q HEAD && git clean -fdq"
_DIFF_PATH = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)


def is_empty_patch(patch: str | None) -> bool:
    return patch is None or not patch.strip()


def patch_paths(patch: str) -> list[str]:
    """Paths a unified git diff touches (new side), in order, without repeats."""
    seen: dict[str, None] = {}
    for _a, b in _DIFF_PATH.findall(patch):
        seen.setdefault(b, None)
    return list(seen)


def restore_command(base: str, paths: list[str]) -> str:
    """A bash command bringing ``paths`` back to tree-ish ``base``; a path ``base`` lacks is deleted."""
    quoted = " ".join(shlex.quote(p) for p in paths)
    b = shlex.quote(base)
    return (
        f'for f in {quoted}; do if git cat-file -e {b}:"$f" 2>/dev/null; '
        f'then git checkout -q {b} -- "$f"; else rm -rf -- "$f"; fi; done'
    )


def restore_paths(sandbox: Sandbox, workdir: str, base: str, paths: list[str], timeout: float) -> ExecResult:
    """Bring ``paths`` back to tree-ish ``base`` in the sandbox (one exec)."""
    if not paths:
        return ExecResult(returncode=0, output=b"", timed_out=False, duration_s=0.0)
    return sandbox.exec(["bash", "-c", restore_command(base, paths)], timeout=timeout, workdir=workdir)
