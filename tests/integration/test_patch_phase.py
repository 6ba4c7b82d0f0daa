"""The patch phase (one round trip, ``workers.patch_script``) in a real container: the whole chain runs,
the tree is reset between tries, and the outcome and run.log say which step applied the patch."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.demo import RETRY, demo_items, settings, with_patch

from workers.evaluate import evaluate
from workers.models import WorkItem
from workers.paths import FILES

pytestmark = pytest.mark.docker

NEW_FILE = (
    "diff --git a/calc/notes.txt b/calc/notes.txt\nnew file mode 100644\n"
    "--- /dev/null\n+++ b/calc/notes.txt\n@@ -0,0 +1 @@\n+notes\n"
)


@pytest.fixture(scope="module")
def gold() -> Iterator[WorkItem]:
    sweep_id = f"pytest-patch-{uuid.uuid4().hex[:8]}"
    yield next(
        it for it in demo_items(sweep_id=sweep_id, run="gold") if it.instance.instance_id == "demo__calc-1"
    )


def fuzzy(patch: str) -> str:
    """The patch with no blob ids (so ``--3way`` has nothing to merge from) and one context line that
    the file does not have: ``git apply`` refuses it, ``patch --fuzz`` takes it."""
    no_index = re.sub(r"^index .*\n", "", patch, flags=re.MULTILINE)
    changed = no_index.replace('"""Divide a by b."""', '"""Divide a by b, please."""', 1)
    assert changed != no_index
    return changed


def run_log(outdir: Path) -> str:
    return (outdir / "attempt-1" / FILES.run_log).read_text(encoding="utf-8")


def test_a_fuzzy_patch_applies_at_the_last_step_of_the_chain(
    gold: WorkItem, base_image: str, tmp_path: Path, docker_client: Any
) -> None:
    item = with_patch(gold, fuzzy(gold.candidate.patch or ""), run="fuzzy")
    result = evaluate(item, settings(retry=RETRY), tmp_path)
    assert (result.verdict, result.patch_method) == ("resolved", "patch --fuzz=5"), result.reason
    log = run_log(tmp_path)
    tried = re.findall(
        r"^\$ (git apply --verbose(?: --\w+)?|patch --batch) .*# exit=(\d+)$", log, re.MULTILINE
    )
    assert tried == [
        ("git apply --verbose", "1"),
        ("git apply --verbose --reject", "1"),
        ("git apply --verbose --3way", "1"),
        ("patch --batch", "0"),
    ], log
    assert log.count("$ git reset --hard -q HEAD && git clean -fdq  # exit=0") == 3
    assert "with fuzz" in log
    assert result.flags == []


def test_the_tree_is_reset_between_tries(gold: WorkItem, base_image: str, tmp_path: Path) -> None:
    """``--reject`` creates calc/notes.txt and leaves a .rej for the fuzzy hunk; without the reset that
    follows, ``patch`` would find the new file there already and give up."""
    item = with_patch(gold, NEW_FILE + fuzzy(gold.candidate.patch or ""), run="reject-then-fuzz")
    result = evaluate(item, settings(retry=RETRY), tmp_path)
    assert (result.verdict, result.patch_method) == ("resolved", "patch --fuzz=5"), result.reason
    log = run_log(tmp_path)
    assert "Applied patch calc/notes.txt cleanly." in log  # the --reject step's partial work
    assert "Rejected hunk" in log


def test_a_patch_that_applies_nowhere_fails_after_the_whole_chain(gold: WorkItem, tmp_path: Path) -> None:
    garbage = (gold.candidate.patch or "").replace("-    return a // b", "-    return a %% b")
    garbage = re.sub(r"^index .*\n", "", garbage, flags=re.MULTILINE)
    result = evaluate(with_patch(gold, garbage, run="garbage"), settings(retry=RETRY), tmp_path)
    assert (result.verdict, result.patch_applied, result.patch_method) == ("patch_failed", False, None)
    assert run_log(tmp_path).count("# exit=") == 8  # four tries, four resets
