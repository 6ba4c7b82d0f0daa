"""Test-output parsers, looked up by short name and imported lazily.

``parse("pytest", output)`` returns ``{test name: TestStatus}``. A name is a key of ``PARSERS``,
an alias (``ALIASES``: SWE-bench's per-repo names whose behaviour is identical), SWE-bench v5's
``parse_log_<name>`` spelling of either, or ``module:function`` for a user's own parser.
ANSI escape codes are stripped before any parser sees the output.
"""

from __future__ import annotations

import importlib
from functools import cache

from workers.errors import UserInputError
from workers.parsers.contract import (
    STATUS_VALUES,
    MalformedOutputError,
    ParsedOutput,
    Parser,
    StatusMap,
    TestStatus,
    strip_ansi,
)

__all__ = [
    "ALIASES",
    "PARSERS",
    "MalformedOutputError",
    "ParsedOutput",
    "Parser",
    "StatusMap",
    "TestStatus",
    "UnknownParserError",
    "get_parser",
    "known_parsers",
    "parse",
    "parse_output",
    "resolve_name",
]

_P = "workers.parsers."
_POLYGLOT = ("cpp", "go", "java", "javascript", "python", "rust")
PARSERS: dict[str, str] = {
    "pytest": _P + "pytest_summary:parse_pytest",
    "pytest_options": _P + "pytest_summary:parse_pytest_options",
    "pytest_v2": _P + "pytest_summary:parse_pytest_v2",
    "matplotlib": _P + "pytest_summary:parse_matplotlib",
    "seaborn": _P + "pytest_summary:parse_seaborn",
    "django": _P + "django_runner:parse_django",
    "sympy": _P + "sympy_runner:parse_sympy",
    "go_test": _P + "go_test:parse_go_test",
    "cargo": _P + "cargo_test:parse_cargo",
    "node_tap": _P + "node_tap:parse_node_tap",
    "junit_xml": _P + "junit_xml:parse_junit_xml",
    # SWE-bench Multilingual's runners (docs/parity.md "Other languages"), named as SWE-bench names them
    "jest": _P + "js_runners:parse_jest",
    "jest_json": _P + "js_runners:parse_jest_json",
    "vitest": _P + "js_runners:parse_vitest",
    "karma": _P + "js_runners:parse_karma",
    "tap": _P + "js_runners:parse_tap",
    "redis": _P + "c_runners:parse_redis",
    "jq": _P + "c_runners:parse_jq",
    "doctest": _P + "c_runners:parse_doctest",
    "micropython_test": _P + "c_runners:parse_micropython",
    "googletest": _P + "c_runners:parse_googletest",
    "maven": _P + "java_runners:parse_maven",
    "ant": _P + "java_runners:parse_ant",
    "gradle_custom": _P + "java_runners:parse_gradle_custom",
    "phpunit": _P + "phpunit:parse_phpunit",
    "minitest": _P + "ruby_runners:parse_minitest",
    "cucumber": _P + "ruby_runners:parse_cucumber",
    "ruby_unit": _P + "ruby_runners:parse_ruby_unit",
    "rspec_transformed_json": _P + "ruby_runners:parse_rspec_json",
    # Aider polyglot: the language's runner plus the exercise's verdict (workers/parsers/polyglot.py)
    **{f"polyglot_{lang}": f"{_P}polyglot:parse_polyglot_{lang}" for lang in _POLYGLOT},
}
"""Short name -> ``module:function``."""

ALIASES: dict[str, str] = {
    # SWE-bench binds these repo names to the very same function (swebench/harness/log_parsers).
    **dict.fromkeys(["astroid", "flask", "marshmallow", "pvlib", "pyvista", "sqlfluff", "xarray"], "pytest"),
    **dict.fromkeys(["pydicom", "requests", "pylint"], "pytest_options"),
    **dict.fromkeys(["astropy", "scikit", "sphinx"], "pytest_v2"),
    "gotest": "go_test",
}
"""Alias -> name in ``PARSERS``."""

_SWEBENCH_PREFIX = "parse_log_"


class UnknownParserError(UserInputError):
    """A parser name that is neither registered nor an importable ``module:function``."""


def known_parsers() -> list[str]:
    """Every name ``parse`` accepts (besides ``module:function``), sorted."""
    return sorted([*PARSERS, *ALIASES])


def resolve_name(name: str) -> str:
    """Return the ``module:function`` target of a parser name, or raise ``UnknownParserError``."""
    if ":" in name:
        return name
    short = name.removeprefix(_SWEBENCH_PREFIX)
    short = ALIASES.get(short, short)
    if short in PARSERS:
        return PARSERS[short]
    raise UnknownParserError(
        f"unknown test-output parser '{name}'",
        field="parser",
        fix=f"use one of {', '.join(known_parsers())}, or 'module:function' for your own parser",
    )


@cache
def get_parser(name: str) -> Parser:
    """Import and return the parser function ``name`` resolves to."""
    target = resolve_name(name)
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownParserError(
            f"cannot import parser module '{module_name}' for '{name}': {exc}",
            field="parser",
            fix="check the module path and that its package is installed in the worker image",
        ) from exc
    func = getattr(module, attr, None)
    if not callable(func):
        raise UnknownParserError(
            f"'{module_name}' has no function '{attr}' (parser '{name}')", field="parser"
        )
    parser: Parser = func
    return parser


def parse_output(name: str, output: str) -> ParsedOutput:
    """Parse ``output`` with parser ``name``; a malformed output gives a partial result and a problem."""
    parser = get_parser(name)
    problem = None
    try:
        raw = parser(strip_ansi(output))
    except MalformedOutputError as exc:
        raw, problem = exc.partial, f"{name}: {exc.problem}"
    return ParsedOutput(parser=name, statuses=_checked(name, raw), problem=problem)


def parse(name: str, output: str) -> StatusMap:
    """Parse ``output`` with parser ``name``: ``{test name: TestStatus}``.

    Never raises on bad output: a malformed document gives what could be recovered (maybe nothing).
    Use ``parse_output`` to also learn why an output could not be read completely.
    """
    return parse_output(name, output).statuses


def _checked(name: str, raw: dict[str, TestStatus]) -> StatusMap:
    """Coerce a parser's values to ``TestStatus``; a user parser returning junk is a user error."""
    out: StatusMap = {}
    for test, status in raw.items():
        if status not in STATUS_VALUES:
            raise UserInputError(
                f"parser '{name}' returned status {status!r} for test {test!r}",
                fix=f"return one of {', '.join(STATUS_VALUES)}",
            )
        out[test] = TestStatus(status)
    return out
