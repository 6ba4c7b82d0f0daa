"""What an image built on this site can have: Debian's toolchains per base, and the registries reachable
while images are built. ``unmet`` compares that with what an official image had (``needs.json``
written by ``scripts/translate_swebench_multilingual.py``): an instance with an unmet need is
evaluated in a pulled image instead (``images.pull_template`` or the row's ``image``).
"""

from __future__ import annotations

import os

DEBIAN_TOOLCHAINS: dict[str, dict[str, str]] = {
    "bookworm": {"go": "1.19", "node": "18.20", "java": "17", "php": "8.2", "ruby": "3.1", "rust": "1.63"},
    "bullseye": {"go": "1.15", "node": "12.22", "java": "11", "php": "7.4", "ruby": "2.7", "rust": "1.48"},
}
"""Base -> toolchain -> the version Debian's packages give (golang-go, nodejs, default-jdk, php, ruby, rustc)."""

NEWER_IS_FINE = frozenset({"java"})
"""Toolchains whose newer versions build older code (a JDK 17 compiles Java 11 projects)."""

REACHABLE_ENV = "EVALFLEET_REACHABLE_REGISTRIES"
DEFAULT_REACHABLE = ("deb.debian.org", "pypi.org", "registry.npmjs.org")
"""Registries an image build reaches by default; override with a comma-separated $EVALFLEET_REACHABLE_REGISTRIES."""


def reachable_registries() -> frozenset[str]:
    listed = os.environ.get(REACHABLE_ENV)
    names = listed.split(",") if listed is not None else DEFAULT_REACHABLE
    return frozenset(n.strip() for n in names if n.strip())


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def _same_line(have: str, want: str) -> bool:
    """``have`` satisfies ``want`` when it is the same major.minor or newer (a patch release differs)."""
    return _version(have)[:2] >= _version(want)[:2]


def unmet(needs: list[str], base: str = "bookworm") -> list[str]:
    """The entries of ``needs`` (``go>=1.23.8``, ``registry:crates.io``) this site cannot provide."""
    have = DEBIAN_TOOLCHAINS.get(base, {})
    reachable = reachable_registries()
    missing = []
    for need in needs:
        if need.startswith("registry:"):
            if need.removeprefix("registry:") not in reachable:
                missing.append(need)
            continue
        tool, _, want = need.partition(">=")
        got = have.get(tool)
        if got is None:
            missing.append(need)
        elif tool in NEWER_IS_FINE:
            if _version(got)[:1] < _version(want)[:1]:
                missing.append(need)
        elif _version(got)[:1] != _version(want)[:1] or not _same_line(got, want):
            missing.append(f"{need} (Debian has {got})")
    return missing
