"""Read a unified diff (git or plain) into per-file changes: paths, modes and added lines.

Hunk bodies are skipped by their line counts, so a removed line that starts with ``--- `` is never
taken for a file header. Paths lose git's ``a/``/``b/`` prefixes (``-p1``); quoted git paths are
unquoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_HEADER = re.compile(r'^diff --git ("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
NULL = "/dev/null"


@dataclass
class FileChange:
    """What a diff does to one file."""

    old_path: str | None = None
    new_path: str | None = None
    added: list[tuple[int, str]] = field(default_factory=list)
    binary: bool = False
    new_mode: str | None = None
    created: bool = False
    deleted: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def symlink(self) -> bool:
        return self.new_mode == "120000"


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw[1:-1])
    return raw


def strip_prefix(raw: str) -> str | None:
    """A header path as the repository knows it: unquoted, timestamp and ``a/``/``b/`` removed."""
    name = _unquote(raw.split("\t", 1)[0].strip())
    if name == NULL or not name:
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


class _Reader:
    def __init__(self) -> None:
        self.files: list[FileChange] = []
        self.current: FileChange | None = None
        self.old_left = self.new_left = 0
        self.new_line = 0
        self.minus_seen = False

    def start(self) -> FileChange:
        self.current = FileChange()
        self.files.append(self.current)
        self.minus_seen = False
        return self.current

    def header(self, line: str) -> None:
        git = _GIT_HEADER.match(line)
        if git:
            change = self.start()
            change.old_path, change.new_path = strip_prefix(git.group(1)), strip_prefix(git.group(2))
            return
        cur = self.current
        if line.startswith("--- "):
            if cur is None or self.minus_seen:
                cur = self.start()
            self.minus_seen = True
            old = strip_prefix(line[4:])
            cur.old_path, cur.created = old, cur.created or old is None
        elif line.startswith("+++ ") and cur is not None:
            new = strip_prefix(line[4:])
            cur.new_path, cur.deleted = new, new is None
        elif cur is not None:
            self._extended(cur, line)

    def _extended(self, cur: FileChange, line: str) -> None:
        for prefix, attr in (
            ("rename from ", "old_path"),
            ("copy from ", "old_path"),
            ("rename to ", "new_path"),
            ("copy to ", "new_path"),
        ):
            if line.startswith(prefix):
                setattr(cur, attr, _unquote(line[len(prefix) :].strip()))
                return
        if line.startswith(("new file mode ", "new mode ")):
            cur.new_mode = line.rsplit(maxsplit=1)[-1]
            cur.created = cur.created or line.startswith("new file")
        elif line.startswith("deleted file mode"):
            cur.deleted = True
        elif line.startswith("GIT binary patch") or (
            line.startswith("Binary files ") and line.endswith(" differ")
        ):
            cur.binary = True

    def body(self, line: str) -> None:
        """One line inside a hunk."""
        tag = line[:1]
        if tag == "\\":
            return
        if tag in (" ", ""):
            self.old_left, self.new_left, self.new_line = (
                self.old_left - 1,
                self.new_left - 1,
                self.new_line + 1,
            )
        elif tag == "-":
            self.old_left -= 1
        elif tag == "+":
            if self.current is not None:
                self.current.added.append((self.new_line, line[1:]))
            self.new_left, self.new_line = self.new_left - 1, self.new_line + 1


def parse_diff(text: str) -> list[FileChange]:
    """Every file a unified diff touches, in order."""
    reader = _Reader()
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if reader.old_left > 0 or reader.new_left > 0:
            reader.body(line)
            continue
        hunk = _HUNK.match(line)
        if hunk and reader.current is not None:
            reader.old_left = int(hunk.group(1)) if hunk.group(1) is not None else 1
            reader.new_left = int(hunk.group(3)) if hunk.group(3) is not None else 1
            reader.new_line = int(hunk.group(2))
            continue
        reader.header(line)
    return [f for f in reader.files if f.path]


def touched_paths(text: str) -> list[str]:
    """Every path the diff names, old and new sides, in order, without repeats."""
    seen: dict[str, None] = {}
    for change in parse_diff(text):
        for p in (change.old_path, change.new_path):
            if p:
                seen.setdefault(p, None)
    return list(seen)
