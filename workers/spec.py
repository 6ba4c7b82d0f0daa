"""Per-repository environment specs: validated data, loaded from ``configs/specs/*.yaml``.

A spec file describes one repository: ``defaults`` plus per-version overrides, the shape of the
official harness's table, but as data::

    repo: astropy/astropy
    defaults: {base: bookworm, parser: pytest, test_cmd: "pytest -rA"}
    versions:
      "5.0": {install: ["pip install -e .[test]"]}
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workers.errors import SpecError
from workers.integrity.policy import IntegrityPolicy, StructuredReport


class Timeouts(BaseModel):
    """Time limits of the phases of one evaluation, in seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    build: float = Field(default=1800, gt=0, description="Building one image layer.")
    start: float = Field(default=60, gt=0, description="Creating and starting the sandbox.")
    patch: float = Field(default=120, gt=0, description="Applying the patches.")
    test: float = Field(default=1800, gt=0, description="Wall-clock limit of the test command.")


class EnvSpec(BaseModel):
    """How to build the environment of a repository version and how to run its tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repo: str = Field(description="Repository name as in dataset rows, e.g. 'django/django'.")
    version: str = Field(default="*", description="Version (or glob) this spec applies to.")
    base: str = Field(default="bookworm", description="Base image: a name from the base catalog.")
    unbuildable: str | None = Field(
        default=None,
        description="Why this version cannot be built on the bases here (e.g. 'needs Python 3.6'); its "
        "items run in a named image (images.pull_template) or fail at build time with this reason.",
    )
    system_packages: list[str] = Field(default_factory=list, description="Debian packages for the env image.")
    pre_install: list[str] = Field(default_factory=list, description="Commands before the repo is installed.")
    install: list[str] = Field(
        default_factory=list, description="Commands in the repo at the environment commit (dependencies)."
    )
    pip_packages: list[str] = Field(default_factory=list, description="Pinned pip requirements of the env.")
    instance_setup: list[str] = Field(
        default_factory=list,
        description="Commands after checking out the base commit (e.g. 'pip install -e .').",
    )
    test_cmd: str = Field(description="Test command, run in the repo directory.")
    test_targets: Literal["none", "files", "django_modules", "sympy_files"] = Field(
        default="files",
        description="What to append to test_cmd: the test files the test patch touches, or nothing.",
    )
    parser: str = Field(default="pytest", description="Name of the test-output parser.")
    timeouts: Timeouts = Field(default_factory=Timeouts)
    test_network: bool = Field(default=False, description="Whether the tests may use the network.")
    env: dict[str, str] = Field(default_factory=dict, description="Environment variables for tests.")
    workdir: str = Field(default="/testbed", description="Where the repository lives in the container.")
    integrity: IntegrityPolicy = Field(
        default_factory=IntegrityPolicy,
        description="What happens to test infrastructure the candidate changes (docs/integrity.md).",
    )
    structured_report: StructuredReport = Field(
        default="none",
        description=(
            "A structured report the runner writes outside the repository and grading checks the "
            "output against: junit_pytest (--junitxml), junit_node (--test-reporter=junit), or none."
        ),
    )


class RepoSource(BaseModel):
    """Where a repository's git history comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["path", "bundle", "url"] = Field(description="Local git dir, git bundle file or clone URL.")
    location: str = Field(description="Path or URL.")


def _all_versions() -> dict[str, dict[str, Any]]:
    return {"*": {}}


class SpecFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    repo: str = Field(description="Repository name as in dataset rows.")
    defaults: dict[str, Any] = Field(default_factory=dict, description="Fields shared by every version.")
    versions: dict[str, dict[str, Any]] = Field(
        default_factory=_all_versions, description="Per-version overrides; keys may be globs."
    )


BUILTIN_DIR = Path(__file__).resolve().parent / "builtin_specs"
"""The specs shipped inside the package (package data; in a checkout, a link to configs/specs)."""


def builtin_dirs() -> list[Path]:
    """The built-in spec directories: the SWE-bench (Python) specs, then each family's folder below them
    (multilingual, polyglot, the demos'), so every built-in repository is found without ``--specs``."""
    if not BUILTIN_DIR.is_dir():
        return []
    return [BUILTIN_DIR, *sorted(p for p in BUILTIN_DIR.iterdir() if p.is_dir())]


class SpecCatalog:
    """All specs of some directories, looked up by (repo, version). A repository's specs in a later
    directory replace those of an earlier one (``--specs`` overrides the built-in specs per repo)."""

    def __init__(self, specs: list[EnvSpec]) -> None:
        self._by_repo: dict[str, list[EnvSpec]] = {}
        for spec in specs:
            self._by_repo.setdefault(spec.repo, []).append(spec)

    @classmethod
    def load(cls, *dirs: Path) -> SpecCatalog:
        by_repo: dict[str, list[EnvSpec]] = {}
        for d in dirs:
            found: dict[str, list[EnvSpec]] = {}
            for path in sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")):
                for spec in load_spec_file(path):
                    found.setdefault(spec.repo, []).append(spec)
            by_repo.update(found)
        return cls([spec for specs in by_repo.values() for spec in specs])

    @classmethod
    def with_builtin(cls, dirs: Sequence[str | Path] = ()) -> SpecCatalog:
        """The built-in specs, then ``dirs`` (each must be a directory) adding or replacing repos."""
        for d in dirs:
            if not Path(d).is_dir():
                raise SpecError(
                    "spec directory not found",
                    source=str(d),
                    fix="give a directory of <owner>__<repo>.yaml files, or leave it out to use the "
                    "built-in specs",
                )
        return cls.load(*builtin_dirs(), *(Path(d) for d in dirs))

    def repos(self) -> list[str]:
        return sorted(self._by_repo)

    def specs_of(self, repo: str) -> list[EnvSpec]:
        """Every version's spec of ``repo``, in file order."""
        return list(self._by_repo.get(repo, []))

    def find(self, repo: str, version: str) -> EnvSpec | None:
        candidates = self._by_repo.get(repo, [])
        for spec in candidates:  # exact versions first, then globs
            if spec.version == version:
                return spec
        for spec in candidates:
            if fnmatch.fnmatchcase(version, spec.version):
                return spec
        return None


def load_spec_file(path: Path) -> list[EnvSpec]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read spec: {exc}".splitlines()[0], source=str(path)) from None
    try:
        spec_file = SpecFile.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(path, exc) from None
    specs = []
    for version, override in spec_file.versions.items():
        data = {**spec_file.defaults, **(override or {}), "repo": spec_file.repo, "version": version}
        try:
            specs.append(EnvSpec.model_validate(data))
        except ValidationError as exc:
            raise _spec_error(path, exc, prefix=f"versions.{version}") from None
    return specs


def _spec_error(path: Path, exc: ValidationError, prefix: str = "") -> SpecError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
    return SpecError(
        f"{err['msg']} (got {err.get('input')!r:.60})",
        source=str(path),
        field=field or None,
        fix="see docs/specs.md for the spec format",
    )
