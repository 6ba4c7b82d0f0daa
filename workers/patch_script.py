"""The patch phase in one sandbox round trip: patches in on stdin, every step as one bash script.

Each Docker round trip (an exec, an archive write) costs ~0.08 s on an idle machine and several times
that when eight sandboxes work at once (BENCHMARKS.md), whatever the command does. So the patches
travel as a tar on the script's stdin, and one script runs what used to be nine calls: snapshot of the
work tree, the chain of ``workers.patching.CHAIN`` (reset between tries), a second snapshot and the
paths that changed between them, the test files the candidate touched, restoring those to the base
commit, and the test patch. Python decides the rest (``attempt._patch``): which changed paths are test
infrastructure to restore (one more exec, only when there is one) and the verdict.

Every step's output is framed by ``<marker> begin NAME`` / ``<marker> end NAME EXIT`` lines whose marker
carries a random nonce, so nothing a patch prints (file names, hunks) can pass for a step's end. Log
output of a step is cut at ``LOG_CAP`` bytes; the outputs Python parses (tree ids, paths) are not.
"""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass, field

from workers.patching import CHAIN, RESET, patch_paths, restore_command
from workers.paths import CONTAINER
from workers.sandbox.files import tar_files

LOG_CAP = 64 * 1024
# A git tree of the work tree as it is (tracked and untracked files, .gitignore honoured), through a
# temporary index so the repository's own index is left alone.
SNAPSHOT = (
    'tmp=$(mktemp /tmp/evalfleet-index.XXXXXX) && cp .git/index "$tmp" && '
    'GIT_INDEX_FILE="$tmp" git add -A && GIT_INDEX_FILE="$tmp" git write-tree; rc=$?; rm -f "$tmp"; exit $rc'
)
_SHA = re.compile(r"^[0-9a-f]{40,64}$", re.MULTILINE)
_VERBS = {"A": "added", "D": "deleted"}


@dataclass(frozen=True)
class Step:
    """One command of the script: ``id`` frames its output, ``command`` is what run.log shows."""

    id: str
    command: str
    cap: int = LOG_CAP  # 0: the whole output (parsed by Python, never shown)


@dataclass
class StepResult:
    returncode: int
    output: str


@dataclass
class PatchRun:
    """What the script did, parsed: one entry per step that ran, in order."""

    steps: dict[str, StepResult] = field(default_factory=dict)
    complete: bool = False  # the script reached its end marker

    def rc(self, step_id: str) -> int | None:
        found = self.steps.get(step_id)
        return found.returncode if found else None

    def out(self, step_id: str) -> str:
        found = self.steps.get(step_id)
        return found.output if found else ""

    @property
    def method(self) -> str | None:
        """The chain step that applied the candidate patch, or None."""
        for i, (name, _template) in enumerate(CHAIN):
            if self.rc(f"apply-{i}") == 0:
                return name
        return None

    def tree(self, step_id: str) -> str | None:
        found = _SHA.findall(self.out(step_id)) if self.rc(step_id) == 0 else []
        return str(found[-1]) if found else None

    def changed(self) -> dict[str, str] | None:
        """Paths that differ between the two snapshots -> added / changed / deleted; None without both."""
        if self.rc("diff-tree") != 0:
            return None
        fields = self.out("diff-tree").split("\0")
        return {
            path: _VERBS.get(code[:1], "changed")
            for code, path in zip(fields[0::2], fields[1::2], strict=False)
            if path
        }

    def touched_tests(self) -> list[str]:
        """Test files (of the test patch) the candidate changed, from ``git status --porcelain``."""
        lines = self.out("changed-tests").splitlines()
        return sorted({ln[3:].strip() for ln in lines if len(ln) > 3})

    def log_lines(self, chain: list[Step]) -> list[str]:
        """The chain's commands and outputs as run.log has always shown them (``$ cmd  # exit=N``)."""
        lines: list[str] = []
        for step in chain:
            if step.id in self.steps:
                res = self.steps[step.id]
                lines.append(f"$ {step.command}  # exit={res.returncode}")
                if res.output.strip():
                    lines.append(res.output.rstrip())
        return lines


@dataclass(frozen=True)
class PatchScript:
    """The script, its stdin and the steps whose output is the patch chain's log."""

    text: str
    stdin: bytes
    chain: list[Step]
    marker: str


