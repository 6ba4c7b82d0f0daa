"""Run one ``docker build`` with a wall-clock limit, a log file and a classified failure."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from pathlib import Path
from typing import Any

import structlog

from workers.errors import ImageBuildError
from workers.images.layers import REPO, LayerPlan
from workers.images.options import ImageOptions, proxy_buildargs

log = structlog.get_logger(__name__)

TAIL_LINES = 20
# Output that means the network failed, not the command: such failures are worth retrying.
NETWORK_MARKERS = re.compile(
    r"Temporary failure resolving|Could not resolve|Failed to fetch|Connection timed out|Connection refused|"
    r"Network is unreachable|Name or service not known|ReadTimeoutError|ConnectTimeoutError|"
    r"NewConnectionError|Max retries exceeded|RemoteDisconnected|Connection reset by peer|Hash Sum mismatch|"
    r"Could not connect|unable to access|early EOF|remote end hung up|TLS handshake|503 Service Unavailable|"
    r"502 Bad Gateway|No route to host",
    re.IGNORECASE,
)
_RUNNING_IN = re.compile(r"---> Running in ([0-9a-f]{12,64})")
_STEP = re.compile(r"^Step (\d+/\d+) : (.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class LayerBuildError(ImageBuildError):
    """A layer failed to build; ``log_path`` holds the whole log, ``tail`` its last lines."""

    def __init__(self, message: str, *, retryable: bool, log_path: Path | None, tail: list[str]) -> None:
        super().__init__(message, retryable=retryable)
        self.log_path = log_path
        self.tail = tail


class _Progress:
    """What the build stream has told so far."""

    def __init__(self) -> None:
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.step = ""
        self.container: str | None = None
        self.image_id: str | None = None
        self.error: str | None = None
        self.exit_code: int | None = None
        self.timed_out = False

    def feed(self, chunk: dict[str, Any], out: Any) -> None:
        if "stream" in chunk:
            for line in _ANSI.sub("", str(chunk["stream"])).splitlines():
                out.write(line + "\n")
                self._line(line)
        elif "aux" in chunk and isinstance(chunk["aux"], dict):
            self.image_id = chunk["aux"].get("ID", self.image_id)
        elif "error" in chunk:
            self.error = str(chunk["error"]).strip()
            self.exit_code = (chunk.get("errorDetail") or {}).get("code")
            out.write(f"ERROR: {self.error}\n")

    def _line(self, line: str) -> None:
        if m := _STEP.match(line):
            self.step, self.container = f"{m.group(1)} {m.group(2)}", None
        elif m := _RUNNING_IN.search(line):
            self.container = m.group(1)
        elif line.startswith("evalfleet: warning:"):
            log.warning(line.removeprefix("evalfleet: warning:").strip(), step=self.step)
        if line.strip() and not line.startswith((" ---> ", "Removing intermediate container")):
            self.tail.append(line)


def _watchdog(client: Any, progress: _Progress, timeout_s: float) -> threading.Timer:
    """At the deadline, kill the container of the running step: the build then fails at once."""
    import docker.errors

    def fire() -> None:
        progress.timed_out = True
        if progress.container:
            try:
                client.api.kill(progress.container)
            except (docker.errors.DockerException, OSError) as exc:  # the step may just have finished
                log.debug("kill of build step failed", container=progress.container, error=str(exc))

    timer = threading.Timer(timeout_s, fire)
    timer.daemon = True
    return timer


def docker_build(client: Any, plan: LayerPlan, ctx: Path, options: ImageOptions, log_file: Path) -> str:
    """Build ``plan`` from the context directory ``ctx`` (Dockerfile written here); the image id."""
    import docker.errors

    assert plan.dockerfile is not None
    labels = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(plan.labels.items()))
    (ctx / "Dockerfile").write_text(f"{plan.dockerfile.rstrip()}\nLABEL {labels}\n", encoding="utf-8")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    progress = _Progress()
    timer = _watchdog(client, progress, plan.timeout_s)
    with log_file.open("w", encoding="utf-8") as out:
        out.write(f"# {plan.layer} {plan.tag}\n{plan.dockerfile}\n# build output\n")
        timer.start()
        try:
            stream = client.api.build(
                path=str(ctx),
                tag=plan.tag,
                buildargs=proxy_buildargs(options),
                network_mode=options.build_network,
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
                timeout=plan.timeout_s + 120,
            )
            for chunk in stream:
                progress.feed(chunk, out)
        except (docker.errors.DockerException, OSError) as exc:  # API or connection: retryable
            raise _failure(
                plan, progress, log_file, f"docker error: {str(exc).splitlines()[0][:200]}"
            ) from exc
        finally:
            timer.cancel()
    if progress.error or not progress.image_id:
        if progress.timed_out:
            raise _failure(
                plan, progress, log_file, f"timed out after {plan.timeout_s:.0f}s", retryable=False
            )
        code = progress.exit_code
        raise _failure(
            plan,
            progress,
            log_file,
            f"command failed (exit {code})" if code else progress.error or "the build produced no image",
        )
    return progress.image_id


def _display_step(step: str) -> str:
    """'3/8 RUN ["/bin/bash","-euo","pipefail","-c","make"]' -> '3/8 RUN make'."""
    n, _, instruction = step.partition(" ")
    if instruction.startswith("RUN ["):
        try:
            argv = json.loads(instruction[4:])
            instruction = "RUN " + str(argv[-1])
        except (ValueError, IndexError):
            pass
    return f"{n} {instruction}"


def _failure(
    plan: LayerPlan, progress: _Progress, log_file: Path, what: str, retryable: bool | None = None
) -> LayerBuildError:
    tail = list(progress.tail)
    if retryable is None:
        network = any(NETWORK_MARKERS.search(line) for line in tail)
        retryable = network or what.startswith("docker error")
    where = f" at step {_display_step(progress.step)[:100]!r}" if progress.step else ""
    last = next((line.strip() for line in reversed(tail) if not line.startswith("Step ")), "")
    repo = plan.labels.get(REPO)
    subject = f"{plan.layer} image {plan.tag}" + (f" ({repo})" if repo else "")
    message = f"{subject}{where}: {what[:200]}" + (f" | {last[:160]}" if last and last not in what else "")
    message += f" -- log: {log_file}"
    log.warning("image build failed", tag=plan.tag, retryable=retryable, log=str(log_file))
    log.debug("image build output", tag=plan.tag, tail="\n".join(tail))
    return LayerBuildError(" ".join(message.split()), retryable=retryable, log_path=log_file, tail=tail)
