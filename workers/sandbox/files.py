"""Files in and out of a Docker sandbox through the archive API (tar streams, never a shell).

The archive API works on a stopped container too, and is not subject to the sandbox's limits.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_DIR_BIT = 1 << 31  # Go's os.ModeDir in the path stat Docker returns


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the archive stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def tar_files(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    """A tar archive holding each ``data`` at its ``path`` (relative to /), owned by root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def put_file(api: Any, container_id: str, path: str, data: bytes, mode: int) -> None:
    if not api.put_archive(container_id, "/", tar_files({path: data}, mode)):
        raise OSError(f"docker refused to write {path}")


def get_file(api: Any, container_id: str, path: str, max_bytes: int, follow: int = 8) -> bytes:
    """The first ``max_bytes`` of a regular file; symlinks are followed ``follow`` times at most."""
    chunks, stat = api.get_archive(container_id, path, chunk_size=1 << 16)
    try:
        if stat and int(stat.get("mode", 0)) & _DIR_BIT:
            raise IsADirectoryError(path)
        with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as archive:
            member = archive.next()
            if member is None:
                raise FileNotFoundError(path)
            if member.issym() and follow > 0:
                target = posixpath.join(posixpath.dirname(path), member.linkname)
                return get_file(api, container_id, posixpath.normpath(target), max_bytes, follow - 1)
            content = archive.extractfile(member) if member.isfile() else None
            if content is None:
                raise IsADirectoryError(path) if member.isdir() else FileNotFoundError(path)
            return content.read(max_bytes)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def copy_tree(api: Any, container_id: str, path: str, host_dir: Path) -> Path:
    """Extract ``path`` (file or directory) into ``host_dir``; members escaping it are refused."""
    chunks, _ = api.get_archive(container_id, path, chunk_size=1 << 16)
    host_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as archive:
        archive.extractall(host_dir, filter="data")
    return host_dir / posixpath.basename(path.rstrip("/"))
