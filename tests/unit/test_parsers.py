"""Test-output parsers: the registry, each parser on exact inputs, and the fixtures in tests/fixtures/logs."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from workers.errors import UserInputError
from workers.grading import buckets, grade, resolution_of
from workers.models import Instance
from workers.parsers import (
    ALIASES,
    PARSERS,
    MalformedOutputError,
    TestStatus,
    UnknownParserError,
    get_parser,
    known_parsers,
    parse,
    parse_output,
    resolve_name,
)
from workers.parsers.contract import strip_ansi
from workers.parsers.django_runner import _interrupted_passes
from workers.parsers.sympy_runner import failure_header

P, F, S, E, X = (TestStatus.PASSED, TestStatus.FAILED, TestStatus.SKIPPED, TestStatus.ERROR, TestStatus.XFAIL)
LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
START, END = ">>>>> Start Test Output", ">>>>> End Test Output"


def load_fixtures() -> list[tuple[str, dict[str, Any], str]]:
    """(name, metadata, test output) of every fixture; framed logs are cut to the test-output section."""
    out = []
    for meta_path in sorted(LOGS.rglob("*.json")):
        meta = json.loads(meta_path.read_text())
        log_path = next(
            p for p in meta_path.parent.iterdir() if p.stem == meta_path.stem and p.suffix != ".json"
        )
        text = log_path.read_text()
        if meta["framed"]:
            text = text.split(START)[1].split(END)[0]
        out.append((str(meta_path.relative_to(LOGS).with_suffix("")), meta, text))
    return out


FIXTURES = load_fixtures()


def user_parser(output: str) -> dict[str, str]:
    """A user's own parser, named by ``module:function``; returns plain strings."""
    return {line.split()[0]: line.split()[1] for line in output.splitlines() if line.strip()}


def junk_parser(output: str) -> dict[str, str]:
    return {"t": "GREEN"}


# --- registry ---------------------------------------------------------------------------------


def test_every_registered_target_imports_and_every_alias_points_at_a_parser() -> None:
    for name in known_parsers():
        assert callable(get_parser(name)), name
    assert set(ALIASES.values()) <= set(PARSERS)
    assert not set(ALIASES) & set(PARSERS)


def test_swebench_spellings_and_aliases_resolve() -> None:
    assert resolve_name("parse_log_pytest") == PARSERS["pytest"]
    assert resolve_name("astropy") == PARSERS["pytest_v2"]
    assert resolve_name("parse_log_requests") == PARSERS["pytest_options"]
    assert resolve_name("parse_log_gotest") == PARSERS["go_test"]


def test_module_function_names_a_users_own_parser() -> None:
    assert parse(f"{__name__}:user_parser", "t1 PASSED\nt2 \x1b[31mFAILED\x1b[0m\n") == {"t1": P, "t2": F}


def test_unknown_name_is_a_user_error_listing_the_known_names() -> None:
    with pytest.raises(UnknownParserError) as info:
        parse("nosetests", "")
    assert isinstance(info.value, UserInputError)
    message = str(info.value)
    assert "unknown test-output parser 'nosetests'" in message
    assert "django" in message and "pytest_v2" in message and "module:function" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("no_such_module_xyz:parse", "cannot import parser module"),
        ("workers.parsers:nope", "no function 'nope'"),
    ],
)
def test_bad_module_function_is_a_user_error(name: str, fragment: str) -> None:
    with pytest.raises(UnknownParserError, match=fragment):
        get_parser(name)


def test_a_parser_returning_a_non_status_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="returned status 'GREEN'"):
        parse(f"{__name__}:junk_parser", "")


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_empty_output_parses_to_nothing(name: str) -> None:
    assert parse(name, "") == {}


def test_strip_ansi_removes_colour_cursor_and_title_sequences() -> None:
    assert strip_ansi("\x1b[1m\x1b[31mE\x1b[0m ok\x1b[2K\x1b]0;title\x07 \x1b[39;49;00mx") == "E ok x"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "meta", "text"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_fixture_parses_to_its_expected_statuses(name: str, meta: dict[str, Any], text: str) -> None:
    parsed = parse_output(meta["parser"], text)
    assert {k: v.value for k, v in parsed.statuses.items()} == meta["expected"]
    assert parsed.problem == meta["problem"]


INSTANCES = [(name, meta, text, inst) for name, meta, text in FIXTURES for inst in meta["instances"]]


