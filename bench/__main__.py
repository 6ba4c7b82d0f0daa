"""``python -m bench COMMAND``: run the benchmarks; figures go to bench/results/ and BENCHMARKS.md.

python -m bench all                      every figure of BENCHMARKS.md (about 30 minutes on 2 cores)
python -m bench efficiency [--slots 8,4] [--sleep 5,15]   test time / (slots x makespan), 64 items
python -m bench overhead                 fixed per-item overhead by phase, warm image
python -m bench primitives               container start, exec, file write, removal
python -m bench patch-phase              the patch phase: a call per step (before) vs one round trip
python -m bench scale --sizes 1000,10000,100000
python -m bench reuse                    N items, one env image: one build; cold vs warm
python -m bench cluster-images           a cold 2-node cluster (an engine each) and a registry: builds per image
python -m bench harness                  side by side with the official swebench harness
python -m bench profile driver|task|aggregate|overhead   py-spy profile of a run
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import results

Command = Callable[[argparse.Namespace], Any]


def _efficiency(a: argparse.Namespace) -> Any:
    from bench import efficiency

    return [
        efficiency.run(items=a.items, slots=n, sleep_s=s, workdir=a.workdir) for n in a.slots for s in a.sleep
    ]


def _overhead(a: argparse.Namespace) -> Any:
    from bench import overhead

    return [overhead.run(items=a.items, pipelined=p, workdir=a.workdir) for p in (True, False)]


def _primitives(a: argparse.Namespace) -> Any:
    from bench import patch_phase, primitives

    return primitives.run(patch_phase.warm_image(a.workdir), reps=a.reps)


def _patch_phase(a: argparse.Namespace) -> Any:
    from bench import patch_phase

    return patch_phase.run(reps=a.reps, workdir=a.workdir)


def _scale(a: argparse.Namespace) -> Any:
    from bench import scale

    return scale.run(
        a.sizes, slots=a.slots, batch_size=a.batch_size, evaluator=a.evaluator, workdir=a.workdir
    )


def _scale_point(a: argparse.Namespace) -> Any:
    from bench import scale

    return scale.point(
        a.items, slots=a.slots, batch_size=a.batch_size, evaluator=a.evaluator, workdir=a.workdir
    )


def _reuse(a: argparse.Namespace) -> Any:
    from bench import reuse

    return reuse.run(items=a.items, slots=a.slots, workdir=a.workdir)


def _cluster_images(a: argparse.Namespace) -> Any:
    from bench import cluster_images

    return cluster_images.run(items=a.items, slots=a.slots, workdir=a.workdir)


def _harness(a: argparse.Namespace) -> Any:
    from bench import harness

    return harness.run(slots=a.slots, workdir=a.workdir)


def _profile(a: argparse.Namespace) -> Any:
    from bench import profile

    return profile.run(a.target, out_dir=a.out, workdir=a.workdir)


def _profile_target(a: argparse.Namespace) -> Any:
    from bench import profile

    profile.target(a.target, workdir=a.workdir or Path("/tmp"), store=a.store)
    return None


def _fixes(a: argparse.Namespace) -> Any:
    from bench import fixes

    return fixes.run(a.store, baseline=a.baseline, workdir=a.workdir)


def _render(a: argparse.Namespace) -> Any:
    from bench import suite

    return suite.render_saved(a.out)


def _all(a: argparse.Namespace) -> Any:
    from bench import suite

    return suite.run(out_dir=a.out, workdir=a.workdir, sizes=a.sizes, start=a.start)


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def _floats(text: str) -> list[float]:
    return [float(s) for s in text.split(",") if s.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=results.DEFAULT_DIR, help="Where results are written.")
    p.add_argument("--workdir", type=Path, default=None, help="Scratch directory (default: the system's).")
    sub = p.add_subparsers(dest="command", required=True)
    commands: dict[str, Command] = {}

    def add(name: str, fn: Command, help_: str) -> argparse.ArgumentParser:
        commands[name] = fn
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn, name=name)
        return sp

    sp = add("efficiency", _efficiency, "test time / (slots x makespan)")
    sp.add_argument("--items", type=int, default=64)
    sp.add_argument("--slots", type=_sizes, default=[8], help="Sandbox slots (comma list).")
    sp.add_argument("--sleep", type=_floats, default=[5.0], help="Seconds each test sleeps (comma list).")
    sp = add("overhead", _overhead, "fixed per-item overhead by phase")
    sp.add_argument("--items", type=int, default=30)
    sp = add("primitives", _primitives, "sandbox primitives, timed")
    sp.add_argument("--reps", type=int, default=15)
    sp = add("patch-phase", _patch_phase, "the patch phase: a call per step vs one round trip")
    sp.add_argument("--reps", type=int, default=15)
    for name, fn in (("scale", _scale), ("scale-point", _scale_point)):
        sp = add(name, fn, "control-plane scale with a no-op evaluator")
        if name == "scale":
            sp.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000])
        else:
            sp.add_argument("--items", type=int, required=True)
        sp.add_argument("--slots", type=int, default=4)
        sp.add_argument("--batch-size", type=int, default=100)
        sp.add_argument("--evaluator", default="bench.noop:evaluate")
    sp = add("reuse", _reuse, "one env build for N items; cold vs warm")
    sp.add_argument("--items", type=int, default=8)
    sp.add_argument("--slots", type=int, default=4)
    sp = add("cluster-images", _cluster_images, "a cold 2-node cluster with a registry: builds per image")
    sp.add_argument("--items", type=int, default=8)
    sp.add_argument("--slots", type=int, default=2, help="Sandbox slots per node.")
    sp = add("harness", _harness, "side by side with the official harness")
    sp.add_argument("--slots", type=int, default=2)
    sp = add("profile", _profile, "py-spy profile of a run")
    sp.add_argument("target", choices=["driver", "task", "aggregate", "overhead"])
    sp = add("profile-target", _profile_target, "(internal) what a profiled child runs")
    sp.add_argument("target", choices=["driver", "task", "fill", "aggregate", "overhead"])
    sp.add_argument("--store", type=Path, default=None)
    sp = add("fixes", _fixes, "control-plane fixes: baseline commit vs working tree")
    sp.add_argument("--store", type=Path, required=True, help="A file store holding one committed sweep.")
    sp.add_argument("--baseline", default="HEAD", help="Commit to compare with (git archive).")
    add("render", _render, "the tables of BENCHMARKS.md from the saved results")
    sp = add("all", _all, "every figure of BENCHMARKS.md")
    sp.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000])
    sp.add_argument("--from", dest="start", default=None, help="Resume at this step (after a failure).")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    value = args.fn(args)
    if args.name == "scale-point":  # read by the parent process: one JSON line on stdout
        print(json.dumps(value))
        return 0
    if args.name == "profile-target":
        return 0
    if args.name == "render":
        print(value)
        return 0
    if args.name != "all":
        path = results.save(args.out, args.name, value)
        print(json.dumps(value, indent=1))
        print(f"-> {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
