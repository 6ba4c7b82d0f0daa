"""Plan a sweep: the matrix of runs x instances x repeats (x seeds) as work items with content-hash keys.

Everything that decides an outcome goes into an item's key, so a changed patch, spec or dataset row
never hits a stale result; resuming is ``planned - committed``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.config import RunConfig, SweepConfig
from orchestrator.errors import ConfigError
from workers import HARNESS_VERSION
from workers.models import Candidate, Instance, SandboxLimits, WorkItem
from workers.rollout.spec import GenerationSpec
from workers.spec import EnvSpec, RepoSource, SpecCatalog


def stable_hash(*parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts``."""
    return hashlib.sha256(_CANONICAL.encode(parts).encode("utf-8")).hexdigest()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


# json.dumps(parts, sort_keys=True, separators=(",", ":"), default=_jsonable), without building an
# encoder on every call (planning 100k items hashes 300k times)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_jsonable)


def derive_seed(base_seed: int, run: str, instance_id: str, repeat: int) -> int:
    """Per-item seed: a hash of (sweep seed, run, instance, repeat), in [0, 2**31)."""
    return int(stable_hash("seed", base_seed, run, instance_id, repeat)[:8], 16) & 0x7FFFFFFF


def item_key(
    instance: Instance,
    candidate: Candidate,
    spec: EnvSpec,
    source: RepoSource | None,
    repeat: int,
    seed: int,
    limits: SandboxLimits | None = None,
) -> str:
    """Content hash of everything that decides the outcome of one evaluation: the instance (without its
    problem statement and hints), the run and its patch, the spec (image recipe, test command, parser,
    time limits), the kind of repository source (where it lives does not change its content), the
    sandbox limits, the repeat and the seed (``ItemKeys`` spells out the hashed text)."""
    return ItemKeys()(instance, candidate, spec, source, repeat, seed, limits)


def _keyed_instance(instance: Instance) -> dict[str, Any]:
    return instance.model_dump(mode="json", by_alias=True, exclude={"problem_statement", "hints_text"})


class ItemKeys:
    """``item_key`` for the many items of a plan: the JSON of the parts items share (an instance, a
    candidate, a spec, the limits) is encoded once, not once per repeat and seed. The hashed text is
    ``stable_hash``'s of ("item/v1", HARNESS_VERSION, instance, run, patch, spec, source kind, limits,
    repeat, seed): a tuple's JSON is its parts' JSON joined by commas in brackets."""

    def __init__(self) -> None:
        self._head = _CANONICAL.encode(["item/v1", HARNESS_VERSION])[1:-1]
        self._encoded: dict[int, tuple[object, str]] = {}  # id -> (the object, kept alive; its JSON)

    def _json(self, obj: object, value: Callable[[], Any]) -> str:
        hit = self._encoded.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = (obj, _CANONICAL.encode(value()))
            self._encoded[id(obj)] = hit
        return hit[1]

    def __call__(
        self,
        instance: Instance,
        candidate: Candidate,
        spec: EnvSpec,
        source: RepoSource | None,
        repeat: int,
        seed: int,
        limits: SandboxLimits | None = None,
    ) -> str:
        parts = [
            self._head,
            self._json(instance, lambda: _keyed_instance(instance)),
            self._json(candidate, lambda: [candidate.run, candidate.patch or ""])[1:-1],
            self._json(spec, lambda: spec),
            self._json(source, lambda: source.kind if source else None),
            self._json(limits, lambda: limits),
            str(repeat) if type(repeat) is int else _CANONICAL.encode(repeat),  # JSON of an int (not a bool)
            str(seed) if type(seed) is int else _CANONICAL.encode(seed),
        ]
        blob = "[" + ",".join(parts) + "]"
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


@dataclass
class Plan:
    """The work items of a sweep, in execution order."""

    sweep_id: str
    items: list[WorkItem]
    instances: list[Instance]
    runs: list[str]
    repeats: int
    seeds: list[int]
    skipped: dict[str, int] = field(default_factory=dict)

    def keys(self) -> list[str]:
        return [it.key for it in self.items]

    def without(self, committed: Iterable[str]) -> Plan:
        done = set(committed)
        remaining = [it for it in self.items if it.key not in done]
        return Plan(
            self.sweep_id,
            remaining,
            self.instances,
            self.runs,
            self.repeats,
            self.seeds,
            {**self.skipped, "committed": len(self.items) - len(remaining)},
        )

    def per_repo(self) -> Counter[str]:
        return Counter(it.instance.repo for it in self.items)

    def per_run(self) -> Counter[str]:
        return Counter(it.candidate.run for it in self.items)


def select_instances(
    instances: Sequence[Instance], include: Sequence[str], exclude: Sequence[str]
) -> list[Instance]:
    def matches(iid: str, patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(iid, p) for p in patterns)

    chosen = [i for i in instances if not include or matches(i.instance_id, include)]
    return [i for i in chosen if not matches(i.instance_id, exclude)]


