"""The patch phase as it was (a Docker call per step) next to how it is (one round trip).

Before, the patch phase wrote each patch with its own archive call and ran every step of the chain
(``git apply``, the changed-test check, restoring the tests, the test patch, the integrity snapshots)
as its own exec; each such call costs ~0.08 s on this machine whatever it does (runc starting a
process, or dockerd re-executing itself to untar). ``workers.patch_script`` sends both patches as a tar
on the stdin of one exec that runs every step. Both variants run on fresh sandboxes of the same warm
image with the same patches and must leave the same tree (``git status --porcelain``).
"""

from __future__ import annotations

import shlex
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.drive import load
from bench.measure import median, p90
from orchestrator.execute import eval_settings
from orchestrator.sweep import plan_sweep
from workers import patch_script
from workers.images import ensure_instance_image
from workers.models import SandboxLimits
from workers.patching import CHAIN, patch_paths, restore_command
from workers.sandbox.base import SandboxConfig
from workers.sandbox.docker import DockerBackend, DockerSandbox
from workers.sandbox.labels import item_labels

EVAL = "/eval"
WORKDIR = "/testbed"


def warm_image(workdir: Path | None = None) -> str:
    """The synthetic benchmark's instance image (built once, then found)."""
    ws = synthetic.make_workspace(
        Path(tempfile.mkdtemp(prefix="bench-image-", dir=workdir)), instances=1, sleep_s=0
    )
    config = load(synthetic.sweep_config(ws, name="bench-image", slots=1))
    item = plan_sweep(config).items[0]
    return ensure_instance_image(item.instance, item.spec, item.repo_source, eval_settings(config).images).tag


def after_chain(base_commit: str, test_patch: str) -> list[tuple[str, str]]:
    """The steps after the candidate patch applied: changed test files, restore them, the test patch."""
    quoted = " ".join(shlex.quote(p) for p in patch_paths(test_patch))
    if not quoted:
        return []
    return [
        ("changed_tests", f"git status --porcelain --untracked-files=all -- {quoted}"),
        ("restore_tests", restore_command(base_commit, patch_paths(test_patch))),
        ("test_patch", f"git apply --verbose {EVAL}/test.diff"),
    ]


def _one_round_trip(sandbox: DockerSandbox, candidate: str, test_patch: str, base_commit: str) -> None:
    """What ``workers.attempt`` does now: one exec, patches on stdin, the output parsed."""
    script = patch_script.build(WORKDIR, candidate, test_patch, base_commit)
    res = sandbox.exec(["bash", "-c", script.text], timeout=60, workdir=WORKDIR, stdin=script.stdin)
    ran = patch_script.parse(res.text, script.marker)
    assert ran.complete and ran.method == "git apply" and ran.rc("test-patch") == 0, res.text


def _per_step(sandbox: DockerSandbox, files: dict[str, bytes], base_commit: str, test_patch: str) -> None:
    """The call-per-step way (``workers/attempt.py`` before ``workers.patch_script``, when ``git apply``
    succeeds at once): an archive call per file, an exec per step, the two integrity snapshots."""
    for path, data in files.items():
        sandbox.write_file(path, data)
    first = CHAIN[0][1].format(p=f"{EVAL}/candidate.diff")
    steps = [("snapshot", patch_script.SNAPSHOT), ("git apply", first), ("snapshot", patch_script.SNAPSHOT)]
    for _name, cmd in [*steps, *after_chain(base_commit, test_patch)]:
        res = sandbox.exec(["bash", "-c", cmd], timeout=60, workdir=WORKDIR)
        assert res.returncode == 0, res.output


def run(reps: int = 15, workdir: Path | None = None) -> dict[str, Any]:
    ws = synthetic.make_workspace(
        Path(tempfile.mkdtemp(prefix="bench-patch-", dir=workdir)), instances=1, sleep_s=0
    )
    config = load(synthetic.sweep_config(ws, name="bench-patch", slots=1))
    item = plan_sweep(config).items[0]
    image = ensure_instance_image(
        item.instance, item.spec, item.repo_source, eval_settings(config).images
    ).tag
    files = {
        f"{EVAL}/candidate.diff": (item.candidate.patch or "").encode(),
        f"{EVAL}/test.diff": item.instance.test_patch.encode(),
    }
    backend = DockerBackend()
    cfg = SandboxConfig(
        image=image,
        limits=SandboxLimits(memory_mb=512, pids=256),
        workdir=WORKDIR,
        labels=item_labels("bench-patch-phase", "patch", 1),
    )
    samples: dict[str, list[float]] = {"per-step (before)": [], "one round trip (now)": []}
    trees: dict[str, set[str]] = {}
    inst = item.instance
    for _ in range(reps):
        for name, values in samples.items():
            sandbox = backend.create(cfg)
            try:
                t0 = time.perf_counter()
                if name.startswith("per-step"):
                    _per_step(sandbox, files, inst.base_commit, inst.test_patch)
                else:
                    _one_round_trip(sandbox, item.candidate.patch or "", inst.test_patch, inst.base_commit)
                values.append(time.perf_counter() - t0)
                tree = sandbox.exec(["git", "status", "--porcelain"], timeout=30).output.decode()
                trees.setdefault(name, set()).add(tree)
            finally:
                sandbox.remove()
    return {
        "reps": reps,
        "same_tree": len({frozenset(t) for t in trees.values()}) == 1,
        "tree": sorted(next(iter(trees.values()))),
        "variants": {
            name: {"median_s": round(median(v), 4), "p90_s": round(p90(v), 4)} for name, v in samples.items()
        },
    }
