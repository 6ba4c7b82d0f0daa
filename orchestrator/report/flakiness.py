"""Flakiness: instances and tests whose outcome varies when the same candidate is evaluated repeatedly.

Input: the committed results of a validation sweep (gold, and optionally baseline, patches x N repeats).
An infra error (verdict ``error``) says nothing about the instance and is counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from orchestrator.report.regression import graded_tests
from workers.models import Result

GOLD_RUN = "gold"


@dataclass(frozen=True)
class FlakyTest:
    """A test that passed in some evaluations and failed in others."""

    test: str
    passed: int
    failed: int


@dataclass(frozen=True)
class InstanceVariation:
    """The outcomes of one (run, instance) over its repeated evaluations."""

    run: str
    instance_id: str
    verdicts: dict[str, int]
    errors: int
    tests: list[FlakyTest] = field(default_factory=list)

    @property
    def evaluations(self) -> int:
        return sum(self.verdicts.values()) + self.errors

    @property
    def flaky(self) -> bool:
        return len(self.verdicts) > 1 or bool(self.tests)


@dataclass(frozen=True)
class FlakinessReport:
    """Every (run, instance) of a validation sweep, and which of them vary."""

    sweep_id: str
    instances: list[InstanceVariation]

    @property
    def flaky_ids(self) -> list[str]:
        """Instances that vary in any run: the exclusion list."""
        return sorted({v.instance_id for v in self.instances if v.flaky})

    @property
    def gold_unresolved(self) -> list[str]:
        """Instances whose gold patch never resolved them (broken, not flaky)."""
        return sorted(
            v.instance_id
            for v in self.instances
            if v.run == GOLD_RUN and v.verdicts and "resolved" not in v.verdicts
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "sweep_id": self.sweep_id,
            "evaluations": max((v.evaluations for v in self.instances), default=0),
            "flaky_instances": self.flaky_ids,
            "gold_unresolved": self.gold_unresolved,
            "instances": [
                {
                    "run": v.run,
                    "instance_id": v.instance_id,
                    "evaluations": v.evaluations,
                    "verdicts": v.verdicts,
                    "errors": v.errors,
                    "flaky": v.flaky,
                    "flaky_tests": [
                        {"test": t.test, "passed": t.passed, "failed": t.failed} for t in v.tests
                    ],
                }
                for v in self.instances
            ],
        }


def varying_tests(results: list[Result]) -> list[FlakyTest]:
    """Tests graded in these results that passed at least once and failed at least once."""
    passed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for r in results:
        for test, ok in graded_tests(r).items():
            (passed if ok else failed)[test] += 1
    return [FlakyTest(t, passed[t], failed[t]) for t in sorted(passed.keys() & failed.keys())]


def analyse(results: list[Result], sweep_id: str = "") -> FlakinessReport:
    """Group results by (run, instance) and find those whose verdict or tests vary."""
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.run, r.instance_id)].append(r)
    out = []
    for (run, iid), rs in sorted(groups.items()):
        ok = [r for r in rs if r.verdict != "error"]
        verdicts = Counter(r.verdict for r in ok)
        out.append(
            InstanceVariation(
                run=run,
                instance_id=iid,
                verdicts=dict(sorted(verdicts.items())),
                errors=len(rs) - len(ok),
                tests=varying_tests(ok),
            )
        )
    return FlakinessReport(sweep_id=sweep_id or (results[0].sweep_id if results else ""), instances=out)


def exclusion_text(report: FlakinessReport) -> str:
    """The exclusion list: one instance id a line, for a sweep's ``dataset.exclude_file``."""
    header = (
        f"# evalfleet validate, sweep {report.sweep_id}: instances whose outcome varied over repeated\n"
        "# evaluations of the same patch. Use as dataset.exclude_file in a sweep config.\n"
    )
    return header + "".join(f"{iid}\n" for iid in report.flaky_ids)
