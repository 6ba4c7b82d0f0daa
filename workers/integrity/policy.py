"""The integrity policy of an environment spec (``EnvSpec.integrity``)."""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StructuredReport = Literal["none", "junit_pytest", "junit_node"]


class IntegrityPolicy(BaseModel):
    """What happens to test infrastructure a candidate patch changes, and what the detector skips.

    Globs are matched against repository-relative paths with ``fnmatch`` (``*`` also crosses ``/``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["strict", "permissive"] = Field(
        default="strict",
        description=(
            "strict: test infrastructure the candidate changed (conftest.py, runner configuration, "
            "startup hooks, test files, bytecode) is restored to the base commit and flagged; "
            "permissive: such changes are kept and flagged 'allowed'. Files of the test patch are "
            "restored in both modes."
        ),
    )
    allow: list[str] = Field(
        default_factory=list,
        description="Globs of test-infrastructure paths a fix may legitimately change (kept, flagged).",
    )
    protect: list[str] = Field(
        default_factory=list,
        description="Globs of more paths treated as test infrastructure (e.g. the repo's own test runner).",
    )
    trusted: list[str] = Field(
        default_factory=list,
        description=(
            "Globs of paths the static detector does not scan: product code that legitimately holds "
            "what it looks for (e.g. src/_pytest/* in pytest itself)."
        ),
    )

    def allows(self, path: str) -> bool:
        return matches(path, self.allow)

    def protects(self, path: str) -> bool:
        return matches(path, self.protect)

    def trusts(self, path: str) -> bool:
        return matches(path, self.trusted)


def matches(path: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in globs)
