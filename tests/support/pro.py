"""The SWE-bench Pro demo (demo/swebench_pro/): its repository, the image standing in for a published
one, and its dataset row next to ``run_scripts/`` as in github.com/scaleapi/SWE-bench_Pro-os."""

from __future__ import annotations

import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

from orchestrator.datasets.polyglot import file_diff

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demo"))
from fixed_git import commit_all

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "swebench_pro"
IID = "instance_evalfleet__demo-calc-1"
TESTS = ["test_calc.CalcTest.test_clamp_high"]
PASSING = ["test_calc.CalcTest.test_add", "test_calc.CalcTest.test_mean", "test_calc.CalcTest.test_clamp_low"]


def build_repo(dest: Path) -> str:
    """demo/swebench_pro/app committed into ``dest``; returns the commit."""
    shutil.copytree(DEMO / "app", dest)
    return commit_all(dest, "base")


def build_image(client: Any, base_image: str, repo: Path, commit: str) -> str:
    """The demo's image: the base layer with the repository at /app (as a Pro image has it)."""
    tag = f"evalfleet-demo/swebench-pro:{commit[:12]}"
    if client.images.list(name=tag):
        return tag
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dockerfile = f"FROM {base_image}\nCOPY app /app\nWORKDIR /app\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(str(repo), arcname="app")
    buf.seek(0)
    client.images.build(fileobj=buf, custom_context=True, tag=tag, rm=True)
    return tag


def write_dataset(dest: Path, commit: str, image: str | None) -> Path:
    """The demo row (JSONL) in ``dest``, with the demo's run_scripts/ beside it."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DEMO / "run_scripts", dest / "run_scripts", dirs_exist_ok=True)
    gold = file_diff(
        "calc.py", (DEMO / "app" / "calc.py").read_text(), (DEMO / "fixed" / "calc.py").read_text()
    )
    row = {
        "instance_id": IID,
        "repo": "evalfleet/demo-calc",
        "base_commit": commit,
        "patch": gold,
        "test_patch": "",
        "problem_statement": "clamp(x, low, high) ignores high.",
        "fail_to_pass": repr(TESTS),
        "pass_to_pass": repr(PASSING),
        "before_repo_set_cmd": f"git reset -q --hard\ngit checkout -q {commit} -- test_calc.py",
        "selected_test_files_to_run": repr(["test_calc.py"]),
        "base_dockerfile": "FROM debian:bookworm\nENV LANG=C.UTF-8\n",
        "instance_dockerfile": "FROM base\nENV PYTHONDONTWRITEBYTECODE=1\n",
        "repo_language": "python",
        **({"image": image} if image else {}),
    }
    path = dest / "swebench_pro.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path
