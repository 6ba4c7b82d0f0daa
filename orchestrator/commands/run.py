"""`evalfleet run` and `evalfleet eval`: plan a sweep, print it (--dry-run) or execute it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from orchestrator.config import load_config, validate_config
from orchestrator.console import make_console
from orchestrator.errors import ConfigError
from orchestrator.plan import Plan

console = make_console()


def run_command(config_path: Path, overrides: Sequence[str], *, dry_run: bool, resume: str | None) -> None:
    from orchestrator.sweep import plan_sweep

    config = load_config(config_path, overrides)
    plan = plan_sweep(config, sweep_id=resume)
    if dry_run:
        print_plan(plan)
        print_buildability(plan, config.specs)
        return
    from orchestrator.execute import execute_sweep

    execute_sweep(config, plan, resume=resume is not None)


def eval_command(
    *,
    dataset: str,
    predictions: Path,
    split: str,
    run_id: str,
    instance_ids: Sequence[str],
    repos: Sequence[str],
    specs: Sequence[str],
    store: str | None,
    overrides: Sequence[str],
    dry_run: bool,
) -> None:
    """The official harness's inputs (dataset + predictions) as a sweep config."""
    from orchestrator.config import apply_override
    from orchestrator.sweep import plan_sweep

    is_file = Path(dataset).suffix.lower() in (".json", ".jsonl", ".parquet") or Path(dataset).exists()
    raw: dict[str, Any] = {
        "name": run_id,
        "dataset": {"path": dataset} if is_file else {"hf_name": dataset, "split": split},
        "runs": [{"predictions": str(predictions)}],
        "repos": dict(_parse_repo(r) for r in repos),
    }
    if instance_ids:
        raw["dataset"]["instances"] = list(instance_ids)
    if specs:
        raw["specs"] = list(specs)
    if store:
        raw["store"] = {"url": store}
    for item in overrides:
        apply_override(raw, item)
    config = validate_config(raw, source="evalfleet eval")
    plan = plan_sweep(config)
    if dry_run:
        print_plan(plan)
        print_buildability(plan, config.specs)
        return
    from orchestrator.execute import execute_sweep

    execute_sweep(config, plan, resume=False)


def _parse_repo(text: str) -> tuple[str, dict[str, str]]:
    name, sep, where = text.partition("=")
    if not sep or not name or not where:
        raise ConfigError(
            f"bad --repo {text!r}", source="--repo", fix="write NAME=PATH, e.g. demo/calc=build/calc.bundle"
        )
    kind = "url" if "://" in where else ("bundle" if where.endswith(".bundle") else "path")
    return name, {kind: where}


def print_plan(plan: Plan) -> None:
    n_inst = len({it.instance.instance_id for it in plan.items})
    console.print(f"sweep [bold]{plan.sweep_id}[/bold]")
    console.print(
        f"{n_inst} instances x {len(plan.runs)} runs x {plan.repeats} repeats"
        + (f" x {len(plan.seeds)} seeds" if len(plan.seeds) > 1 else "")
        + f" = {len(plan.items)} work items"
    )
    table = Table(title=None, show_edge=False)
    table.add_column("repo")
    table.add_column("items", justify="right")
    for repo, count in sorted(plan.per_repo().items()):
        table.add_row(repo, str(count))
    console.print(table)
    runs = Table(show_edge=False)
    runs.add_column("run")
    runs.add_column("items", justify="right")
    for run, count in sorted(plan.per_run().items()):
        runs.add_row(run, str(count))
    console.print(runs)
    if plan.skipped.get("committed"):
        console.print(f"{plan.skipped['committed']} items already committed (skipped)")


def print_buildability(plan: Plan, spec_dirs: list[str]) -> None:
    """Per repository: instances whose image can be built here, and those that need a pulled image."""
    from orchestrator.buildable import buildability

    table = Table(show_edge=False)
    for name, justify in (
        ("repo", "left"),
        ("build here", "right"),
        ("need image", "right"),
        ("why", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for repo, entry in sorted(buildability(plan, spec_dirs).items()):
        why = "; ".join(f"{reason} ({n})" for reason, n in entry.reasons.most_common(4))
        table.add_row(repo, str(len(entry.build)), str(len(entry.pull)), why or "-")
    console.print(table)
