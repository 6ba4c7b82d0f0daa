"""Image locality: items sharing an environment prefer nodes that already evaluated that environment."""

from __future__ import annotations

from orchestrator.placement import Placement, env_key
from workers.models import Candidate, Instance, WorkItem
from workers.spec import EnvSpec


def item(
    iid: str, *, install: str = "pip install .", env_commit: str = "e" * 40, image: str | None = None
) -> WorkItem:
    inst = Instance(
        instance_id=iid,
        repo="o/r",
        base_commit=iid.ljust(40, "0")[:40],
        environment_setup_commit=env_commit,
        image=image,
    )
    spec = EnvSpec(repo="o/r", test_cmd="pytest", install=[install])
    return WorkItem(
        key=iid,
        sweep_id="s",
        instance=inst,
        candidate=Candidate(instance_id=iid, run="r", patch="x"),
        seed=1,
        spec=spec,
    )


def test_env_key_groups_items_of_one_environment() -> None:
    assert env_key(item("a")) == env_key(item("b"))  # different base commits, same environment
    assert env_key(item("a")) != env_key(item("a", install="pip install -e ."))
    assert env_key(item("a")) != env_key(item("a", env_commit="f" * 40))
    assert env_key(item("a", image="img:1")) != env_key(item("a"))


def test_changing_test_fields_keeps_the_environment() -> None:
    a = item("a")
    b = a.model_copy(update={"spec": a.spec.model_copy(update={"test_cmd": "pytest -x", "parser": "django"})})
    assert env_key(a) == env_key(b)


def test_placement_prefers_known_nodes_round_robin_and_forgets_dead_ones() -> None:
    p = Placement()
    assert p.preferred("env1") is None
    p.record("env1", "node-a")
    p.record("env1", "node-b")
    p.record("env1", "node-a")
    assert [p.preferred("env1") for _ in range(4)] == ["node-a", "node-b", "node-a", "node-b"]
    p.forget_node("node-a")
    assert {p.preferred("env1") for _ in range(3)} == {"node-b"}
    p.record("env1", "node-a")  # a dead node is not learned again
    assert {p.preferred("env1") for _ in range(3)} == {"node-b"}
    assert p.preferred("env2") is None
