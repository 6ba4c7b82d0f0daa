"""Parity with the official ``swebench`` package (a test-only dependency).

On every fixture under tests/fixtures/logs that SWE-bench has a parser for, our parser and grader must
agree with swebench's on every test status, every bucket, every resolution and the final ``resolved``
of its whole pipeline (``get_eval_report`` on the harness log) -- except for the disagreements listed
in ``DISAGREEMENTS``, each justified here and in docs/parity.md. Real pytest and node runs at test
time guard against hand-written fixtures drifting from what the tools really print.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from workers.grading import buckets, grade, resolution_of
from workers.models import Instance
from workers.parsers import ALIASES, TestStatus, parse, parse_output, resolve_name
from workers.parsers.contract import strip_ansi

sb_grading = pytest.importorskip("swebench.harness.grading", reason="the swebench package is not installed")
sb_constants = pytest.importorskip("swebench.harness.constants")
sb_parsers = pytest.importorskip("swebench.harness.log_parsers")
sb_python = pytest.importorskip("swebench.harness.log_parsers.python")
sb_types = pytest.importorskip("swebench.types")

P, F, S, E, X = (TestStatus.PASSED, TestStatus.FAILED, TestStatus.SKIPPED, TestStatus.ERROR, TestStatus.XFAIL)
ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "fixtures" / "logs"
START, END, EXIT = (sb_constants.START_TEST_OUTPUT, sb_constants.END_TEST_OUTPUT, sb_constants.TEST_EXIT_CODE)


@dataclass(frozen=True)
class Disagreement:
    """A known, justified difference from swebench on one fixture (all fields: swebench's, then ours)."""

    why: str
    statuses: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    resolution: dict[str, tuple[str, str]] = field(default_factory=dict)
    resolved: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    ansi: bool = False  # swebench cannot read the coloured log; on the ANSI-stripped log statuses agree


DISAGREEMENTS: dict[str, Disagreement] = {
    "pytest/flask_color": Disagreement(
        why="ANSI colour: swebench's non-v2 pytest parsers read nothing from a coloured log; we strip "
        "ANSI codes first (on the stripped log our statuses equal swebench's exactly).",
        ansi=True,
        resolution={"pallets__flask-5014": ("NO", "FULL")},
        resolved={"pallets__flask-5014": (False, True)},
    ),
    "pytest/pytest_notfound": Disagreement(
        why="A line starting 'ERROR:' that is not a summary line: swebench records the pseudo-test 'file' "
        "with the non-status 'ERROR:'; our TestStatus contract has no such value, so we skip the line. "
        "No verdict changes: such a key is never a listed test.",
        statuses={"file": ("ERROR:", None)},
    ),
    "cargo/libtest": Disagreement(
        why="swebench's cargo parser reads only one-word names ending in ok/FAILED; we also read ignored "
        "tests (SKIPPED), #[should_panic] tests and doc tests. Lists built with swebench never name those "
        "tests, so SWE-bench verdicts cannot change; on our own lists they grade as they ran.",
        statuses={
            "tests::div_by_zero_panics": (None, "PASSED"),
            "tests::network_one": (None, "SKIPPED"),
            "tests::slow_one": (None, "SKIPPED"),
            "src/lib.rs - add (line 3)": (None, "PASSED"),
            "src/lib.rs - div (line 12)": (None, "FAILED"),
        },
        resolution={"acme__calc-8": ("NO", "FULL")},
        resolved={"acme__calc-8": (False, True)},
    ),
}
NO_DISAGREEMENT = Disagreement(why="")


def load_fixtures() -> list[tuple[str, dict[str, Any], str]]:
    """(name, metadata, whole log) of every fixture that swebench has a parser for."""
    out = []
    for meta_path in sorted(LOGS.rglob("*.json")):
        meta = json.loads(meta_path.read_text())
        log_path = next(
            p for p in meta_path.parent.iterdir() if p.stem == meta_path.stem and p.suffix != ".json"
        )
        if meta["swebench_parser"]:
            out.append((str(meta_path.relative_to(LOGS).with_suffix("")), meta, log_path.read_text()))
    return out


FIXTURES = load_fixtures()
INSTANCES = [(name, meta, log, inst) for name, meta, log in FIXTURES for inst in meta["instances"]]
INSTANCE_IDS = [f"{name}:{inst['instance_id']}" for name, _, _, inst in INSTANCES]


def harness_log(meta: dict[str, Any], log: str) -> str:
    """The log as the SWE-bench harness writes it (fixtures of raw tool output get minimal markers)."""
    if meta["framed"]:
        return log
    return f"+ : '{START}'\n{log}+ : '{END}'\n{EXIT}: {meta['test_exit_code']}\n"


def section_of(log: str) -> str:
    """The section swebench parses: between the start and end markers."""
    return log.split(START)[1].split(END, maxsplit=1)[0]


def swebench_statuses(meta: dict[str, Any], text: str) -> dict[str, str]:
    result: dict[str, str] = sb_parsers.PARSER_REGISTRY[meta["swebench_parser"]](text, None)
    return result


def ours(meta: dict[str, Any], text: str) -> dict[str, str]:
    return {k: v.value for k, v in parse(meta["parser"], text).items()}


def instance_of(inst: dict[str, Any]) -> Instance:
    return Instance(
        instance_id=inst["instance_id"],
        repo=inst["repo"],
        base_commit="0" * 40,
        FAIL_TO_PASS=inst["FAIL_TO_PASS"],
        PASS_TO_PASS=inst["PASS_TO_PASS"],
    )


# --- coverage of swebench's parser names ------------------------------------------------------


def test_every_swebench_python_go_and_rust_parser_has_our_namesake() -> None:
    names = [
        n for n, f in sb_parsers.PARSER_REGISTRY.items() if f.__module__.endswith((".python", ".go", ".rust"))
    ]
    assert len(names) >= 22
    for name in names:
        resolve_name(name)  # raises UnknownParserError if we have no parser of that name
    for func in sb_python.MAP_REPO_TO_PARSER_PY.values():
        resolve_name(func.__name__)


def test_our_aliases_are_aliases_in_swebench_too() -> None:
    for alias, target in ALIASES.items():
        if f"parse_log_{target}" in sb_parsers.PARSER_REGISTRY:
            registry = sb_parsers.PARSER_REGISTRY
            assert registry[f"parse_log_{alias}"] is registry[f"parse_log_{target}"], alias


def test_every_disagreement_is_a_fixture_and_is_documented() -> None:
    doc = (ROOT / "docs" / "parity.md").read_text()
    fixture_names = {name for name, _, _ in FIXTURES}
    for name in DISAGREEMENTS:
        assert name in fixture_names
        assert f"`{name}`" in doc, f"docs/parity.md does not list {name}"


# --- statuses, buckets, resolutions, pipeline ---------------------------------------------------


@pytest.mark.parametrize(("name", "meta", "log"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_statuses_agree_with_swebench(name: str, meta: dict[str, Any], log: str) -> None:
    text = section_of(harness_log(meta, log))
    expected = DISAGREEMENTS.get(name, NO_DISAGREEMENT)
    if expected.ansi:
        assert swebench_statuses(meta, strip_ansi(text)) == ours(meta, text)
        assert swebench_statuses(meta, text) == {}
        return
    theirs, mine = swebench_statuses(meta, text), ours(meta, text)
    diff = {
        k: (theirs.get(k), mine.get(k)) for k in theirs.keys() | mine.keys() if theirs.get(k) != mine.get(k)
    }
    assert diff == expected.statuses


@pytest.mark.parametrize(("name", "meta", "log", "inst"), INSTANCES, ids=INSTANCE_IDS)
def test_buckets_and_resolution_agree_with_swebench(
    name: str, meta: dict[str, Any], log: str, inst: dict[str, Any]
) -> None:
    text = section_of(harness_log(meta, log))
    gold = {"FAIL_TO_PASS": inst["FAIL_TO_PASS"], "PASS_TO_PASS": inst["PASS_TO_PASS"]}
    report = sb_grading.get_eval_tests_report(swebench_statuses(meta, text), gold)
    theirs = sb_grading.get_resolution_status(report).removeprefix("RESOLVED_")
    mine_status = buckets(instance_of(inst), parse(meta["parser"], text))
    mine = resolution_of(mine_status)
    allowed = DISAGREEMENTS.get(name, NO_DISAGREEMENT).resolution.get(inst["instance_id"])
    if allowed:
        assert (theirs, mine) == allowed
    else:
        assert mine_status.model_dump(by_alias=True) == report
        assert mine == theirs == inst["resolution"]


@pytest.mark.parametrize(("name", "meta", "log", "inst"), INSTANCES, ids=INSTANCE_IDS)
def test_whole_pipeline_agrees_with_swebench(
    name: str, meta: dict[str, Any], log: str, inst: dict[str, Any], tmp_path: Path
) -> None:
    content = harness_log(meta, log)
    log_path = tmp_path / "test_output.txt"
    log_path.write_text(content)
    spec = sb_types.TestSpec(
        instance_id=inst["instance_id"],
        image="",
        eval_script_list=[],
        repo=inst["repo"],
        version="",
        FAIL_TO_PASS=inst["FAIL_TO_PASS"],
        PASS_TO_PASS=inst["PASS_TO_PASS"],
        log_parser=meta["swebench_parser"],
        eval_type="pass_and_fail",
    )
    prediction = {"instance_id": inst["instance_id"], "model_name_or_path": "m", "model_patch": "diff"}
    theirs = sb_grading.get_eval_report(spec, prediction, str(log_path), True)[inst["instance_id"]][
        "resolved"
    ]
    parsed = parse_output(meta["parser"], section_of(content))
    mine = grade(
        instance_of(inst),
        parsed.statuses,
        test_exit_code=sb_grading.parse_test_exit_code(content),
        output_seen=START in content and END in content,
        parse_problem=parsed.problem,
    ).resolved
    allowed = DISAGREEMENTS.get(name, NO_DISAGREEMENT).resolved.get(inst["instance_id"])
    assert (theirs, mine) == (allowed or (inst["resolved"], inst["resolved"]))


# --- real runs --------------------------------------------------------------------------------

REAL_TESTS = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture failed")

@pytest.mark.parametrize("v", ["a b", "c::d", "[e]", "x - y"])
def test_param(v):
    assert v != "c::d", "bad - value"

def test_ok():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed")
def test_xpass():
    pass

@pytest.mark.skip(reason="later")
def test_skip():
    pass

def test_error(broken):
    pass
"""


def run_pytest(tmp_path: Path, *args: str) -> str:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_real.py").write_text(REAL_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="80")
    cmd = [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", *args, "test_real.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "colour"])
def test_real_pytest_run_agrees_with_swebench(tmp_path: Path, colour: bool) -> None:
    out = run_pytest(tmp_path, "--color=yes" if colour else "--color=no", "--junitxml=report.xml")
    for name in ("pytest", "pytest_options", "pytest_v2"):
        meta = {"parser": name, "swebench_parser": f"parse_log_{name}"}
        theirs = swebench_statuses(meta, strip_ansi(out) if colour and name != "pytest_v2" else out)
        assert ours(meta, out) == theirs, name
    t = "test_real.py::"
    assert parse("pytest", out) == {
        t + "test_param[a": P,
        t + "test_param[c::d]": F,
        t + "test_param[[e]]": P,
        t + "test_param[x": P,
        t + "test_ok": P,
        t + "test_xfail": X,
        t + "test_error": E,
    }
    v2 = parse("pytest_v2", out)
    assert {k: v2[t + k] for k in ("test_param[a b]", "test_param[c::d]", "test_param[x - y]")} == {
        "test_param[a b]": P,
        "test_param[c::d]": F,
        "test_param[x - y]": P,
    }
    j = "test_real::"
    assert parse("junit_xml", (tmp_path / "report.xml").read_text()) == {
        j + "test_param[a b]": P,
        j + "test_param[c::d]": F,
        j + "test_param[[e]]": P,
        j + "test_param[x - y]": P,
        j + "test_ok": P,
        j + "test_xfail": X,
        j + "test_xpass": P,
        j + "test_skip": S,
        j + "test_error": E,
    }


REAL_NODE_TESTS = """
const test = require('node:test');
test('top', () => {});
test('fails', () => { throw new Error('boom'); });
test('skipped', { skip: true }, () => {});
test('todo failing', { todo: true }, () => { throw new Error('x'); });
test('suite', async (t) => {
  await t.test('child # one', () => {});
  await t.test('child two', () => { throw new Error('y'); });
});
"""


def test_real_node_test_run_parses(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = tmp_path / "real.test.js"
    script.write_text(REAL_NODE_TESTS)
    cmd = [node, "--test", "--test-reporter=tap", str(script)]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    if "bad option" in proc.stderr:  # node 18 before --test-reporter: TAP is the only reporter
        proc = subprocess.run(
            cmd[:2] + cmd[3:], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
    statuses = parse("node_tap", proc.stdout)
    statuses.pop(str(script), None)  # node 18 wraps each file in a subtest named by its path
    unwrapped = {k.removeprefix(f"{script} > "): v for k, v in statuses.items()}
    assert unwrapped == {
        "top": P,
        "fails": F,
        "skipped": S,
        "todo failing": X,
        "suite": F,
        "suite > child # one": P,
        "suite > child two": F,
    }
