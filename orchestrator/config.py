"""SweepConfig: one YAML file describes a sweep (dataset, runs, execution), with ``--set`` overrides."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import ConfigError
from workers.evaluate import NodeOptions
from workers.models import SandboxLimits
from workers.rollout.spec import GenerationSpec, Price
from workers.spec import RepoSource

if TYPE_CHECKING:
    from orchestrator.store import ResultStore

# List prices (USD per million tokens; input, output) of common hosted models when this table was
# written (2026-12); a sweep's `prices:` overrides or adds entries. Self-hosted models cost what you say.
DEFAULT_PRICES: dict[str, Price] = {
    name: Price(input=i, output=o)
    for name, (i, o) in {
        "gpt-4o": (2.5, 10.0),
        "gpt-4o-mini": (0.15, 0.6),
        "gpt-4.1": (2.0, 8.0),
        "gpt-4.1-mini": (0.4, 1.6),
        "o3": (2.0, 8.0),
        "o4-mini": (1.1, 4.4),
        "claude-sonnet-4-5": (3.0, 15.0),
        "claude-haiku-4-5": (1.0, 5.0),
        "deepseek-chat": (0.27, 1.1),
    }.items()
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(_Strict):
    """Where instances come from."""

    path: str | None = Field(default=None, description="Local dataset file (.json, .jsonl or .parquet).")
    hf_name: str | None = Field(
        default=None, description="Hugging Face dataset name, e.g. 'SWE-bench/SWE-bench_Verified'."
    )
    split: str = Field(default="test", description="Hugging Face split.")
    revision: str | None = Field(default=None, description="Hugging Face revision (commit or tag) to pin.")
    adapter: str = Field(default="swebench", description="Dataset adapter: how rows become instances.")
    instances: list[str] = Field(default_factory=list, description="Only these instance ids (globs allowed).")
    exclude: list[str] = Field(default_factory=list, description="Instance ids to leave out (globs allowed).")
    exclude_file: str | None = Field(
        default=None, description="File with instance ids to leave out, one a line (e.g. a flakiness list)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.path is None) == (self.hf_name is None):
            raise ValueError(
                "give exactly one of 'path' (a local file) or 'hf_name' (a Hugging Face dataset)"
            )
        return self


class RunConfig(_Strict):
    """One run: the candidates of one (model, scaffold, seed)."""

    name: str | None = Field(
        default=None, description="Run name; defaults to model_name_or_path of the predictions."
    )
    predictions: str | None = Field(
        default=None, description="Predictions file (JSON list, JSON dict or JSONL)."
    )
    gold: bool = Field(default=False, description="Use the dataset's gold patches as candidates.")
    empty: bool = Field(default=False, description="Use empty patches as candidates (a baseline).")
    model: str | None = Field(default=None, description="Model label (metadata for comparisons).")
    scaffold: str | None = Field(default=None, description="Scaffold label (metadata for ablations).")
    # --- rollouts (issue 13): a run that generates its patches on the cluster ---
    generate: GenerationSpec | None = Field(
        default=None,
        description="Generate the patches with an agent (endpoint, sampling, scaffold, limits) instead of "
        "reading them from 'predictions' (docs/rollouts.md).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> RunConfig:
        sources = [self.predictions is not None, self.gold, self.empty, self.generate is not None]
        if sum(sources) != 1:
            raise ValueError(
                "give exactly one of 'predictions: FILE', 'gold: true', 'empty: true' or 'generate: {...}'"
            )
        if self.generate is not None and not self.name:
            raise ValueError("a 'generate' run needs a 'name' (it labels the run in results and reports)")
        return self


class RepoSourceConfig(_Strict):
    """Where a repository's history comes from (exactly one of the three)."""

    path: str | None = Field(default=None, description="A local git repository.")
    bundle: str | None = Field(default=None, description="A git bundle file.")
    url: str | None = Field(default=None, description="A clone URL (needs network while building images).")

    @model_validator(mode="after")
    def _one(self) -> RepoSourceConfig:
        if sum(x is not None for x in (self.path, self.bundle, self.url)) != 1:
            raise ValueError("give exactly one of 'path', 'bundle' or 'url'")
        return self

    def to_source(self, base_dir: Path) -> RepoSource:
        if self.url is not None:
            return RepoSource(kind="url", location=self.url)
        kind: Literal["path", "bundle"] = "path" if self.path is not None else "bundle"
        raw = self.path if self.path is not None else self.bundle
        assert raw is not None
        location = Path(raw) if Path(raw).is_absolute() else base_dir / raw
        return RepoSource(kind=kind, location=str(location))


