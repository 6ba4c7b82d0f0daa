#!/usr/bin/env python3
"""Translate the official harness's non-Python tables into ``configs/specs/multilingual/<owner>__<repo>.yaml``.

A dev-time generator like ``translate_swebench_specs.py`` (whose wheel lookup and YAML layout it
reuses): it reads ``MAP_REPO_VERSION_TO_SPECS_{C,GO,JAVA,JS,PHP,RUBY,RUST}`` and the
``MAP_REPO_TO_PARSER_*`` maps from a swebench 4.x wheel (swebench 5 dropped the tables)::

    pip download swebench==4.1.0 --no-deps -d ~/.cache/evalfleet/swebench
    python scripts/translate_swebench_multilingual.py [--swebench-wheel PATH]

Every (repo, version) is translated; a version is one task instance (SWE-bench Multilingual keys its
specs by pull-request number). What the official image has that Debian 12 does not (a newer
toolchain, a package registry this site cannot reach) is written to ``needs.json`` next to the specs,
and ``evalfleet run --dry-run`` shows, per repository, which instances can be built here and which
need a pulled image. See docs/benchmarks.md for the mapping of every field. The output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from translate_swebench_specs import _Dumper, default_wheel, factor, version_key

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "configs" / "specs" / "multilingual"
NEEDS_FILE = "needs.json"

LANGUAGES = {
    "c": "C",
    "go": "GO",
    "java": "JAVA",
    "javascript": "JS",
    "php": "PHP",
    "ruby": "RUBY",
    "rust": "RUST",
}
"""Module of ``swebench/harness/constants`` -> suffix of its ``MAP_REPO_VERSION_TO_SPECS_*`` table."""

MULTIMODAL = frozenset(
    {
        "Automattic/wp-calypso",
        "chartjs/Chart.js",
        "markedjs/marked",
        "processing/p5.js",
        "diegomura/react-pdf",
    }
)
"""JavaScript repos of SWE-bench Multimodal in the same table: not translated (their parsers are not ported)."""

TOOLCHAIN_PACKAGES = {
    "c": ["build-essential", "cmake", "autoconf", "automake", "libtool", "pkg-config", "tcl", "python3"],
    "go": ["golang-go", "build-essential"],
    "java": ["default-jdk-headless", "maven", "ant"],
    "javascript": ["nodejs", "npm", "jq"],
    "php": ["php-cli", "php-xml", "php-mbstring", "php-curl", "php-zip", "php-intl", "composer", "unzip"],
    "ruby": ["ruby-full", "ruby-bundler", "build-essential"],
    "rust": ["rustc", "cargo", "build-essential"],
}
"""Debian 12 packages that stand in for the official image's toolchain of each language."""

DOCKER_TOOLCHAINS = {"go_version": "go", "node_version": "node", "java_version": "java", "php_version": "php",
                     "ruby_version": "ruby", "rust_version": "rust"}  # fmt: skip
"""``docker_specs`` key -> toolchain name used in ``needs.json`` (workers/images/toolchains.py)."""

REGISTRIES = (
    (re.compile(r"\b(npm|yarn|pnpm|npx)\b"), "registry.npmjs.org"),
    (re.compile(r"\bgo (test|build|mod|get|install)\b"), "proxy.golang.org"),
    (re.compile(r"\bcargo\b"), "crates.io"),
    (re.compile(r"\b(mvnd?|mvnw|gradlew?|ant)\b"), "repo.maven.apache.org"),
    (re.compile(r"\bcomposer\b"), "packagist.org"),
    (re.compile(r"\b(bundle|gem)\b|script/bootstrap"), "rubygems.org"),
    (re.compile(r"git submodule|git clone|\bcurl\b|\bwget\b"), "github.com"),
)
"""What a setup command downloads from (the official images are built with the whole internet)."""

PER_INSTANCE_PARSERS = {
    "jekyll": {
        "9141": "minitest",
        "8047": "minitest",
        "8167": "minitest",
        "8761": "cucumber",
        "8771": "cucumber",
    },
    "immutable_js": {"2006": "jest", "2005": "jest_json"},
}
"""SWE-bench parsers that pick a runner by instance id: resolved per version here."""


