"""Turn a SweepConfig into a Plan: load the dataset, the candidates of every run, specs and sources."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.config import SweepConfig
from orchestrator.datasets import load_instances, load_predictions
from orchestrator.errors import ConfigError
from orchestrator.plan import Plan, build_plan, read_exclude_file, run_label, select_instances, stable_hash
from workers.models import Candidate, Instance
from workers.spec import RepoSource, SpecCatalog


def load_dataset(config: SweepConfig) -> tuple[list[Instance], list[Instance]]:
    """All instances of the dataset, and those the config selects."""
    ds = config.dataset
    instances = load_instances(
        ds.path, hf_name=ds.hf_name, split=ds.split, revision=ds.revision, adapter=ds.adapter
    )
    exclude = list(ds.exclude) + (read_exclude_file(ds.exclude_file) if ds.exclude_file else [])
    chosen = select_instances(instances, ds.instances, exclude)
    if not chosen:
        raise ConfigError(
            f"no instance left after filtering ({len(instances)} in the dataset)",
            source="config",
            field="dataset.instances",
            fix="check the include/exclude patterns",
        )
    return instances, chosen


def load_candidates(
    config: SweepConfig, dataset: list[Instance], instances: list[Instance]
) -> dict[str, list[Candidate]]:
    """Candidates per run name. A predictions file without a run name gives one run per model."""
    known = {i.instance_id: i for i in dataset}
    chosen = {i.instance_id for i in instances}
    runs: dict[str, list[Candidate]] = {}
    origin: dict[str, int] = {}
    for index, run in enumerate(config.runs):
        label = run_label(run)
        meta = {k: v for k, v in (("model", run.model), ("scaffold", run.scaffold)) if v}
        if run.generate is not None:  # rollouts: the model and scaffold that generate are the labels
            meta = {"model": run.generate.endpoint.model, "scaffold": run.generate.scaffold.name, **meta}
        if run.predictions is not None:
            cands = load_predictions(run.predictions, instances=known, run=label)
            cands = [c for c in cands if c.instance_id in chosen]
        else:
            assert label is not None
            cands = [
                Candidate(
                    instance_id=i.instance_id,
                    run=label,
                    patch=i.patch if run.gold else (None if run.generate is not None else ""),
                )
                for i in instances
            ]
        for cand in cands:
            if origin.setdefault(cand.run, index) != index:
                raise ConfigError(
                    f"run {cand.run!r} comes from runs.{origin[cand.run]} and runs.{index}",
                    source="config",
                    field=f"runs.{index}.name",
                    fix="give each run a distinct 'name'",
                )
            if meta:
                cand = cand.model_copy(update={"metadata": {**meta, **cand.metadata}})
            runs.setdefault(cand.run, []).append(cand)
    return runs


def repo_sources(config: SweepConfig) -> dict[str, RepoSource]:
    base = Path.cwd()
    return {name: src.to_source(base) for name, src in config.repos.items()}


def default_sweep_id(config: SweepConfig, instances: list[Instance], runs: dict[str, list[Candidate]]) -> str:
    """Same config and inputs -> same sweep id, so running a sweep again continues it."""
    digest = stable_hash(
        _identity(config),
        [i.instance_id for i in instances],
        {r: [(c.instance_id, c.patch) for c in cs] for r, cs in sorted(runs.items())},
    )
    return f"{config.name}-{digest[:10]}"


def _identity(config: SweepConfig) -> dict[str, object]:
    """The config as it decides outcomes: without where results go, how the cluster runs, the budget, or
    where a rollout endpoint is and how it is reached (a re-run with a larger budget is the same sweep)."""
    data = config.model_dump(mode="json", exclude={"store", "ray", "execution", "budget"})
    if not data["prices"]:
        del data["prices"]  # fields added for rollouts, at their defaults: the ids of older sweeps stand
    for run in data["runs"]:
        if run["generate"] is None:
            del run["generate"]
        else:
            run["generate"] = {
                **run["generate"],
                "endpoint": None,
                "outcome": {k: run["generate"]["endpoint"][k] for k in ("model", "send_seed")},
            }
    return data


RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def run_sweep_id(config: SweepConfig, run_id: str) -> str:
    """The sweep of one run of a series, ``{name}-{run_id}``: scheduled re-evaluations keep the config's
    ``name`` and pass the schedule time as the run id, so each tick is a sweep of its own (and a retry of
    the same tick continues it), while a run without a run id keeps the content-derived id."""
    if not RUN_ID.match(run_id):
        raise ConfigError(
            f"bad run id {run_id!r}",
            source="--run-id",
            fix="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return f"{config.name}-{run_id}"


def plan_sweep(config: SweepConfig, sweep_id: str | None = None) -> Plan:
    dataset, instances = load_dataset(config)
    runs = load_candidates(config, dataset, instances)
    catalog = SpecCatalog.with_builtin(config.specs)
    sid = sweep_id or default_sweep_id(config, instances, runs)
    return build_plan(config, sid, instances, runs, catalog, repo_sources(config))
