"""The container filesystem layout, defined once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContainerPaths:
    """Where the harness puts its files inside a sandbox (outside the repository)."""

    eval_dir: str = "/eval"

    @property
    def candidate_patch(self) -> str:
        return f"{self.eval_dir}/candidate.diff"

    @property
    def test_patch(self) -> str:
        return f"{self.eval_dir}/test.diff"

    @property
    def eval_script(self) -> str:
        return f"{self.eval_dir}/eval.sh"


CONTAINER = ContainerPaths()


@dataclass(frozen=True)
class AttemptFiles:
    """Names of the log files of one attempt (relative to its attempt directory)."""

    test_output: str = "test_output.txt"
    run_log: str = "run.log"
    patch: str = "patch.diff"
    eval_script: str = "eval.sh"
    report: str = "report.json"
    worker_log: str = "worker.jsonl"  # the node's structured log lines while the attempt ran


FILES = AttemptFiles()
