"""`evalfleet report SWEEP` and `evalfleet compare A B`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.commands.common import open_sweep
from orchestrator.commit import load_results
from orchestrator.errors import ConfigError
from orchestrator.report.aggregate import primary, write_reports
from workers.models import VERDICTS, Result

console = Console(highlight=False)


def report_command(sweep_id: str, store_url: str | None) -> None:
    store, _manifest = open_sweep(sweep_id, store_url)
    written = write_reports(store, sweep_id)
    results = primary(load_results(store, sweep_id))
    table = Table(show_edge=False)
    table.add_column("run")
    table.add_column("resolved", justify="right")
    for v in VERDICTS[1:]:
        table.add_column(v, justify="right")
    for run in sorted({r.run for r in results}):
        rs = [r for r in results if r.run == run]
        n_res = sum(r.resolved for r in rs)
        table.add_row(
            run, f"{n_res}/{len(rs)} ({100 * n_res / len(rs):.1f}%)",
            *(str(sum(r.verdict == v for r in rs)) for v in VERDICTS[1:]),
        )
    console.print(table)
    for key in written:
        console.print(f"wrote {store.url}/{key}")


def _run_results(ref: str, store_url: str | None) -> tuple[str, dict[str, Result]]:
    sweep_id, _, run = ref.partition(":")
    store, _ = open_sweep(sweep_id, store_url)
    results = primary(load_results(store, sweep_id))
    runs = sorted({r.run for r in results})
    if not run:
        if len(runs) != 1:
            raise ConfigError(f"sweep {sweep_id} has runs {', '.join(runs)}", source=ref, fix="write SWEEP:RUN")
        run = runs[0]
    if run not in runs:
        raise ConfigError(f"no run {run!r} in sweep {sweep_id}", source=ref, fix=f"choose one of {', '.join(runs)}")
    return f"{sweep_id}:{run}", {r.instance_id: r for r in results if r.run == run}


def compare_command(a: str, b: str, store_url: str | None) -> None:
    name_a, ra = _run_results(a, store_url)
    name_b, rb = _run_results(b, store_url)
    common = sorted(set(ra) & set(rb))
    both = [i for i in common if ra[i].resolved and rb[i].resolved]
    only_a = [i for i in common if ra[i].resolved and not rb[i].resolved]
    only_b = [i for i in common if rb[i].resolved and not ra[i].resolved]
    table = Table(show_edge=False)
    table.add_column("")
    table.add_column(name_a, justify="right")
    table.add_column(name_b, justify="right")
    n = len(common) or 1
    table.add_row("common instances", str(len(common)), str(len(common)))
    table.add_row(
        "resolved", f"{len(both) + len(only_a)} ({100 * (len(both) + len(only_a)) / n:.1f}%)",
        f"{len(both) + len(only_b)} ({100 * (len(both) + len(only_b)) / n:.1f}%)",
    )
    table.add_row("resolved by this run only", str(len(only_a)), str(len(only_b)))
    console.print(table)
    console.print(f"both resolved: {len(both)}; neither: {len(common) - len(both) - len(only_a) - len(only_b)}")
    for title, ids in ((f"only {name_a}", only_a), (f"only {name_b}", only_b)):
        if ids:
            console.print(f"{title}: {', '.join(ids)}")
