"""A prototype of the patch phase in one Docker round trip, timed next to the call-per-step way.

Today the patch phase writes each patch with its own archive call and runs every step of the chain
(``git apply``, resets, ``git status`` of the test files, restoring them, the test patch, plus the
integrity steps) as its own exec; on this machine each archive call or exec costs ~0.1 s whatever it
does (runc starting a process, or dockerd re-executing itself to untar). The prototype runs the same
steps of the HEAD chain (``workers/patching.py``) as one bash script:

- ``archive+exec``: both patches in one tar (one ``put_archive``), then one exec of the chain;
- ``stdin-exec``: one exec whose stdin carries the tar (``tar -x`` then the chain): no archive call.

Each step prints ``@@step NAME EXIT`` so the caller can rebuild the log and the outcome. The three
variants run on fresh sandboxes of the same warm image with the same patches and must leave the same
tree (``git status --porcelain``).
"""

from __future__ import annotations

import io
import shlex
import socket
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.drive import load
from bench.measure import median, p90
from orchestrator.execute import eval_settings
from orchestrator.sweep import plan_sweep
from workers.images import ensure_instance_image
from workers.models import SandboxLimits
from workers.patching import CHAIN, RESET, patch_paths
from workers.sandbox.base import SandboxConfig
from workers.sandbox.docker import DockerBackend, DockerSandbox
from workers.sandbox.labels import item_labels
from workers.sandbox.output import FrameDecoder

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
    base = shlex.quote(base_commit)
    restore = (
        f'for f in {quoted}; do if git cat-file -e {base}:"$f" 2>/dev/null; '
        f'then git checkout -q {base} -- "$f"; else rm -rf -- "$f"; fi; done'
    )
    return [
        ("changed_tests", f"git status --porcelain --untracked-files=all -- {quoted}"),
        ("restore_tests", restore),
        ("test_patch", f"git apply --verbose {EVAL}/test.diff"),
    ]


def chain_script(base_commit: str, test_patch: str) -> str:
    """The HEAD patch chain as one script: each method until one applies (reset between), then the rest."""
    cand = f"{EVAL}/candidate.diff"
    lines = [
        f"cd {WORKDIR}",
        'step() { name=$1; shift; "$@"; rc=$?; echo "@@step $name $rc"; return $rc; }',
        "ok=0",
    ]
    for name, template in CHAIN:
        apply = f"step {shlex.quote(name)} bash -c {shlex.quote(template.format(p=cand))}"
        lines.append(f"[ $ok = 1 ] || {{ {apply} && ok=1 || step reset bash -c {shlex.quote(RESET)}; }}")
    lines.append('[ $ok = 1 ] || { echo "@@step chain_failed 1"; exit 1; }')
    lines += [f"step {name} bash -c {shlex.quote(cmd)}" for name, cmd in after_chain(base_commit, test_patch)]
    return "\n".join(lines) + "\n"


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _stdin_exec(api: Any, container_id: str, argv: list[str], stdin: bytes) -> tuple[int, bytes]:
    """One exec with ``stdin`` written to it (then half-closed), its output and exit code."""
    exec_id = api.exec_create(container_id, argv, stdin=True, stdout=True, stderr=True)["Id"]
    raw = api.exec_start(exec_id, socket=True)
    sock: socket.socket = getattr(raw, "_sock", raw)
    sock.sendall(stdin)
    sock.shutdown(socket.SHUT_WR)
    decoder, out = FrameDecoder(), bytearray()
    while chunk := sock.recv(1 << 16):
        for _stream, payload in decoder.feed(chunk):
            out += payload
    sock.close()
    while (info := api.exec_inspect(exec_id)).get("Running"):
        time.sleep(0.005)
    return int(info["ExitCode"]), bytes(out)


def _variant(name: str, sandbox: DockerSandbox, api: Any, files: dict[str, bytes], script: str) -> str:
    if name == "archive+exec":
        api.put_archive(sandbox.id, "/", _tar(files))
        res = sandbox.exec(["bash", "-c", script], timeout=60)
        out = res.output.decode()
    else:
        tar_x = f"mkdir -p {EVAL} && tar -x -C / && bash -c {shlex.quote(script)}"
        _code, raw = _stdin_exec(api, sandbox.id, ["bash", "-c", tar_x], _tar(files))
        out = raw.decode()
    assert "@@step git apply 0" in out, out
    return out


def _per_step(sandbox: DockerSandbox, files: dict[str, bytes], base_commit: str, test_patch: str) -> None:
    """The call-per-step way (HEAD's ``workers/patching.py`` when ``git apply`` succeeds at once): an
    archive call per file, an exec per step."""
    for path, data in files.items():
        sandbox.write_file(path, data)
    first = CHAIN[0][1].format(p=f"{EVAL}/candidate.diff")
    for _name, cmd in [("git apply", first), *after_chain(base_commit, test_patch)]:
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
    script = chain_script(item.instance.base_commit, item.instance.test_patch)
    backend = DockerBackend()
    cfg = SandboxConfig(
        image=image,
        limits=SandboxLimits(memory_mb=512, pids=256),
        workdir=WORKDIR,
        labels=item_labels("bench-patch-proto", "proto", 1),
    )
    samples: dict[str, list[float]] = {"per-step": [], "archive+exec": [], "stdin-exec": []}
    trees: dict[str, set[str]] = {}
    for _ in range(reps):
        for name, values in samples.items():
            sandbox = backend.create(cfg)
            try:
                t0 = time.perf_counter()
                if name == "per-step":
                    _per_step(sandbox, files, item.instance.base_commit, item.instance.test_patch)
                else:
                    _variant(name, sandbox, backend.client.api, files, script)
                values.append(time.perf_counter() - t0)
                tree = sandbox.exec(["git", "status", "--porcelain"], timeout=30).output.decode()
                trees.setdefault(name, set()).add(tree)
            finally:
                sandbox.remove()
    return {
        "reps": reps,
        "same_tree": len({frozenset(t) for t in trees.values()}) == 1,
        "tree": sorted(next(iter(trees.values()))),
        "steps_in_chain": script.count("step "),
        **{name: {"median_s": round(median(v), 4), "p90_s": round(p90(v), 4)} for name, v in samples.items()},
    }
