"""configs/specs/multilingual/ is what scripts/translate_swebench_multilingual.py makes of swebench 4.1.0's
tables, every spec names a parser we have, and the dry run's needs are judged against Debian 12."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from workers.images.toolchains import REACHABLE_ENV, unmet
from workers.parsers import resolve_name
from workers.spec import SpecCatalog

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "configs" / "specs" / "multilingual"
sys.path.insert(0, str(ROOT / "scripts"))


def test_every_multilingual_spec_loads_and_names_a_known_parser() -> None:
    catalog = SpecCatalog.load(SPECS)
    files = sorted(SPECS.glob("*.yaml"))
    assert len(files) == 41
    versions = 0
    for path in files:
        data = yaml.safe_load(path.read_text())
        for version in data["versions"]:
            spec = catalog.find(data["repo"], str(version))
            assert spec is not None and spec.test_targets == "none"
            resolve_name(spec.parser)
            versions += 1
    assert versions == 300  # SWE-bench Multilingual's 300 instances


def test_needs_cover_every_version() -> None:
    needs = json.loads((SPECS / "needs.json").read_text())
    assert sum(len(v) for v in needs.values()) == 300
    assert needs["jqlang/jq"]["2839"] == ["registry:github.com"]  # git submodule update
    assert "go>=1.23.8" in needs["caddyserver/caddy"]["6411"]


def test_generated_files_are_what_the_script_makes(tmp_path: Path) -> None:
    translate = pytest.importorskip("translate_swebench_multilingual")
    wheel = translate.default_wheel()
    if wheel is None or not wheel.is_file():
        pytest.skip("no swebench 4.x wheel in ~/.cache/evalfleet/swebench")
    assert translate.main(["--swebench-wheel", str(wheel), "--out", str(tmp_path)]) == 0
    made = {p.name: p.read_text() for p in tmp_path.iterdir()}
    have = {p.name: p.read_text() for p in SPECS.iterdir()}
    assert made == have


def test_unmet_needs_against_debian_12(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REACHABLE_ENV, raising=False)
    assert unmet(["java>=11", "go>=1.19.13", "node>=18", "registry:registry.npmjs.org"]) == []
    assert unmet(["go>=1.23.8"]) == ["go>=1.23.8 (Debian has 1.19)"]
    assert unmet(["java>=21", "registry:crates.io"]) == ["java>=21", "registry:crates.io"]
    monkeypatch.setenv(REACHABLE_ENV, "crates.io")
    assert unmet(["registry:crates.io", "registry:registry.npmjs.org"]) == ["registry:registry.npmjs.org"]
