"""`evalfleet regrade`: grade stored logs again, without containers.

``regrade SWEEP`` re-reads every committed attempt's test_output.txt (with the nonce from its eval.sh)
and reports what a re-grade changes; committed results are never rewritten. ``regrade --dataset D
--logs DIR`` grades logs laid out as ``DIR/<instance_id>/test_output.txt`` (the layout of logs published
for official SWE-bench runs) and writes ``report.json`` beside each, plus ``DIR/summary.json`` (official
verdicts, and the results the hardened verdict flags). Grading needs only the parser and the test lists:
any version of a repository with a spec can be graded, buildable here or not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator.commands.common import open_sweep
from orchestrator.commit import load_results
from orchestrator.config import SweepConfig
from orchestrator.console import make_console
from orchestrator.errors import ConfigError
from orchestrator.plan import resolve_spec
from orchestrator.store import SweepPaths
from workers.grading import swebench_report
from workers.log_grading import grade_official_log, grade_own_log, nonce_of
from workers.models import Instance, Result
from workers.spec import SpecCatalog

console = make_console()


def regrade_command(
    sweep: str | None, *, dataset: str | None, logs: Path | None, specs: Sequence[str], store: str | None
) -> None:
    if sweep and (dataset or logs):
        raise ConfigError("give SWEEP or --dataset with --logs, not both", source="evalfleet regrade")
    if sweep:
        regrade_sweep(sweep, store)
    elif dataset and logs:
        regrade_external(dataset, logs, list(specs))
    else:
        raise ConfigError(
            "nothing to re-grade",
            source="evalfleet regrade",
            fix="give a SWEEP id, or --dataset D --logs DIR",
        )


def regrade_sweep(sweep_id: str, store_url: str | None) -> dict[str, Any]:
    from orchestrator.sweep import load_dataset

    store, manifest = open_sweep(sweep_id, store_url)
    config = SweepConfig.model_validate(manifest["config"])
    dataset, _chosen = load_dataset(config)
    by_id = {i.instance_id: i for i in dataset}
    catalog = SpecCatalog.with_builtin(config.specs)
    changes: list[dict[str, Any]] = []
    regraded = 0
    for result in load_results(store, sweep_id):
        new = _regrade_one(store, result, by_id.get(result.instance_id), catalog, config.specs)
        if new is None:
            continue
        regraded += 1
        if new != result.verdict:
            changes.append(
                {
                    "key": result.key,
                    "instance_id": result.instance_id,
                    "run": result.run,
                    "was": result.verdict,
                    "now": new,
                }
            )
    summary = {"sweep_id": sweep_id, "regraded": regraded, "changed": changes}
    key = SweepPaths(sweep_id).report("regrade.json")
    store.put(key, json.dumps(summary, indent=2).encode("utf-8"))
    console.print(f"re-graded {regraded} results of {sweep_id}: {len(changes)} verdicts change")
    for c in changes:
        console.print(f"  {c['run']} {c['instance_id']}: {c['was']} -> {c['now']}")
    console.print(f"wrote {store.url}/{key}")
    return summary


def _regrade_one(
    store: Any, result: Result, instance: Instance | None, catalog: SpecCatalog, spec_dirs: list[str]
) -> str | None:
    """The verdict a re-grade gives; None where tests never ran (nothing to re-grade)."""
    if instance is None or result.verdict not in ("resolved", "unresolved") or not result.attempts:
        return None
    n = result.attempts[-1].n
    output = store.get(result.log_files.get(f"attempt-{n}/test_output.txt", ""))
    script = store.get(result.log_files.get(f"attempt-{n}/eval.sh", ""))
    nonce = nonce_of(script.decode("utf-8", "replace")) if script else None
    if output is None or nonce is None:
        return None
    spec = resolve_spec(instance, catalog, spec_dirs)
    graded = grade_own_log(
        instance, spec.parser, output.decode("utf-8", "replace"), nonce, result.test_exit_code
    )
    return "resolved" if graded.resolved else "unresolved"


def regrade_external(dataset: str, logs: Path, spec_dirs: list[str]) -> dict[str, Any]:
    from orchestrator.datasets import load_instances

    if not logs.is_dir():
        raise ConfigError(
            "not a directory", source=str(logs), fix="give the folder holding <instance_id>/ folders"
        )
    instances = {i.instance_id: i for i in load_instances(dataset)}
    catalog = SpecCatalog.with_builtin(spec_dirs)
    resolved: list[str] = []
    unresolved: list[str] = []
    missing: list[str] = []
    flagged: dict[str, list[str]] = {}  # resolved officially, unresolved under the hardened verdict
    for iid in sorted(instances):
        log_file = logs / iid / "test_output.txt"
        if not log_file.is_file():
            missing.append(iid)
            continue
        inst = instances[iid]
        parser = inst.log_parser or resolve_spec(inst, catalog, spec_dirs).parser
        official = grade_official_log(inst, parser, log_file.read_text(encoding="utf-8", errors="replace"))
        report = swebench_report(
            iid,
            patch_exists=True,
            patch_applied=official.patch_applied,
            resolved=official.grade.resolved,
            tests_status=official.grade.tests_status,
        )
        (logs / iid / "report.json").write_text(json.dumps(report, indent=4), encoding="utf-8")
        (resolved if official.grade.resolved else unresolved).append(iid)
        if official.grade.resolved and not official.grade.hardened:
            flagged[iid] = official.grade.flags
    summary = {
        "graded_instances": len(resolved) + len(unresolved),
        "resolved_instances": len(resolved),
        "unresolved_instances": len(unresolved),
        "hardened_resolved_instances": len(resolved) - len(flagged),
        "resolved_ids": resolved,
        "unresolved_ids": unresolved,
        "missing_ids": missing,
        "flagged": flagged,
    }
    (logs / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    console.print(
        f"graded {summary['graded_instances']} logs: {len(resolved)} resolved, {len(unresolved)} unresolved "
        f"({len(missing)} instances without a log); hardened: {len(resolved) - len(flagged)} resolved, "
        f"{len(flagged)} flagged -> {logs / 'summary.json'}"
    )
    return summary
