"""``python -m bench all``: every benchmark of BENCHMARKS.md in one run, then the tables.

Each benchmark's figures go to ``{out}/{name}.json`` (with the machine and the load); the tables of
BENCHMARKS.md are written to ``{out}/figures.md`` and printed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import render, results
from bench.measure import load_1m, machine

BASELINE = "a4e9b97"  # the last commit before the control-plane fixes of BENCHMARKS.md
EFFICIENCY = ((8, 5.0), (8, 15.0), (4, 5.0))  # (slots, seconds each test sleeps), 64 items each


def _steps(
    workdir: Path, sizes: list[int], out_dir: Path, done: dict[str, Any]
) -> list[tuple[str, Callable[[], Any]]]:
    from bench import efficiency, fixes, harness, overhead, patch_phase, primitives, profile, reuse, scale

    return [
        ("primitives", lambda: primitives.run(patch_phase.warm_image(workdir))),
        ("patch-phase", lambda: patch_phase.run(workdir=workdir)),
        ("overhead", lambda: [overhead.run(pipelined=p, workdir=workdir) for p in (True, False)]),
        ("efficiency", lambda: [efficiency.run(slots=n, sleep_s=s, workdir=workdir) for n, s in EFFICIENCY]),
        ("reuse", lambda: reuse.run(workdir=workdir)),
        ("harness", lambda: harness.run(workdir=workdir)),
        ("scale", lambda: scale.run(sizes, slots=4, batch_size=100, workdir=workdir)),
        ("scale-batch1", lambda: scale.run([10_000], slots=4, batch_size=1, workdir=workdir)),
        ("fixes", lambda: fixes.run(Path(done["scale"][-1]["store"]), baseline=BASELINE, workdir=workdir)),
        ("profile", lambda: [profile.run(t, out_dir=out_dir, workdir=workdir) for t in profile.TARGETS]),
    ]


def run(*, out_dir: Path, workdir: Path | None, sizes: list[int], start: str | None = None) -> dict[str, Any]:
    """Every benchmark (from ``start`` on: the earlier ones' saved figures are kept); their scratch files
    (stores of up to 100k items, ~2 GB) are removed at the end."""
    scratch = Path(tempfile.mkdtemp(prefix="evalfleet-bench-", dir=workdir))
    try:
        return _run(out_dir, scratch, sizes, start)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(out_dir: Path, workdir: Path, sizes: list[int], start: str | None) -> dict[str, Any]:
    host = machine()
    done: dict[str, Any] = {}
    steps = _steps(workdir, sizes, out_dir, done)
    names = [name for name, _ in steps]
    if start is not None and start not in names:
        raise SystemExit(f"unknown step {start!r}: one of {', '.join(names)}")
    for name, step in steps[names.index(start) if start else 0 :]:
        t0 = time.perf_counter()
        print(f"bench: {name} (load {load_1m():.2f}) ...", file=sys.stderr, flush=True)
        done[name] = step()
        results.save(out_dir, name, done[name], host=host)
        print(f"bench: {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    text = render_saved(out_dir)
    (out_dir / "figures.md").write_text(text, encoding="utf-8")
    print(text)
    return done


NAMES = (
    "primitives",
    "patch-phase",
    "overhead",
    "efficiency",
    "reuse",
    "harness",
    "scale",
    "scale-batch1",
    "fixes",
    "profile",
)


def render_saved(out_dir: Path) -> str:
    """figures.md again from the saved results (e.g. after re-running one benchmark)."""
    saved = {name: rec for name in NAMES if (rec := results.load(out_dir, name)) is not None}
    if not saved:
        raise SystemExit(f"no results in {out_dir}: run python -m bench all")
    hosts = [rec["machine"] for rec in saved.values()]
    loads = {k: v["load_1m_at_end"] for k, v in saved.items()}
    text = render.figures(hosts, {k: v["figures"] for k, v in saved.items()}, loads=loads)
    (out_dir / "figures.md").write_text(text, encoding="utf-8")
    return text
