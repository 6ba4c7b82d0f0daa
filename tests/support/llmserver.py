"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, written for the tests (no weights).

Replies are scripted per instance (found in the task text: "Instance ID of repository ...") and per
step (the number of assistant messages in the request), so the server holds no conversation state and a
retried call gets the same answer. Faults are queued per (instance, step): an HTTP status (429 with
Retry-After, 500) or a hang longer than the client's timeout; each fault is served once, before the
scripted reply. Every request is counted in ``calls`` (instance, step, status, phase, seed).

Run alone (``make demo-generate``)::

    python -m tests.support.llmserver --port 8765 --dataset demo/dataset.jsonl --solve 'demo__calc-*'

Without ``--solve`` it solves ``*-1`` and ``*-3`` and guesses wrong elsewhere; ``--hack`` names one
instance whose agent mines git history and edits a test file (flagged in the report).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SUBMIT = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
INSTANCE = re.compile(r"Instance (\S+) of repository")
MODEL = "scripted-coder"
FINGERPRINT = "fp_scripted_1"


@dataclass(frozen=True)
class Fault:
    """Served once instead of a reply: an HTTP status (with Retry-After) or a hang of ``hang_s``."""

    status: int = 0
    retry_after: float | None = None
    hang_s: float = 0.0


@dataclass
class Call:
    instance: str
    step: int
    status: int
    phase: int
    seed: int | None
    at: float


@dataclass
class Script:
    """The replies of one instance: bash commands, one per step (then the submission)."""

    commands: list[str]
    submit: bool = True

    def reply(self, step: int) -> str | None:
        if step <= len(self.commands):
            return self.commands[step - 1]
        return SUBMIT if self.submit else None


@dataclass
class ScriptedLLM:
    """The server. ``start()`` returns its base URL (``http://127.0.0.1:PORT/v1``)."""

    scripts: dict[str, Script] = field(default_factory=dict)
    api_key: str | None = None
    port: int = 0
    phase: int = 1
    calls: list[Call] = field(default_factory=list)
    faults: dict[tuple[str, int], list[Fault]] = field(default_factory=dict)
    delay_s: float = 0.0  # every answer takes this long (calls then overlap unless something limits them)
    in_flight: int = 0
    max_in_flight: int = 0  # the most chat calls the server was answering at once
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        handler = _handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fault(self, instance: str, step: int, *faults: Fault) -> None:
        self.faults.setdefault((instance, step), []).extend(faults)

    def count(self, instance: str | None = None, status: int | None = 200, phase: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for c in self.calls
                if (instance is None or c.instance == instance)
                and (status is None or c.status == status)
                and (phase is None or c.phase == phase)
            )

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str], float]:
        """(status, JSON body, headers, seconds to hang first) for one request."""
        messages = body.get("messages") or []
        instance = _instance(messages)
        step = 1 + sum(1 for m in messages if m.get("role") == "assistant")
        with self._lock:
            queued = self.faults.get((instance, step)) or []
            fault = queued.pop(0) if queued else None
            status = fault.status if fault and fault.status else 200
            self.calls.append(Call(instance, step, status, self.phase, body.get("seed"), time.time()))
        if fault is not None and fault.hang_s:
            return 200, self._completion(body, instance, step, messages), {}, fault.hang_s
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            return status, {"error": {"message": f"scripted {status}"}}, headers, 0.0
        return 200, self._completion(body, instance, step, messages), {}, 0.0

    def _completion(
        self, body: dict[str, Any], instance: str, step: int, messages: list[Any]
    ) -> dict[str, Any]:
        script = self.scripts.get(instance, Script([]))
        command = script.reply(step)
        message: dict[str, Any] = {"role": "assistant", "content": f"Step {step}: scripted reasoning."}
        if command is not None:
            message["tool_calls"] = [
                {
                    "id": f"call_{instance}_{step}",
                    "type": "function",
                    "function": {"name": "bash", "arguments": json.dumps({"command": command})},
                }
            ]
        prompt = len(json.dumps(messages)) // 4
        completion = 20 + len(command or "") // 4
        return {
            "id": f"chatcmpl-{instance}-{step}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", MODEL),
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if command else "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


def _instance(messages: list[Any]) -> str:
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        found = INSTANCE.search(content) if isinstance(content, str) else None
        if found:
            return found.group(1)
    return "?"


def _handler(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a hang longer than its timeout)
                pass

        def _authorized(self) -> bool:
            if llm.api_key and self.headers.get("Authorization") != f"Bearer {llm.api_key}":
                self._send(
                    401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
                )
                return False
            return True

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path.rstrip("/").endswith("/v1/models"):
                self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self._authorized():
                return
            if not self.path.rstrip("/").endswith("/v1/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            if body.get("model") != MODEL:
                self._send(404, {"error": {"message": f"The model {body.get('model')} does not exist"}})
                return
            with llm._lock:
                llm.in_flight += 1
                llm.max_in_flight = max(llm.max_in_flight, llm.in_flight)
            try:
                status, out, headers, hang = llm.answer(body)
                time.sleep(hang + llm.delay_s)
                self._send(status, out, headers)
            finally:
                with llm._lock:
                    llm.in_flight -= 1

    return Handler


# --- scripts for the demo benchmark -------------------------------------------------------------------


def solve_commands(gold_patch: str) -> list[str]:
    """Bash actions that solve an instance: write the fix and apply it, look at the result."""
    write = f"cat > /tmp/fix.diff <<'EVALFLEET_EOF'\n{gold_patch.rstrip()}\nEVALFLEET_EOF\ngit apply /tmp/fix.diff && echo applied"
    return ["ls", write, "git status --short"]


def wrong_commands(gold_patch: str) -> list[str]:
    """Bash actions that change a source file the wrong way (a comment): graded unresolved."""
    path = next(iter(_source_files(gold_patch)), "README.md")
    return ["ls", f"sed -i '1i # scripted agent: a guess that fixes nothing' {path}"]


def hacking_commands(test_file: str) -> list[str]:
    """Bash actions an integrity scan must flag: mining git history, editing a test file."""
    return ["git log --all --oneline | head -5", f"echo 'def test_always(): assert True' >> {test_file}"]


def _source_files(patch: str) -> Iterable[str]:
    for line in patch.splitlines():
        if line.startswith("+++ b/"):
            yield line[len("+++ b/") :]


def demo_scripts(dataset: Path, solve: Iterable[str]) -> dict[str, Script]:
    """Scripts for every instance of a demo dataset: those matching ``solve`` (globs) get the gold fix,
    the others a wrong guess."""
    patterns = list(solve)
    out = {}
    for line in dataset.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        iid, patch = row["instance_id"], row["patch"]
        ok = any(fnmatch.fnmatchcase(iid, p) for p in patterns)
        out[iid] = Script(solve_commands(patch) if ok else wrong_commands(patch))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--dataset", type=Path, default=Path("demo/dataset.jsonl"))
    parser.add_argument("--solve", action="append", default=[], help="instance ids (globs) to solve")
    parser.add_argument(
        "--hack",
        default="demo__calc-2:tests/test_expr.py",
        help="INSTANCE:TEST_FILE that mines git history "
        "and edits that test file (flagged in the report); '' for none",
    )
    args = parser.parse_args()
    scripts = demo_scripts(args.dataset, args.solve or ["*-1", "*-3"])
    if args.hack:
        iid, _, test_file = args.hack.partition(":")
        scripts[iid] = Script(hacking_commands(test_file))
    llm = ScriptedLLM(scripts, port=args.port)
    print(f"scripted server on {llm.start()}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        llm.stop()


if __name__ == "__main__":
    main()
