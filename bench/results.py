"""Where figures go: one JSON file per benchmark under bench/results/, with the machine they came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.measure import load_1m, machine

DEFAULT_DIR = Path(__file__).resolve().parent / "results"


def save(out_dir: Path, name: str, value: Any, *, host: dict[str, Any] | None = None) -> Path:
    """Write ``{out_dir}/{name}.json``: the figures, the machine, and the load when they were taken."""
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "machine": host or machine(),
        "load_1m_at_end": round(load_1m(), 2),
        "figures": value,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def load(out_dir: Path, name: str) -> dict[str, Any] | None:
    path = out_dir / f"{name}.json"
    if not path.is_file():
        return None
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record
