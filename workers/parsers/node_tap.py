"""TAP from Node's test runner (``node --test``, Node 18/20; ``--test-reporter=tap``).

``ok N - name`` is PASSED, ``not ok N - name`` FAILED; a ``# SKIP`` directive is SKIPPED; a
``# TODO`` test is PASSED when ``ok`` and XFAIL (an expected failure) when ``not ok``. Subtests are
indented four spaces per level and report before their parent; a nested test is named by its path,
``parent > child > leaf``, a top-level one by its plain name. ``\\#`` and other TAP escapes in names
are undone. YAML diagnostic blocks (``---`` ... ``...``) are skipped, so text inside them is never
read as a result. If the output stops before a parent reports, its children are still named by the
``# Subtest:`` lines seen so far.
"""

from __future__ import annotations

import re

from workers.parsers.contract import StatusMap, TestStatus

_RESULT = re.compile(r"^( *)(ok|not ok)\b(?:\s+\d+)?(?:\s+-)?\s*(.*)$")
_SUBTEST = re.compile(r"^( *)# Subtest: (.*)$")
_DIRECTIVE = re.compile(r"(?<!\\)#\s*(SKIP|TODO)\b.*$", re.IGNORECASE)
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_INDENT = 4
_SEP = " > "


def _unescape(name: str) -> str:
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), name)


def _status(ok: bool, description: str) -> tuple[str, TestStatus]:
    """(name, status) of a result line's description, honouring SKIP/TODO directives."""
    directive = _DIRECTIVE.search(description)
    name = _unescape((description[: directive.start()] if directive else description).strip())
    kind = directive.group(1).upper() if directive else ""
    if kind == "SKIP":
        return name, TestStatus.SKIPPED
    if kind == "TODO":
        return name, TestStatus.PASSED if ok else TestStatus.XFAIL
    return name, TestStatus.PASSED if ok else TestStatus.FAILED


class _Tree:
    """Results grouped by depth until their parent reports."""

    def __init__(self) -> None:
        self.waiting: dict[int, list[tuple[str, TestStatus]]] = {}
        self.subtests: dict[int, str] = {}

    def announce(self, depth: int, name: str) -> None:
        self.subtests[depth] = _unescape(name.strip())
        for deeper in [d for d in self.subtests if d > depth]:
            del self.subtests[deeper]

    def report(self, depth: int, name: str, status: TestStatus) -> None:
        children = self.waiting.pop(depth + 1, [])
        entries = [(name, status)] + [(name + _SEP + child, st) for child, st in children]
        self.waiting.setdefault(depth, []).extend(entries)

    def flush(self) -> StatusMap:
        """Top-level results, then any orphans (output cut before their parent reported)."""
        statuses: StatusMap = {}
        for depth in sorted(self.waiting, reverse=True):
            parents = [self.subtests[d] for d in range(depth) if d in self.subtests]
            prefix = "".join(p + _SEP for p in parents) if len(parents) == depth else ""
            for name, status in self.waiting[depth]:
                statuses[prefix + name] = status
        return statuses


def parse_node_tap(output: str) -> StatusMap:
    """Statuses of ``node --test`` TAP output, nested tests named ``parent > child``."""
    tree = _Tree()
    yaml_indent: int | None = None
    for line in output.split("\n"):
        line = line.rstrip("\r")
        indent = len(line) - len(line.lstrip(" "))
        if yaml_indent is not None:
            if line.strip() == "..." and indent == yaml_indent:
                yaml_indent = None
            continue
        if line.strip() == "---":
            yaml_indent = indent
            continue
        subtest = _SUBTEST.match(line)
        if subtest:
            tree.announce(len(subtest.group(1)) // _INDENT, subtest.group(2))
            continue
        result = _RESULT.match(line)
        if result:
            name, status = _status(result.group(2) == "ok", result.group(3))
            tree.report(len(result.group(1)) // _INDENT, name, status)
    return tree.flush()
