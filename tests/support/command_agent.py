"""A minimal agent for the "command" scaffold (docs/rollouts.md), as a team would bring its own: it reads
the instance, asks the endpoint it is given for bash tool calls and runs them through the exec helper."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

BASH = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a bash command",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
}


def chat(messages: list[dict[str, object]]) -> dict[str, object]:
    body = {"model": os.environ["EVALFLEET_MODEL"], "messages": messages, "tools": [BASH]}
    request = urllib.request.Request(
        os.environ["OPENAI_BASE_URL"] + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"],
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.loads(response.read())
    message: dict[str, object] = answer["choices"][0]["message"]
    return message


def main() -> int:
    with open(os.environ["EVALFLEET_INSTANCE"], encoding="utf-8") as fh:
        instance = json.load(fh)
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "You fix bugs with bash."},
        {"role": "user", "content": instance["task"]},
    ]
    for _ in range(30):
        message = chat(messages)
        messages.append(message)
        calls = message.get("tool_calls") or []
        assert isinstance(calls, list)
        if not calls:
            return 1
        for call in calls:
            command = json.loads(call["function"]["arguments"])["command"]
            done = subprocess.run(
                [os.environ["EVALFLEET_EXEC"], command], capture_output=True, text=True, check=False
            )
            if done.returncode == 0 and done.stdout.startswith("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"):
                return 0
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": done.stdout[-4000:]})
    return 2


if __name__ == "__main__":
    sys.exit(main())