class ExecutionConfig(NodeOptions):
    """How work items are executed: what a node needs (``NodeOptions``: backend, retry policy, spares,
    background removal) and how the driver schedules and judges them."""

    sandbox_slots: int | None = Field(
        default=None, ge=1, description="Sandboxes per node; default: CPU cores of the node."
    )
    max_in_flight_factor: float = Field(
        default=2.0, ge=1.0, description="Ray tasks in flight per sandbox slot."
    )
    batch_size: int = Field(
        default=1,
        ge=1,
        le=10_000,
        description="Items per Ray task, evaluated one after another on its slot. 1 suits real evaluations "
        "(seconds each); raise it only for items far shorter than Ray's per-task cost (a few ms).",
    )
    limits: SandboxLimits = Field(default_factory=SandboxLimits, description="Sandbox resource limits.")
    test_timeout_s: float | None = Field(
        default=None, gt=0, description="Override every spec's test time limit (seconds)."
    )
    flagged_as_unresolved: bool = Field(
        default=False,
        description=(
            "Count results the static detector flagged ('suspicious: ...') as unresolved in reports "
            "(reason 'flagged: ...'). Restoring test infrastructure and the evidence checks always "
            "apply; this only decides whether a suspicion alone costs the resolution (docs/integrity.md)."
        ),
    )


class ImagesConfig(_Strict):
    """How images are obtained."""

    ca_bundle: str | None = Field(
        default=None, description="CA bundle for builds (default: the host's system bundle, when found)."
    )
    pip_index_url: str | None = Field(default=None, description="pip index URL used while building images.")
    pip_extra_index_urls: list[str] = Field(default_factory=list, description="Extra pip index URLs.")
    pip_trusted_hosts: list[str] = Field(default_factory=list, description="pip trusted hosts.")
    apt_mirror: str | None = Field(default=None, description="Debian mirror for base images and packages.")
    pull_template: str | None = Field(
        default=None,
        description="Prebuilt image name template, e.g. 'swebench/sweb.eval.x86_64.{instance_id}'.",
    )
    build_timeout_s: float | None = Field(default=None, gt=0, description="Override spec build timeouts.")
    pull_base: bool = Field(
        default=False,
        description="Pull base images from a registry (registry_prefix) instead of debootstrap.",
    )
    registry_prefix: str = Field(
        default="", description="Registry prefix of base pulls, e.g. 'mirror.local:5000/library/'."
    )
    on_missing_prebuilt: Literal["build", "error"] = Field(
        default="build", description="When a named (prebuilt) image can be neither found nor pulled."
    )
    registry: str | None = Field(
        default=None,
        description="Registry shared by the cluster's nodes (HOST[:PORT][/PATH]): each env/instance layer "
        "is built once for the cluster, pushed there, and pulled by the other nodes (docs/images.md).",
    )


class StoreConfig(_Strict):
    """Where results go."""

    url: str = Field(default="file://./results", description="'file://DIR' or 's3://BUCKET/PREFIX'.")
    endpoint_url: str | None = Field(
        default=None, description="S3 endpoint (e.g. a local SeaweedFS or MinIO)."
    )
    region: str | None = Field(default=None, description="S3 region.")
    retry_window_s: float = Field(
        default=300.0,
        gt=0,
        description="How long one S3 call is retried on connection errors and 5xx (exponential backoff "
        "up to 10 s) before the item, or the driver, gives up on it.",
    )

    def open(self) -> ResultStore:
        """The store this config names."""
        from orchestrator.store import open_store

        return open_store(
            self.url, endpoint_url=self.endpoint_url, region=self.region, retry_window_s=self.retry_window_s
        )


class RayConfig(_Strict):
    """Which Ray cluster runs the sweep."""

    address: str | None = Field(
        default=None, description="Existing cluster ('auto' or host:port); default local."
    )
    num_cpus: int | None = Field(default=None, ge=1, description="CPUs of the embedded local Ray.")


