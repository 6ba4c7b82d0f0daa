"""Exceptions of the control plane: bad user input (one line, exit code 2) and sweeps that could not
finish (one line per cause, exit code 3)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from workers.errors import EvalfleetError, UserInputError


class ConfigError(UserInputError):
    """A sweep config (YAML file or ``--set`` override) is invalid."""


class DatasetError(UserInputError):
    """A dataset file, or one of its rows, is invalid."""


class PredictionsError(UserInputError):
    """A predictions file, or one of its predictions, is invalid."""


class SweepFailure(EvalfleetError):
    """The sweep could not finish for a reason outside the user's input (an engine, the store, the Ray
    cluster): shown as one line per cause with what to do, exit code 3; committed results are kept."""

    exit_code = 3

    def __init__(self, problem: str, *, fix: str | None = None) -> None:
        self.problem, self.fix = problem, fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = " ".join(self.problem.split()).rstrip(".")
        return f"{text} -- {self.fix.rstrip('.')}" if self.fix else text

    def lines(self) -> list[str]:
        return [self.one_line()]


class InfraUnavailable(SweepFailure):
    """No node can run sandboxes: nothing was evaluated."""


class SweepIncomplete(SweepFailure):
    """Items ended without a verdict (infrastructure failures): recorded, not committed, evaluated again
    by the next run of the sweep."""

    def __init__(self, sweep_id: str, failed: Sequence[Any]) -> None:
        self.sweep_id = sweep_id
        self.causes = Counter(_cause(s.instance_id, s.reason) for s in failed)
        super().__init__(
            f"{len(failed)} item(s) of sweep {sweep_id} have no verdict: infrastructure failures "
            f"({len(self.causes)} cause(s) below), recorded with their logs, not counted as verdicts",
            fix=f"fix the cause, then resume: evalfleet run CONFIG --resume {sweep_id} "
            "(or run the same command again)",
        )

    def lines(self) -> list[str]:
        return [self.one_line()] + [f"  {n} x {cause}" for cause, n in self.causes.most_common()]


def _cause(instance_id: str, reason: str) -> str:
    """A failure's reason without what differs per item (its instance id, container ids, item keys), so
    items failing alike share one line."""
    text = " ".join(reason.split()).replace(f"{instance_id}: ", "").replace(instance_id, "<instance>")
    return re.sub(r"\b[0-9a-f]{12,64}\b", "…", text)[:200]


def describe_failure(exc: BaseException) -> str:
    """One line for an unexpected exception that stopped a command: what failed, in a user's words."""
    from workers.sandbox.deadline import one_line

    chain, seen = [], set()
    at: BaseException | None = exc
    while at is not None and id(at) not in seen:
        seen.add(id(at))
        chain.append(type(at).__module__)
        at = at.__cause__ or at.__context__
    module = next((m for m in chain if not m.startswith(("workers", "orchestrator", "tenacity"))), chain[0])
    if module.startswith(("botocore", "boto3", "s3transfer")):
        return f"the object store cannot be reached or refused the request: {one_line(exc, 200)}"
    if module.startswith("ray"):
        return f"the Ray cluster was lost or refused the work: {one_line(exc, 200)}"
    if module.startswith(("docker", "requests", "urllib3")):
        return f"the Docker engine cannot be reached: {one_line(exc, 200)}"
    return f"{type(exc).__name__}: {one_line(exc, 200)}"
