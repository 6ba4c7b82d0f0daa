"""Planning: keys hash what decides outcomes, seeds and order are reproducible, resume skips commits."""

from __future__ import annotations

import pytest

from orchestrator.config import SweepConfig
from orchestrator.errors import ConfigError
from orchestrator.plan import ItemKeys, build_plan, derive_seed, item_key, select_instances, stable_hash
from workers import HARNESS_VERSION
from workers.models import Candidate, Instance, SandboxLimits
from workers.spec import EnvSpec, RepoSource, SpecCatalog

SPEC = EnvSpec(repo="o/r", test_cmd="pytest -rA")
CATALOG = SpecCatalog([SPEC])
SOURCES = {"o/r": RepoSource(kind="bundle", location="/x/r.bundle")}


def instances(n: int = 6) -> list[Instance]:
    return [
        Instance(instance_id=f"o__r-{i}", repo="o/r", base_commit="a" * 40, FAIL_TO_PASS=[f"t{i}"])
        for i in range(n)
    ]


def candidates(insts: list[Instance], run: str, patch: str = "diff") -> list[Candidate]:
    return [Candidate(instance_id=i.instance_id, run=run, patch=f"{patch} {i.instance_id}") for i in insts]


def config(**kw: object) -> SweepConfig:
    return SweepConfig.model_validate(
        {"name": "t", "dataset": {"path": "d.jsonl"}, "runs": [{"gold": True}], **kw}
    )


def plan(cfg: SweepConfig, runs: dict[str, list[Candidate]] | None = None):  # type: ignore[no-untyped-def]
    insts = instances()
    return build_plan(cfg, "sw", insts, runs or {"a": candidates(insts, "a")}, CATALOG, SOURCES)


def test_same_config_same_plan_seeds_and_order() -> None:
    p1, p2 = plan(config(seed=5)), plan(config(seed=5))
    assert p1.keys() == p2.keys()
    assert [it.seed for it in p1.items] == [it.seed for it in p2.items]
    assert len(set(p1.keys())) == 6


def test_sweep_seed_changes_order_and_item_seeds() -> None:
    p1, p2 = plan(config(seed=5)), plan(config(seed=6))
    assert sorted(p1.keys()) != sorted(p2.keys())  # item seeds are part of the key
    assert {it.seed for it in p1.items} != {it.seed for it in p2.items}


def test_changed_patch_gives_a_new_key() -> None:
    insts = instances()
    base = build_plan(config(), "sw", insts, {"a": candidates(insts, "a")}, CATALOG, SOURCES)
    changed = candidates(insts, "a")
    changed[0] = changed[0].model_copy(update={"patch": "something else"})
    other = build_plan(config(), "sw", insts, {"a": changed}, CATALOG, SOURCES)
    assert len(set(base.keys()) & set(other.keys())) == 5


def test_key_depends_on_spec_and_repeat_not_on_problem_text() -> None:
    inst = instances(1)[0]
    cand = candidates([inst], "a")[0]
    k = item_key(inst, cand, SPEC, None, 0, 1)
    assert item_key(inst, cand, SPEC.model_copy(update={"test_cmd": "pytest"}), None, 0, 1) != k
    assert item_key(inst, cand, SPEC, None, 1, 1) != k
    assert item_key(inst.model_copy(update={"problem_statement": "reworded"}), cand, SPEC, None, 0, 1) == k


def test_repeats_and_seed_axis_multiply_items() -> None:
    p = plan(config(repeats=2, seeds=[1, 2, 3]))
    assert len(p.items) == 6 * 2 * 3
    assert len(set(p.keys())) == len(p.items)
    assert p.seeds == [1, 2, 3]


def test_repeated_seed_values_are_refused() -> None:
    with pytest.raises(ConfigError, match="same key"):
        plan(config(seeds=[1, 1]))


def test_resume_plans_only_uncommitted() -> None:
    p = plan(config())
    done = p.keys()[:4]
    rest = p.without(done)
    assert set(rest.keys()) == set(p.keys()[4:])
    assert rest.skipped["committed"] == 4


def test_derive_seed_is_stable_and_spread() -> None:
    assert derive_seed(1, "r", "i", 0) == derive_seed(1, "r", "i", 0)
    seeds = {derive_seed(1, "r", f"i{n}", 0) for n in range(1000)}
    assert len(seeds) == 1000
    assert all(0 <= s < 2**31 for s in seeds)


def test_select_instances_globs() -> None:
    insts = instances()
    assert [i.instance_id for i in select_instances(insts, ["o__r-1*", "o__r-2"], ["o__r-2"])] == ["o__r-1"]


def test_missing_spec_is_a_config_error() -> None:
    inst = Instance(instance_id="x__y-1", repo="x/y", base_commit="b" * 40)
    with pytest.raises(ConfigError, match="no environment spec"):
        build_plan(config(), "sw", [inst], {"a": candidates([inst], "a")}, CATALOG, {})


def reference_key(
    inst: Instance,
    cand: Candidate,
    spec: EnvSpec,
    source: RepoSource | None,
    repeat: int,
    seed: int,
    limits: SandboxLimits | None = None,
) -> str:
    """The item key as defined (tuple of parts, canonical JSON, sha256): pins the format sweeps resume by."""
    keyed = inst.model_dump(mode="json", by_alias=True, exclude={"problem_statement", "hints_text"})
    parts = ("item/v1", HARNESS_VERSION, keyed, cand.run, cand.patch or "", spec)
    return stable_hash(*parts, source.kind if source else None, limits, repeat, seed)[:32]


def test_a_plan_has_the_keys_item_key_gives() -> None:
    """build_plan encodes shared parts once (ItemKeys); the keys must be item_key's, byte for byte."""
    insts = [
        i.model_copy(update={"test_patch": 'diff "é€\\u2028\n', "extra": {"k": [1, None, 2.5]}})
        for i in instances()
    ]
    cfg = config(repeats=3, seeds=[1, 7], execution={"limits": {"memory_mb": 999}})
    p = build_plan(cfg, "sw", insts, {"a": candidates(insts, "a", patch="ünï\tcode")}, CATALOG, SOURCES)
    assert len(p.items) == 6 * 3 * 2
    for it in p.items:
        assert it.key == item_key(
            it.instance, it.candidate, it.spec, it.repo_source, it.repeat, it.seed, it.limits
        )
        assert it.key == reference_key(
            it.instance, it.candidate, it.spec, it.repo_source, it.repeat, it.seed, it.limits
        )
    no_source = ItemKeys()(insts[0], p.items[0].candidate, SPEC, None, 0, 1)
    assert no_source == item_key(insts[0], p.items[0].candidate, SPEC, None, 0, 1)
    assert no_source == reference_key(insts[0], p.items[0].candidate, SPEC, None, 0, 1)
