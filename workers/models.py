"""The contract of one evaluation: what goes into ``evaluate`` and what comes out.

Field names follow SWE-bench where SWE-bench has one (aliases keep its upper-case keys).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from workers.integrity.flags import hardened
from workers.rollout.spec import GenerationSpec
from workers.spec import EnvSpec, RepoSource

SCHEMA_VERSION = 1

Verdict = Literal["resolved", "unresolved", "patch_failed", "empty_patch", "timeout", "error"]
VERDICTS: tuple[Verdict, ...] = ("resolved", "unresolved", "patch_failed", "empty_patch", "timeout", "error")


class Instance(BaseModel):
    """One benchmark task (a SWE-bench row, a polyglot exercise, a terminal task)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    instance_id: str = Field(description="Unique id, e.g. 'astropy__astropy-12907'.")
    repo: str = Field(description="Repository name, e.g. 'astropy/astropy'; selects the environment spec.")
    base_commit: str = Field(description="Commit the candidate patch applies to.")
    patch: str = Field(default="", description="Gold (reference) patch.")
    test_patch: str = Field(default="", description="Patch adding the tests that judge the candidate.")
    problem_statement: str = Field(default="", description="Issue text given to the model.")
    hints_text: str = Field(default="", description="Hints from the issue discussion.")
    created_at: str = Field(default="", description="Creation time of the task.")
    version: str = Field(default="", description="Repository version; selects the environment spec.")
    fail_to_pass: list[str] = Field(
        default_factory=list, alias="FAIL_TO_PASS", description="Tests that must go from failing to passing."
    )
    pass_to_pass: list[str] = Field(
        default_factory=list, alias="PASS_TO_PASS", description="Tests that must keep passing."
    )
    environment_setup_commit: str = Field(default="", description="Commit the environment is installed at.")
    image: str | None = Field(default=None, description="v5: prebuilt image that holds the environment.")
    eval_script: str | None = Field(default=None, description="v5: script that runs the tests in the image.")
    log_parser: str | None = Field(default=None, description="v5: name of the test-output parser.")
    eval_type: str | None = Field(default=None, description="v5: how the evaluation is run.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Columns not in the schema, kept as-is.")


class Candidate(BaseModel):
    """What is evaluated on an instance: a patch, with the run it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_id: str = Field(description="Instance the patch is for.")
    run: str = Field(description="Run name: SWE-bench's model_name_or_path.")
    patch: str | None = Field(description="Candidate patch (unified diff); None or empty means no patch.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Extra prediction keys: scaffold, seed, tokens, cost_usd, ..."
    )


class SandboxLimits(BaseModel):
    """Resource limits of one sandbox."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_mb: int = Field(default=2048, ge=64, description="Memory limit (MiB), swap included.")
    cpus: float = Field(default=1.0, gt=0, description="CPU quota in cores.")
    pids: int = Field(default=512, ge=16, description="Maximum number of processes and threads.")
    output_bytes: int = Field(
        default=16 * 1024 * 1024, ge=4096, description="Test output kept; the rest is cut (the tail is kept)."
    )
    disk_mb: int = Field(
        default=4096,
        ge=16,
        description="Disk a sandbox may use (MiB): each file (RLIMIT_FSIZE) and all it writes together "
        "(a storage quota where the engine has one, else watched while commands run).",
    )


