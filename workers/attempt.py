"""One attempt at a work item, phase by phase; infrastructure faults raise, outcomes are returned."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from workers import patch_script
from workers.errors import EvalfleetError, SandboxError
from workers.integrity import flags as integrity_flags
from workers.integrity.detector import scan_patch
from workers.integrity.infra_paths import unsafe_paths
from workers.integrity.policy import IntegrityPolicy
from workers.integrity.restore import RestoreRequest, changed_paths, restore_infrastructure
from workers.integrity.structured import MAX_REPORT_BYTES, ReportPlan, StructuredEvidence
from workers.log_grading import grade_own_log
from workers.models import TestsStatus, Verdict, WorkItem
from workers.paths import FILES
from workers.sandbox.base import Sandbox, SandboxConfig, get_backend
from workers.sandbox.labels import item_labels
from workers.sandbox.pipeline import SandboxPipeline
from workers.spec import EnvSpec
from workers.testing import EvalScript, frame_output, make_eval_script

if TYPE_CHECKING:
    from workers.evaluate import EvalSettings

log = structlog.get_logger(__name__)


@dataclass
class AttemptOutcome:
    """The outcome of an attempt that reached a verdict."""

    verdict: Verdict
    reason: str
    patch_exists: bool = True
    patch_applied: bool = False
    patch_method: str | None = None
    tests_status: TestsStatus = field(default_factory=TestsStatus)
    test_exit_code: int | None = None
    image: str | None = None
    image_digest: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


@contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.monotonic()
    try:
        yield
    except EvalfleetError as exc:
        if not hasattr(exc, "phase"):
            exc.phase = name  # type: ignore[attr-defined]
        raise
    finally:
        phases[name] = round(time.monotonic() - t0, 4)


SANDBOX_GRACE_S = 600.0


def sandbox_ttl(spec: EnvSpec, test_timeout_s: float | None = None) -> float:
    """How long a sandbox of this spec may live before any janitor may remove it: its phases' limits
    and a grace period (a crash leaves nothing running longer)."""
    t = spec.timeouts
    return t.start + t.patch + max(t.test, test_timeout_s or 0) + SANDBOX_GRACE_S


def run_attempt(item: WorkItem, settings: EvalSettings, attempt_dir: Path, n: int = 1) -> AttemptOutcome:
    from workers.images import ensure_instance_image

    phases: dict[str, float] = {}
    run_log: list[str] = []
    spec = item.spec
    (attempt_dir / FILES.patch).write_text(item.candidate.patch or "", encoding="utf-8")
    with _phase(phases, "image"):
        image = ensure_instance_image(item.instance, spec, item.repo_source, settings.images)
    run_log.append(f"image {image.tag} ({image.digest})")
    config = SandboxConfig(
        image=image.tag,
        limits=item.limits,
        network=spec.test_network,
        workdir=spec.workdir,
        labels=item_labels(
            item.sweep_id,
            item.key,
            n,
            driver=settings.driver,
            ttl_s=sandbox_ttl(spec, settings.test_timeout_s),
        ),
    )
    pipeline = SandboxPipeline(settings.spare_sandboxes, settings.background_removal)
    with _phase(phases, "start"):
        sandbox, spare = pipeline.start(get_backend(settings.backend), config, timeout=spec.timeouts.start)
    run_log.append(f"sandbox {sandbox.id[:12]}{' (a spare, started ahead)' if spare else ''}")
    try:
        outcome = _in_sandbox(item, settings, pipeline, sandbox, attempt_dir, phases, run_log)
    finally:
        cleanup: dict[str, float] = {}
        with _phase(cleanup, "cleanup"):
            removed_here = pipeline.finish(sandbox, timeout=spec.timeouts.start)
        if removed_here:
            phases.update(cleanup)
        (attempt_dir / FILES.run_log).write_text("\n".join(run_log) + "\n", encoding="utf-8")
    outcome.image, outcome.image_digest, outcome.phases = image.tag, image.digest, phases
    return outcome


def _in_sandbox(
    item: WorkItem,
    settings: EvalSettings,
    pipeline: SandboxPipeline,
    sandbox: Sandbox,
    attempt_dir: Path,
    phases: dict[str, float],
    run_log: list[str],
) -> AttemptOutcome:
    script = make_eval_script(item.instance, item.spec, item.seed)
    (attempt_dir / FILES.eval_script).write_text(script.record(), encoding="utf-8")
    with _phase(phases, "patch"):
        prepared = _patch(item, sandbox, run_log)
    if isinstance(prepared, AttemptOutcome):
        return prepared
    with _phase(phases, "test"):
        pipeline.tests_started()
        outcome = _run_tests(item, settings, sandbox, script, attempt_dir)
    outcome.patch_applied, outcome.patch_method = True, prepared.method
    outcome.flags = prepared.flags + outcome.flags
    return outcome


@dataclass
class Prepared:
    """The tree is ready for the tests: how the candidate patch applied, and the integrity flags so far."""

    method: str | None
    flags: list[str]


def _patch(item: WorkItem, sandbox: Sandbox, run_log: list[str]) -> Prepared | AttemptOutcome:
    """Candidate patch, test files back to the base commit, test patch (``workers.patch_script``: one
    round trip), then the test infrastructure the candidate changed restored (docs/integrity.md)."""
    spec, inst, patch = item.spec, item.instance, item.candidate.patch or ""
    unsafe = unsafe_paths(patch)
    if unsafe:
        shown = ", ".join(unsafe[:3])
        return AttemptOutcome(
            verdict="patch_failed",
            flags=[integrity_flags.refused("unsafe path", shown)],
            reason=f"refused: the patch names paths inside .git or outside the repository ({shown})",
        )
    timeout = spec.timeouts.patch
    script = patch_script.build(spec.workdir, patch, inst.test_patch, inst.base_commit)
    res = sandbox.exec(["bash", "-c", script.text], timeout=timeout, workdir=spec.workdir, stdin=script.stdin)
    ran = patch_script.parse(res.text, script.marker)
    run_log.extend(ran.log_lines(script.chain))
    if res.sandbox_killed:
        raise SandboxError("the patch phase had to kill the sandbox")
    method = ran.method
    if res.timed_out:
        return AttemptOutcome(
            verdict="patch_failed" if method is None else "error",
            reason=f"the patch phase exceeded its {timeout:g} s limit",
            patch_applied=method is not None,
            patch_method=method,
        )
    if ran.rc("setup") is not None:
        raise SandboxError("the patch phase could not unpack the patches or enter the work directory")
    if not ran.complete:
        raise SandboxError(
            f"the patch phase did not run to its end (exit {res.returncode}): {res.text[-300:]}"
        )
    before = ran.tree("snapshot-before")
    if before is None:
        raise SandboxError(
            "cannot snapshot the work tree before the candidate patch (git add -A / write-tree)"
        )
    if method is None:
        return AttemptOutcome(verdict="patch_failed", reason="no step of the patch chain applied the patch")
    between = ran.changed()
    if between is None:
        log.warning("integrity.snapshot_failed", output=ran.out("snapshot-after")[-300:])
    touched = ran.touched_tests()
    flags = [f"candidate changed test file {p} (restored)" for p in touched]
    infra = restore_infrastructure(
        sandbox,
        RestoreRequest(spec.workdir, before, patch, inst.test_patch, spec.integrity, timeout),
        changed_paths(patch, between),
    )
    run_log.extend(f"integrity: {f}" for f in infra.flags)
    run_log.append(ran.out("test-patch") or ran.out("restore-tests"))
    restored_paths = set(infra.restored) | set(touched)
    flags += infra.flags + suspicious_flags(patch, spec.integrity, restored_paths, set(infra.kept))
    if not infra.ok or ran.rc("restore-tests") not in (0, None) or ran.rc("test-patch") not in (0, None):
        return AttemptOutcome(
            verdict="error",
            reason="the test patch did not apply after the candidate patch",
            patch_applied=True,
            patch_method=method,
            flags=flags,
        )
    return Prepared(method=method, flags=flags)


def suspicious_flags(patch: str, policy: IntegrityPolicy, restored: set[str], kept: set[str]) -> list[str]:
    """The static detector's flags, leaving out restored paths (their content never ran) and, for kept
    ones, the finding that they are test infrastructure (their ``allowed`` flag says so already)."""
    found = [
        f.flag
        for f in scan_patch(patch, policy)
        if f.path not in restored and not (f.path in kept and f.rule == "test-infrastructure")
    ]
    return list(dict.fromkeys(found))


def _read_report(sandbox: Sandbox, plan: ReportPlan) -> StructuredEvidence:
    """The structured report the runner wrote, read back from outside the repository."""
    try:
        data = sandbox.read_file(plan.path, MAX_REPORT_BYTES + 1)
    except (FileNotFoundError, IsADirectoryError):
        return StructuredEvidence(kind=plan.kind, text=None)
    text = data[:MAX_REPORT_BYTES].decode("utf-8", "replace")
    return StructuredEvidence(kind=plan.kind, text=text, truncated=len(data) > MAX_REPORT_BYTES)


def _run_tests(
    item: WorkItem, settings: EvalSettings, sandbox: Sandbox, script: EvalScript, attempt_dir: Path
) -> AttemptOutcome:
    spec, inst = item.spec, item.instance
    limit = settings.test_timeout_s or spec.timeouts.test
    res = sandbox.exec(["bash", "-c", script.text], timeout=limit, workdir=spec.workdir)
    exit_code = None if res.timed_out else res.returncode
    report = _read_report(sandbox, script.report) if script.report and exit_code is not None else None
    raw = frame_output(res.output.decode("utf-8", "replace"), script.nonce, exit_code, report)
    (attempt_dir / FILES.test_output).write_text(raw, encoding="utf-8")
    if res.disk_exceeded:
        return AttemptOutcome(
            verdict="unresolved",
            reason=f"disk limit: the sandbox wrote more than {item.limits.disk_mb} MiB; sandbox killed",
            test_exit_code=None,
        )
    if res.timed_out:
        return AttemptOutcome(
            verdict="timeout",
            reason=f"tests exceeded the {limit:g} s wall-clock limit; sandbox killed",
            test_exit_code=None,
        )
    graded = grade_own_log(inst, spec.parser, raw, script.nonce, exit_code)
    reason = graded.reason
    if res.oom_killed:
        reason = f"out of memory (limit {item.limits.memory_mb} MiB); {reason}"
    elif res.truncated:
        reason = f"{reason}; output cut to {item.limits.output_bytes} bytes of {res.output_bytes_total}"
    verdict: Verdict = "resolved" if graded.resolved else "unresolved"
    return AttemptOutcome(
        verdict=verdict,
        reason=reason,
        tests_status=graded.tests_status,
        test_exit_code=exit_code,
        flags=list(graded.flags),
    )
