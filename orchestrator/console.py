"""Terminal output: rich consoles that stay readable when piped (CI logs, files)."""

from __future__ import annotations

import os
import sys

from rich.console import Console

PIPED_WIDTH = 140


def make_console(*, stderr: bool = False) -> Console:
    """A console; when the stream is not a terminal, a wide fixed width instead of rich's 80 columns."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or "COLUMNS" in os.environ else PIPED_WIDTH
    return Console(stderr=stderr, highlight=False, width=width)
