#!/usr/bin/env python3
"""Build the demo benchmark from the plain files under ``demo/repos/``.

For every repository, its history (ordered directories of files, each laid over the previous tree)
is replayed into git with a fixed identity and fixed dates, so commit SHAs are the same on every
machine, and written as a bundle. For every instance, the plain files of the gold fix, the tests and
the candidates become ``git diff``s against the base commit; they are checked to apply (and the
``patch_failed`` candidates checked not to), and the dataset, predictions and expected verdicts are
written.

    python3 demo/build.py [--out demo/build] [--data-out demo] [--check]

``--check`` builds into a temporary directory and exits 1 if the checked-in data files differ.
Stdlib only; needs the git CLI (and GNU patch, if installed, to double-check patch_failed diffs).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parent
REPOS = ("calc", "textkit", "jsutil")
IDENTITY = {"name": "evalfleet demo", "email": "demo@evalfleet.invalid"}
TEST_DIRS = ("tests/", "test/")
VERDICTS = ("resolved", "unresolved", "patch_failed", "empty_patch", "timeout")
GOLD: dict[str, Any] = {"model": "gold", "scaffold": "gold", "seed": 0}
RUNS: dict[str, dict[str, Any]] = {  # candidate directory name -> prediction metadata
    "model-a": {"model": "demo-model-a", "scaffold": "mini", "seed": 1, "usd_per_mtok": 3.0},
    "model-b": {"model": "demo-model-b", "scaffold": "agentless", "seed": 2, "usd_per_mtok": 0.6},
}
GIT_OPTS = [
    "-c", "init.defaultBranch=main",
    "-c", "commit.gpgsign=false",
    "-c", "core.autocrlf=false",
    "-c", "core.fileMode=true",
    "-c", "pack.threads=1",
]  # fmt: skip


class BuildError(Exception):
    """The plain files do not make a consistent benchmark."""


def git_env(date: str | None = None) -> dict[str, str]:
    """The environment of every git call: no user or system config, fixed identity and dates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_SYSTEM=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", TZ="UTC")
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = IDENTITY["name"]
        env[f"GIT_{role}_EMAIL"] = IDENTITY["email"]
        if date:
            env[f"GIT_{role}_DATE"] = date
    return env


def git(cwd: Path, *args: str, date: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["git", *GIT_OPTS, *args], cwd=cwd, env=git_env(date), capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise BuildError(f"git {' '.join(args)} failed in {cwd}:\n{proc.stderr.strip()}")
    return proc


def overlay(src: Path, dst: Path) -> None:
    """Copy the files under src onto dst (content only, so modes never leak into the history)."""
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())


@dataclass(frozen=True)
class History:
    """A repository replayed into git: where it is, and the SHA and date of each history directory."""

    name: str
    path: Path
    shas: dict[str, str]
    dates: dict[str, str]


