"""`evalfleet status SWEEP`: planned vs committed, verdict tallies per run."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from orchestrator.commands.common import open_sweep
from orchestrator.commit import load_results
from orchestrator.console import make_console
from workers.models import VERDICTS


def status_command(sweep_id: str, store_url: str | None) -> None:
    store, manifest = open_sweep(sweep_id, store_url)
    results = load_results(store, sweep_id)
    planned = int(manifest.get("planned", 0))
    console = make_console()
    console.print(f"sweep {sweep_id} in {store.url}")
    console.print(f"{len(results)} of {planned} items committed ({planned - len(results)} to go)")
    table = Table(show_edge=False)
    table.add_column("run")
    for v in VERDICTS:
        table.add_column(v, justify="right")
    per_run: dict[str, Counter[str]] = {}
    for r in results:
        per_run.setdefault(r.run, Counter())[r.verdict] += 1
    for run in sorted(per_run):
        table.add_row(run, *(str(per_run[run][v]) for v in VERDICTS))
    console.print(table)
