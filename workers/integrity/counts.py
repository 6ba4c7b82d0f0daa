"""Do the parsed statuses agree with the runner's own closing counts? (see ``summaries``)"""

from __future__ import annotations

from collections import Counter

from workers.integrity.summaries import RunnerSummary, reader_for
from workers.parsers import StatusMap, TestStatus, parse, strip_ansi

NO_SUMMARY = "no runner summary"
AFTER_SUMMARY = "results after the runner's summary"
TOO_MANY = "more results than the runner counted"
MISSING_FAILURES = "failures the runner counted are missing"

P, F, E, S, X = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERROR, TestStatus.SKIPPED, TestStatus.XFAIL
Problem = tuple[str, str]


def _over(parsed: int, what: str, counted: int, runner: str, word: str) -> Problem | None:
    if parsed > counted:
        return TOO_MANY, f"{parsed} tests parsed {what}, {runner} counted {counted} {word}"
    return None


def _missing(failing_counted: int, t: Counter[TestStatus], runner: str) -> Problem | None:
    if failing_counted > 0 and t[F] + t[E] == 0:
        return (
            MISSING_FAILURES,
            f"{runner} counted {failing_counted} failed or errors, no failing test was parsed",
        )
    return None


def _pytest(c: dict[str, int], t: Counter[TestStatus], _: StatusMap) -> list[Problem | None]:
    failing = c.get("failed", 0) + c.get("errors", 0)
    return [
        _over(t[P], "PASSED", c.get("passed", 0), "pytest", "passed"),
        _over(t[F] + t[E], "FAILED or ERROR", failing, "pytest", "failed or errors"),
        _over(t[X], "XFAIL", c.get("xfailed", 0), "pytest", "xfailed"),
        _over(t[S], "SKIPPED", c.get("skipped", 0) + c.get("deselected", 0), "pytest", "skipped"),
        _missing(failing, t, "pytest"),
    ]


def _django(c: dict[str, int], t: Counter[TestStatus], _: StatusMap) -> list[Problem | None]:
    failing = c.get("failures", 0) + c.get("errors", 0)
    return [_over(t[P], "PASSED", c.get("tests", 0), "django", "tests run"), _missing(failing, t, "django")]


def _sympy(c: dict[str, int], t: Counter[TestStatus], _: StatusMap) -> list[Problem | None]:
    passed = c.get("passed", 0) + c.get("expected to fail but passed", 0)
    failing = c.get("failed", 0) + c.get("exceptions", 0)
    return [_over(t[P], "PASSED", passed, "sympy", "passed"), _missing(failing, t, "sympy")]


def _cargo(c: dict[str, int], t: Counter[TestStatus], _: StatusMap) -> list[Problem | None]:
    return [
        _over(t[P], "PASSED", c.get("passed", 0), "cargo", "passed"),
        _over(t[F], "FAILED", c.get("failed", 0), "cargo", "failed"),
        _over(t[S], "SKIPPED", c.get("ignored", 0), "cargo", "ignored"),
        _missing(c.get("failed", 0), t, "cargo"),
    ]


def _node_groups(statuses: StatusMap) -> tuple[Counter[TestStatus], Counter[TestStatus]]:
    """Status counts of the leaves (no subtests) and of the top-level tests."""
    names = list(statuses)
    parents = {n for n in names for other in names if other.startswith(n + " > ")}
    leaves = Counter(s for n, s in statuses.items() if n not in parents)
    top = Counter(s for n, s in statuses.items() if " > " not in n)
    return leaves, top


def _node(c: dict[str, int], _t: Counter[TestStatus], statuses: StatusMap) -> list[Problem | None]:
    """Node 18.20 and 20 count every test (leaves and parents); older Node 18 counted per file:
    the parsed results must fit under the counts in one of the two readings."""
    passing, failing = c.get("pass", 0) + c.get("todo", 0), c.get("fail", 0) + c.get("cancelled", 0)
    readings = []
    for t in _node_groups(statuses):
        readings.append(
            [
                _over(t[P], "PASSED", passing, "node", "pass + todo"),
                _over(t[F], "FAILED", failing, "node", "fail + cancelled"),
                _over(t[S], "SKIPPED", c.get("skipped", 0), "node", "skipped"),
                _over(t[X], "XFAIL (failing todo)", c.get("todo", 0), "node", "todo"),
            ]
        )
    fitting = [r for r in readings if not any(r)]
    return ([] if fitting else readings[0]) + [_missing(failing, Counter(statuses.values()), "node")]


BOUNDS = {"pytest": _pytest, "django": _django, "sympy": _sympy, "cargo": _cargo, "node": _node}


def check_counts(parser: str, text: str, statuses: StatusMap) -> Problem | None:
    """The first disagreement between the parsed statuses and the runner's summary, or None.

    None also when the parser has no summary reader (``go test``, JUnit XML, a user's parser).
    """
    reader = reader_for(parser)
    if reader is None:
        return None
    clean = strip_ansi(text)
    summary: RunnerSummary | None = reader(clean)
    if summary is None:
        return NO_SUMMARY, "the output has no closing summary of the test runner (it did not finish)"
    # failing lines after the summary cannot fake a resolution (a wrapper's own error line, such as
    # "ERROR conda.cli.main_run:execute(124): ..." after a failed `conda run`, reads as one)
    tail = parse(parser, clean[summary.end :])
    after = {k: s for k, s in tail.items() if s not in (F, E)}
    if after:
        first = next(iter(after))
        return (
            AFTER_SUMMARY,
            f"{len(after)} result line(s) after {summary.runner}'s summary, e.g. {first[:80]}",
        )
    counted = {k: s for k, s in statuses.items() if k not in tail}
    problems = BOUNDS[summary.runner](summary.counts, distinct_tally(counted), counted)
    return next((p for p in problems if p is not None), None)


def distinct_tally(statuses: StatusMap) -> Counter[TestStatus]:
    """Tests per status, an id and its `` - message`` variant counted once (SWE-bench's ``pytest_v2``
    keeps the message in ERROR and XFAIL ids, so one test can appear under both spellings)."""
    return Counter(status for _, status in {(k.split(" - ", 1)[0], s) for k, s in statuses.items()})