def build_history(name: str, work: Path) -> History:
    """Replay demo/repos/<name>/history into a git repository under work."""
    meta = json.loads((DEMO / "repos" / name / "repo.json").read_text())
    repo = work / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    history = History(name, repo, {}, {})
    for commit in meta["commits"]:
        overlay(DEMO / "repos" / name / "history" / commit["dir"], repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--no-verify", "-m", commit["message"], date=commit["date"])
        history.shas[commit["dir"]] = git(repo, "rev-parse", "HEAD").stdout.strip()
        history.dates[commit["dir"]] = commit["date"]
    return history


def reset(repo: Path, commit: str) -> None:
    git(repo, "checkout", "-q", "-f", "--detach", commit)
    git(repo, "reset", "-q", "--hard", commit)
    git(repo, "clean", "-q", "-f", "-d", "-x")


def diff_of(repo: Path, base: str, files: Path) -> str:
    """`git diff` that turns the tree at base into the tree with the files under `files` laid over it."""
    reset(repo, base)
    overlay(files, repo)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached", "--no-color", "--no-ext-diff", "--full-index").stdout
    reset(repo, base)
    if not patch:
        raise BuildError(f"{files} does not change anything at {base}")
    return patch


def touched(patch: str) -> list[str]:
    return [line.split(" b/", 1)[1] for line in patch.splitlines() if line.startswith("diff --git ")]


def feed(cmd: list[str], repo: Path, patch: str) -> subprocess.CompletedProcess:
    """Run a patch tool in repo with the patch on stdin."""
    return subprocess.run(
        cmd, cwd=repo, env=git_env(), input=patch, capture_output=True, text=True, check=False
    )


def apply_all(repo: Path, base: str, *patches: str) -> str | None:
    """Apply the patches in order at base; return the error of the first that fails, or None."""
    reset(repo, base)
    try:
        for patch in patches:
            proc = feed(["git", *GIT_OPTS, "apply", "-"], repo, patch)
            if proc.returncode != 0:
                return proc.stderr.strip()
        return None
    finally:
        reset(repo, base)


def assert_unappliable(repo: Path, base: str, patch: str, where: Path) -> None:
    """A patch_failed candidate must defeat every step of the harness's patch chain."""
    chain = {"git apply": ["git", *GIT_OPTS, "apply", "-"]}
    chain["git apply --3way"] = ["git", *GIT_OPTS, "apply", "--3way", "-"]
    if shutil.which("patch"):
        chain["patch --fuzz=5"] = ["patch", "--batch", "--forward", "--fuzz=5", "-p1", "--dry-run"]
    for name, cmd in chain.items():
        reset(repo, base)
        if feed(cmd, repo, patch).returncode == 0:
            raise BuildError(f"{where} is meant to fail but `{name}` applies it")
    reset(repo, base)


@dataclass
class Built:
    """What the data files are made of, collected repository by repository."""

    rows: list[dict[str, str]] = field(default_factory=list)
    flaky_rows: list[dict[str, str]] = field(default_factory=list)
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    verdicts: dict[str, dict[str, str]] = field(default_factory=dict)


def candidate_patch(repo: Path, base: str, where: Path, verdict: str, gold_tests: str) -> str:
    """The patch of one candidate: files under where (candidates/<run>/), where.diff, or nothing."""
    files, diff_file = where, where.with_suffix(".diff")
    if verdict not in VERDICTS:
        raise BuildError(f"{where}: unknown verdict {verdict!r}")
    if verdict == "empty_patch":
        if files.exists() or diff_file.exists():
            raise BuildError(f"{where}: an empty_patch candidate must have no files")
        return ""
    if verdict == "patch_failed":
        patch = diff_file.read_text()
        assert_unappliable(repo, base, patch, diff_file)
        return patch
    patch = diff_of(repo, base, files)
    if any(path.startswith(TEST_DIRS) for path in touched(patch)) or "\nnew file mode" in patch:
        raise BuildError(f"{where}: candidates may only change existing non-test files (wrong base?)")
    if error := apply_all(repo, base, patch, gold_tests):
        raise BuildError(f"{where}: candidate and test patch do not apply at {base}: {error}")
    return patch


def prediction(meta: dict[str, Any], iid: str, patch: str) -> dict[str, Any]:
    """A SWE-bench prediction row with made-up but fixed usage metadata."""
    digest = int(hashlib.sha256(f"{meta['model']}/{iid}".encode()).hexdigest()[:8], 16)
    tokens = 0 if meta["model"] == "gold" else 2000 + digest % 30000
    cost = round(tokens * meta.get("usd_per_mtok", 0.0) / 1e6, 6)
    return {
        "instance_id": iid,
        "model_name_or_path": meta["model"],
        "model_patch": patch,
        "scaffold": meta["scaffold"],
        "seed": meta["seed"],
        "tokens": tokens,
        "cost_usd": cost,
    }


def build_instance(history: History, inst: Path, n: int) -> tuple[dict, dict]:
    """Return the dataset row of one instance and its candidates' (verdict, patch) by run."""
    meta = json.loads((inst / "instance.json").read_text())
    if meta["base"] not in history.shas:
        raise BuildError(f"{inst}: unknown base {meta['base']!r}")
    repo, base = history.path, history.shas[meta["base"]]
    gold, tests = diff_of(repo, base, inst / "patch"), diff_of(repo, base, inst / "test_patch")
    if any(path.startswith(TEST_DIRS) for path in touched(gold)) or "\nnew file mode" in gold:
        raise BuildError(f"{inst}: the gold patch may only change existing non-test files (wrong base?)")
    if not all(path.startswith(TEST_DIRS) for path in touched(tests)):
        raise BuildError(f"{inst}: the test patch touches non-test files")
    if error := apply_all(repo, base, gold, tests):
        raise BuildError(f"{inst}: gold and test patch do not apply at {meta['base']}: {error}")
    f2p, p2p = meta["FAIL_TO_PASS"], meta["PASS_TO_PASS"]
    if not f2p or set(f2p) & set(p2p) or len(set(f2p + p2p)) != len(f2p + p2p):
        raise BuildError(f"{inst}: FAIL_TO_PASS must be non-empty, unique and disjoint from PASS_TO_PASS")
    created = datetime.fromisoformat(history.dates[meta["base"]]) + timedelta(days=1, hours=n)
    row = {
        "instance_id": f"demo__{inst.name}",
        "repo": f"demo/{history.name}",
        "base_commit": base,
        "patch": gold,
        "test_patch": tests,
        "problem_statement": (inst / "problem.md").read_text(),
        "hints_text": "",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": "1.0",
        "FAIL_TO_PASS": json.dumps(f2p),
        "PASS_TO_PASS": json.dumps(p2p),
        "environment_setup_commit": next(iter(history.shas.values())),
    }
    if meta.get("flaky"):
        return row, {}
    if set(meta["candidates"]) != set(RUNS):
        raise BuildError(f"{inst}: needs exactly one candidate per run {sorted(RUNS)}")
    patches = {
        run: (verdict, candidate_patch(repo, base, inst / "candidates" / run, verdict, tests))
        for run, verdict in sorted(meta["candidates"].items())
    }
    return row, patches


def instance_dirs(name: str) -> list[Path]:
    def order(path: Path) -> tuple[int, str]:
        suffix = path.name.rsplit("-", 1)[-1]
        return (int(suffix) if suffix.isdigit() else 1_000_000, path.name)

    return sorted((p for p in (DEMO / "repos" / name / "instances").iterdir() if p.is_dir()), key=order)


def build_repo(name: str, work: Path, bundles: Path, built: Built) -> dict[str, str]:
    history = build_history(name, work)
    for n, inst in enumerate(instance_dirs(name)):
        row, patches = build_instance(history, inst, n)
        iid = row["instance_id"]
        if not patches:
            built.flaky_rows.append(row)
            built.predictions.setdefault("gold-flaky", []).append(prediction(GOLD, iid, row["patch"]))
            continue
        built.rows.append(row)
        built.predictions.setdefault("gold", []).append(prediction(GOLD, iid, row["patch"]))
        built.verdicts.setdefault(GOLD["model"], {})[iid] = "resolved"
        for run, (verdict, patch) in patches.items():
            built.predictions.setdefault(run, []).append(prediction(RUNS[run], iid, patch))
            built.verdicts.setdefault(RUNS[run]["model"], {})[iid] = verdict
    reset(history.path, "main")
    git(history.path, "checkout", "-q", "main")
    git(history.path, "bundle", "create", "-q", str(bundles / f"{name}.bundle"), "--all")
    return history.shas


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def data_files(built: Built) -> dict[str, str]:
    """Relative path -> content of every checked-in data file."""
    files = {
        "dataset.jsonl": jsonl(built.rows),
        "dataset-flaky.jsonl": jsonl(built.flaky_rows),
        "flaky.json": json.dumps([row["instance_id"] for row in built.flaky_rows]) + "\n",
        "expected_verdicts.json": json.dumps(built.verdicts, indent=2, sort_keys=True) + "\n",
    }
    for run, rows in sorted(built.predictions.items()):
        files[f"predictions/{run}.jsonl"] = jsonl(rows)
    return files


def build(out: Path) -> dict[str, str]:
    """Build repositories and bundles under out; return the data files."""
    bundles = out / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    built, commits = Built(), {}
    with tempfile.TemporaryDirectory(prefix="evalfleet-demo-") as tmp:
        for name in REPOS:
            commits[f"demo/{name}"] = build_repo(name, Path(tmp), bundles, built)
    (out / "commits.json").write_text(json.dumps(commits, indent=2) + "\n")
    return data_files(built)


def write(files: dict[str, str], root: Path) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, newline="\n")


