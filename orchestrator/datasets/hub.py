"""Rows of a Hugging Face dataset: a hub name, a local data directory, or a ``save_to_disk`` directory.

``datasets`` is an optional extra (``evalfleet[hf]``) and is imported only here, when needed.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from orchestrator.datasets.locations import Entry, Location, first_line
from orchestrator.datasets.readers import is_saved_hf_dataset, json_safe
from orchestrator.errors import DatasetError


def read_hub(name: str, split: str, revision: str | None) -> list[Entry]:
    """Every row of the split, located as ``name:split[row]``."""
    hf = _import_datasets(name)
    source = f"{name}:{split}"
    try:
        dataset = _load(hf, name, split, revision)
    except DatasetError:
        raise
    except Exception as exc:  # a third-party boundary: any failure to load becomes one line
        raise DatasetError(
            f"cannot load the Hugging Face dataset: {type(exc).__name__}: {first_line(exc, 100)}",
            source=source,
            fix="check the dataset name, split and revision (and the network)",
        ) from exc
    return [Entry(json_safe(row), Location(source, index=i)) for i, row in enumerate(dataset)]


def _import_datasets(name: str) -> ModuleType:
    try:
        import datasets
    except ImportError:
        raise DatasetError(
            "loading a Hugging Face dataset needs the 'datasets' package",
            source=name,
            fix="pip install 'evalfleet[hf]'",
        ) from None
    return datasets


def _load(hf: ModuleType, name: str, split: str, revision: str | None) -> Any:
    if not is_saved_hf_dataset(Path(name)):
        return hf.load_dataset(name, split=split, revision=revision)
    dataset = hf.load_from_disk(name)
    if not isinstance(dataset, hf.DatasetDict):
        return dataset
    if split not in dataset:
        raise DatasetError(
            f"no split {split!r} in the saved dataset",
            source=name,
            fix=f"use one of: {', '.join(sorted(dataset))}",
        )
    return dataset[split]
