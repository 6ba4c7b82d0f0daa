"""Several datasets, each with its own adapter, as one: for a sweep whose runs cover several families.

``dataset.path`` is a YAML file listing the parts; relative paths are read from that file's directory::

    parts:
      - {path: ../demo/dataset.jsonl, instances: ["demo__calc-1"]}          # adapter: swebench (default)
      - {path: multilingual/dataset.jsonl}
      - {path: polyglot, adapter: polyglot, instances: ["polyglot__python__*"]}

Instance ids must be unique across the parts (a sweep keys its work by instance id).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.datasets.source import DatasetSource
from orchestrator.errors import DatasetError
from workers.models import Instance


class Part(BaseModel):
    """One dataset of a mixed set."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Dataset file or directory, relative to the mixed file.")
    adapter: str = Field(default="swebench", description="Adapter that reads it (not 'mixed').")
    instances: list[str] = Field(default_factory=list, description="Only these ids (globs); all if empty.")


class MixedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[Part] = Field(min_length=1, description="The datasets, in order.")


class MixedAdapter:
    """Loads every part with its adapter and concatenates the instances."""

    name = "mixed"

    def load(self, source: DatasetSource) -> list[Instance]:
        from orchestrator.datasets import get_adapter

        if source.path is None or not source.path.is_file():
            raise DatasetError(
                f"{source.label}: the mixed adapter reads a YAML file of parts",
                field="dataset.path",
                fix="write parts: [{path: ..., adapter: ...}] (docs/benchmarks.md)",
            )
        spec = _read(source.path)
        instances: list[Instance] = []
        seen: dict[str, str] = {}
        for n, part in enumerate(spec.parts):
            if part.adapter == self.name:
                raise DatasetError(f"{source.path}: part {n} is itself mixed", fix="list plain datasets")
            path = Path(part.path) if Path(part.path).is_absolute() else source.path.parent / part.path
            for inst in get_adapter(part.adapter).load(DatasetSource(path)):
                if part.instances and not any(
                    fnmatch.fnmatchcase(inst.instance_id, g) for g in part.instances
                ):
                    continue
                if inst.instance_id in seen:
                    raise DatasetError(
                        f"{source.path}: instance {inst.instance_id} is in part {seen[inst.instance_id]} and part {n}",
                        fix="keep each instance in one part",
                    )
                seen[inst.instance_id] = str(n)
                instances.append(inst)
        return instances


def _read(path: Path) -> MixedFile:
    try:
        return MixedFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})".splitlines()[0], fix="write valid YAML") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise DatasetError(f"{path}: field '{where}': {err['msg']}", fix="see docs/benchmarks.md") from None