def read_exclude_file(path: str) -> list[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read exclusion list: {exc.__class__.__name__}", source=path) from None
    ids = [ln.split("#", 1)[0].strip() for ln in lines]
    return [i for i in ids if i]


def resolve_spec(instance: Instance, catalog: SpecCatalog, spec_dirs: Sequence[str]) -> EnvSpec:
    spec = catalog.find(instance.repo, instance.version)
    if spec is not None:  # a row's own parser (v5) names how its own test output reads
        return spec.model_copy(update={"parser": instance.log_parser}) if instance.log_parser else spec
    if instance.image and instance.eval_script:  # v5 rows carry their own environment
        return EnvSpec(
            repo=instance.repo,
            version=instance.version or "*",
            test_cmd="bash /eval/eval.sh",
            test_targets="none",
            parser=instance.log_parser or "pytest",
            workdir=str(instance.extra.get("workdir") or "/testbed"),  # SWE-bench Pro images: /app
        )
    raise ConfigError(
        f"repo {instance.repo!r} version {instance.version!r} (instance {instance.instance_id}) "
        f"has no environment spec (built-in specs{''.join(', ' + d for d in spec_dirs)})",
        source="specs",
        fix=f"add a spec file for {instance.repo} (see docs/specs.md)",
    )


def build_plan(
    config: SweepConfig,
    sweep_id: str,
    instances: Sequence[Instance],
    candidates_by_run: dict[str, list[Candidate]],
    catalog: SpecCatalog,
    sources: dict[str, RepoSource],
) -> Plan:
    """Expand the matrix. Instances without a candidate in a run are not planned for that run."""
    by_id = {i.instance_id: i for i in instances}
    seeds = config.seeds or [config.seed]
    predicted = {c.instance_id for cands in candidates_by_run.values() for c in cands}
    specs = {  # only instances something is evaluated on need a spec
        i.instance_id: _with_overrides(resolve_spec(i, catalog, config.specs), config)
        for i in instances
        if i.instance_id in predicted
    }
    limits = config.execution.limits
    keys = ItemKeys()
    generate = _generation_specs(config)
    items: list[WorkItem] = []
    for run, candidates in candidates_by_run.items():
        for cand in candidates:
            inst = by_id.get(cand.instance_id)
            if inst is None:
                continue  # filtered out by include/exclude
            source = sources.get(inst.repo)
            for base_seed in seeds:
                for repeat in range(config.repeats):
                    seed = derive_seed(base_seed, run, inst.instance_id, repeat)
                    key = keys(inst, cand, specs[inst.instance_id], source, repeat, seed, limits)
                    gen = generate.get(run)
                    if gen is not None:  # a rollout item: what generates the patch decides the outcome
                        key = stable_hash("rollout/v1", key, gen.outcome_fields())[:32]
                    items.append(
                        WorkItem(
                            key=key,
                            sweep_id=sweep_id,
                            instance=inst,
                            candidate=cand,
                            repeat=repeat,
                            seed=seed,
                            spec=specs[inst.instance_id],
                            repo_source=source,
                            limits=limits,
                            rollout=gen,
                        )
                    )
    _check_unique(items)
    items.sort(key=lambda it: stable_hash("order", config.seed, it.key))
    return Plan(sweep_id, items, list(instances), list(candidates_by_run), config.repeats, seeds)


def _generation_specs(config: SweepConfig) -> dict[str, GenerationSpec]:
    """Run name -> its generation spec, priced from the sweep's table (rollout runs only)."""
    out = {}
    for run in config.runs:
        if run.generate is not None and run.name:
            out[run.name] = run.generate.model_copy(update={"price": config.price_of(run.generate)})
    return out


def _with_overrides(spec: EnvSpec, config: SweepConfig) -> EnvSpec:
    """Sweep-wide overrides of spec fields (they then enter the item keys, as they decide outcomes)."""
    timeouts = spec.timeouts
    if config.execution.test_timeout_s is not None:
        timeouts = timeouts.model_copy(update={"test": config.execution.test_timeout_s})
    if config.images.build_timeout_s is not None:
        timeouts = timeouts.model_copy(update={"build": config.images.build_timeout_s})
    return spec if timeouts == spec.timeouts else spec.model_copy(update={"timeouts": timeouts})


def _check_unique(items: Sequence[WorkItem]) -> None:
    counts = Counter(it.key for it in items)
    dupes = [k for k, n in counts.items() if n > 1]
    if dupes:
        first = next(it for it in items if it.key == dupes[0])
        raise ConfigError(
            f"{len(dupes)} work items would have the same key (e.g. {first.instance.instance_id} in run "
            f"{first.candidate.run})",
            source="seeds",
            fix="remove repeated values from 'seeds'",
        )


def run_label(run: RunConfig) -> str | None:
    if run.name:
        return run.name
    if run.gold:
        return "gold"
    if run.empty:
        return "empty"
    return None
