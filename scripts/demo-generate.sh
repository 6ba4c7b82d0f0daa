#!/usr/bin/env bash
# `make demo-generate`: the demo with generated patches. Starts the scripted chat-completions server of the
# tests (tests/support/llmserver.py: no model, replies scripted per instance) on 127.0.0.1, runs
# configs/demo-generate.yaml against it (mini-swe-agent acting in the demo's sandboxes), stops the server.
set -euo pipefail
VENV="${1:-.venv}"
PORT="${EVALFLEET_DEMO_PORT:-8765}"
"$VENV/bin/python" -m tests.support.llmserver --port "$PORT" --dataset demo/dataset.jsonl &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/v1/models', timeout=1)" \
    2>/dev/null && break
  sleep 0.2
done
"$VENV/bin/evalfleet" run configs/demo-generate.yaml --set "runs.0.generate.endpoint.base_url=http://127.0.0.1:$PORT/v1"
