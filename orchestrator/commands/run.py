"""`evalfleet run` and `evalfleet eval`: plan a sweep, print it (--dry-run) or execute it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from orchestrator.config import SweepConfig, load_config, validate_config
from orchestrator.console import make_console
from orchestrator.errors import ConfigError
from orchestrator.plan import Plan

console = make_console()


def run_command(
    config_path: Path,
    overrides: Sequence[str],
    *,
    dry_run: bool,
    resume: str | None,
    run_id: str | None = None,
) -> None:
    from orchestrator.sweep import plan_sweep, run_sweep_id

    config = load_config(config_path, overrides)
    if run_id is not None and resume is not None:
        raise ConfigError(
            "--run-id and --resume both name the sweep", source="--run-id", fix="give one of them"
        )
    plan = plan_sweep(config, sweep_id=resume if run_id is None else run_sweep_id(config, run_id))
    if dry_run:
        print_plan(plan, pull_template=config.images.pull_template, spec_dirs=config.specs)
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
        print_plan(plan, pull_template=config.images.pull_template, spec_dirs=config.specs)
        return
    from orchestrator.errors import SweepIncomplete
    from orchestrator.execute import execute_sweep

    try:
        execute_sweep(config, plan, resume=False)
    except SweepIncomplete:  # items without a verdict are in the run reports' error_ids: write them too
        _write_here(config, plan, run_id)
        raise
    _write_here(config, plan, run_id)


def _write_here(config: SweepConfig, plan: Plan, run_id: str) -> None:
    """``{model}.{run_id}.json`` in the working directory, where the official harness writes it."""
    from orchestrator.execute import store_for
    from orchestrator.report.aggregate import write_run_reports_here

    for path in write_run_reports_here(store_for(config), plan.sweep_id, run_id, Path.cwd()):
        console.print(f"wrote {path}")


def _parse_repo(text: str) -> tuple[str, dict[str, str]]:
    name, sep, where = text.partition("=")
    if not sep or not name or not where:
        raise ConfigError(
            f"bad --repo {text!r}", source="--repo", fix="write NAME=PATH, e.g. demo/calc=build/calc.bundle"
        )
    kind = "url" if "://" in where else ("bundle" if where.endswith(".bundle") else "path")
    return name, {kind: where}


def image_sources(
    plan: Plan, pull_template: str | None, spec_dirs: list[str] | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, Counter[str]]]:
    """Per repo, how many planned instances can be built here, run in a pulled (named) image, or
    neither (they fail at build time), and why the ones not built here cannot be: a version whose
    Python has no base here, no source in ``repos:``, or toolchains this site lacks (``needs.json``)."""
    from orchestrator.buildable import load_needs
    from workers.images.toolchains import unmet
    from workers.spec import builtin_dirs

    needs = load_needs([str(d) for d in builtin_dirs()] + list(spec_dirs or []))
    seen: set[str] = set()
    out: dict[str, dict[str, int]] = {}
    why: dict[str, Counter[str]] = {}
    for item in plan.items:
        inst = item.instance
        if inst.instance_id in seen:
            continue
        seen.add(inst.instance_id)
        reasons = [item.spec.unbuildable] if item.spec.unbuildable else []
        reasons += [] if item.repo_source is not None else ["no source in repos:"]
        reasons += unmet(needs.get(inst.repo, {}).get(inst.version, []), item.spec.base)
        how = "pulled" if inst.image or pull_template else ("neither" if reasons else "built here")
        counts = out.setdefault(inst.repo, {"built here": 0, "pulled": 0, "neither": 0})
        counts[how] += 1
        if how != "built here":
            why.setdefault(inst.repo, Counter()).update(reasons)
    return out, why


def print_plan(plan: Plan, pull_template: str | None = None, spec_dirs: list[str] | None = None) -> None:
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
    images, why = image_sources(plan, pull_template, spec_dirs)
    for name in ("built here", "pulled", "neither"):
        table.add_column(f"instances: {name}", justify="right")
    for repo, count in sorted(plan.per_repo().items()):
        how = images.get(repo, {})
        table.add_row(repo, str(count), *(str(how.get(n, 0)) for n in ("built here", "pulled", "neither")))
    console.print(table)
    for repo, reasons in sorted(why.items()):
        if reasons:
            shown = "; ".join(f"{reason} ({n})" for reason, n in reasons.most_common(4))
            console.print(f"{repo}: not built here: {shown}")
    neither = sum(h["neither"] for h in images.values())
    if neither:
        console.print(
            f"{neither} instances can be neither built here nor pulled: they will end in error "
            "(set images.pull_template, or add a base that provides their Python)"
        )
    runs = Table(show_edge=False)
    runs.add_column("run")
    runs.add_column("items", justify="right")
    for run, count in sorted(plan.per_run().items()):
        runs.add_row(run, str(count))
    console.print(runs)
    print_rollouts(plan)
    if plan.skipped.get("committed"):
        console.print(f"{plan.skipped['committed']} items already committed (skipped)")


def print_rollouts(plan: Plan) -> None:
    """Generate runs: rollouts and their worst-case cost from the per-instance limits (issue 13)."""
    from orchestrator.rollouts import worst_case

    cases = worst_case(plan)
    if not cases:
        return
    table = Table(show_edge=False)
    for col in (
        "generate run",
        "rollouts",
        "worst-case tokens",
        "worst-case USD",
        "completion tokens at most",
    ):
        table.add_column(col, justify="left" if col == "generate run" else "right")
    for c in cases:
        tokens = "unbounded" if c["tokens"] is None else f"{c['tokens']:,}"
        usd = "unbounded" if c["usd"] is None else f"{c['usd']:.2f}"
        table.add_row(c["run"], str(c["rollouts"]), tokens, usd, f"{c['completion']:,}")
    console.print(table)
    if any(c["usd"] is None or c["tokens"] is None for c in cases):
        console.print(
            "unbounded: prompts grow with every step; set generate.limits.tokens or cost_usd per instance, "
            "or budget.usd / budget.tokens for the sweep"
        )
