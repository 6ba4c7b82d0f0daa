"""Image locality: items that share an environment image prefer a node that already has it.

Building an env image takes minutes; reusing one takes a second. The driver learns from finished items
which nodes hold which environment and asks Ray, softly, to place the next item of that environment on
one of them (round robin among them, spilling elsewhere when they are busy), so a sweep does not build
every environment on every node.
"""

from __future__ import annotations

from collections import defaultdict

from orchestrator.plan import stable_hash
from workers.models import WorkItem

ENV_FIELDS = {"repo", "base", "system_packages", "pre_install", "install", "pip_packages", "workdir"}


def env_key(item: WorkItem) -> str:
    """What decides an item's environment image: its spec's build fields, repository and env commit."""
    inst = item.instance
    if inst.image:  # a named (prebuilt) image is its own environment
        return stable_hash("named", inst.image)[:16]
    commit = inst.environment_setup_commit or inst.base_commit
    return stable_hash("env", item.spec.model_dump(include=ENV_FIELDS), inst.repo, commit)[:16]


class Placement:
    """Which nodes evaluated items of which environment; the node to prefer for the next one."""

    def __init__(self) -> None:
        self._nodes: dict[str, list[str]] = defaultdict(list)
        self._turn: dict[str, int] = defaultdict(int)
        self._dead: set[str] = set()

    def record(self, key: str, node_id: str | None) -> None:
        if node_id and node_id not in self._nodes[key] and node_id not in self._dead:
            self._nodes[key].append(node_id)

    def forget_node(self, node_id: str) -> None:
        """A node that died holds nothing any more."""
        self._dead.add(node_id)
        for nodes in self._nodes.values():
            if node_id in nodes:
                nodes.remove(node_id)

    def preferred(self, key: str) -> str | None:
        nodes = self._nodes.get(key)
        if not nodes:
            return None
        turn = self._turn[key]
        self._turn[key] = turn + 1
        return nodes[turn % len(nodes)]
