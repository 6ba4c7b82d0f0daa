"""SWE-bench Pro rows -> instances (demo/swebench_pro/), and the parts of the isolated parser that need
no container."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.pro import IID, PASSING, TESTS, write_dataset

from orchestrator.datasets import load_instances
from orchestrator.errors import DatasetError
from workers.parsers.isolated import PRO_PARSER, PRO_STDERR_MARK, split_streams, statuses_of

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_row_becomes_an_instance_with_its_scripts(tmp_path: Path) -> None:
    path = write_dataset(tmp_path, COMMIT, image=None)
    (inst,) = load_instances(path, adapter="swebench_pro")
    assert inst.instance_id == IID and inst.base_commit == COMMIT
    assert inst.fail_to_pass == TESTS and inst.pass_to_pass == PASSING
    assert (
        inst.image == "jefzda/sweap-images:evalfleet.demo-calc-evalfleet__demo-calc-1"
    )  # the published naming
    assert inst.log_parser == PRO_PARSER and inst.extra["workdir"] == "/app"
    assert "def parse_test_output" in inst.extra["parser_py"]
    script = inst.eval_script or ""
    assert "export LANG=C.UTF-8" in script and "export PYTHONDONTWRITEBYTECODE=1" in script
    assert (
        f"git checkout -q {COMMIT} -- test_calc.py" in script and "git reset" not in script
    )  # last line only
    assert "bash /tmp/evalfleet-run_script.sh test_calc.py" in script
    assert "parser.py" not in script  # the parser never enters the sandbox


def test_missing_parser_is_a_one_line_error(tmp_path: Path) -> None:
    path = write_dataset(tmp_path, COMMIT, image="x:y")
    (tmp_path / "run_scripts" / IID / "parser.py").unlink()
    with pytest.raises(DatasetError) as err:
        load_instances(path, adapter="swebench_pro")
    assert "parser" in str(err.value) and "\n" not in str(err.value)


def test_bad_test_list_is_a_one_line_error(tmp_path: Path) -> None:
    path = write_dataset(tmp_path, COMMIT, image="x:y")
    row = json.loads(path.read_text())
    row["fail_to_pass"] = "['unterminated"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(DatasetError, match="fail_to_pass"):
        load_instances(path, adapter="swebench_pro")


def test_streams_split_at_the_last_separator() -> None:
    out = f"a\n{PRO_STDERR_MARK}\nfake\n{PRO_STDERR_MARK}\nreal stderr\n"
    assert split_streams(out) == (f"a\n{PRO_STDERR_MARK}\nfake", "real stderr\n")
    assert split_streams("no separator") == ("no separator", "")


def test_output_json_statuses() -> None:
    doc = json.dumps({"tests": [{"name": "a", "status": "PASSED"}, {"name": "b", "status": "failed"}]})
    assert statuses_of(doc) == {"a": "PASSED", "b": "FAILED"}
    with pytest.raises(Exception, match="not readable"):
        statuses_of('{"tests": [{"name": "a", "status": "MAYBE"}]}')