@pytest.mark.parametrize(
    ("name", "meta", "text", "inst"), INSTANCES, ids=[f"{i[0]}:{i[3]['instance_id']}" for i in INSTANCES]
)
def test_fixture_instance_grades_to_its_expected_verdict(
    name: str, meta: dict[str, Any], text: str, inst: dict[str, Any]
) -> None:
    instance = Instance(
        instance_id=inst["instance_id"],
        repo=inst["repo"],
        base_commit="0" * 40,
        FAIL_TO_PASS=inst["FAIL_TO_PASS"],
        PASS_TO_PASS=inst["PASS_TO_PASS"],
    )
    parsed = parse_output(meta["parser"], text)
    assert resolution_of(buckets(instance, parsed.statuses)) == inst["resolution"]
    graded = grade(
        instance,
        parsed.statuses,
        test_exit_code=meta["test_exit_code"],
        output_seen=True,
        parse_problem=parsed.problem,
    )
    assert graded.resolved == inst["resolved"]


# --- pytest -----------------------------------------------------------------------------------

SUMMARY = """\
PASSED tests/t.py::test_a
PASSED tests/t.py::test_p[a b-c]
FAILED tests/t.py::test_p[x::y] - AssertionError: 1 - 2
XFAIL tests/t.py::test_x - known - bug
ERROR tests/t.py::test_e - RuntimeError: boom
SKIPPED [2] tests/t.py:10: no network
XPASS tests/t.py::test_xp - fixed
ERROR: not found: /testbed/tests/t.py::test_gone
FAILED
tests/t.py::test_old PASSED
"""


def test_pytest_reads_the_first_word_of_each_summary_line() -> None:
    assert parse("pytest", SUMMARY) == {
        "tests/t.py::test_a": P,
        "tests/t.py::test_p[a": P,
        "tests/t.py::test_p[x::y]": F,
        "tests/t.py::test_x": X,
        "tests/t.py::test_e": E,
    }


def test_pytest_v2_keeps_whole_ids_and_reads_old_progress_lines() -> None:
    assert parse("pytest_v2", SUMMARY) == {
        "tests/t.py::test_a": P,
        "tests/t.py::test_p[a b-c]": P,
        "tests/t.py::test_p[x::y]": F,
        "tests/t.py::test_x - known - bug": X,
        "tests/t.py::test_e - RuntimeError: boom": E,
        "tests/t.py::test_old": P,
    }


def test_pytest_options_shortens_absolute_path_parameters() -> None:
    out = "PASSED t.py::test_f[/tmp/a/b.txt]\nPASSED t.py::test_f[//host/x]\nPASSED t.py::test_f[/a/*.py]\n"
    assert parse("pytest_options", out) == {
        "t.py::test_f[/b.txt]": P,
        "t.py::test_f[//host/x]": P,
        "t.py::test_f[/a/*.py]": P,
    }


def test_pytest_strips_colour_and_the_later_line_wins() -> None:
    out = (
        "\x1b[32mPASSED\x1b[0m t.py::\x1b[1mtest_a\x1b[0m\n"
        "\x1b[31mFAILED\x1b[0m t.py::\x1b[1mtest_a\x1b[0m - x\n"
    )
    assert parse("pytest", out) == {"t.py::test_a": F}


def test_pytest_ignores_a_truncated_last_line() -> None:
    assert parse("pytest", "PASSED t.py::test_a\nPASSED\nFAIL") == {"t.py::test_a": P}


def test_matplotlib_rewrites_mouse_button_ids() -> None:
    out = "PASSED t.py::test_b[MouseButton.LEFT]\nPASSED t.py::test_b[MouseButton.RIGHT]\n"
    assert parse("matplotlib", out) == {"t.py::test_b[1]": P, "t.py::test_b[3]": P}


def test_seaborn_reads_progress_and_summary_lines_passed_and_failed_only() -> None:
    out = "t.py::test_a PASSED    [ 50%]\nFAILED t.py::test_b - x\nPASSED t.py::test_c\nXFAIL t.py::test_d\n"
    assert parse("seaborn", out) == {"t.py::test_a": P, "t.py::test_b": F, "t.py::test_c": P}


# --- django and sympy -------------------------------------------------------------------------

DJANGO = """\
test_a (app.tests.T) ... ok
test_b (app.tests.T)
Docstring of b ... FAIL
test_c (app.tests.T) ... skipped 'no db'
test_d (app.tests.T) ... Some output
more output
ok
test_e (app.tests.T) ... ERROR
test_f (app.tests.T) ... System check identified no issues (0 silenced)
ok
FAIL:
ERROR: test_e (app.tests.T)
"""


def test_django_verbose_output_with_its_multi_line_quirks() -> None:
    assert parse("django", DJANGO) == {
        "test_a (app.tests.T)": P,
        "Docstring of b": F,
        "test_c (app.tests.T)": S,
        "test_d (app.tests.T)": P,
        "test_e (app.tests.T)": E,
        "test_e": E,
        "test_f (app.tests.T)": P,
    }


