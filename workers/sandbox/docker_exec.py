"""One command in a Docker sandbox: started by exec, read with a deadline, killed at its timeout.

How a timeout is enforced (the exec API has no timeout):

1. The command runs under a wrapper, ``sh -c 'echo $$; exec "$@"'``: runc makes every exec process the
   leader of a new session, so the pid the wrapper prints first is the session id of the whole process
   tree the command starts (including background children that ignore SIGTERM).
2. The stream is read until its end or the deadline. At the deadline a second exec, as the same user
   (no CAP_KILL needed), freezes every process of that session or process group with SIGSTOP (so a
   fork bomb cannot outrun it), then SIGKILLs them, repeating until none is left.
3. If that kill cannot run (a fork bomb has used up the pids limit) or the stream has not ended
   ``GRACE_S`` later, the whole container is killed and the sandbox is marked dead.

Processes that left the session on purpose (``setsid``, daemons) survive step 2; step 3, or removing
the sandbox, ends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from workers.errors import SandboxError
from workers.sandbox.base import ExecResult
from workers.sandbox.deadline import bounded
from workers.sandbox.output import FrameDecoder, OutputCap, PidLine
from workers.sandbox.stream import ExecStream

log = structlog.get_logger(__name__)

WRAPPER = 'echo "$$"; exec "$@"'
GRACE_S = 3.0
CALL_TIMEOUT_S = 30.0
KILL_TIMEOUT_S = 10.0
# $1: session id. Freeze, then kill, every process whose session or process group is $1.
KILL_SCRIPT = r"""
s=$1
scan() {
  found=0
  for d in /proc/[0-9]*; do
    { read -r st < "$d/stat"; } 2>/dev/null || continue
    st=${st##*) }
    set -- $st
    case $1 in Z|X|x) continue ;; esac
    if [ "$4" = "$s" ] || [ "$3" = "$s" ]; then
      if [ "$sig" = KILL ] || [ "$1" != T ]; then
        found=$((found + 1)); kill -"$sig" "${d#/proc/}" 2>/dev/null
      fi
    fi
  done
}
for sig in STOP KILL; do
  i=0
  while [ $i -lt 100 ]; do scan; [ "$found" = 0 ] && break; i=$((i + 1)); done
done
[ "$found" = 0 ]
"""


@dataclass
class ExecRequest:
    container_id: str
    argv: list[str]
    timeout: float
    output_cap: int
    workdir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stdin: bytes | None = None


@dataclass
class _Capture:
    cap: OutputCap
    pid: PidLine = field(default_factory=PidLine)
    frames: FrameDecoder = field(default_factory=FrameDecoder)

    def pump(self, stream: ExecStream, deadline: float) -> bool:
        """Read until the end of the stream (True) or the deadline (False)."""
        while True:
            try:
                chunk = stream.read(deadline)
            except OSError as exc:
                raise SandboxError(f"exec: reading the output failed: {exc}") from exc
            if chunk is None:
                return False
            if not chunk:
                self.cap.feed(self.pid.flush())
                return True
            for stream_id, payload in self.frames.feed(chunk):
                rest = self.pid.feed(payload) if stream_id == 1 else payload
                if rest:
                    self.cap.feed(rest)


def run_exec(api: Any, request: ExecRequest, kill_container: Callable[[str], None]) -> ExecResult:
    """Run one command; ``kill_container(reason)`` is the last resort that ends a stuck command."""
    wall_start, started = time.time(), time.monotonic()
    deadline = started + request.timeout
    exec_id, stream = _start(api, request)
    capture = _Capture(OutputCap(request.output_cap))
    timed_out = sandbox_killed = False
    try:
        sent = request.stdin is None or _send(stream, request.stdin, deadline)
        if not (sent and capture.pump(stream, deadline)):
            timed_out = True
            killed = _kill_session(api, request, capture.pid.pid)
            if not (killed and capture.pump(stream, time.monotonic() + GRACE_S)):
                kill_container("exec timed out and its processes could not be killed inside")
                sandbox_killed = True
    finally:
        stream.close()
    code = None if timed_out else _exit_code(api, exec_id)
    return ExecResult(
        returncode=code,
        output=capture.cap.value(),
        timed_out=timed_out,
        truncated=capture.cap.truncated,
        output_bytes_total=capture.cap.total,
        duration_s=time.monotonic() - started,
        oom_killed=oom_since(api, request.container_id, wall_start),
        sandbox_killed=sandbox_killed,
    )


def _send(stream: ExecStream, data: bytes, deadline: float) -> bool:
    try:
        return stream.send(data, deadline)
    except OSError as exc:
        raise SandboxError(f"exec: writing the input failed: {exc}") from exc


def _start(api: Any, request: ExecRequest) -> tuple[str, ExecStream]:
    argv = ["/bin/sh", "-c", WRAPPER, "evalfleet-exec", *request.argv]
    created = bounded(
        "exec create",
        CALL_TIMEOUT_S,
        lambda: api.exec_create(
            request.container_id,
            argv,
            stdout=True,
            stderr=True,
            stdin=request.stdin is not None,
            environment=request.env or None,
            workdir=request.workdir,
            user=request.user or "",
        ),
    )
    exec_id: str = created["Id"]
    return exec_id, bounded(
        "exec start", CALL_TIMEOUT_S, lambda: ExecStream(api.exec_start(exec_id, socket=True))
    )


def _kill_session(api: Any, request: ExecRequest, session: int | None) -> bool:
    """Kill the command's session from inside; False when that was not possible."""
    if session is None:
        return False
    try:
        created = bounded(
            "exec kill",
            KILL_TIMEOUT_S,
            lambda: api.exec_create(
                request.container_id,
                ["/bin/sh", "-c", KILL_SCRIPT, "kill", str(session)],
                user=request.user or "",
            ),
        )
        bounded("exec kill", KILL_TIMEOUT_S, lambda: api.exec_start(created["Id"]))
        code = _exit_code(api, created["Id"])
    except Exception as exc:  # the fallback (kill the container) handles every failure here
        log.debug("sandbox.kill_session_failed", session=session, error=str(exc))
        return False
    log.debug("sandbox.kill_session", session=session, exit_code=code)
    return code == 0


def _exit_code(api: Any, exec_id: str, wait_s: float = 5.0) -> int | None:
    """The exec's exit code once Docker has recorded it (it may lag the end of the stream)."""
    deadline = time.monotonic() + wait_s
    while True:
        info = bounded("exec inspect", CALL_TIMEOUT_S, lambda: api.exec_inspect(exec_id))
        if not info.get("Running") or time.monotonic() > deadline:
            code = info.get("ExitCode")
            return int(code) if code is not None and not info.get("Running") else None
        time.sleep(0.01)


def oom_since(api: Any, container_id: str, since: float) -> bool:
    """Whether the kernel killed a process of the container for memory since ``since`` (unix time)."""
    until = time.time()

    def fetch() -> bool:
        events = api.events(
            since=f"{int(since) - 1}",
            until=f"{until:.9f}",
            filters={"container": container_id, "event": "oom"},
            decode=True,
        )
        try:
            return any(int(event.get("timeNano", 0)) >= int(since * 1e9) for event in events)
        finally:
            events.close()

    try:
        return bounded("oom events", CALL_TIMEOUT_S, fetch)
    except Exception as exc:  # OOM detection is best effort: never fail a command over it
        log.debug("sandbox.oom_check_failed", error=str(exc))
        return False
