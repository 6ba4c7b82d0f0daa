"""Evidence checks that can stop a run from resolving: runner counts and the structured report.

They run only on a run the buckets would resolve: a run that fails anyway needs no second opinion,
and its flags would be noise.
"""

from __future__ import annotations

from workers.integrity import flags
from workers.integrity.counts import check_counts
from workers.integrity.structured import StructuredEvidence, compare
from workers.models import Instance
from workers.parsers import StatusMap


def evidence_problem(
    instance: Instance, parser: str, text: str, statuses: StatusMap, structured: StructuredEvidence | None
) -> tuple[str, str] | None:
    """(rule, detail) of the first piece of evidence that disagrees with the parsed statuses, or None."""
    problem = check_counts(parser, text, statuses)
    if problem is None and structured is not None and structured.kind != "none":
        problem = compare(structured, instance, parser, statuses)
    return problem


def evidence_flag(problem: tuple[str, str]) -> str:
    return flags.evidence(*problem)