class BudgetConfig(_Strict):
    """The sweep-wide budget of rollouts, held by one ledger for the whole cluster."""

    usd: float | None = Field(
        default=None,
        gt=0,
        description="USD for every model call of the sweep (all its runs, re-runs included).",
    )
    tokens: int | None = Field(default=None, ge=1, description="Prompt + completion tokens for the sweep.")


class SweepConfig(_Strict):
    """A sweep: runs x instances x repeats evaluated together."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Sweep name (used in ids).")
    seed: int = Field(default=0, description="Sweep seed: fixes item order and per-item seeds.")
    seeds: list[int] | None = Field(
        default=None, description="Seeds as a matrix axis: every item is evaluated once per seed."
    )
    repeats: int = Field(default=1, ge=1, le=100, description="Evaluations of every (instance, run) pair.")
    dataset: DatasetConfig = Field(description="Where instances come from.")
    runs: list[RunConfig] = Field(min_length=1, description="The candidate sets to evaluate.")
    repos: dict[str, RepoSourceConfig] = Field(
        default_factory=dict, description="Repository name -> local source (no network needed)."
    )
    specs: list[str] = Field(
        default_factory=list,
        description="Spec directories added to the built-in specs; a repository's specs in them replace "
        "the built-in ones.",
    )
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    images: ImagesConfig = Field(default_factory=ImagesConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    budget: BudgetConfig = Field(
        default_factory=BudgetConfig, description="Budget of 'generate' runs (not part of the sweep id)."
    )
    prices: dict[str, Price] = Field(
        default_factory=dict,
        description="Model name -> USD per million tokens, over the built-in table (config.DEFAULT_PRICES).",
    )

    @model_validator(mode="after")
    def _unique_run_names(self) -> SweepConfig:
        names = [r.name for r in self.runs if r.name]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"run names must be unique, repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _priced_when_budgeted(self) -> SweepConfig:
        if self.budget.usd is None:
            return self
        for run in self.runs:
            if run.generate is not None and self.price_of(run.generate) is None:
                model = run.generate.endpoint.model
                raise ValueError(
                    f"run {run.name!r}: no price for model {model!r} and budget.usd is set; add "
                    f"'prices: {{{model}: {{input: USD, output: USD}}}}' (per million tokens)"
                )
        return self

    def price_of(self, gen: GenerationSpec) -> Price | None:
        """The run's own price, else the sweep's table, else the built-in one (by model name)."""
        model = gen.endpoint.model
        return gen.price or self.prices.get(model) or DEFAULT_PRICES.get(model.rsplit("/", 1)[-1])


def load_config(path: Path, overrides: Sequence[str] = ()) -> SweepConfig:
    """Load a sweep config. Relative paths in it are relative to the working directory."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=source, fix="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}".splitlines()[0], source=source) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", source=source, line=line) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"expected a mapping at the top level, got {type(raw).__name__}",
            source=source,
            fix="see configs/demo.yaml for the layout",
        )
    for item in overrides:
        apply_override(raw, item)
    return validate_config(raw, source)


def validate_config(raw: dict[str, Any], source: str) -> SweepConfig:
    try:
        return SweepConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        got = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        fix: str | None
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
            fix = "remove it or check its spelling (see configs/demo.yaml)"
        else:
            fix = _expected(err["type"], msg)
        got_text = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {_short(got)})"
        raise ConfigError(f"{msg}{got_text}", source=source, field=field, fix=fix) from None


def _expected(err_type: str, msg: str) -> str | None:
    if err_type == "missing":
        return "add it (see configs/demo.yaml)"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as YAML (``3``, ``true``, ``[1,2]``)."""
    key, sep, value_text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"bad override {item!r}", source="--set", fix="write KEY.PATH=VALUE, e.g. repeats=3"
        )
    try:
        value = yaml.safe_load(value_text)
    except yaml.YAMLError:
        value = value_text
    node: Any = raw
    parts = key.strip().split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"index {part!r} out of range (list has {len(node)} items)",
                    source="--set",
                    field=".".join(parts[: i + 1]),
                )
            idx = int(part)
            if last:
                node[idx] = value
            else:
                node = node[idx]
            continue
        if not isinstance(node, dict):
            raise ConfigError("cannot descend into a scalar", source="--set", field=".".join(parts[:i]))
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})
