"""``python -m bench all``: every benchmark of BENCHMARKS.md in one run, then the tables.

Each benchmark's figures go to ``{out}/{name}.json`` (with the machine and the load); the tables of
BENCHMARKS.md are written to ``{out}/figures.md`` and printed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import render, results
from bench.measure import load_1m, machine


def _steps(workdir: Path | None, sizes: list[int], out_dir: Path) -> list[tuple[str, Callable[[], Any]]]:
    from bench import efficiency, harness, overhead, patchproto, primitives, profile, reuse, scale

    return [
        ("primitives", lambda: primitives.run(patchproto.warm_image(workdir))),
        ("patch-proto", lambda: patchproto.run(workdir=workdir)),
        ("overhead", lambda: overhead.run(workdir=workdir)),
        ("efficiency", lambda: [efficiency.run(sleep_s=s, workdir=workdir) for s in (5.0, 15.0)]),
        ("reuse", lambda: reuse.run(workdir=workdir)),
        ("harness", lambda: harness.run(workdir=workdir)),
        ("scale", lambda: scale.run(sizes, slots=4, batch_size=100, workdir=workdir)),
        ("profile", lambda: [profile.run(t, out_dir=out_dir, workdir=workdir) for t in profile.TARGETS]),
    ]


def run(*, out_dir: Path, workdir: Path | None, sizes: list[int]) -> dict[str, Any]:
    host = machine()
    done: dict[str, Any] = {}
    for name, step in _steps(workdir, sizes, out_dir):
        t0 = time.perf_counter()
        print(f"bench: {name} (load {load_1m():.2f}) ...", file=sys.stderr, flush=True)
        done[name] = step()
        results.save(out_dir, name, done[name], host=host)
        print(f"bench: {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    text = render.figures(host, done, load_end=load_1m())
    (out_dir / "figures.md").write_text(text, encoding="utf-8")
    print(text)
    return done
