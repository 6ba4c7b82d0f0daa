"""The hijacked connection of one ``docker exec``, read with deadlines.

docker-py hands back the raw socket of the upgraded HTTP connection; bytes that arrived together with
the response headers may already sit in http.client's buffer, so those are taken first. The socket is
then read non-blocking with ``poll``, so a silent or flooding command can never hold a reader past its
deadline. ``send`` writes the command's stdin the same way, keeping whatever output arrives meanwhile,
so a command that writes before it reads cannot deadlock the writer.
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
        self._pending = bytearray(self._buffered_bytes())
        self._eof = False
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

    def send(self, data: bytes, deadline: float) -> bool:
        """Write ``data`` to the command's stdin, then close it; False when the deadline came first.

        Output that arrives meanwhile is kept for ``read``. A command that exits (or closes its stdin)
        before reading everything ends the writing early, like a pipe would.
        """
        view = memoryview(data)
        poll = select.poll()
        poll.register(self._sock.fileno(), select.POLLIN | select.POLLPRI | select.POLLOUT)
        while view and not self._eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for _fd, event in poll.poll(remaining * 1000):
                if event & (select.POLLIN | select.POLLPRI):
                    self._receive()
                if event & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                    view = view[:0]
                elif event & select.POLLOUT and view:
                    view = view[self._send_some(view) :]
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
        return True

    def _send_some(self, view: memoryview) -> int:
        try:
            return int(self._sock.send(view[:_CHUNK]))
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:  # the command is gone (broken pipe, reset): nothing more to write
            return len(view)

    def _receive(self) -> None:
        try:
            chunk = self._sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        if chunk:
            self._pending += chunk
        else:
            self._eof = True

    def read(self, deadline: float) -> bytes | None:
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            return data
        if self._eof:
            return b""
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
