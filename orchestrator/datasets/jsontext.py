"""JSON and JSON Lines parsing that remembers where each record and each of its keys starts.

``json.loads`` gives values without positions; here the top-level container (and one level of
object keys) is walked by hand and every value inside is decoded by ``json.JSONDecoder.raw_decode``,
so errors can name the line of the record or field, and duplicate keys are caught instead of the
last one silently winning.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from orchestrator.datasets.locations import Entry, ErrorClass, Location, a, kind
from workers.errors import UserInputError

Shape = Literal["list", "dict"]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_JSONL_FIX = "a .jsonl file holds one JSON object per line"


class _Scanner:
    """Walks one JSON text; ``first_line`` is the line number of the text's first line in the file."""

    def __init__(self, text: str, source: str, error: ErrorClass, first_line: int = 1) -> None:
        self.text = text
        self.source = source
        self.error = error
        self.first_line = first_line
        self._pos = 0
        self._line = first_line

    def line_at(self, pos: int) -> int:
        if pos < self._pos:
            return self.first_line + self.text.count("\n", 0, pos)
        self._line += self.text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line

    def fail(self, pos: int, problem: str, fix: str | None = None) -> UserInputError:
        return self.error(problem, source=self.source, line=self.line_at(pos), fix=fix)

    def syntax(self, pos: int, problem: str) -> UserInputError:
        column = pos - self.text.rfind("\n", 0, pos)
        return self.fail(pos, f"invalid JSON: {problem} (column {column})")

    def skip(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def char(self, pos: int) -> str:
        return self.text[pos : pos + 1]

    def value(self, pos: int) -> tuple[object, int]:
        try:
            return _DECODER.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            line = self.first_line + exc.lineno - 1
            problem = f"invalid JSON: {exc.msg.removesuffix(' at')} (column {exc.colno})"
            raise self.error(problem, source=self.source, line=line) from None
        except RecursionError:
            raise self.syntax(pos, "nested too deeply") from None

    def element(self, pos: int) -> tuple[object, dict[str, int], int]:
        """A value and, if it is an object, the line of each of its keys."""
        if self.char(pos) != "{":
            value, end = self.value(pos)
            return value, {}, end
        members, end = self.members(pos, nested=False)
        return {key: value for key, _, value, _ in members}, {key: line for key, line, _, _ in members}, end

    def members(self, pos: int, *, nested: bool) -> tuple[list[tuple[str, int, object, dict[str, int]]], int]:
        """The members of the object at ``pos``: (key, line, value, key lines of the value if nested)."""
        members: list[tuple[str, int, object, dict[str, int]]] = []
        seen: dict[str, int] = {}
        pos = self.skip(pos + 1)
        if self.char(pos) == "}":
            return members, pos + 1
        while True:
            if self.char(pos) != '"':
                raise self.syntax(pos, "expected a key in double quotes")
            line = self.line_at(pos)
            key, pos = self.value(pos)
            assert isinstance(key, str)
            if key in seen:
                raise self.fail(pos, f"duplicate key {key!r} (first at line {seen[key]})")
            seen[key] = line
            pos = self.skip(pos)
            if self.char(pos) != ":":
                raise self.syntax(pos, "expected ':' after the key")
            pos = self.skip(pos + 1)
            if nested:
                value, key_lines, pos = self.element(pos)
            else:
                (value, pos), key_lines = self.value(pos), {}
            members.append((key, line, value, key_lines))
            pos = self.skip(pos)
            if self.char(pos) == "}":
                return members, pos + 1
            if self.char(pos) != ",":
                raise self.syntax(pos, "expected ',' or '}' after an object member")
            pos = self.skip(pos + 1)

    def items(self, pos: int) -> tuple[list[Entry], int]:
        """The elements of the list at ``pos``."""
        entries: list[Entry] = []
        pos = self.skip(pos + 1)
        if self.char(pos) == "]":
            return entries, pos + 1
        while True:
            line = self.line_at(pos)
            value, key_lines, pos = self.element(pos)
            where = Location(self.source, line=line, index=len(entries), key_lines=key_lines)
            entries.append(Entry(value, where))
            pos = self.skip(pos)
            if self.char(pos) == "]":
                return entries, pos + 1
            if self.char(pos) != ",":
                raise self.syntax(pos, "expected ',' or ']' after a list element")
            pos = self.skip(pos + 1)

    def expect_end(self, pos: int, fix: str) -> None:
        pos = self.skip(pos)
        if pos < len(self.text):
            raise self.fail(pos, f"unexpected text after the JSON value: {self.text[pos : pos + 20]!r}", fix)


def parse_json(text: str, source: str, error: ErrorClass, expected: str) -> tuple[Shape, list[Entry]]:
    """A JSON document that must be a list (of records) or an object (records keyed by id)."""
    scanner = _Scanner(text, source, error)
    pos = scanner.skip(0)
    if scanner.char(pos) == "[":
        shape: Shape = "list"
        entries, end = scanner.items(pos)
    elif scanner.char(pos) == "{":
        shape = "dict"
        members, end = scanner.members(pos, nested=True)
        entries = [
            Entry(value, Location(source, line=line, index=i, key_lines=key_lines), key=key)
            for i, (key, line, value, key_lines) in enumerate(members)
        ]
    else:
        value, _ = scanner.value(pos)
        raise scanner.fail(pos, f"the file holds {a(kind(value))}, expected {expected}")
    scanner.expect_end(end, fix="a .json file holds one JSON value; for one object per line use .jsonl")
    return shape, entries


def parse_jsonl(text: str, source: str, error: ErrorClass) -> list[Entry]:
    """JSON Lines: one value per line; blank lines are skipped, CRLF line ends are accepted."""
    entries: list[Entry] = []
    for number, line in enumerate(text.split("\n"), start=1):
        scanner = _Scanner(line, source, error, first_line=number)
        pos = scanner.skip(0)
        if pos == len(line):
            continue
        value, key_lines, end = scanner.element(pos)
        scanner.expect_end(end, fix=_JSONL_FIX)
        entries.append(Entry(value, Location(source, line=number, index=len(entries), key_lines=key_lines)))
    return entries
