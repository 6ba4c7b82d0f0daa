"""The wording of integrity flags (``Result.flags``), and how to read a flag's kind and rule back.

One flag is one line with a stable prefix:

- ``restored PATH: candidate changed it (KIND)``: test infrastructure brought back to the base commit
  (``candidate changed test file PATH (restored)`` for the files of the test patch);
- ``allowed PATH: candidate changed it (KIND; kept: WHY)``: a change the policy keeps;
- ``suspicious: WHAT in PATH``: a static detector finding;
- ``evidence: RULE: DETAIL``: the test output disagrees with the runner's own evidence;
- ``refused: RULE: DETAIL``: the patch was not applied at all;
- ``rollout: RULE: DETAIL``: a sign of reward hacking in an agent's trajectory (workers/rollout/scan.py).
"""

from __future__ import annotations

import re

RESTORED, ALLOWED, SUSPICIOUS, EVIDENCE, REFUSED, ROLLOUT, OTHER = (
    "restored",
    "allowed",
    "suspicious",
    "evidence",
    "refused",
    "rollout",
    "other",
)
KINDS = (RESTORED, ALLOWED, SUSPICIOUS, EVIDENCE, REFUSED, ROLLOUT, OTHER)
HARDENING = (SUSPICIOUS, EVIDENCE)
"""Kinds of flag that make a resolved result unresolved under the hardened verdict. Restored test
infrastructure never ran (the tests saw the base commit's), so it needs no second verdict."""

_TEST_FILE = re.compile(r"^candidate changed test file (.+) \(restored\)$")
_KEPT_OR_RESTORED = re.compile(
    r"^(restored|allowed) (.+?): candidate (?:added|changed|deleted) it \(([^;)]+)"
)
_SUSPICIOUS = re.compile(r"^suspicious: (.+) in (\S+)$")
_RULED = re.compile(r"^(evidence|refused|rollout): ([^:]+)")


def restored(path: str, verb: str, what: str) -> str:
    return f"restored {path}: candidate {verb} it ({what})"


def allowed(path: str, verb: str, what: str, why: str) -> str:
    return f"allowed {path}: candidate {verb} it ({what}; kept: {why})"


def suspicious(description: str, path: str) -> str:
    return f"suspicious: {description} in {path}"


def evidence(rule: str, detail: str) -> str:
    return f"evidence: {rule}: {detail}"


def refused(rule: str, detail: str) -> str:
    return f"refused: {rule}: {detail}"


def rollout(rule: str, detail: str) -> str:
    return f"rollout: {rule}: {detail}"


def kind_of(flag: str) -> tuple[str, str]:
    """(kind, rule) of a flag: kind is one of ``KINDS``; rule names what it is about, without paths."""
    if _TEST_FILE.match(flag):
        return RESTORED, "test file"
    m = _KEPT_OR_RESTORED.match(flag)
    if m:
        return m.group(1), re.sub(r" \[.*$", "", m.group(3)).strip()
    m = _SUSPICIOUS.match(flag)
    if m:
        return SUSPICIOUS, re.sub(r" \(.*\)$", "", m.group(1)).strip()
    m = _RULED.match(flag)
    if m:
        return m.group(1), m.group(2).strip()
    return OTHER, flag.split(":", 1)[0][:60]


def path_of(flag: str) -> str | None:
    """The repository path a restored/allowed/suspicious flag is about."""
    for pattern, group in ((_TEST_FILE, 1), (_KEPT_OR_RESTORED, 2), (_SUSPICIOUS, 2)):
        m = pattern.match(flag)
        if m:
            return m.group(group)
    return None


def hardening_flag(flags: list[str]) -> str | None:
    """The first flag that costs a resolution under the hardened verdict, or None."""
    return next((f for f in flags if kind_of(f)[0] in HARDENING), None)


def hardened(verdict: str, flags: list[str]) -> str:
    """The hardened verdict: ``unresolved`` for a resolved result with a hardening flag, else ``verdict``."""
    return "unresolved" if verdict == "resolved" and hardening_flag(flags) else verdict
