"""SweepConfig: loading, overrides, and one-line errors naming file, field, given and expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config import apply_override, load_config
from orchestrator.errors import ConfigError

GOOD = """\
name: t
seed: 7
dataset: {path: data.jsonl}
runs:
  - predictions: preds.jsonl
execution:
  limits: {memory_mb: 512}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sweep.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_good_config(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.name == "t"
    assert cfg.seed == 7
    assert cfg.execution.limits.memory_mb == 512
    assert cfg.store.url == "file://./results"
    assert cfg.runs[0].predictions == "preds.jsonl"


def test_demo_config_loads() -> None:
    cfg = load_config(Path("configs/demo.yaml"))
    assert cfg.name == "demo"
    assert len(cfg.runs) == 3
    assert set(cfg.repos) == {"demo/calc", "demo/textkit", "demo/jsutil"}


def test_overrides_nested_and_typed(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, GOOD),
        ["repeats=3", "execution.limits.cpus=0.5", "runs.0.scaffold=mini", "dataset.instances=[a, b]"],
    )
    assert cfg.repeats == 3
    assert cfg.execution.limits.cpus == 0.5
    assert cfg.runs[0].scaffold == "mini"
    assert cfg.dataset.instances == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "overrides", "needles"),
    [
        (GOOD.replace("seed: 7", "sed: 7"), [], ["sweep.yaml", "field 'sed'", "unknown field"]),
        (GOOD.replace("seed: 7", "seed: seven"), [], ["field 'seed'", "'seven'", "integer"]),
        (GOOD.replace("memory_mb: 512", "memory_mb: 10"), [], ["execution.limits.memory_mb", "64"]),
        (GOOD.replace("name: t", "name: 'bad name/x'"), [], ["field 'name'", "pattern"]),
        (GOOD.replace("dataset: {path: data.jsonl}", "dataset: {}"), [], ["field 'dataset'", "exactly one"]),
        (
            GOOD.replace("  - predictions: preds.jsonl", "  - {gold: true, predictions: p.jsonl}"),
            [],
            ["runs.0", "exactly one"],
        ),
        (
            GOOD.replace("runs:\n  - predictions: preds.jsonl\n", "runs: []\n"),
            [],
            ["field 'runs'", "at least 1"],
        ),
        (
            GOOD.replace(
                "  - predictions: preds.jsonl", "  - {gold: true, name: x}\n  - {empty: true, name: x}"
            ),
            [],
            ["run names must be unique", "x"],
        ),
        ("name: [unclosed\n", [], ["sweep.yaml:2", "invalid YAML"]),
        ("- just\n- a list\n", [], ["sweep.yaml", "mapping"]),
        (GOOD, ["repeats=0"], ["field 'repeats'", "greater than or equal to 1"]),
        (GOOD, ["runs.5.name=x"], ["--set", "runs.5", "out of range"]),
        (GOOD, ["novalue"], ["--set", "KEY.PATH=VALUE"]),
        (GOOD, ["store.url=[1, 2]"], ["store.url", "valid string"]),
    ],
)
def test_bad_config_is_one_actionable_line(
    tmp_path: Path, text: str, overrides: list[str], needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), overrides)
    message = info.value.one_line()
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_override_creates_missing_mapping() -> None:
    raw: dict[str, object] = {}
    apply_override(raw, "store.endpoint_url=http://127.0.0.1:8333")
    assert raw == {"store": {"endpoint_url": "http://127.0.0.1:8333"}}


SWEEP_CONFIGS = sorted(p for p in Path("configs").glob("*.yaml") if "\nruns:" in p.read_text())


@pytest.mark.parametrize("path", SWEEP_CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads(path: Path) -> None:
    """The sweep configs in configs/ are documentation users copy: each must load as it is."""
    assert load_config(path).name
