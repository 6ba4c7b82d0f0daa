"""A progress bar with counts, rate, ETA and verdict tallies."""

from __future__ import annotations

from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from orchestrator.console import make_console
from workers.models import VERDICTS

_SHORT = {
    "resolved": "res",
    "unresolved": "unres",
    "patch_failed": "nopatch",
    "empty_patch": "empty",
    "timeout": "timeout",
    "error": "error",
}


class SweepProgress:
    """Context manager: ``advance(verdict)`` per finished item."""

    def __init__(self, total: int, *, done: int = 0, console: Console | None = None) -> None:
        self.tallies: Counter[str] = Counter()
        self.console = console or make_console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]eval"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[tallies]}"),
            console=self.console,
            transient=False,
            refresh_per_second=4,
        )
        self._task: TaskID = self._progress.add_task("eval", total=total, completed=done, rate="", tallies="")

    def __enter__(self) -> SweepProgress:
        self._progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def advance(self, verdict: str) -> None:
        self.tallies[verdict] += 1
        task = self._progress.tasks[0]
        speed = task.finished_speed or task.speed
        rate = f"{speed * 60:.1f}/min" if speed else ""
        text = " ".join(f"{_SHORT[v]}={self.tallies[v]}" for v in VERDICTS if self.tallies[v])
        self._progress.update(self._task, advance=1, rate=rate, tallies=text)
