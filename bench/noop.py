"""A no-op evaluator: the control plane's share of an evaluation, with no container work.

It has ``workers.evaluate.evaluate_attempt``'s signature, so the scheduler runs it in place of the real one
(``evaluator="bench.noop:evaluate"``): the attempt marker and the commit record are written as for a
real item; image, sandbox, patch and test phases are skipped, and so are the attempt's log files.
``bench.noop:evaluate_with_logs`` also leaves the five small log files a real attempt leaves, to show
what uploading them costs.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from workers import HARNESS_VERSION
from workers.evaluate import EvalSettings
from workers.models import Attempt, Result, WorkItem
from workers.paths import FILES


def evaluate(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    """A resolved Result for ``item``, without log files."""
    return _noop(item, outdir, attempt, logs=False)


def evaluate_with_logs(item: WorkItem, settings: EvalSettings, outdir: Path, *, attempt: int = 1) -> Result:
    """A resolved Result for ``item``, with the five log files of one attempt in ``outdir``."""
    return _noop(item, outdir, attempt, logs=True)


def _noop(item: WorkItem, outdir: Path, n: int, *, logs: bool) -> Result:
    t0 = time.time()
    iid = item.instance.instance_id
    files = _log_files(item) if logs else {}
    if files:
        attempt_dir = outdir / f"attempt-{n}"
        attempt_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (attempt_dir / name).write_text(text, encoding="utf-8")
    attempt = Attempt(
        n=n, started_at=t0, finished_at=time.time(), verdict="resolved", node=socket.gethostname()
    )
    return Result(
        key=item.key,
        sweep_id=item.sweep_id,
        instance_id=iid,
        repo=item.instance.repo,
        run=item.candidate.run,
        repeat=item.repeat,
        seed=item.seed,
        verdict="resolved",
        reason="no-op evaluator",
        patch_exists=True,
        patch_applied=True,
        attempts=[attempt],
        harness_version=HARNESS_VERSION,
        log_files={name: f"attempt-{n}/{name}" for name in files},
        candidate_metadata=item.candidate.metadata,
    )


def _log_files(item: WorkItem) -> dict[str, str]:
    iid = item.instance.instance_id
    return {
        FILES.patch: item.candidate.patch or "",
        FILES.eval_script: f"#!/bin/bash\n# no-op evaluation of {iid}\n",
        FILES.test_output: f"no-op: {iid} repeat {item.repeat} seed {item.seed}\n",
        FILES.run_log: "image none (no-op evaluator)\n",
        FILES.report: json.dumps({iid: {"patch_exists": True, "resolved": True}}),
    }
