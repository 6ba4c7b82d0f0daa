"""Datasets -> ``Instance`` and predictions -> ``Candidate``.

Adapters turn a dataset source into instances; they are found by short name in ``ADAPTERS`` and
imported lazily, or given as ``module:Class`` for a user's own. Every bad input raises a
``DatasetError`` / ``PredictionsError`` whose one-line message names the file, line (or row), field,
the value found and the fix; no partial result is ever returned.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import NamedTuple, Protocol

from orchestrator.datasets.fields import MAX_FIELD_BYTES
from orchestrator.datasets.predictions import load_predictions
from orchestrator.datasets.source import DatasetSource
from orchestrator.errors import ConfigError
from workers.models import Instance

__all__ = [
    "ADAPTERS",
    "MAX_FIELD_BYTES",
    "DatasetAdapter",
    "DatasetSource",
    "get_adapter",
    "load_instances",
    "load_predictions",
]


class DatasetAdapter(Protocol):
    """Turns a dataset source into checked instances (raising ``DatasetError`` on bad input)."""

    def load(self, source: DatasetSource) -> list[Instance]: ...


class AdapterRef(NamedTuple):
    target: str  # "module:Class"
    extra: str | None = None  # the pip extra the module needs, if any


ADAPTERS: dict[str, AdapterRef] = {
    "swebench": AdapterRef("orchestrator.datasets.swebench:SweBenchAdapter"),
    "polyglot": AdapterRef("orchestrator.datasets.polyglot:PolyglotAdapter"),
    "swebench_pro": AdapterRef("orchestrator.datasets.swebench_pro:SweBenchProAdapter"),
    "mixed": AdapterRef("orchestrator.datasets.mixed:MixedAdapter"),
}


def load_instances(
    path: str | Path | None = None,
    *,
    hf_name: str | None = None,
    split: str = "test",
    revision: str | None = None,
    adapter: str = "swebench",
) -> list[Instance]:
    """Instances of a local file (.json, .jsonl, .parquet) or of a Hugging Face dataset, in order."""
    source = DatasetSource(Path(path) if path is not None else None, hf_name, split, revision)
    return get_adapter(adapter).load(source)


def get_adapter(name: str) -> DatasetAdapter:
    """The adapter registered as ``name``, or the class a ``module:Class`` string names."""
    ref = ADAPTERS.get(name) or (AdapterRef(name) if ":" in name else None)
    if ref is None:
        raise ConfigError(
            f"unknown dataset adapter {name!r}",
            field="adapter",
            fix=f"use one of {', '.join(sorted(ADAPTERS))} or 'module:Class'",
        )
    module_name, _, class_name = ref.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'evalfleet[{ref.extra}]'" if ref.extra else "check the module name"
        problem = f"cannot import dataset adapter {name!r}: {exc}"
        raise ConfigError(problem, field="adapter", fix=hint) from None
    adapter_class = getattr(module, class_name, None)
    if adapter_class is None:
        raise ConfigError(f"no class {class_name!r} in {module_name}", field="adapter", fix="check the name")
    adapter: DatasetAdapter = adapter_class()
    return adapter
