"""Bounded capture of a command's output, and decoding of Docker's multiplexed stream.

``OutputCap`` keeps at most ``cap`` bytes however much is written: the first quarter (where a run
says what it is doing) and the last three quarters (where test summaries are), with a marker line
between them saying how many bytes were dropped. It counts every byte it is fed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

HEAD_FRACTION = 0.25
MARKER = b"\n[evalfleet: %d bytes of output dropped here]\n"
_MARKER_ROOM = len(MARKER) + 20  # the widest count fits


class OutputCap:
    """Keeps the head and the tail of a stream within ``cap`` bytes; counts the total."""

    def __init__(self, cap: int) -> None:
        if cap < 2 * _MARKER_ROOM:
            raise ValueError(f"output cap {cap} is too small (at least {2 * _MARKER_ROOM} bytes)")
        self.cap = cap
        self.total = 0
        self._head_cap = int((cap - _MARKER_ROOM) * HEAD_FRACTION)
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        self.total += len(view)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += view[:room]
            view = view[room:]
        if len(view) >= self._tail_cap:
            self._tail = bytearray(view[-self._tail_cap :])
            return
        self._tail += view
        if len(self._tail) > 2 * self._tail_cap:  # trim rarely: amortised O(1) per byte
            del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def value(self) -> bytes:
        if not self.truncated:
            return bytes(self._head + self._tail)
        kept_tail = self.cap - len(self._head) - _MARKER_ROOM
        tail = self._tail[-kept_tail:]
        marker = MARKER % (self.total - len(self._head) - len(tail))
        return bytes(self._head) + marker + bytes(tail)


class FrameDecoder:
    """Decodes Docker's multiplexed stream (8-byte header: stream id, 3 zero bytes, big-endian size).

    Payloads are passed on as they arrive, so a huge frame is never held whole.
    """

    def __init__(self) -> None:
        self._header = bytearray()
        self._stream = 0
        self._remaining = 0

    def feed(self, data: bytes | memoryview) -> Iterator[tuple[int, memoryview]]:
        view = memoryview(data)
        while view:
            if self._remaining:
                piece = view[: self._remaining]
                self._remaining -= len(piece)
                view = view[len(piece) :]
                yield self._stream, piece
                continue
            need = 8 - len(self._header)
            self._header += view[:need]
            view = view[need:]
            if len(self._header) == 8:
                self._stream, self._remaining = struct.unpack(">BxxxL", self._header)
                self._header.clear()


class PidLine:
    """Takes the first line the exec wrapper writes on stdout (its pid) off the front of the output."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.pid: int | None = None
        self.done = False

    def feed(self, data: memoryview) -> memoryview:
        """What is left of ``data`` once the pid line is taken off (held back until it is complete)."""
        if self.done:
            return data
        self._buffer += data
        newline = self._buffer.find(b"\n")
        if newline < 0 and len(self._buffer) < 32:
            return memoryview(b"")
        self.done = True
        line = bytes(self._buffer[:newline]) if newline >= 0 else b""
        if line.isdigit():
            self.pid = int(line)
            return memoryview(bytes(self._buffer[newline + 1 :]))
        return memoryview(bytes(self._buffer))  # not a pid line: pass everything on

    def flush(self) -> bytes:
        """Bytes held back when the stream ended before a full line."""
        rest = b"" if self.done else bytes(self._buffer)
        self.done = True
        return rest
