"""SWE-bench Pro rows -> Instance (the public set: ScaleAI/SWE-bench_Pro, 731 instances).

A Pro row names the repository, base commit, gold ``patch``, ``fail_to_pass``/``pass_to_pass`` (Python
list literals in the published CSV/parquet), ``before_repo_set_cmd`` (its last line restores the test
files), ``selected_test_files_to_run``, and the Dockerfiles whose ``ENV`` lines the tests need. Each
instance also has a ``run_script.sh`` and a ``parser.py``: row columns ``run_script`` and ``parser``
when present, else ``run_scripts/<instance_id>/`` next to the dataset file (the layout of
github.com/scaleapi/SWE-bench_Pro-os). The image is the row's ``image``, else the published one,
``jefzda/sweap-images:{owner}.{name}-{instance id without 'instance_'}`` (``PRO_IMAGES``).

The eval script runs the run script in the sandbox, as the official harness does, and prints its
stdout, a separator line and its stderr. The row's parser never runs in the sandbox: grading runs it
in a fresh network-less container on that output (``workers/parsers/isolated.py``). A test counts
as passing only when the parser says PASSED, as in the official ``swe_bench_pro_eval.py``.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

from orchestrator.datasets.fields import COMMIT, REPO, Fields, as_object
from orchestrator.datasets.locations import Entry
from orchestrator.datasets.source import DatasetSource
from orchestrator.datasets.swebench import read_rows
from orchestrator.errors import DatasetError
from workers.models import Instance
from workers.parsers.isolated import PRO_PARSER, PRO_STDERR_MARK

PRO_IMAGES = "jefzda/sweap-images"
WORKDIR = "/app"
_FIX = "each row is a SWE-bench Pro row (instance_id, repo, base_commit, fail_to_pass, ...)"


class SweBenchProAdapter:
    """Loads SWE-bench Pro rows (.json, .jsonl, .parquet or Hugging Face) with their scripts."""

    name = "swebench_pro"

    def load(self, source: DatasetSource) -> list[Instance]:
        scripts = source.path.parent / "run_scripts" if source.path is not None else None
        return [row_to_instance(entry, scripts) for entry in read_rows(source)]


def test_names(fields: Fields, *names: str) -> list[str]:
    """A test list under the first of ``names`` present: a list, or its Python/JSON literal."""
    for name in names:
        value = fields.row.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise fields.fail(name, "is not a list literal", "write e.g. ['test_a', 'test_b']") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fields.fail(name, "is not a list of test names", "write e.g. ['test_a', 'test_b']")
        return list(value)
    return []


def script(fields: Fields, column: str, scripts: Path | None, iid: str, filename: str) -> str:
    text = fields.text(column)
    if text:
        return text
    path = scripts / iid / filename if scripts is not None else None
    if path is None or not path.is_file():
        where = f" or {path}" if path is not None else ""
        raise fields.fail(
            column, f"missing (no column{where})", f"add the column or run_scripts/{iid}/{filename}"
        )
    return path.read_text(encoding="utf-8")


def env_exports(*dockerfiles: str) -> list[str]:
    """The official entry script turns every ``ENV`` line of the Dockerfiles into ``export``."""
    return [
        "export " + line.strip()[len("ENV") :].strip()
        for text in dockerfiles
        for line in text.splitlines()
        if line.strip().startswith("ENV ")
    ]


def eval_script(fields: Fields, run_script: str, base_commit: str) -> str:
    before = fields.text("before_repo_set_cmd").strip().split("\n")[-1]
    selected = ",".join(test_names(fields, "selected_test_files_to_run"))
    exports = env_exports(fields.text("base_dockerfile"), fields.text("instance_dockerfile"))
    return "\n".join(
        [
            *exports,
            f"cd {WORKDIR}",
            before,
            "cat > /tmp/evalfleet-run_script.sh <<'EVALFLEET_PRO_RUN_SCRIPT'",
            run_script.rstrip("\n"),
            "EVALFLEET_PRO_RUN_SCRIPT",
            f"bash /tmp/evalfleet-run_script.sh {shlex.quote(selected)} >/tmp/evalfleet-stdout.log "
            "2>/tmp/evalfleet-stderr.log",
            "r=$?",
            f"cat /tmp/evalfleet-stdout.log; printf '\\n%s\\n' {shlex.quote(PRO_STDERR_MARK)}; "
            "cat /tmp/evalfleet-stderr.log",
            "exit $r",
            f"# base commit {base_commit}: the candidate patch was applied to it before this script",
        ]
    )


def row_to_instance(entry: Entry, scripts: Path | None) -> Instance:
    row = as_object(entry, DatasetError, "the row", _FIX)
    fields = Fields(row, entry.where, DatasetError)
    iid = fields.identifier("instance_id")
    repo = fields.pattern("repo", REPO, "of the form owner/name", "e.g. NodeBB/NodeBB")
    base_commit = fields.pattern("base_commit", COMMIT, "a commit hash", "the commit patches apply to")
    run_script = script(fields, "run_script", scripts, iid, "run_script.sh")
    owner, name = repo.lower().split("/")
    image = fields.text("image") or f"{PRO_IMAGES}:{owner}.{name}-{iid.removeprefix('instance_')}"
    return Instance(
        instance_id=iid,
        repo=repo,
        base_commit=base_commit,
        patch=fields.text("patch"),
        test_patch="",  # the row's before_repo_set_cmd restores the tests (its test_patch is kept in extra)
        problem_statement=fields.text("problem_statement"),
        fail_to_pass=test_names(fields, "fail_to_pass", "FAIL_TO_PASS"),
        pass_to_pass=test_names(fields, "pass_to_pass", "PASS_TO_PASS"),
        image=image,
        eval_script=eval_script(fields, run_script, base_commit),
        log_parser=PRO_PARSER,
        extra={
            "parser_py": script(fields, "parser", scripts, iid, "parser.py"),
            "workdir": WORKDIR,
            "repo_language": fields.text("repo_language"),
            "test_patch": fields.text("test_patch"),
        },
    )