def test_sympy_bin_test_verbose_lines_and_failure_headers() -> None:
    out = (
        "sympy/a/tests/test_x.py[4] \ntest_one ok\ntest_two F\ntest_three E\ntest_four f\n"
        "____ sympy/a/tests/test_x.py:test_two ____\n"
    )
    assert parse("sympy", out) == {
        "sympy/a/tests/test_x.py:test_two": F,
        "test_one": P,
        "test_two": F,
        "test_three": E,
    }


# --- go, cargo --------------------------------------------------------------------------------


def test_go_test_reads_verbose_lines_and_json_events_alike() -> None:
    text = (
        "--- PASS: TestA (0.00s)\n    --- FAIL: TestA/sub_1 (0.01s)\n"
        "--- SKIP: TestB (0.00s)\nok  \tpkg\t0.1s\n"
    )
    events = "\n".join(
        json.dumps({"Action": action, "Package": "pkg", **({"Test": test} if test else {})})
        for action, test in [
            ("run", "TestA"),
            ("pass", "TestA"),
            ("fail", "TestA/sub_1"),
            ("skip", "TestB"),
            ("fail", ""),
        ]
    )
    expected = {"TestA": P, "TestA/sub_1": F, "TestB": S}
    assert parse("go_test", text) == expected
    assert parse("go_test", events + "\n{not json\n[1, 2]\n") == expected


def test_cargo_reads_ok_failed_ignored_should_panic_and_doc_tests() -> None:
    out = (
        "test a::b ... ok\ntest a::c ... FAILED\ntest a::d ... ignored, slow\n"
        "test a::e - should panic ... ok\ntest src/lib.rs - f (line 3) ... ok\n"
        "test result: FAILED. 1 passed\ntest a::bench ... bench: 10 ns/iter\n"
    )
    assert parse("cargo", out) == {"a::b": P, "a::c": F, "a::d": S, "a::e": P, "src/lib.rs - f (line 3)": P}


# --- node TAP ---------------------------------------------------------------------------------

NODE = """\
TAP version 13
# Subtest: outer
    # Subtest: inner \\# one
    ok 1 - inner \\# one
      ---
      duration_ms: 0.1
      ...
    # Subtest: inner two
    not ok 2 - inner two
      ---
      error: |-
        ok 9 - not a result
      ...
    1..2
not ok 1 - outer
# Subtest: skipped
ok 2 - skipped # SKIP later
# Subtest: todo
not ok 3 - todo # TODO
# Subtest: done todo
ok 4 - done todo # todo
1..4
"""


def test_node_tap_names_nested_tests_by_path_and_reads_directives() -> None:
    assert parse("node_tap", NODE) == {
        "outer": F,
        "outer > inner # one": P,
        "outer > inner two": F,
        "skipped": S,
        "todo": X,
        "done todo": P,
    }


def test_node_tap_cut_before_the_parent_reports_still_names_children_by_subtest_lines() -> None:
    cut = NODE[: NODE.index("    1..2")]
    assert parse("node_tap", cut) == {"outer > inner # one": P, "outer > inner two": F}


# --- JUnit XML --------------------------------------------------------------------------------

JUNIT = """<?xml version="1.0"?>
<testsuites xmlns="urn:example"><testsuite name="s">
<testcase classname="pkg.T" name="ok"/>
<testcase classname="pkg.T" name="bad"><failure message="x"/></testcase>
<testcase classname="pkg.T" name="err"><skipped/><error/></testcase>
<testcase classname="pkg.T" name="skip"><skipped message="later"/></testcase>
<testcase classname="pkg.T" name="xf"><skipped type="pytest.xfail"/></testcase>
<testcase name="bare"/>
</testsuite></testsuites>
trailing shell output
"""


def test_junit_xml_statuses_and_names() -> None:
    assert parse_output("junit_xml", JUNIT).model_dump() == {
        "parser": "junit_xml",
        "statuses": {
            "pkg.T::ok": P,
            "pkg.T::bad": F,
            "pkg.T::err": E,
            "pkg.T::skip": S,
            "pkg.T::xf": X,
            "bare": P,
        },
        "problem": None,
    }


@pytest.mark.parametrize(
    ("text", "problem", "partial"),
    [
        (JUNIT[: JUNIT.index('<testcase classname="pkg.T" name="skip"')], "truncated JUnit XML", 3),
        (JUNIT.replace('name="skip"', 'name="skip" &oops;'), "invalid JUnit XML", 3),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite><testcase name="t"/></testsuite>', "with a DTD", 0),
        ("collected 0 items\n", "no JUnit XML document", 0),
    ],
    ids=["truncated", "invalid", "dtd", "no-xml"],
)
def test_junit_xml_damage_is_a_problem_with_what_could_be_read(text: str, problem: str, partial: int) -> None:
    parsed = parse_output("junit_xml", text)
    assert parsed.problem is not None and parsed.problem.startswith("junit_xml: ")
    assert problem in parsed.problem
    assert len(parsed.statuses) == partial
    assert parse("junit_xml", text) == parsed.statuses  # parse never raises on bad output
    with pytest.raises(MalformedOutputError):
        get_parser("junit_xml")(text)


