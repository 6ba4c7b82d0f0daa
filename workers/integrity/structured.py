"""A structured report the runner writes outside the repository, checked against the parsed output.

``EnvSpec.structured_report`` opts a spec in:

- ``junit_pytest``: ``--junitxml=PATH`` (any pytest; ``tox ... --`` passes it on as a positional);
- ``junit_node``: ``--test-reporter=tap --test-reporter-destination=stdout --test-reporter=junit
  --test-reporter-destination=PATH`` (Node >= 18.19 / 20; checked on Debian bookworm's 18.20.4).

PATH is ``/eval/<token>/report.xml`` with a random token per attempt (not the marker nonce), the
directory removed and recreated by the eval script. After the run the harness reads the file back
(``Sandbox.read_file``). Every FAIL_TO_PASS test the output shows passing must be in the report and
passing there too, and no listed test the output shows passing may be failing in the report: lines
printed by the candidate, or an early ``os._exit(0)`` before the runner wrote its report, do not
reach the report. The runner's own process knows the path, so code running inside it can still
write the file: see docs/integrity.md.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from workers.grading import find_case, is_fail_only
from workers.integrity.policy import StructuredReport
from workers.models import Instance
from workers.parsers import StatusMap, TestStatus, parse, parse_output
from workers.parsers.junit_xml import local_name, parse_document

REPORT_DIR = "/eval"
REPORT_FILE = "report.xml"
MAX_REPORT_BYTES = 32 << 20

MISSING = "structured report missing"
UNREADABLE = "structured report unreadable"
NOT_SEEN = "test not in the structured report"
DISAGREES = "structured report disagrees"

_PASSING = (TestStatus.PASSED, TestStatus.XFAIL)
Problem = tuple[str, str]


@dataclass(frozen=True)
class ReportPlan:
    """Where one attempt's structured report goes, and how the runner is told."""

    kind: StructuredReport
    directory: str

    @property
    def path(self) -> str:
        return f"{self.directory}/{REPORT_FILE}"

    def runner_options(self) -> str:
        path = shlex.quote(self.path)
        if self.kind == "junit_pytest":
            return f"--junitxml={path}"
        return (
            "--test-reporter=tap --test-reporter-destination=stdout "
            f"--test-reporter=junit --test-reporter-destination={path}"
        )

    def prepare(self) -> str:
        directory = shlex.quote(self.directory)
        return f"rm -rf {directory} && mkdir -p {directory}"


def plan_report(kind: StructuredReport, token: str) -> ReportPlan | None:
    return None if kind == "none" else ReportPlan(kind=kind, directory=f"{REPORT_DIR}/{token}")


@dataclass(frozen=True)
class StructuredEvidence:
    """What the harness read back after the run: the report's text, or None when it was not written."""

    kind: StructuredReport
    text: str | None
    truncated: bool = False


def _node_case(case: ET.Element) -> TestStatus:
    tags = {local_name(c.tag): c for c in case}
    todo = "skipped" in tags and tags["skipped"].get("type") == "todo"
    if "failure" in tags or "error" in tags:
        return TestStatus.XFAIL if todo else TestStatus.FAILED
    if "skipped" in tags and not todo:
        return TestStatus.SKIPPED
    return TestStatus.PASSED


def _node_walk(elem: ET.Element, prefix: str, out: StatusMap) -> None:
    for child in elem:
        tag, name = local_name(child.tag), child.get("name", "")
        if tag == "testsuite":
            failing = int(child.get("failures") or 0) + int(child.get("errors") or 0)
            out[prefix + name] = TestStatus.FAILED if failing else TestStatus.PASSED
            _node_walk(child, f"{prefix}{name} > ", out)
        elif tag == "testcase":
            out[prefix + name] = _node_case(child)


def read_node_junit(text: str) -> StatusMap:
    """Statuses of Node's JUnit report, nested tests named ``parent > child`` as in its TAP."""
    root = parse_document(text)
    out: StatusMap = {}
    _node_walk(root, "", out)
    return out


def read_report(evidence: StructuredEvidence) -> tuple[StatusMap, Problem | None]:
    """The report's statuses, or why it cannot be used."""
    if evidence.text is None:
        return {}, (
            MISSING,
            f"the runner wrote no {evidence.kind} report (it did not finish, or exited early)",
        )
    if evidence.truncated:
        return {}, (UNREADABLE, f"the report is larger than {MAX_REPORT_BYTES} bytes")
    if evidence.kind == "junit_node":
        try:
            return read_node_junit(evidence.text), None
        except ValueError as exc:
            return {}, (UNREADABLE, str(exc))
    parsed = parse_output("junit_xml", evidence.text)
    if parsed.problem:
        return parsed.statuses, (UNREADABLE, parsed.problem)
    return parsed.statuses, None


def pytest_junit_key(nodeid: str) -> str:
    """The ``classname::name`` pytest's junitxml gives a node id (its ``mangle_test_address``)."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return f"{'.'.join(names[:-1])}::{names[-1]}" if len(names) > 1 else names[0]


def _in_parser_space(parser: str, report: StatusMap) -> StatusMap:
    """Report ids spelled as the output's parser spells ids (its cuts and rewrites), statuses kept."""
    out: StatusMap = {}
    for key, status in report.items():
        spelled = next(iter(parse(parser, f"PASSED {key}")), key)
        out[spelled] = status
    return out


def compare(
    evidence: StructuredEvidence, instance: Instance, parser: str, statuses: StatusMap
) -> Problem | None:
    """The first disagreement between the structured report and the parsed output, or None."""
    report, problem = read_report(evidence)
    if problem or is_fail_only(instance):
        return problem
    pytest = evidence.kind == "junit_pytest"
    if pytest:
        report = _in_parser_space(parser, report)
    for listed, is_f2p in [(c, True) for c in instance.fail_to_pass] + [
        (c, False) for c in instance.pass_to_pass
    ]:
        seen = find_case(listed, statuses)
        if seen is None or statuses[seen] not in _PASSING:
            continue  # the buckets already count it as failing (or it is a skipped PASS_TO_PASS test)
        key = find_case(pytest_junit_key(listed) if pytest else listed, report)
        if key is None:
            if is_f2p:
                return NOT_SEEN, f"FAIL_TO_PASS {listed[:120]} passes in the output but is not in the report"
            continue
        if report[key] not in _PASSING and not (not is_f2p and report[key] == TestStatus.SKIPPED):
            return (
                DISAGREES,
                f"{listed[:120]} is {statuses[seen]} in the output but {report[key]} in the report",
            )
    return None
