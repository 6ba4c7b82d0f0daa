"""Runner sections of ``setup.cfg`` and ``pyproject.toml``: did the candidate change any of them?

These files hold package metadata a fix may legitimately change, and also the runner's
configuration (``[tool:pytest]``, ``[tool.pytest.ini_options]``, tox sections, ``pytest11`` plugin
entry points). The whole file is restored only when a runner section differs from the base commit.
A file that does not parse counts as changed (the runner would read it some way we cannot).
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import tomllib
from typing import Any

CFG_SECTIONS = ("tool:pytest", "pytest", "tox:tox", "testenv", "testenv:*")
CFG_ENTRY_POINTS = "options.entry_points"
TOML_TABLES: tuple[tuple[str, ...], ...] = (
    ("tool", "pytest"),
    ("tool", "tox"),
    ("project", "entry-points", "pytest11"),
    ("tool", "poetry", "plugins", "pytest11"),
)


class Unreadable(ValueError):
    """The file does not parse."""


def _cfg_sections(text: str) -> dict[str, Any]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise Unreadable(str(exc).splitlines()[0]) from None
    found: dict[str, Any] = {}
    for section in parser.sections():
        if any(fnmatch.fnmatchcase(section, pat) for pat in CFG_SECTIONS):
            found[f"[{section}]"] = dict(parser.items(section, raw=True))
    if parser.has_option(CFG_ENTRY_POINTS, "pytest11"):
        found["[options.entry_points] pytest11"] = parser.get(CFG_ENTRY_POINTS, "pytest11", raw=True)
    return found


def _toml_tables(text: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unreadable(str(exc)) from None
    found: dict[str, Any] = {}
    for keys in TOML_TABLES:
        node: Any = data
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            found["[" + ".".join(keys) + "]"] = node
    return found


def runner_sections(name: str, text: str | None) -> dict[str, Any]:
    """The runner sections of a ``setup.cfg`` or ``pyproject.toml`` text (None: the file is absent)."""
    if text is None:
        return {}
    return _toml_tables(text) if name.endswith(".toml") else _cfg_sections(text)


def changed_sections(name: str, base: str | None, new: str | None) -> list[str]:
    """Names of the runner sections that differ between ``base`` and ``new`` (None: file absent)."""
    try:
        old_s, new_s = runner_sections(name, base), runner_sections(name, new)
    except Unreadable as exc:
        return [f"unreadable: {exc}"[:120]]
    keys = sorted(set(old_s) | set(new_s))
    return [
        k
        for k in keys
        if json.dumps(old_s.get(k), sort_keys=True, default=str)
        != json.dumps(new_s.get(k), sort_keys=True, default=str)
    ]