def check(files: dict[str, str], root: Path) -> list[str]:
    """Names of the data files under root that differ from the freshly built ones."""
    stale = []
    for rel, content in files.items():
        path = root / rel
        current = path.read_text() if path.exists() else ""
        if current != content:
            stale.append(rel)
            diff = difflib.unified_diff(current.splitlines(), content.splitlines(), rel, "built", lineterm="")
            print("\n".join(line[:160] for line in list(diff)[:12]), file=sys.stderr)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEMO / "build", help="Where bundles go.")
    parser.add_argument("--data-out", type=Path, default=DEMO, help="Where the data files go.")
    parser.add_argument("--check", action="store_true", help="Verify the checked-in data files instead.")
    args = parser.parse_args(argv)
    args.out, args.data_out = args.out.resolve(), args.data_out.resolve()  # git runs in other directories
    try:
        if args.check:
            with tempfile.TemporaryDirectory(prefix="evalfleet-demo-check-") as tmp:
                out = args.out if args.out != DEMO / "build" else Path(tmp)
                stale = check(build(out), args.data_out)
            if stale:
                print(f"stale: {', '.join(stale)}; run `python3 demo/build.py`", file=sys.stderr)
                return 1
            print("demo data files are up to date")
            return 0
        files = build(args.out)
        write(files, args.data_out)
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} data files to {args.data_out} and bundles to {args.out / 'bundles'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
