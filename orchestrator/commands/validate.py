"""`evalfleet validate`: evaluate gold (and baseline) patches N times; find instances and tests that vary.

The target is a sweep config (its dataset, repos, specs and execution are kept; its runs are replaced)
or a dataset, with ``--repo`` and ``--specs`` as for ``evalfleet eval``. The validation is an ordinary
sweep (resumable, results in the store); flaky.json goes to its reports/ and the exclusion list to a
local file that a sweep's ``dataset.exclude_file`` can name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from orchestrator.config import SweepConfig, apply_override, load_config, validate_config
from orchestrator.errors import ConfigError
from orchestrator.report.flakiness import GOLD_RUN, FlakinessReport, analyse, exclusion_text

console = Console(highlight=False, soft_wrap=True, markup=False)
BASELINE_RUN = "baseline"
# An empty patch is never tested (verdict empty_patch), so the baseline adds one inert file instead:
# the tests then run on the unchanged code with the test patch applied.
BASELINE_FILE = ".evalfleet-baseline"
BASELINE_PATCH = (
    f"diff --git a/{BASELINE_FILE} b/{BASELINE_FILE}\nnew file mode 100644\n--- /dev/null\n+++ b/{BASELINE_FILE}\n"
    "@@ -0,0 +1 @@\n+evalfleet validate baseline: the code is unchanged\n"
)


@dataclass(frozen=True)
class ValidateOptions:
    """What `evalfleet validate` was asked for."""

    repeats: int = 5
    gold: bool = True
    baseline: bool = False
    repos: Sequence[str] = ()
    specs: Sequence[str] = ()
    split: str = "test"
    store: str | None = None
    overrides: Sequence[str] = ()
    exclude_out: Path = Path("flaky-exclude.txt")


def validate_command(target: str, options: ValidateOptions) -> FlakinessReport:
    from orchestrator.commit import load_results
    from orchestrator.execute import execute_sweep, store_for
    from orchestrator.store import SweepPaths
    from orchestrator.sweep import plan_sweep

    config = validation_config(target, options)
    plan = plan_sweep(config)
    execute_sweep(config, plan, resume=False)
    store = store_for(config)
    report = analyse(load_results(store, plan.sweep_id), plan.sweep_id)
    key = SweepPaths(plan.sweep_id).report("flaky.json")
    store.put(key, json.dumps(report.to_dict(), indent=2).encode("utf-8"))
    options.exclude_out.parent.mkdir(parents=True, exist_ok=True)
    options.exclude_out.write_text(exclusion_text(report), encoding="utf-8")
    print_flakiness(report)
    console.print(f"wrote {store.url}/{key}")
    console.print(f"exclusion list ({len(report.flaky_ids)} instances): {options.exclude_out}")
    return report


def validation_config(target: str, options: ValidateOptions) -> SweepConfig:
    """The sweep that validates: the target's dataset and environment, gold/baseline runs x N repeats."""
    if not options.gold and not options.baseline:
        raise ConfigError("nothing to run", source="validate", fix="keep --gold or add --empty")
    raw = _base_raw(target, options)
    raw["repeats"] = options.repeats
    raw["runs"] = [{"gold": True}]  # also what selects the instances a baseline covers
    if options.baseline:
        raw["runs"] = [*([{"gold": True}] if options.gold else []), _baseline_run(raw)]
    return validate_config(raw, source=target)


def _base_raw(target: str, options: ValidateOptions) -> dict[str, Any]:
    from orchestrator.commands.run import _parse_repo

    if Path(target).suffix.lower() in (".yaml", ".yml"):
        loaded = load_config(Path(target), options.overrides)
        raw = loaded.model_dump(mode="json", exclude_defaults=True)
        raw["name"] = f"{loaded.name[:55]}-validate"
    else:
        is_file = Path(target).suffix.lower() in (".json", ".jsonl", ".parquet") or Path(target).exists()
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(target).stem if is_file else target).strip("-.")
        raw = {
            "name": f"validate-{stem[:50]}" if stem else "validate",
            "dataset": {"path": target} if is_file else {"hf_name": target, "split": options.split},
        }
        for item in options.overrides:
            apply_override(raw, item)
    if options.repos:
        raw["repos"] = {**raw.get("repos", {}), **dict(_parse_repo(r) for r in options.repos)}
    if options.specs:
        raw["specs"] = list(options.specs)
    if options.store:
        raw["store"] = {**raw.get("store", {}), "url": options.store}
    return raw


def _baseline_run(raw: dict[str, Any]) -> dict[str, Any]:
    """A run whose predictions file holds the inert baseline patch for every selected instance."""
    from orchestrator.sweep import load_dataset

    _, chosen = load_dataset(validate_config(raw, source="validate"))
    path = Path(".evalfleet") / "validate" / f"{raw['name']}-{BASELINE_RUN}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {"instance_id": i.instance_id, "model_name_or_path": BASELINE_RUN, "model_patch": BASELINE_PATCH}
        )
        for i in chosen
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"predictions": str(path.resolve()), "name": BASELINE_RUN}


def print_flakiness(report: FlakinessReport) -> None:
    table = Table(show_edge=False, title=f"validation of {report.sweep_id}")
    table.add_column("instance", overflow="fold")
    table.add_column("run", overflow="fold")
    table.add_column("n", justify="right")
    table.add_column("verdicts", overflow="fold")
    table.add_column("varying tests (passed/failed)", overflow="fold", ratio=2)
    broken = set(report.gold_unresolved)
    for v in report.instances:
        if not v.flaky and not (v.run == GOLD_RUN and v.instance_id in broken):
            continue
        tests = "; ".join(f"{t.test} ({t.passed}/{t.failed})" for t in v.tests[:5])
        more = f" +{len(v.tests) - 5} more" if len(v.tests) > 5 else ""
        status = "FLAKY" if v.flaky else "gold never resolves"
        verdicts = ", ".join(f"{k} {n}" for k, n in v.verdicts.items())
        table.add_row(f"{v.instance_id} [{status}]", v.run, str(v.evaluations), verdicts, tests + more)
    stable = len({v.instance_id for v in report.instances}) - len(report.flaky_ids)
    if table.row_count:
        console.print(table)
    console.print(
        f"{len(report.flaky_ids)} flaky instances, {stable} stable; "
        f"{len(report.gold_unresolved)} whose gold patch never resolves"
    )
