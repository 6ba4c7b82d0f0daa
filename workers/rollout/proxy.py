"""The local door of a "command" scaffold: an HTTP server on 127.0.0.1 of the Ray worker with

- ``POST /v1/chat/completions``: OpenAI's protocol, answered through the rollout's ``GatedModel`` (budget,
  endpoint slots, limits, retries and recording apply; the real key never leaves the worker);
- ``GET /v1/models``: the one model;
- ``POST /exec`` ``{"command": "...", "timeout": s}``: runs ``bash -c command`` in the sandbox, answers
  ``{"output", "returncode", "timed_out"}``.

Every request must carry ``Authorization: Bearer TOKEN`` (a per-rollout token given to the command).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workers.rollout.client import EndpointError, EndpointUnavailable
from workers.rollout.gate import BudgetSpent, GatedModel, LimitReached
from workers.rollout.trajectory import Recorder
from workers.sandbox.base import Sandbox


class RolloutProxy:
    """Start with ``start()``; ``url`` and ``token`` go to the command; ``stop()`` when it ended."""

    def __init__(self, model: GatedModel, sandbox: Sandbox, workdir: str, step_timeout_s: float) -> None:
        self.model, self.sandbox, self.workdir, self.step_timeout_s = model, sandbox, workdir, step_timeout_s
        self.token = secrets.token_hex(16)
        self.stopped_by: str | None = None  # "budget" or "limits": how the agent was stopped
        self.error: EndpointError | EndpointUnavailable | None = None  # raised again once the command ends
        self.messages: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def recorder(self) -> Recorder:
        return self.model.recorder

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        messages, tools = body.get("messages") or [], body.get("tools")
        try:
            with self._lock:  # one call at a time: a rollout's steps are sequential
                reply = self.model.complete(messages, tools)
        except BudgetSpent as exc:
            self.stopped_by = "budget"
            return 402, {"error": {"message": str(exc), "type": "budget_spent"}}
        except LimitReached as exc:
            self.stopped_by = "limits"
            return 429, {"error": {"message": str(exc), "type": "rollout_limit"}}
        except (EndpointError, EndpointUnavailable) as exc:
            self.error = exc
            return 502, {"error": {"message": str(exc), "type": "endpoint_error"}}
        self.messages = [*messages, reply.message]
        usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens}
        return 200, {
            "id": f"evalfleet-{len(self.recorder.calls)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.server_model or self.model.spec.endpoint.model,
            "system_fingerprint": reply.system_fingerprint,
            "choices": [{"index": 0, "message": reply.message, "finish_reason": reply.finish_reason}],
            "usage": {**usage, "total_tokens": reply.tokens},
        }

    def exec(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        command = str(body.get("command", ""))
        timeout = min(float(body.get("timeout") or self.step_timeout_s), self.step_timeout_s)
        res = self.sandbox.exec(["bash", "-c", command], timeout=timeout, workdir=self.workdir)
        text = res.text
        self.recorder.action(command, res)
        return 200, {"output": text, "returncode": res.returncode, "timed_out": res.timed_out}


def _handler(proxy: RolloutProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _allowed(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {proxy.token}":
                return True
            self._send(401, {"error": {"message": "wrong token"}})
            return False

        def do_GET(self) -> None:
            if self._allowed():
                models = [{"id": proxy.model.spec.endpoint.model, "object": "model"}]
                self._send(200, {"object": "list", "data": models})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if not self._allowed():
                return
            path = self.path.rstrip("/")
            if path.endswith("/chat/completions"):
                self._send(*proxy.chat(body))
            elif path == "/exec":
                self._send(*proxy.exec(body))
            else:
                self._send(404, {"error": {"message": "not found"}})

    return Handler
