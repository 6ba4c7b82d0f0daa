"""A progress bar with counts, rate, ETA and verdict tallies."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
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
    "infra": "infra",  # no verdict: an infrastructure failure, evaluated again by the next run
}


def throughput(items: int, seconds: float, remaining: int) -> tuple[str, str]:
    """Rate and ETA text of ``items`` finished in ``seconds`` of this run (resumed items excluded)."""
    if items <= 0 or seconds <= 0:
        return "", "-:--:--"
    per_second = items / seconds
    eta = round(remaining / per_second)
    return f"{per_second * 60:.1f}/min", f"{eta // 3600}:{eta % 3600 // 60:02d}:{eta % 60:02d}"


class SweepProgress:
    """Context manager: ``advance(verdict)`` per finished item.

    The rate counts only the items this run finished, over the time since this run started: items
    committed before a resume are in the count (``done``) but not in the rate or the ETA."""

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tallies: Counter[str] = Counter()
        self.console = console or make_console(stderr=True)
        self.total, self.done, self.finished_here = total, done, 0
        self._clock = clock
        self._started = clock()
        self._progress = Progress(
            TextColumn("[bold]eval"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[tallies]}"),
            console=self.console,
            transient=False,
            refresh_per_second=4,
        )
        self._task: TaskID = self._progress.add_task(
            "eval", total=total, completed=done, rate="", eta="-:--:--", tallies=""
        )

    def __enter__(self) -> SweepProgress:
        self._started = self._clock()
        self._progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def rate(self) -> tuple[str, str]:
        """(rate, ETA) as shown: items finished in this run over the time this run has taken."""
        remaining = max(0, self.total - self.done - self.finished_here)
        return throughput(self.finished_here, self._clock() - self._started, remaining)

    def advance(self, verdict: str) -> None:
        self.tallies[verdict] += 1
        self.finished_here += 1
        rate, eta = self.rate()
        text = " ".join(f"{_SHORT[v]}={self.tallies[v]}" for v in (*VERDICTS, "infra") if self.tallies[v])
        self._progress.update(self._task, advance=1, rate=rate, eta=eta, tallies=text)
