"""JUnit XML reports (pytest ``--junitxml``, Maven Surefire, Gradle, go-junit-report, jest-junit...).

Each ``<testcase classname=C name=N>`` is named ``C::N`` (just ``N`` without a classname). A
``<failure>`` child is FAILED, ``<error>`` ERROR, ``<skipped>`` SKIPPED -- or XFAIL when its type is
``pytest.xfail`` -- and no such child PASSED. The output may hold text around the document and several
documents (one per ``<?xml`` declaration). A truncated or invalid document, or one with a DTD
(refused: entity expansion), raises ``MalformedOutputError`` carrying the test cases read before the
damage; ``parse_output`` reports that as a problem.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from workers.parsers.contract import MalformedOutputError, StatusMap, TestStatus

_DOC_START = re.compile(r"<\?xml\b|<!DOCTYPE\b|<testsuites?\b")
_DTD = re.compile(r"^(?:<\?xml[^>]*\?>)?\s*(?:<!--.*?-->\s*)*<!DOCTYPE\b", re.S)
_CHILD_STATUS = {"failure": TestStatus.FAILED, "error": TestStatus.ERROR, "skipped": TestStatus.SKIPPED}
_XFAIL_TYPE = "pytest.xfail"


def local_name(tag: str) -> str:
    """Tag name without an XML namespace."""
    return tag.rsplit("}", 1)[-1]


def has_dtd(doc: str) -> bool:
    """A document that declares a DTD in its prolog (where XML allows one): refused by every JUnit reader
    of the project, as entity definitions can expand without bound. ``<!DOCTYPE`` inside the body (a
    test printing HTML into a CDATA section) is content, not a DTD."""
    return bool(_DTD.match(doc))


def parse_document(doc: str) -> ET.Element:
    """One whole JUnit XML document (a report file); ValueError when it has a DTD or is not XML."""
    if has_dtd(doc):
        raise ValueError("refused a JUnit XML document with a DTD")
    try:
        return ET.fromstring(doc)
    except ET.ParseError as exc:
        raise ValueError(f"invalid XML ({exc})") from None


def _case_status(case: ET.Element) -> TestStatus:
    """The first failure/error child decides; else a skipped child; else PASSED."""
    found = [_CHILD_STATUS[tag] for tag in (local_name(child.tag) for child in case) if tag in _CHILD_STATUS]
    failing = [s for s in found if s is not TestStatus.SKIPPED]
    if failing:
        return failing[0]
    if found:
        skipped = next(c for c in case if local_name(c.tag) == "skipped")
        return TestStatus.XFAIL if skipped.get("type") == _XFAIL_TYPE else TestStatus.SKIPPED
    return TestStatus.PASSED


def _case_name(case: ET.Element) -> str:
    classname, name = case.get("classname", ""), case.get("name", "")
    return f"{classname}::{name}" if classname else name


def _documents(output: str) -> list[str]:
    """The XML documents in ``output``: from each ``<?xml`` (or the first root tag) onwards."""
    start = _DOC_START.search(output)
    if not start:
        return []
    text = output[start.start() :]
    parts = re.split(r"(?=<\?xml\b)", text)
    return [part for part in parts if part.strip()]


def _read_document(doc: str, statuses: StatusMap) -> str | None:
    """Add the test cases of one document to ``statuses``; return a problem or None."""
    if has_dtd(doc):
        return "refused a JUnit XML document with a DTD"
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth, started = 0, False
    try:
        parser.feed(doc)
        for item in parser.read_events():  # yields the events before an error, then raises it
            event, elem = item[0], item[-1]
            if not isinstance(elem, ET.Element):
                continue
            started = True
            depth += 1 if event == "start" else -1
            if event == "end" and local_name(elem.tag) == "testcase":
                statuses[_case_name(elem)] = _case_status(elem)
    except ET.ParseError as exc:
        if started and depth == 0:
            return None  # text after the root element: not part of the report
        return f"invalid JUnit XML ({exc})"
    if not started:
        return "empty JUnit XML document"
    return "truncated JUnit XML (the root element never closed)" if depth else None


def parse_junit_xml(output: str) -> StatusMap:
    """Statuses of every test case in the JUnit XML document(s) in ``output``."""
    statuses: StatusMap = {}
    docs = _documents(output)
    if not docs:
        raise MalformedOutputError("no JUnit XML document in the output")
    for doc in docs:
        problem = _read_document(doc, statuses)
        if problem:
            raise MalformedOutputError(problem, partial=statuses)
    return statuses
