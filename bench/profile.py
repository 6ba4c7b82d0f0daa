"""Profiles of the hot paths with py-spy (sampling, so the numbers are those of an unmodified run).

    python -m bench profile driver      the driver of a 10,000-item no-op sweep (plan, Ray, store)
    python -m bench profile task        a Ray task's body for 5,000 no-op items, in-process
    python -m bench profile aggregate   write_reports over 10,000 committed results
    python -m bench profile overhead    10 real items on a warm image, in-process (containers)

Each writes ``{out}/profiles/{target}.txt`` (collapsed stacks: open with speedscope or
flamegraph.pl) and ``{target}.top.txt``: the functions with the most samples, self and inclusive,
idle threads left out (with ``--idle`` for ``overhead``, whose time is mostly spent waiting on Docker).
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TARGETS = ("driver", "task", "aggregate", "overhead")
IDLE = re.compile(r"\b(wait|select|poll|epoll_wait|sleep|_wait_for_tstate_lock|accept|recv_into|acquire)\b")
_FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")
OURS = ("orchestrator", "workers", "bench")


def _py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: pip install -e '.[dev]'")
    return found


def _child(target: str, workdir: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "bench", "--workdir", str(workdir), "profile-target", target, *extra]


def run(target: str, *, out_dir: Path, workdir: Path | None = None) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-profile-", dir=workdir))
    extra: list[str] = []
    if target == "aggregate":  # the results to aggregate are made first, outside the profile
        store = scratch / "store"
        subprocess.run(_child("fill", scratch, ["--store", str(store)]), check=True, capture_output=True)
        extra = ["--store", str(store)]
    profiles = out_dir / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    raw = profiles / f"{target}.txt"
    cmd = [_py_spy(), "record", "-r", "100", "-f", "raw", "-o", str(raw)]
    if target == "overhead":
        cmd.append("--idle")
    subprocess.run([*cmd, "--", *_child(target, scratch, extra)], check=True, capture_output=True)
    top = summarize(raw)
    (profiles / f"{target}.top.txt").write_text(render(top), encoding="utf-8")
    return {"target": target, "collapsed_stacks": str(raw), **top}


def _name(frame: str) -> str:
    """``function (file)``: the file relative to the project for its own modules, else its base name."""
    m = _FRAME.match(frame)
    if m is None:
        return frame
    parts = m.group(2).split("/")
    mine = [i for i, part in enumerate(parts) if part in OURS]
    where = "/".join(parts[mine[-1] :]) if mine else parts[-1]
    return f"{m.group(1)} ({where})"


def summarize(raw: Path, n: int = 20) -> dict[str, Any]:
    """Samples per function: self (leaf) and inclusive, leaving out samples of idle threads."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_name(f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames or not count.isdigit():
            continue
        k = int(count)
        total += k
        own[frames[-1]] += k
        for f in set(frames):
            incl[f] += k
    busy = {f: v for f, v in own.items() if f.strip() and not IDLE.search(f)}
    return {
        "samples": total,
        "self": [(f, round(v / total, 4)) for f, v in sorted(busy.items(), key=lambda kv: -kv[1])[:n]],
        "inclusive": [(f, round(v / total, 4)) for f, v in incl.most_common() if _ours(f)][:n],
    }


def _ours(frame: str) -> bool:
    """A function of the project (not the profiling harness around it)."""
    return any(f"({d}/" in frame for d in ("orchestrator", "workers"))


def render(top: dict[str, Any]) -> str:
    lines = [f"samples: {top['samples']}", "", "self (share of samples):"]
    lines += [f"  {share:7.2%}  {name}" for name, share in top["self"]]
    lines += ["", "inclusive:"]
    lines += [f"  {share:7.2%}  {name}" for name, share in top["inclusive"]]
    return "\n".join(lines) + "\n"


def target(name: str, *, workdir: Path, store: Path | None) -> None:
    """What the profiled child process runs."""
    from bench import overhead, scale

    if name == "driver":
        scale.point(10_000, slots=4, batch_size=100, evaluator="bench.noop:evaluate", workdir=workdir)
    elif name == "task":
        scale.fill(workdir / "store", 5_000)
    elif name == "fill":
        assert store is not None
        scale.fill(store, 10_000)
    elif name == "aggregate":
        assert store is not None
        scale.aggregate(store)
    elif name == "overhead":
        overhead.run(items=10, warmup=1, workdir=workdir)
    else:
        raise ValueError(f"unknown profile target {name!r}")
