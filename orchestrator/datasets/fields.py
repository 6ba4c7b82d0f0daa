"""Checked reading of one record's fields, with errors that name the record's file, line and field.

Limits (module constants, read at call time so they can be changed):
``MAX_FIELD_BYTES`` caps every text field of the schema (patches, problem statements, scripts):
5 MiB, far above SWE-bench's largest gold patch, and low enough that one bad row cannot exhaust memory
once it is copied into every work item.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from orchestrator.datasets.locations import Entry, ErrorClass, Location, a, brief, kind
from workers.errors import UserInputError

MAX_FIELD_BYTES = 5 * 1024 * 1024
MAX_ID_CHARS = 200

# Ids become storage keys and paths: letters, digits, '.', '_' and '-', starting with a letter or digit.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+")
COMMIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

SAFE_ID_FIX = "use letters, digits, '.', '_' and '-', first a letter or digit: e.g. django__django-11099"


def as_object(entry: Entry, error: ErrorClass, what: str, fix: str) -> Mapping[str, object]:
    """The entry's value, which must be a JSON object."""
    if not isinstance(entry.value, dict):
        problem = f"{what} is {a(kind(entry.value))}: {brief(entry.value)}, expected an object"
        raise entry.where.error(error, problem, fix=fix)
    return entry.value


class Fields:
    """Typed accessors for the fields of one record; every failure raises ``error`` naming the field."""

    def __init__(self, row: Mapping[str, object], where: Location, error: ErrorClass) -> None:
        self.row = row
        self.where = where
        self.error = error

    def fail(self, name: str, problem: str, fix: str | None = None) -> UserInputError:
        return self.where.error(self.error, problem, field=name, fix=fix)

    def required(self, name: str, fix: str | None = None) -> object:
        if name not in self.row:
            raise self.fail(name, "missing required field", f"add '{name}' to every record")
        value = self.row[name]
        if value is None:
            raise self.fail(name, "is null, expected a value", fix)
        return value

    def text(self, name: str) -> str:
        """An optional string: missing or null is ''."""
        value = self.row.get(name)
        return "" if value is None else self.check_text(name, value)

    def optional_text(self, name: str) -> str | None:
        """An optional string: missing, null or '' is None."""
        return self.text(name) or None

    def check_text(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {kind(value)}: {brief(value)}")
        limit = MAX_FIELD_BYTES
        if len(value) * 4 > limit and len(size := value.encode("utf-8", "surrogatepass")) > limit:
            raise self.fail(
                name,
                f"is {_mib(len(size))}, larger than the {_mib(limit)} limit per field",
                "shorten it (the limit is MAX_FIELD_BYTES in orchestrator/datasets/fields.py)",
            )
        return value

    def pattern(self, name: str, regex: re.Pattern[str], expected: str, fix: str) -> str:
        """A required non-empty string matching ``regex`` in full."""
        value = self.check_text(name, self.required(name, fix))
        if not value:
            raise self.fail(name, f"is empty, expected {expected}", fix)
        if len(value) > MAX_ID_CHARS or not regex.fullmatch(value):
            raise self.fail(name, f"{brief(value)} is not {expected}", fix)
        return value

    def identifier(self, name: str) -> str:
        return self.pattern(name, SAFE_ID, "a safe id (ids become storage keys)", SAFE_ID_FIX)

    def label(self, name: str, fix: str) -> str:
        """A required one-line name, such as model_name_or_path."""
        value = self.check_text(name, self.required(name, fix))
        if not value.strip() or len(value) > MAX_ID_CHARS or _CONTROL.search(value):
            problem = f"{brief(value)} is not a usable name (1-{MAX_ID_CHARS} printable characters)"
            raise self.fail(name, problem, fix)
        return value

    def version(self, name: str) -> str:
        """A version string; numbers from some dumps (3.0) become the string SWE-bench uses ("3.0")."""
        value = self.row.get(name)
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return str(value)
        if isinstance(value, str):
            return self.check_text(name, value)
        raise self.fail(name, f"expected a version string such as '3.0', got {kind(value)}: {brief(value)}")

    def test_list(self, name: str) -> list[str]:
        """A list of test names, or a JSON string of one; missing, null or '' is []."""
        value = self.row.get(name)
        fix = 'give a list of test names, e.g. ["tests/test_a.py::test_b"], or a JSON string of one'
        if value is None or value == "":
            return []
        if isinstance(value, str):
            value = self._decode_json(name, value, fix)
        if not isinstance(value, list):
            raise self.fail(name, f"expected a list of strings, got {kind(value)}: {brief(value)}", fix)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                problem = f"expected a test name (a string), got {kind(item)}: {brief(item)}"
                raise self.fail(f"{name}[{i}]", problem, fix)
        return list(value)

    def _decode_json(self, name: str, value: str, fix: str) -> object:
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError as exc:
            problem = f"is a string but not valid JSON ({exc.msg}): {brief(value)}"
            raise self.fail(name, problem, fix) from None
        if not isinstance(decoded, list):
            problem = f"is a JSON string of {a(kind(decoded))}, expected a list: {brief(value)}"
            raise self.fail(name, problem, fix)
        return decoded


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