# --- linear rewrites of SWE-bench's backtracking regexes --------------------------------------
# SWE-bench's patterns, copied verbatim, are the oracle on many random short inputs; the rewrites
# must agree with them everywhere and stay linear on inputs where the regexes take minutes.

SYMPY_HEADER = re.compile(r"(_*) (.*)\.py:(.*) (_*)")
OPTION = re.compile(r"(.*?)\[(.*)\]")
DJANGO_PATTERNS = [
    r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$",
    r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$",
    r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$",
]
DJANGO_LINES = [
    "t (a.T) ... ok",
    "t (a.T) ... Internal Server Error: /x/",
    "t (a.T) ... Internal Server Error: /x/ y",
    "t (a.T) ... System check identified no issues (0 silenced)",
    "t (a.T) ... System check identified no issues (0 silenced).",
    "t (a.T) ... Testing against Django installed in '/d'",
    "Testing against Django installed in '/d' silenced).",
    "t (a.T)",
    "...",
    "... Internal Server Error: /y/",
    "System check identified no issues (0 silenced)",
    "a silenced).",
    "ok",
    "ok",
    "okay",
    "",
]


def random_text(rng: random.Random, pieces: list[str], n: int) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, n)))


def test_sympy_failure_header_equals_swebench_regex() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        line = random_text(rng, ["_", " ", ".py:", "a", ".", "py", ":"], 12)
        expected = [f"{m[1]}.py:{m[2]}" for m in SYMPY_HEADER.findall(line)]
        found = failure_header(line)
        assert ([found] if found is not None else []) == expected, repr(line)


def test_path_option_shortening_equals_swebench_regex() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        token = random_text(rng, ["[", "]", "/", "//", "*", "a", "t"], 10)
        words = f"PASSED {token}".split()
        if len(words) < 2:
            continue
        match = OPTION.search(words[1])
        expected = words[1]
        if match:
            main, option = match.groups()
            if option.startswith("/") and not option.startswith("//") and "*" not in option:
                option = "/" + option.split("/")[-1]
            expected = f"{main}[{option}]"
        assert list(parse("pytest_options", f"PASSED {token}")) == [expected], repr(token)


def test_django_multi_line_patterns_equal_swebench_regexes() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        text = "\n".join(rng.choice(DJANGO_LINES) for _ in range(rng.randint(0, 8)))
        expected = [m.group(1) for p in DJANGO_PATTERNS for m in re.finditer(p, text, re.MULTILINE)]
        assert _interrupted_passes(text) == expected, repr(text)


def test_django_windows_leave_out_overlong_lines_only() -> None:
    text = "x" * 5000 + "\nt (a.T)\n... Internal Server Error: /x/\nok"
    assert _interrupted_passes(text) == ["t (a.T)"]
    assert _interrupted_passes("y" * 5000 + " ... Internal Server Error: /x/\nok") == []


def test_cargo_reads_every_line_swebench_reads_the_same_way() -> None:
    rng = random.Random(3)
    swebench = re.compile(r"^test\s+(\S+)\s+\.\.\.\s+(\w+)$")
    spaces = [" ", "  ", "\t", ""]
    for _ in range(3000):
        words = [
            "test",
            rng.choice(["a::b", "x", "", "..."]),
            "...",
            rng.choice(["ok", "FAILED", "okay", ""]),
        ]
        line = "".join(word + rng.choice(spaces) for word in words)
        match = swebench.match(line.strip())
        if match and match.group(2) in ("ok", "FAILED"):
            assert parse("cargo", line) == {match.group(1): P if match.group(2) == "ok" else F}, repr(line)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("sympy", " a" * 100_000),
        ("pytest_options", "PASSED a" + "[" * 100_000 + "x"),
        ("django", "x ... Internal Server Error: /" * 50_000),
        ("django", "x ... Testing against Django installed in a\n" * 50_000),
        ("cargo", "test" + " " * 100_000 + "x ... bad"),
        ("cargo", "test x" + " ... x" * 50_000),
        ("go_test", "--- PASS: " + "a (" * 100_000),
    ],
    ids=["sympy", "options", "django-ise", "django-testing", "cargo-spaces", "cargo-dots", "go-parens"],
)
def test_pathological_lines_parse_fast(name: str, text: str) -> None:
    started = time.monotonic()
    parse(name, text)
    assert time.monotonic() - started < 2.0
