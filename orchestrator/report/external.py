"""Runs evaluated elsewhere, compared with evalfleet's runs on their instance ids.

Two shapes are read: an official SWE-bench run report (``{model}.{run_id}.json``: ``submitted_ids``,
``resolved_ids``, ``unresolved_ids``, ``empty_patch_ids``, ``error_ids``, ...), whose instances are its
submitted ones; and a results file that lists resolved ids (a leaderboard submission's
``results/results.json``: ``resolved``, ``no_generation``, ``no_logs``), whose unlisted instances count
as unresolved, as the leaderboard counts them. Either carries verdicts per instance only, never test
results: what that leaves out is stated by ``LIMITS``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orchestrator.errors import ConfigError
from orchestrator.report.regression import compare_runs, comparison_dict
from orchestrator.report.stats import StatsSettings, wilson_interval
from workers.models import Result, Verdict

LIMITS = (
    "An external run gives one verdict per instance and no per-test results: there is no regression diff "
    "of tests (which tests flipped), no flakiness estimate, no check that both runs evaluated the same "
    "patches, and no integrity flags; its repositories are read from the instance ids."
)
REPORT_LISTS: dict[str, Verdict] = {
    "resolved_ids": "resolved",
    "unresolved_ids": "unresolved",
    "empty_patch_ids": "empty_patch",
    "error_ids": "error",
}
RESULTS_LISTS: dict[str, Verdict] = {
    "resolved": "resolved",
    "no_generation": "empty_patch",
    "no_logs": "error",
}


@dataclass(frozen=True)
class ExternalRun:
    """Verdicts of a run evaluated elsewhere. ``closed``: its instances are exactly those it lists (a run
    report); else any other instance it is compared on counts as unresolved (a results file)."""

    name: str
    source: str
    kind: Literal["run_report", "resolved_list"]
    verdicts: dict[str, Verdict]
    closed: bool
    total: int | None = None

    def on(self, instances: Iterable[str]) -> dict[str, Verdict]:
        """Verdicts on ``instances``: listed ones as listed; the others unresolved, for an open listing."""
        if self.closed:
            return dict(self.verdicts)
        out: dict[str, Verdict] = dict.fromkeys(instances, "unresolved")
        out.update(self.verdicts)
        return out

    def results(self, instances: Iterable[str] = ()) -> dict[str, Result]:
        """The verdicts as results (repeat 0), so the paired statistics of sweeps apply unchanged."""
        return {
            iid: Result(
                key=f"external-{iid}",
                sweep_id="external",
                instance_id=iid,
                repo=repo_of(iid),
                run=self.name,
                repeat=0,
                seed=0,
                verdict=verdict,
            )
            for iid, verdict in sorted(self.on(instances).items())
        }


def repo_of(instance_id: str) -> str:
    """``django__django-11099`` -> ``django/django`` (SWE-bench's instance id convention)."""
    head = instance_id.rsplit("-", 1)[0]
    return head.replace("__", "/", 1) if "__" in head else head


def is_external(ref: str) -> bool:
    """A compare/report argument that names a JSON file rather than a sweep."""
    return ref.endswith(".json") and Path(ref).is_file()


def load_external(path: str | Path) -> ExternalRun:
    """Read an official run report or a results file; a file of another shape is a one-line error."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}", source=str(p), fix="give a JSON file") from None
    if not isinstance(data, dict):
        raise ConfigError("an external run must be a JSON object", source=str(p), fix=_SHAPES)
    name = p.name.removesuffix(".json")
    if "resolved_ids" in data:
        return _run_report(data, name, str(p))
    if "resolved" in data:
        verdicts = _lists(data, RESULTS_LISTS, p)
        return ExternalRun(name, str(p), "resolved_list", verdicts, closed=False)
    raise ConfigError("neither 'resolved_ids' nor 'resolved' in the file", source=str(p), fix=_SHAPES)


_SHAPES = (
    "give an official SWE-bench run report ({model}.{run_id}.json with resolved_ids, submitted_ids) or "
    "a results file with a 'resolved' list of instance ids"
)


def _lists(data: dict[str, Any], names: dict[str, Verdict], p: Path) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    for key, verdict in reversed(list(names.items())):  # 'resolved' last: it wins over any other list
        ids = data.get(key) or []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ConfigError(f"'{key}' is not a list of instance ids", source=str(p), fix=_SHAPES)
        verdicts.update(dict.fromkeys(ids, verdict))
    return verdicts


def _run_report(data: dict[str, Any], name: str, source: str) -> ExternalRun:
    verdicts = _lists(data, REPORT_LISTS, Path(source))
    submitted = data.get("submitted_ids")
    if isinstance(submitted, list):
        # submitted but in no list: the harness produced no report for it, which it counts as an error
        verdicts = {iid: verdicts.get(iid, "error") for iid in submitted} | verdicts
    total = data.get("total_instances")
    return ExternalRun(name, source, "run_report", verdicts, True, total if isinstance(total, int) else None)


def rate_text(e: dict[str, Any]) -> str:
    """An external run's own rate (a run report), or what a list of resolved ids says without one."""
    if e["instances"] is None:
        return f"{e['resolved']} resolved ids listed; no denominator of its own (compared on the other run's instances)"
    lo, hi = e["wilson"]
    return (
        f"{e['resolved']}/{e['instances']} submitted instances resolved ({100 * e['rate']:.1f}%, "
        f"95% Wilson [{100 * lo:.1f}, {100 * hi:.1f}])"
    )


def external_section(
    prim: list[Result], externals: list[ExternalRun], settings: StatsSettings
) -> list[dict[str, Any]]:
    """report.json's ``external``: each external run's rate and its paired comparison with every run."""
    by_run: dict[str, dict[str, Result]] = {}
    for r in prim:
        by_run.setdefault(r.run, {})[r.instance_id] = r
    out = []
    for ext in externals:
        comparisons = []
        for run, results in sorted(by_run.items()):
            ext_results = ext.results(results)
            cmp = compare_runs(results, ext_results, names=(run, ext.name), settings=settings)
            if cmp.common:
                comparisons.append({"a": run, "b": ext.name, **comparison_dict(cmp.stats)})
        own = ext.results()
        k = sum(r.resolved for r in own.values())
        n = len(own) if ext.closed else None  # a list of resolved ids has no denominator of its own
        out.append(
            {
                "name": ext.name,
                "source": ext.source,
                "kind": ext.kind,
                "instances": n,
                "resolved": k,
                "rate": round(k / n, 6) if n else None,
                "wilson": wilson_interval(k, n, settings.confidence).as_list() if n else None,
                "total_instances": ext.total,
                "comparisons": comparisons,
            }
        )
    return out
