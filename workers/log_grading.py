"""Grade a test log without a container: our own stored logs, or logs of the official harness.

Both the live pipeline and ``evalfleet regrade`` go through ``grade_log``, so a re-grade of stored
logs gives the verdict the sweep gave, unless the parsers or rules changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workers.grading import Grade, grade, harden
from workers.integrity.evidence import evidence_problem
from workers.integrity.structured import StructuredEvidence
from workers.models import Instance
from workers.parsers import parse_output
from workers.parsers.isolated import PRO_PARSER, parse_pro
from workers.testing import NONCE_LINE, START, extract_output, extract_report

# Markers the official harness writes into test_output.txt (swebench.harness.constants).
OFFICIAL_START, OFFICIAL_END = ">>>>> Start Test Output", ">>>>> End Test Output"
OFFICIAL_BAD = (
    ">>>>> Patch Apply Failed",
    ">>>>> Reset Failed",
    ">>>>> Tests Errored",
    ">>>>> Tests Timed Out",
)
LEGACY_BAD = "Failed to reset task environment"
LEGACY_APPLIED = ">>>>> Applied Patch (pred)"
_OFFICIAL_EXIT = re.compile(r">>>>> Test Exit Code:\s*(-?\d+)")
_NONCE = re.compile(rf"^(?:echo \"{START}|{NONCE_LINE}) ([0-9a-f]+)", re.MULTILINE)


def grade_log(
    instance: Instance,
    parser: str,
    text: str,
    *,
    test_exit_code: int | None,
    output_seen: bool,
    structured: StructuredEvidence | None = None,
    whole: str | None = None,
) -> Grade:
    """Parse the test output between the markers and grade it by the official rules; a run that
    resolves must also agree with the runner's own summary and with the structured report, if any,
    or it is flagged and unresolved under the hardened verdict (docs/integrity.md). ``whole`` is the
    whole log, searched for signs that a suite ran when nothing was parsed (default ``text``)."""
    if parser == PRO_PARSER:  # the row's own parser, in a clean container (workers/parsers/isolated.py)
        parsed = parse_pro(instance.extra.get("parser_py"), text)
    else:
        parsed = parse_output(parser, text)
    graded = grade(
        instance,
        parsed.statuses,
        test_exit_code=test_exit_code,
        output_seen=output_seen,
        parse_problem=parsed.problem,
        output=text if whole is None else whole,
    )
    if not graded.hardened:
        return graded
    problem = evidence_problem(instance, parser, text, parsed.statuses, structured)
    return harden(graded, *problem) if problem else graded


def nonce_of(eval_script: str) -> str | None:
    """The marker nonce of an attempt, read back from its stored eval.sh (either layout)."""
    match = _NONCE.search(eval_script)
    return match.group(1) if match else None


def grade_own_log(instance: Instance, parser: str, raw: str, nonce: str, exit_code: int | None) -> Grade:
    """Re-grade an evalfleet attempt from its test_output.txt and the nonce of its eval.sh."""
    cut = extract_output(raw, nonce)
    code = exit_code if exit_code is not None else cut.marker_exit
    return grade_log(
        instance,
        parser,
        cut.text,
        test_exit_code=code,
        output_seen=cut.started and bool(cut.text.strip()),
        structured=extract_report(raw, nonce),
    )


@dataclass(frozen=True)
class OfficialGrade:
    """A grade of an official-harness log, and whether its patch applied (its report.json fields)."""

    grade: Grade
    patch_applied: bool


def official_section(content: str) -> str | None:
    """The part of an official-harness test_output.txt its grading parses, or None where it reads no
    test run (the patch or the tests failed to run).

    swebench >= 2.2 writes ``>>>>> Start/End Test Output`` markers and parses between them. Logs
    without them were written by earlier versions (2.0-2.1), whose ``get_logs_eval`` required
    ``applied patch`` in the log and parsed all of it after ``>>>>> Applied Patch (pred)``: such
    published logs are graded as that harness graded them (docs/parity.md).
    """
    if any(code in content for code in OFFICIAL_BAD):
        return None
    if OFFICIAL_START in content and OFFICIAL_END in content:
        return content.split(OFFICIAL_START, 1)[1].split(OFFICIAL_END, 1)[0]
    if LEGACY_BAD in content or "applied patch" not in content.lower():
        return None
    return content.rsplit(LEGACY_APPLIED, maxsplit=1)[-1]


def grade_official_log(instance: Instance, parser: str, content: str) -> OfficialGrade:
    """Grade a test_output.txt written by the official harness (its layout of published logs)."""
    sliced = official_section(content)
    if sliced is None:
        empty = grade_log(instance, parser, "", test_exit_code=None, output_seen=False)
        return OfficialGrade(grade=empty, patch_applied=False)
    if OFFICIAL_START not in content:  # the 2.0-2.1 layout: no exit code, no unusable-log rules
        graded = grade_log(instance, parser, sliced, test_exit_code=None, output_seen=True)
        return OfficialGrade(grade=graded, patch_applied=True)  # (an empty parse: unresolved either way)
    match = _OFFICIAL_EXIT.search(content)
    code = int(match.group(1)) if match else None
    # some runners print outside the markers: like the official harness, then read the whole log
    text = sliced if parse_output(parser, sliced).statuses else content
    graded = grade_log(
        instance, parser, text, test_exit_code=code, output_seen=bool(text.strip()), whole=content
    )
    return OfficialGrade(grade=graded, patch_applied=graded.found)