def read_tables(wheel: Path) -> dict[str, dict[str, Any]]:
    """{language: {"specs": MAP_REPO_VERSION_TO_SPECS_*, "parsers": repo -> parser name}}."""
    out: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for module, suffix in LANGUAGES.items():
            consts: dict[str, Any] = {}
            source = archive.read(f"swebench/harness/constants/{module}.py").decode("utf-8")
            exec(compile(source, module, "exec"), consts)  # the official module is plain data
            parsers_src = archive.read(f"swebench/harness/log_parsers/{module}.py").decode("utf-8")
            table = re.search(r"MAP_REPO_TO_PARSER_\w+ = \{(.*?)\}", parsers_src, re.S)
            pairs = re.findall(r'"([^"]+)":\s*parse_log_(\w+)', table.group(1) if table else "")
            out[module] = {"specs": consts[f"MAP_REPO_VERSION_TO_SPECS_{suffix}"], "parsers": dict(pairs)}
    return out


def commands(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def translate_version(
    language: str, repo: str, version: str, row: dict[str, Any], parser: str
) -> dict[str, Any]:
    setup = commands(row.get("pre_install")) + commands(row.get("install")) + commands(row.get("build"))
    test = commands(row.get("build")) + commands(row.get("test_cmd"))
    spec: dict[str, Any] = {
        "base": "bookworm",
        "system_packages": sorted(set(TOOLCHAIN_PACKAGES[language]) | set(row.get("apt-pkgs", []))),
        "instance_setup": ["\n".join(setup)] if setup else [],
        "test_cmd": "\n".join(["set -x", *test]),
        "test_targets": "none",
        "parser": PER_INSTANCE_PARSERS.get(parser, {}).get(version, parser),
        "timeouts": {"build": 3600, "test": 1800},
    }
    return spec


def needs_of(language: str, row: dict[str, Any]) -> list[str]:
    """What the official image of this version has: toolchain versions and registries used by setup."""
    found = [
        f"{DOCKER_TOOLCHAINS[key]}>={value}"
        for key, value in sorted(row.get("docker_specs", {}).items())
        if key in DOCKER_TOOLCHAINS
    ]
    setup = " ; ".join(
        commands(row.get("pre_install")) + commands(row.get("install")) + commands(row.get("build"))
    )
    found += sorted({f"registry:{host}" for pattern, host in REGISTRIES if pattern.search(setup)})
    return found


def translate(tables: dict[str, dict[str, Any]]) -> tuple[dict[str, str], dict[str, dict[str, list[str]]]]:
    files: dict[str, str] = {}
    needs: dict[str, dict[str, list[str]]] = {}
    for language, table in tables.items():
        for repo, versions in sorted(table["specs"].items()):
            if repo in MULTIMODAL:
                continue
            parser = table["parsers"][repo]
            specs = {
                str(v): translate_version(language, repo, str(v), row, parser)
                for v, row in sorted(versions.items(), key=lambda kv: version_key(str(kv[0])))
            }
            needs[repo] = {str(v): needs_of(language, row) for v, row in sorted(versions.items())}
            files[repo.replace("/", "__") + ".yaml"] = render(language, repo, specs)
    return files, needs


def render(language: str, repo: str, specs: dict[str, dict[str, Any]]) -> str:
    defaults, versions = factor(specs)
    body = yaml.dump(
        {"repo": repo, "defaults": defaults, "versions": versions},
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=4096,
        allow_unicode=True,
    )
    head = [
        "# generated by scripts/translate_swebench_multilingual.py; edit the script, not this file",
        f"# SWE-bench Multilingual, {language}: swebench/harness/constants/{language}.py, {len(specs)} versions (one per instance)",
        f"# what the official image has that Debian 12 may not: {NEEDS_FILE}",
    ]
    return "\n".join([*head, body.rstrip("\n"), ""])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--swebench-wheel", type=Path, default=None, help="a swebench 4.x wheel")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = ap.parse_args(argv)
    wheel = args.swebench_wheel or default_wheel()
    if wheel is None or not wheel.is_file():
        print("no swebench 4.x wheel: pip download swebench==4.1.0 --no-deps -d ~/.cache/evalfleet/swebench")
        return 2
    files, needs = translate(read_tables(wheel))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
    (args.out / NEEDS_FILE).write_text(json.dumps(needs, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(files)} spec files and {NEEDS_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
