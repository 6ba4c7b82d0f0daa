"""Where a dataset comes from: a local path or a Hugging Face name (exactly one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import DatasetError


@dataclass(frozen=True)
class DatasetSource:
    """A dataset's origin. ``split`` and ``revision`` apply to Hugging Face datasets."""

    path: Path | None = None
    hf_name: str | None = None
    split: str = "test"
    revision: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.hf_name is None):
            raise DatasetError(
                "give exactly one dataset: a local file or a Hugging Face name",
                fix="pass a path (.json, .jsonl, .parquet) or hf_name, not both or neither",
            )

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else f"{self.hf_name}:{self.split}"
