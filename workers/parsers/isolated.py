"""SWE-bench Pro's per-instance parsers, run outside the sandbox: in a fresh container with no network.

A Pro row brings its own ``parser.py`` (``python parser.py stdout.log stderr.log output.json`` writes
``{"tests": [{"name": ..., "status": "PASSED|FAILED|SKIPPED|ERROR"}]}``). The official harness runs it
inside the container the candidate's code just ran in, where that code can replace it (a published
attack). evalfleet never runs it there, nor on the host: the eval script prints the test command's
stdout, a separator line and its stderr (``PRO_STDERR_MARK``); at grading time that output and the
row's parser go into a new container from a clean image (``PARSER_IMAGE_ENV`` or the project's
bookworm base layer) with no network, all capabilities dropped and small limits, and only its
``output.json`` comes back.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from typing import Any

from workers.errors import InfraError
from workers.parsers.contract import MalformedOutputError, ParsedOutput, StatusMap, TestStatus

PRO_PARSER = "swebench_pro"
"""The ``log_parser`` of Pro instances: the row's parser.py (``instance.extra['parser_py']``)."""
PRO_STDERR_MARK = "@@evalfleet-swebench-pro-stderr@@"
PARSER_IMAGE_ENV = "EVALFLEET_PARSER_IMAGE"
TIMEOUT_S = 120
_RUN = "cd /parse && python3 parser.py stdout.log stderr.log output.json >&2 && cat output.json"


def split_streams(output: str) -> tuple[str, str]:
    """(stdout, stderr) of the run script, cut at the last separator line the eval script printed."""
    head, sep, tail = output.rpartition(f"\n{PRO_STDERR_MARK}\n")
    return (head, tail) if sep else (output, "")


def statuses_of(document: str) -> StatusMap:
    """``output.json`` -> statuses; a test listed twice keeps its last status, as a dict would."""
    try:
        tests = json.loads(document)["tests"]
        found = {str(t["name"]): TestStatus(str(t["status"]).upper()) for t in tests}
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedOutputError(f"the Pro parser's output.json is not readable ({exc})") from None
    return found


def _archive(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"parse/{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def parser_image(client: Any) -> str:
    """A clean image with python3: $EVALFLEET_PARSER_IMAGE, else the bookworm base layer."""
    if os.environ.get(PARSER_IMAGE_ENV):
        return os.environ[PARSER_IMAGE_ENV]
    from workers.images import ImageOptions, ensure_base_image

    return ensure_base_image("bookworm", ImageOptions(), client=client).tag


def run_isolated(parser_py: str, output: str, *, client: Any = None, image: str | None = None) -> StatusMap:
    """Run a Pro ``parser.py`` on the captured ``output`` in a fresh, network-less container."""
    import docker

    client = client or docker.from_env()
    stdout, stderr = split_streams(output)
    container = client.containers.create(
        image or parser_image(client),
        ["bash", "-c", _RUN],
        network_disabled=True,
        network_mode="none",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit="512m",
        pids_limit=64,
        labels={"evalfleet.role": "pro-parser"},
    )
    try:
        container.put_archive(
            "/", _archive({"parser.py": parser_py, "stdout.log": stdout, "stderr.log": stderr})
        )
        container.start()
        exit_code = container.wait(timeout=TIMEOUT_S).get("StatusCode")
        document = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        if exit_code != 0:
            why = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")[-300:]
            raise MalformedOutputError(f"the Pro parser exited {exit_code}: {why.strip()}")
    finally:
        container.remove(force=True)
    return statuses_of(document)


def parse_pro(parser_py: str | None, output: str, *, client: Any = None) -> ParsedOutput:
    """``ParsedOutput`` of a Pro instance's test output; a parser that fails or prints junk is a problem
    (the grade is then NO), a Docker engine that cannot be reached an ``InfraError`` (retried)."""
    if not parser_py:
        return ParsedOutput(parser=PRO_PARSER, problem="the Pro instance carries no parser.py")
    if not output.strip():
        return ParsedOutput(parser=PRO_PARSER)
    import docker

    try:
        statuses = run_isolated(parser_py, output, client=client)
    except MalformedOutputError as exc:
        return ParsedOutput(parser=PRO_PARSER, problem=exc.problem)
    except docker.errors.DockerException as exc:
        raise InfraError(f"cannot run the Pro parser container: {exc}") from exc
    return ParsedOutput(parser=PRO_PARSER, statuses=statuses)
