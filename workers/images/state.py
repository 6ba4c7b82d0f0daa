"""What Docker does not track: when an image was last used, and every build (a JSON line each).

One small JSON file per tag under ``<state_dir>/last-used/``, rewritten atomically by every ensure;
builds are appended to ``<state_dir>/builds.jsonl`` (readable across processes and nodes' restarts).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

from pydantic import BaseModel

from workers.images.hashing import safe_name


class BuildRecord(BaseModel):
    """One layer built by this host."""

    tag: str
    layer: str
    image_id: str
    seconds: float
    at: float
    host: str
    pid: int


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def touch(state_dir: Path, tag: str, image_id: str, *, at: float | None = None) -> None:
    """Record that ``tag`` was used now (or at ``at``)."""
    record = {"tag": tag, "image_id": image_id, "last_used": time.time() if at is None else at}
    _write_atomic(state_dir / "last-used" / f"{safe_name(tag)}.json", json.dumps(record))


def last_used(state_dir: Path) -> dict[str, float]:
    """Tag -> last use (epoch seconds) of every recorded tag."""
    found: dict[str, float] = {}
    for path in sorted((state_dir / "last-used").glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            found[str(record["tag"])] = float(record["last_used"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def forget(state_dir: Path, tag: str) -> None:
    (state_dir / "last-used" / f"{safe_name(tag)}.json").unlink(missing_ok=True)


def record_build(state_dir: Path, *, tag: str, layer: str, image_id: str, seconds: float) -> BuildRecord:
    record = BuildRecord(
        tag=tag,
        layer=layer,
        image_id=image_id,
        seconds=round(seconds, 3),
        at=time.time(),
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    line = record.model_dump_json() + "\n"
    fd = os.open(state_dir / "builds.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))  # one write with O_APPEND: lines never interleave
    finally:
        os.close(fd)
    return record


def build_history(state_dir: Path) -> list[BuildRecord]:
    path = state_dir / "builds.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(BuildRecord.model_validate_json(line))
        except ValueError:
            continue
    return records


def log_path(state_dir: Path, tag: str) -> Path:
    return state_dir / "logs" / f"{safe_name(tag)}.log"
