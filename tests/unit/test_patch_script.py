"""The patch phase's script and the parsing of what it printed (the container side is in
tests/integration/test_patch_phase.py)."""

from __future__ import annotations

import io
import tarfile

from workers import patch_script
from workers.paths import CONTAINER

TEST_PATCH = "diff --git a/tests/test_x.py b/tests/test_x.py\n--- a/tests/test_x.py\n+++ b/tests/test_x.py\n"


def framed(marker: str, step: str, output: str, rc: int) -> str:
    return f"{marker} begin {step}\n{output}\n{marker} end {step} {rc}\n"


def test_each_script_has_its_own_marker_and_carries_both_patches_on_stdin() -> None:
    one = patch_script.build("/testbed", "CANDIDATE", TEST_PATCH, "abc123")
    two = patch_script.build("/testbed", "CANDIDATE", TEST_PATCH, "abc123")
    assert one.marker != two.marker and one.marker in one.text
    with tarfile.open(fileobj=io.BytesIO(one.stdin)) as archive:
        got = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    assert got == {
        CONTAINER.candidate_patch.lstrip("/"): b"CANDIDATE",
        CONTAINER.test_patch.lstrip("/"): TEST_PATCH.encode(),
    }
    assert "tests/test_x.py" in one.text and "git checkout -q abc123" in one.text


def test_no_test_patch_means_no_test_steps() -> None:
    script = patch_script.build("/testbed", "CANDIDATE", "", "abc123")
    assert "changed-tests" not in script.text and "test-patch" not in script.text


def test_parse_reads_steps_outcomes_and_trees() -> None:
    m = "@@evalfleet-0123"
    sha1, sha2 = "a" * 40, "b" * 40
    out = (
        framed(m, "snapshot-before", sha1, 0)
        + framed(m, "apply-0", "error: patch failed", 1)
        + framed(m, "reset-0", "", 0)
        + framed(m, "apply-1", "Checking patch x...\nApplied patch x cleanly.", 0)
        + framed(m, "snapshot-after", f"warning: CRLF\n{sha2}", 0)
        + framed(m, "diff-tree", "M\0src/a.py\0A\0conftest.py\0D\0old.py\0", 0)
        + framed(m, "changed-tests", " M tests/test_x.py\n?? tests/new_test.py", 0)
        + framed(m, "test-patch", "Applied patch tests/test_x.py cleanly.", 0)
        + f"{m} done\n"
    )
    ran = patch_script.parse(out, m)
    assert ran.complete and ran.method == "git apply --reject"
    assert ran.tree("snapshot-before") == sha1 and ran.tree("snapshot-after") == sha2
    assert ran.changed() == {"src/a.py": "changed", "conftest.py": "added", "old.py": "deleted"}
    assert ran.touched_tests() == ["tests/new_test.py", "tests/test_x.py"]
    log = ran.log_lines(patch_script.chain_steps())
    assert log[0] == "$ git apply --verbose /eval/candidate.diff  # exit=1"
    assert log[1] == "error: patch failed"
    assert log[2] == "$ git reset --hard -q HEAD && git clean -fdq  # exit=0"
    assert log[-1] == "Checking patch x...\nApplied patch x cleanly."


def test_markers_of_another_nonce_are_text() -> None:
    """A patch can print anything (file names, hunks), but not the nonce of the script that runs it."""
    m, forged = "@@evalfleet-real", "@@evalfleet-fake"
    out = framed(m, "snapshot-before", "c" * 40, 0) + framed(
        m, "apply-0", framed(forged, "apply-1", "", 0) + f"{forged} done", 1
    )
    ran = patch_script.parse(out, m)
    assert ran.method is None and not ran.complete
    assert ran.rc("apply-0") == 1 and ran.rc("apply-1") is None


def test_a_failed_snapshot_gives_no_tree_and_no_changes() -> None:
    m = "@@evalfleet-1"
    ran = patch_script.parse(framed(m, "snapshot-before", "fatal: not a git repository", 128), m)
    assert ran.tree("snapshot-before") is None and ran.changed() is None
    assert patch_script.parse(f"{m} unpack-failed\n", m).rc("setup") == 1
