"""The hijacked connection of one ``docker exec``, read with deadlines.

docker-py hands back the raw socket of the upgraded HTTP connection; bytes that arrived together with
the response headers may already sit in http.client's buffer, so those are taken first. The socket is
then read non-blocking with ``poll``, so a silent or flooding command can never hold a reader past its
deadline.
"""

from __future__ import annotations

import contextlib
import io
import select
import socket
import time
from typing import Any

_CHUNK = 1 << 16


class ExecStream:
    """Reads the raw exec stream: ``read(deadline)`` -> bytes, b"" at end of stream, None at deadline."""

    def __init__(self, raw: Any) -> None:
        self._response = getattr(raw, "_response", None)
        self._sock: Any = getattr(raw, "_sock", raw) if isinstance(raw, socket.SocketIO) else raw
        self._sock.setblocking(False)
        self._pending = self._buffered_bytes()
        self._poll = select.poll()
        self._poll.register(self._sock.fileno(), select.POLLIN | select.POLLPRI)

    def _buffered_bytes(self) -> bytes:
        """Bytes http.client read ahead past the headers (never blocks: the socket is non-blocking)."""
        reader = getattr(getattr(getattr(self._response, "raw", None), "_fp", None), "fp", None)
        if not isinstance(reader, io.BufferedReader):
            return b""
        try:
            return bytes(reader.peek())
        except (OSError, ValueError):
            return b""

    def read(self, deadline: float) -> bytes | None:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        while True:
            pending_tls = getattr(self._sock, "pending", None)
            if not (pending_tls and pending_tls()):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._poll.poll(remaining * 1000):
                    return None
            try:
                return bytes(self._sock.recv(_CHUNK))
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                if type(exc).__name__ in ("SSLWantReadError", "SSLWantWriteError"):
                    continue
                raise

    def close(self) -> None:
        for closer in (getattr(self._response, "close", None), getattr(self._sock, "close", None)):
            if closer is not None:
                with contextlib.suppress(OSError):
                    closer()
