"""Reading records from files: JSON, JSON Lines and Parquet, chosen by extension.

Text is read strictly as UTF-8 (a leading BOM is dropped); a file that cannot be read, is empty or is
not UTF-8 is reported with its line and byte offset. Nothing is returned until the whole file parsed.
"""

from __future__ import annotations

import codecs
from datetime import date, datetime, time
from pathlib import Path

from orchestrator.datasets.jsontext import Shape, parse_json, parse_jsonl
from orchestrator.datasets.locations import Entry, ErrorClass, Location, first_line
from workers.errors import UserInputError

TEXT_FORMATS = (".json", ".jsonl")
DATASET_FORMATS = (*TEXT_FORMATS, ".parquet")
HF_SAVED_MARKERS = ("dataset_dict.json", "state.json")


def check_file(path: Path, error: ErrorClass, formats: tuple[str, ...]) -> str:
    """The file's format (its lower-case extension), after checking it exists and is a file."""
    source = str(path)
    if not path.exists():
        raise error("file not found", source=source, fix="check the path")
    if path.is_dir():
        raise error("is a directory, expected a file", source=source, fix=f"give a {_one_of(formats)} file")
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise error(
            f"unknown file extension {suffix or '(none)'!r}",
            source=source,
            fix=f"accepted extensions: {', '.join(formats)}",
        )
    return suffix


def is_saved_hf_dataset(path: Path) -> bool:
    """Whether ``path`` is a directory written by ``datasets``' ``save_to_disk``."""
    return path.is_dir() and any((path / name).is_file() for name in HF_SAVED_MARKERS)


def read_text(path: Path, error: ErrorClass) -> str:
    """The file as text: strict UTF-8, BOM dropped, not empty."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or first_line(exc)}", source=source) from None
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, skip + exc.start, source, error) from None
    if not text.strip():
        problem = "file is empty (0 bytes)" if not data else "file holds only whitespace"
        raise error(problem, source=source, fix="give a file with at least one record")
    return text


def read_text_records(path: Path, suffix: str, error: ErrorClass, expected: str) -> tuple[Shape, list[Entry]]:
    """Records of a .json or .jsonl file; ``expected`` describes the JSON top level wanted."""
    text = read_text(path, error)
    if suffix == ".jsonl":
        return "list", parse_jsonl(text, str(path), error)
    return parse_json(text, str(path), error, expected)


def read_parquet(path: Path, error: ErrorClass) -> list[Entry]:
    """Rows of a Parquet file, located by 0-based row index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowException) as exc:
        raise error(
            f"cannot read as Parquet: {first_line(exc).replace(str(path), path.name)}",
            source=str(path),
            fix="check that it is a Parquet file",
        ) from None
    return [Entry(json_safe(row), Location(str(path), index=i)) for i, row in enumerate(rows)]


def json_safe(value: object) -> object:
    """Tabular rows may hold timestamps: turn them into ISO strings so every value is plain JSON."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _not_utf8(data: bytes, offset: int, source: str, error: ErrorClass) -> UserInputError:
    line = data.count(b"\n", 0, offset) + 1
    return error(
        f"not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset}",
        source=source,
        line=line,
        fix="save the file as UTF-8",
    )


def _one_of(formats: tuple[str, ...]) -> str:
    return ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]
