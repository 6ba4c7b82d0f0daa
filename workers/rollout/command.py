"""Scaffold ``command``: your own agent as a program (or ``docker run IMAGE ...``) run on the Ray worker.

It gets, in its environment (docs/rollouts.md):

- ``EVALFLEET_INSTANCE``: a JSON file with the instance (``instance_id``, ``repo``, ``base_commit``,
  ``problem_statement``, ...), the ``task`` text, the ``workdir`` in the sandbox and the ``seed``;
- ``EVALFLEET_EXEC``: a helper; ``$EVALFLEET_EXEC 'bash command'`` runs it in the sandbox (no network),
  prints its output and exits with its exit code;
- ``OPENAI_BASE_URL`` / ``EVALFLEET_ENDPOINT`` (``http://127.0.0.1:PORT/v1``), ``OPENAI_API_KEY``
  (a token for this rollout only) and ``EVALFLEET_MODEL``: an OpenAI-compatible endpoint on the worker
  that forwards to the real one with budget, limits, retries and recording applied (the sweep's sampling
  parameters win over the agent's).

Exit 0 ends the rollout as submitted; any other exit as an agent error. Either way the sandbox's tree is
the patch. The command is killed at ``limits.wall_time_s``.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from workers.rollout.contract import RolloutTask, ScaffoldExit
from workers.rollout.gate import GatedModel
from workers.rollout.proxy import RolloutProxy
from workers.rollout.spec import ExitStatus
from workers.rollout.trajectory import Recorder
from workers.sandbox.base import Sandbox

EXEC_HELPER = """#!{python}
import json, os, sys, urllib.request
command = " ".join(sys.argv[1:]) if len(sys.argv) > 1 else sys.stdin.read()
request = urllib.request.Request(
    os.environ["EVALFLEET_PROXY"] + "/exec",
    data=json.dumps({{"command": command}}).encode(),
    headers={{"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"], "Content-Type": "application/json"}},
)
with urllib.request.urlopen(request, timeout=3600) as response:
    answer = json.loads(response.read())
sys.stdout.write(answer["output"])
sys.exit(124 if answer["timed_out"] else (answer["returncode"] or 0))
"""


class CommandScaffold:
    name = "command"

    def run(self, task: RolloutTask, sandbox: Sandbox, model: GatedModel, recorder: Recorder) -> ScaffoldExit:
        argv = task.spec.scaffold.command or []
        proxy = RolloutProxy(model, sandbox, task.workdir, task.spec.scaffold.step_timeout_s)
        proxy.start()
        with tempfile.TemporaryDirectory(prefix="evalfleet-command-") as tmp:
            env = self._environment(task, proxy, Path(tmp))
            try:
                done = subprocess.run(
                    argv,
                    env=env,
                    cwd=tmp,
                    capture_output=True,
                    text=True,
                    errors="replace",
                    timeout=task.spec.limits.wall_time_s,
                    check=False,
                )
                code, tail = done.returncode, (done.stdout + done.stderr)[-300:]
            except subprocess.TimeoutExpired:
                code, tail = None, f"killed at the wall-time limit of {task.spec.limits.wall_time_s:g} s"
            except OSError as exc:
                code, tail = 127, f"cannot run {argv[:1]}: {exc}"
            finally:
                proxy.stop()
        if proxy.error is not None:  # a wrong endpoint, or one that kept failing: not the agent's outcome
            raise proxy.error
        return ScaffoldExit(_status(code, proxy.stopped_by), tail.strip(), proxy.messages)

    @staticmethod
    def _environment(task: RolloutTask, proxy: RolloutProxy, tmp: Path) -> dict[str, str]:
        instance = {
            **task.instance.model_dump(mode="json", by_alias=True),
            "task": task.text,
            "workdir": task.workdir,
            "seed": task.seed,
        }
        (tmp / "instance.json").write_text(json.dumps(instance), encoding="utf-8")
        helper = tmp / "evalfleet-exec"
        helper.write_text(EXEC_HELPER.format(python=sys.executable), encoding="utf-8")
        helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        return {
            **keep,
            "EVALFLEET_INSTANCE": str(tmp / "instance.json"),
            "EVALFLEET_EXEC": str(helper),
            "EVALFLEET_PROXY": proxy.url,
            "EVALFLEET_ENDPOINT": f"{proxy.url}/v1",
            "OPENAI_BASE_URL": f"{proxy.url}/v1",
            "OPENAI_API_KEY": proxy.token,
            "EVALFLEET_MODEL": task.spec.endpoint.model,
            "EVALFLEET_SEED": str(task.seed),
        }


def _status(code: int | None, stopped_by: str | None) -> ExitStatus:
    if stopped_by == "budget":
        return "budget"
    if stopped_by == "limits" or code is None:
        return "limits"
    return "submitted" if code == 0 else "agent_error"
