"""The runner's own closing counts, and whether the parsed statuses agree with them.

Every runner we parse closes with a summary of its own: pytest ``=== 3 passed, 1 failed in 0.12s ===``,
Django ``Ran 17 tests`` then ``OK``/``FAILED (failures=2)``, SymPy ``tests finished: 8 passed, ...``,
``node --test`` ``# pass 5`` / ``# fail 1``, cargo ``test result: ok. 5 passed; ...``. A candidate that
prints result lines of its own and exits early leaves no summary; one that prints them around the
real run makes the parsed results outnumber the counts, or hides counted failures. So, when a
summary reader exists for the parser, the output must have a summary, nothing may parse as a result
after the last one, the parsed results may not outnumber what the runner counted, and if the runner
counted failures some failure must have been parsed.

Parsed ids can only merge (SWE-bench's ``pytest`` parser cuts ids at the first space), never split,
so "at most" is the right comparison. ``go test`` prints no totals: no check.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from workers.errors import UserInputError
from workers.parsers import resolve_name

_PYTEST = re.compile(r"^=+ (?P<body>.+?) in [\d.]+ ?s(?:econds)?(?: \([\d:.]+\))? =+\s*$", re.MULTILINE)
_DJANGO_RAN = re.compile(r"^Ran (\d+) tests? in [\d.]+s\s*$", re.MULTILINE)
_DJANGO_END = re.compile(r"^(OK|FAILED)(?: \((?P<body>[^)]*)\))?\s*$", re.MULTILINE)
# sympy centres the line in '=' to its terminal width, and prints no '=' when the text is wider (80
# columns in a container without a terminal): " tests finished: 137 passed, ..., in 19.73 seconds "
_SYMPY = re.compile(r"^=* ?tests finished: (?P<body>.+?),? in [\d.]+ seconds ?=*\s*$", re.MULTILINE)
_CAPTURED = re.compile(r"^-+ Captured (?:stdout|stderr|log) (?:setup|call|teardown) -+\s*$", re.MULTILINE)
_NODE = re.compile(r"^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)\s*$", re.MULTILINE)
_CARGO = re.compile(r"^test result: \w+\. (?P<body>.+?)(?:; finished in .*)?$", re.MULTILINE)


@dataclass(frozen=True)
class RunnerSummary:
    """The counts of a runner's closing summary and where it ends in the output."""

    runner: str
    counts: dict[str, int]
    end: int


def _counts(body: str, sep: str = ",") -> dict[str, int]:
    counts: Counter[str] = Counter()
    for part in body.split(sep):
        m = re.match(r"\s*(\d+) ([a-z][a-z -]*[a-z])\s*$", part.strip())
        if m:
            word = m.group(2)
            word = {"error": "errors", "warning": "warnings", "exception": "exceptions"}.get(word, word)
            counts[word] += int(m.group(1))
    return dict(counts)


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the last match is wanted
        pass
    return found


def read_pytest(text: str) -> RunnerSummary | None:
    """The last summary line; the counts of nested sessions (pytest's own suite runs pytest through
    ``pytester``: their summaries sit in the ``Captured stdout`` sections) are added to its counts,
    as their result lines are parsed too."""
    found = list(_PYTEST.finditer(text))
    if not found:
        return None
    last = found[-1]
    counts: Counter[str] = Counter(_counts(last.group("body")))
    first_capture = _CAPTURED.search(text)
    if first_capture is not None:
        for m in found[:-1]:
            if m.start() > first_capture.start():
                counts.update(_counts(m.group("body")))
    return RunnerSummary("pytest", dict(counts), last.end())


def read_django(text: str) -> RunnerSummary | None:
    ran = _last(_DJANGO_RAN, text)
    if ran is None:
        return None
    counts = {"tests": int(ran.group(1))}
    end = _DJANGO_END.search(text, ran.end())
    if end and end.group("body"):
        for key, value in re.findall(r"([a-z ]+)=(\d+)", end.group("body")):
            counts[key.strip()] = int(value)
    return RunnerSummary("django", counts, ran.end())


def read_sympy(text: str) -> RunnerSummary | None:
    m = _last(_SYMPY, text)
    return RunnerSummary("sympy", _counts(m.group("body")), m.end()) if m else None


def read_node(text: str) -> RunnerSummary | None:
    found = list(_NODE.finditer(text))
    starts = [i for i, m in enumerate(found) if m.group(1) == "tests"]
    if not starts:
        return None
    block = found[starts[-1] :]
    counts = {m.group(1): int(m.group(2)) for m in block}
    return RunnerSummary("node", counts, block[0].end())


def read_cargo(text: str) -> RunnerSummary | None:
    found = list(_CARGO.finditer(text))
    if not found:
        return None
    total: Counter[str] = Counter()
    for m in found:
        total.update(_counts(m.group("body"), sep=";"))
    return RunnerSummary("cargo", dict(total), found[-1].end())


Reader = Callable[[str], RunnerSummary | None]
_P = "workers.parsers."
READERS: dict[str, Reader] = {
    _P + "pytest_summary:parse_pytest": read_pytest,
    _P + "pytest_summary:parse_pytest_options": read_pytest,
    _P + "pytest_summary:parse_pytest_v2": read_pytest,
    _P + "pytest_summary:parse_matplotlib": read_pytest,
    _P + "pytest_summary:parse_seaborn": read_pytest,
    _P + "django_runner:parse_django": read_django,
    _P + "sympy_runner:parse_sympy": read_sympy,
    _P + "node_tap:parse_node_tap": read_node,
    _P + "cargo_test:parse_cargo": read_cargo,
}
"""Parser target (``module:function``) -> the reader of its runner's summary."""


def reader_for(parser: str) -> Reader | None:
    try:
        return READERS.get(resolve_name(parser))
    except UserInputError:
        return None
