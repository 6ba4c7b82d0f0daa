"""Parity of the SWE-bench Multilingual runner parsers with swebench's own, on logs in tests/fixtures.

Each fixture is parsed by our parser and by the official one it mirrors; the results must be equal,
test for test. Where they differ on purpose, the difference is in docs/parity.md and asserted here.
tests/fixtures/logs/multilingual/README.md says which logs come from really running the runner here
and which were written in the runner's format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.parsers import parse, parse_output

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs" / "multilingual"

CASES = [
    # (our parser, swebench's parser, fixture)
    ("googletest", "parse_log_googletest", "googletest.log"),
    ("doctest", "parse_log_doctest", "doctest.log"),
    ("redis", "parse_log_redis", "redis.log"),
    ("jq", "parse_log_jq", "jq.log"),
    ("micropython_test", "parse_log_micropython_test", "micropython.log"),
    ("gotest", "parse_log_gotest", "gotest.log"),
    ("maven", "parse_log_maven", "maven.log"),
    ("ant", "parse_log_ant", "ant.log"),
    ("gradle_custom", "parse_log_gradle_custom", "gradle_custom.log"),
    ("jest", "parse_log_jest", "jest.log"),
    ("jest_json", "parse_log_jest_json", "jest_json.log"),
    ("vitest", "parse_log_vitest", "vitest.log"),
    ("karma", "parse_log_karma", "karma.log"),
    ("tap", "parse_log_tap", "tap.log"),
    ("phpunit", "parse_log_phpunit", "phpunit.log"),
    ("minitest", "parse_log_minitest", "minitest.log"),
    ("ruby_unit", "parse_log_ruby_unit", "test_unit.log"),
    ("rspec_transformed_json", "parse_log_rspec_transformed_json", "rspec_fastlane.log"),
    ("rspec_transformed_json", "parse_log_rspec_transformed_json", "rspec_fpm.log"),
    ("rspec_transformed_json", "parse_log_rspec_transformed_json", "rspec_rubocop.log"),
    ("cargo", "parse_log_cargo", "cargo.log"),
]

KNOWN_DIFFERENCES = {
    # docs/parity.md "Other languages": we also read what SWE-bench's parser drops
    ("cargo", "cargo.log"): {"tests::slow": "SKIPPED", "tests::panics": "PASSED"},
}
"""Entries our parser has and swebench's has not, per (parser, fixture)."""


def official(name: str, text: str) -> dict[str, str]:
    registry = pytest.importorskip("swebench.harness.log_parsers").PARSER_REGISTRY
    return {k: str(v) for k, v in registry[name](text, None).items()}


@pytest.mark.parametrize(("ours", "theirs", "fixture"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_parity_with_swebench(ours: str, theirs: str, fixture: str) -> None:
    text = (FIXTURES / fixture).read_text(encoding="utf-8")
    mine = {k: v.value for k, v in parse(ours, text).items()}
    expected = official(theirs, text)
    assert expected, f"the fixture {fixture} gives swebench's parser nothing to read"
    extra = {k: v for k, v in mine.items() if k not in expected}
    assert extra == {k: v for k, v in KNOWN_DIFFERENCES.get((ours, fixture), {}).items() if k not in expected}
    assert {k: v for k, v in mine.items() if k in expected} == expected


def test_fixtures_hold_every_status_their_runner_prints() -> None:
    """A parity test on passes only proves little: each fixture has a failure (and most a skip)."""
    for ours, _, fixture in CASES:
        statuses = set(parse(ours, (FIXTURES / fixture).read_text(encoding="utf-8")).values())
        assert "FAILED" in statuses, fixture


def test_doctest_truncated_report_is_a_problem_not_a_crash() -> None:
    """swebench's parse_log_doctest raises on a truncated document; ours reports a problem."""
    text = (FIXTURES / "doctest.log").read_text(encoding="utf-8")
    cut = text[: text.index("</TestCase>")]
    parsed = parse_output("doctest", cut)
    assert parsed.statuses == {}
    assert parsed.problem is not None and "truncated" in parsed.problem


def test_maven_pairs_interleaved_results_first_in_first_out() -> None:
    text = (FIXTURES / "maven.log").read_text(encoding="utf-8")
    got = parse("maven", text)
    prefix = "com.google.gson.functional.PrimitiveTest#"
    assert got[prefix + "testShortSerialization"] == "FAILED"
    assert got[prefix + "testIntSerialization"] == got[prefix + "testLongSerialization"] == "PASSED"