class WorkItem(BaseModel):
    """(instance, candidate, repeat): one evaluation, identified by a content-hash key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="Content hash of everything that decides the outcome.")
    sweep_id: str = Field(description="Sweep this item belongs to.")
    instance: Instance
    candidate: Candidate
    repeat: int = Field(default=0, ge=0, description="Repeat index.")
    seed: int = Field(description="Per-item seed derived from the sweep seed.")
    spec: EnvSpec = Field(description="Environment spec the item runs in.")
    repo_source: RepoSource | None = Field(
        default=None, description="Where the repository comes from (None when the instance names an image)."
    )
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    rollout: GenerationSpec | None = Field(
        default=None,
        description="A rollout item: generate the patch with this agent first (docs/rollouts.md).",
    )


class TestBucket(BaseModel):
    success: list[str] = Field(default_factory=list)
    failure: list[str] = Field(default_factory=list)


class TestsStatus(BaseModel):
    """SWE-bench's four buckets."""

    model_config = ConfigDict(populate_by_name=True)

    fail_to_pass: TestBucket = Field(default_factory=TestBucket, alias="FAIL_TO_PASS")
    pass_to_pass: TestBucket = Field(default_factory=TestBucket, alias="PASS_TO_PASS")
    fail_to_fail: TestBucket = Field(default_factory=TestBucket, alias="FAIL_TO_FAIL")
    pass_to_fail: TestBucket = Field(default_factory=TestBucket, alias="PASS_TO_FAIL")


class ErrorInfo(BaseModel):
    """An error as data: its class, message, the phase it happened in, and whether a retry may help."""

    error_class: str
    message: str
    phase: str
    retryable: bool


class Attempt(BaseModel):
    """One execution of a work item. Only infrastructure failures cause another attempt."""

    n: int = Field(ge=1)
    started_at: float
    finished_at: float
    verdict: Verdict | None = Field(default=None, description="None when the attempt hit an infra error.")
    error: ErrorInfo | None = None
    phases: dict[str, float] = Field(default_factory=dict, description="Seconds spent per phase.")
    node: str = Field(default="", description="Host that ran the attempt.")
    driver: str = Field(default="", description="Run instance of the driver that asked for the attempt.")
    counted: bool = Field(
        default=True,
        description="False when it failed while the node's sandbox engine was unreachable and the engine "
        "came back: such an attempt does not use up the item's budget (workers/retry.py).",
    )


class Result(BaseModel):
    """evalfleet's result record of one work item: the commit record (result.json)."""

    schema_version: int = SCHEMA_VERSION
    key: str
    sweep_id: str
    instance_id: str
    repo: str = ""
    run: str
    repeat: int
    seed: int
    verdict: Verdict = Field(
        description="The official verdict: what the swebench package decides from the log."
    )
    reason: str = Field(default="", description="Why this verdict, in one line.")
    patch_exists: bool = False
    patch_applied: bool = False
    patch_method: str | None = Field(default=None, description="Which step of the patch chain applied it.")
    tests_status: TestsStatus = Field(default_factory=TestsStatus)
    test_exit_code: int | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    image: str | None = None
    image_digest: str | None = None
    harness_version: str = ""
    durations: dict[str, float] = Field(default_factory=dict, description="Seconds per phase (last attempt).")
    log_files: dict[str, str] = Field(default_factory=dict, description="Log name -> object key or path.")
    flags: list[str] = Field(default_factory=list, description="Integrity flags raised for this result.")
    candidate_metadata: dict[str, Any] = Field(default_factory=dict)

    @computed_field(  # type: ignore[prop-decorator]
        description="The verdict with integrity findings applied: 'unresolved' where a resolved result "
        "carries a suspicious: or evidence: flag (docs/integrity.md). Derived from verdict and flags."
    )
    @property
    def hardened_verdict(self) -> Verdict:
        return hardened(self.verdict, self.flags)  # type: ignore[return-value]

    @classmethod
    def of(cls, item: WorkItem, verdict: Verdict, **fields: Any) -> Result:
        """The record of ``item``'s evaluation: its identity from the item, the rest from ``fields``."""
        return cls(
            key=item.key,
            sweep_id=item.sweep_id,
            instance_id=item.instance.instance_id,
            repo=item.instance.repo,
            run=item.candidate.run,
            repeat=item.repeat,
            seed=item.seed,
            verdict=verdict,
            **fields,
        )

    @property
    def resolved(self) -> bool:
        return self.verdict == "resolved"

    @property
    def hardened_resolved(self) -> bool:
        return self.hardened_verdict == "resolved"
