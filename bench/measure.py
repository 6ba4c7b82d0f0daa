"""Small measuring helpers: percentiles, the machine a figure was taken on, peak memory."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
from collections.abc import Sequence
from typing import Any

from orchestrator.report.stats import quantile


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the closest ranks (``stats.quantile``); NaN for none."""
    return quantile(sorted(values), q / 100) if values else float("nan")


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def p90(values: Sequence[float]) -> float:
    return percentile(values, 90)


def load_1m() -> float:
    return os.getloadavg()[0]


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot (every process: the engine, runc, Ray...)."""
    with open("/proc/stat", encoding="utf-8") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _docker_version() -> str:
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine() -> dict[str, Any]:
    """Where and when a figure was measured."""
    with open("/proc/meminfo", encoding="utf-8") as fh:
        mem_kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
    import ray

    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": platform.processor() or platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "docker": _docker_version(),
        "load_1m_at_start": round(load_1m(), 2),
    }
