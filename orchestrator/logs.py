"""Logging: structlog JSON lines to a file per sweep, readable warnings on the console."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog


def _no_traceback(sio: TextIO, exc_info: Any) -> None:
    """Console lines carry no traceback (it is in the log file); the event says what happened."""


def json_formatter() -> logging.Formatter:
    """JSON lines, with the traceback of an exception as a string field."""
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    )


def configure(log_file: Path | None, *, console_level: int = logging.WARNING) -> None:
    """Route structlog through stdlib logging: JSON to ``log_file`` (debug), plain lines to stderr."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(  # one line per event: tracebacks go to the log file only
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_no_traceback)
        )
    )
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(json_formatter())
        root.addHandler(fh)
    for noisy in ("botocore", "urllib3", "docker", "filelock", "boto3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
