"""Predictions -> Candidate, in SWE-bench's three shapes: a JSON list, a JSON object keyed by
instance_id, or JSON Lines.

Keys: ``instance_id``, ``model_name_or_path`` (the run; optional when ``run`` is given) and
``model_patch`` (a string, or null for "no patch"); every other key is kept in ``Candidate.metadata``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from orchestrator.datasets.fields import MAX_ID_CHARS, SAFE_ID, SAFE_ID_FIX, Fields, as_object
from orchestrator.datasets.locations import Entry, Location, brief
from orchestrator.datasets.readers import TEXT_FORMATS, check_file, read_text_records
from orchestrator.errors import PredictionsError
from workers.models import Candidate, Instance

KEYS = frozenset({"instance_id", "model_name_or_path", "model_patch"})

_EXPECTED = "a list of predictions or an object keyed by instance_id"
_SHAPE_FIX = "predictions are a JSON list of objects, a JSON object keyed by instance_id, or JSONL"


def load_predictions(
    path: str | Path, *, instances: Mapping[str, Instance] | None = None, run: str | None = None
) -> list[Candidate]:
    """Every prediction of the file, checked, in file order.

    ``instances``: when given, a prediction for an id not in it is an error. ``run``: the run name of
    every candidate (then ``model_name_or_path`` may be absent; if present and different it is kept in
    metadata). Duplicate (instance_id, run) pairs are errors.
    """
    path = Path(path)
    suffix = check_file(path, PredictionsError, TEXT_FORMATS)
    _, entries = read_text_records(path, suffix, PredictionsError, _EXPECTED)
    if not entries:
        raise PredictionsError("the file holds no predictions", source=str(path), fix=_SHAPE_FIX)
    candidates: list[Candidate] = []
    first: dict[tuple[str, str], Location] = {}
    for entry in entries:
        candidate = to_candidate(entry, run)
        _check_known(candidate, entry, instances)
        seen = first.setdefault((candidate.instance_id, candidate.run), entry.where)
        if seen is not entry.where:
            raise entry.where.error(
                PredictionsError,
                f"duplicate prediction for {candidate.instance_id!r} in run {candidate.run!r} "
                f"(first at {seen.describe()})",
                field="instance_id",
                fix="keep one prediction per instance and run",
            )
        candidates.append(candidate)
    return candidates


def to_candidate(entry: Entry, run: str | None) -> Candidate:
    """One checked prediction."""
    fix = _SHAPE_FIX
    if entry.key is not None and entry.key in KEYS and not isinstance(entry.value, dict):
        fix = "this looks like a single prediction: wrap it in a list [ ... ]"
    row = as_object(entry, PredictionsError, "the prediction", fix)
    fields = Fields(row, entry.where, PredictionsError)
    instance_id = _instance_id(entry, fields)
    name = _model_name(fields, run)
    if "model_patch" not in row:
        raise fields.fail("model_patch", "missing required field", "add model_patch (null means no patch)")
    patch = row["model_patch"]
    metadata = {key: value for key, value in row.items() if key not in KEYS}
    if run is not None and name is not None and name != run:
        metadata["model_name_or_path"] = name
    run_name = run if run is not None else name
    assert run_name is not None  # _model_name requires the name when no run is given
    return Candidate(
        instance_id=instance_id,
        run=run_name,
        patch=None if patch is None else fields.check_text("model_patch", patch),
        metadata=metadata,
    )


def _model_name(fields: Fields, run: str | None) -> str | None:
    """model_name_or_path: required unless ``run`` names the run."""
    if run is not None and fields.row.get("model_name_or_path") is None:
        return None
    return fields.label("model_name_or_path", "add the model name to every prediction, or name the run")


def _instance_id(entry: Entry, fields: Fields) -> str:
    """The id from the record, or from its key in a dict-shaped file (where the two must agree)."""
    if entry.key is None:
        return fields.identifier("instance_id")
    if len(entry.key) > MAX_ID_CHARS or not SAFE_ID.fullmatch(entry.key):
        raise fields.fail("instance_id", f"key {brief(entry.key)} is not a safe id", SAFE_ID_FIX)
    inner = fields.row.get("instance_id", entry.key)
    if inner != entry.key:
        raise fields.fail(
            "instance_id",
            f"{brief(inner)} does not match its key {brief(entry.key)}",
            "make the key and the inner instance_id equal, or drop the inner one",
        )
    return entry.key


def _check_known(candidate: Candidate, entry: Entry, instances: Mapping[str, Instance] | None) -> None:
    if instances is not None and candidate.instance_id not in instances:
        raise entry.where.error(
            PredictionsError,
            f"{candidate.instance_id!r} is not an instance of the dataset",
            field="instance_id",
            fix="remove the prediction or use the dataset it was made for",
        )
