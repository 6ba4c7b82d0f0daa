"""Where a parsed value came from (file, line, row), and how to name it in a one-line error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from workers.errors import UserInputError

ErrorClass = type[UserInputError]

BRIEF_CHARS = 60


@dataclass(frozen=True)
class Location:
    """A record's place in its source.

    Text formats (JSON, JSONL) know the 1-based ``line`` where the record starts and the line of each
    of its keys; tabular sources (Parquet, Hugging Face) know the 0-based row ``index``, shown as
    ``file[3]``.
    """

    source: str
    line: int | None = None
    index: int | None = None
    key_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.line is None and self.index is not None:
            return f"{self.source}[{self.index}]"
        return self.source

    def line_of(self, field_path: str | None) -> int | None:
        """Line of a field (``FAIL_TO_PASS[2]`` is on the line of ``FAIL_TO_PASS``), else the record's."""
        key = (field_path or "").split("[", 1)[0]
        return self.key_lines.get(key, self.line)

    def describe(self) -> str:
        return f"line {self.line}" if self.line is not None else f"row {self.index}"

    def error(
        self, error: ErrorClass, problem: str, *, field: str | None = None, fix: str | None = None
    ) -> UserInputError:
        return error(problem, source=self.label, line=self.line_of(field), field=field, fix=fix)


@dataclass(frozen=True)
class Entry:
    """One parsed record: a value (an object, if the input is right) and where it came from.

    ``key`` is set for the members of a JSON object keyed by instance id (dict-shaped predictions).
    """

    value: object
    where: Location
    key: str | None = None


def brief(value: object, limit: int = BRIEF_CHARS) -> str:
    """A short repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind(value: object) -> str:
    """JSON's name for the type of a parsed value."""
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    if value is None:
        return "null"
    return names.get(type(value), type(value).__name__)


def a(noun: str) -> str:
    """``noun`` with its indefinite article: 'an object', 'a list'."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def first_line(exc: BaseException, limit: int = 120) -> str:
    """The first line of an exception's message, cut to ``limit`` characters."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
