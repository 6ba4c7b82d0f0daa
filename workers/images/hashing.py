"""Content hashes that name images: canonical JSON in, short hex out."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path

# Bump when the meaning of a layer changes in a way its hashed inputs do not show.
HASH_VERSION = "evalfleet-images/1"
TAG_HEX = 16

_digests: dict[tuple[str, int, int], str] = {}
_digests_lock = threading.Lock()


def content_hash(payload: Mapping[str, object], length: int = TAG_HEX) -> str:
    """Hash of a JSON-able mapping, independent of key order."""
    text = json.dumps({"v": HASH_VERSION, **payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def text_digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime) for the life of the process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _digests_lock:
        if key in _digests:
            return _digests[key]
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _digests_lock:
        _digests[key] = digest
    return digest


def safe_name(tag: str) -> str:
    """A tag as a file name: 'evalfleet/env:ab12' -> 'evalfleet_env_ab12'."""
    return "".join(c if c.isalnum() or c in "-." else "_" for c in tag)