def chain_steps() -> list[Step]:
    steps: list[Step] = []
    for i, (_name, template) in enumerate(CHAIN):
        steps.append(Step(f"apply-{i}", template.format(p=shlex.quote(CONTAINER.candidate_patch))))
        steps.append(Step(f"reset-{i}", RESET))
    return steps


def build(workdir: str, candidate_patch: str, test_patch: str, base_commit: str) -> PatchScript:
    marker = f"@@evalfleet-{secrets.token_hex(12)}"
    chain = chain_steps()
    test_paths = patch_paths(test_patch)
    quoted_tests = " ".join(shlex.quote(p) for p in test_paths)
    lines = [
        f"M={marker}",
        "O=$(mktemp /tmp/evalfleet-step.XXXXXX) || exit 97",
        "trap 'rm -f \"$O\"' EXIT",
        # run ID CAP CMD: CMD's output (cut at CAP bytes unless CAP is 0) framed by begin/end lines
        'run() { printf \'%s begin %s\\n\' "$M" "$1"; (eval "$3") >"$O" 2>&1 </dev/null; r=$?; '
        'if [ "$2" = 0 ]; then cat "$O"; else head -c "$2" "$O"; fi; '
        'printf \'\\n%s end %s %s\\n\' "$M" "$1" "$r"; return $r; }',
        f"mkdir -p {shlex.quote(CONTAINER.eval_dir)} && tar -x -C / -f - "
        f"|| {{ printf '%s unpack-failed\\n' \"$M\"; exit 0; }}",
        f"cd {shlex.quote(workdir)} || {{ printf '%s no-workdir\\n' \"$M\"; exit 0; }}",
        f"run snapshot-before 0 {shlex.quote(SNAPSHOT)} || exit 0",
        'before=$(grep -E "^[0-9a-f]{40,64}$" "$O" | tail -n1)',
        "ok=",
    ]
    for i in range(len(CHAIN)):
        apply, reset = chain[2 * i], chain[2 * i + 1]
        lines.append(
            f'[ -n "$ok" ] || {{ run {apply.id} {apply.cap} {shlex.quote(apply.command)} && ok=1 '
            f"|| run {reset.id} {reset.cap} {shlex.quote(reset.command)}; }}"
        )
    lines += [
        '[ -n "$ok" ] || { printf \'%s done\\n\' "$M"; exit 0; }',
        f"run snapshot-after 0 {shlex.quote(SNAPSHOT)} "
        '&& after=$(grep -E "^[0-9a-f]{40,64}$" "$O" | tail -n1) '
        '&& run diff-tree 0 "git diff-tree -r -z --name-status --no-renames $before $after"',
    ]
    if test_paths:
        status = f"git status --porcelain --untracked-files=all -- {quoted_tests}"
        lines.append(f"run changed-tests 0 {shlex.quote(status)}")
        restore = restore_command(base_commit, test_paths)
        lines.append(
            f"run restore-tests {LOG_CAP} {shlex.quote(restore)} || {{ printf '%s done\\n' \"$M\"; exit 0; }}"
        )
    if test_patch.strip():
        apply_tests = f"git apply --verbose {shlex.quote(CONTAINER.test_patch)}"
        lines.append(f"run test-patch {LOG_CAP} {shlex.quote(apply_tests)}")
    lines.append("printf '%s done\\n' \"$M\"")
    stdin = tar_files(
        {
            CONTAINER.candidate_patch: candidate_patch.encode("utf-8"),
            CONTAINER.test_patch: test_patch.encode("utf-8"),
        }
    )
    return PatchScript(text="\n".join(lines) + "\n", stdin=stdin, chain=chain, marker=marker)


def parse(output: str, marker: str) -> PatchRun:
    """The steps the script reports, keyed by id; ``complete`` once its ``done`` line is there."""
    m = re.escape(marker)
    run = PatchRun()
    pattern = re.compile(rf"{m} begin (\S+)\n(.*?)\n{m} end \1 (\d+)\n", re.DOTALL)
    for found in pattern.finditer(output):
        run.steps[found.group(1)] = StepResult(returncode=int(found.group(3)), output=found.group(2))
    run.complete = re.search(rf"^{m} done$", output, re.MULTILINE) is not None
    if re.search(rf"^{m} (unpack-failed|no-workdir)$", output, re.MULTILINE):
        run.steps["setup"] = StepResult(returncode=1, output=output[-500:])
    return run
