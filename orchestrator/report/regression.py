"""Compare two runs on their common instances: paired statistics, changed verdicts, flipped tests.

When both runs evaluated the same candidate patch on every common instance (e.g. a nightly
re-evaluation of fixed predictions), any change is the harness's or the environment's: a regression diff.
"""

from __future__ import annotations

import hashlib
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from orchestrator.report.stats import PairedComparison, StatsSettings, paired_comparison
from orchestrator.store import ResultStore
from workers.models import Result, Verdict
from workers.paths import FILES


@dataclass(frozen=True)
class FlippedTest:
    """A test whose outcome differs between the two runs."""

    test: str
    before: bool
    after: bool


@dataclass(frozen=True)
class ChangedInstance:
    """An instance whose verdict differs between the two runs, with the tests that flipped."""

    instance_id: str
    before: Verdict
    after: Verdict
    flips: list[FlippedTest]


@dataclass(frozen=True)
class RunComparison:
    """Run ``a`` (before, baseline) against run ``b`` (after) on their common instances."""

    a: str
    b: str
    common: list[str]
    only_in_a: list[str]
    only_in_b: list[str]
    stats: PairedComparison
    resolved_only_a: list[str]
    resolved_only_b: list[str]
    same_candidates: bool | None
    changed: list[ChangedInstance]


def graded_tests(result: Result) -> dict[str, bool]:
    """Every graded test of a result: True when it passed (the success lists of the four buckets)."""
    out: dict[str, bool] = {}
    ts = result.tests_status
    for bucket in (ts.fail_to_pass, ts.pass_to_pass, ts.fail_to_fail, ts.pass_to_fail):
        out.update(dict.fromkeys(bucket.success, True))
        out.update(dict.fromkeys(bucket.failure, False))
    return out


def flipped_tests(before: Result, after: Result) -> list[FlippedTest]:
    """Tests graded in both results whose outcome changed."""
    a, b = graded_tests(before), graded_tests(after)
    return [FlippedTest(t, a[t], b[t]) for t in sorted(a.keys() & b.keys()) if a[t] != b[t]]


def compare_runs(
    a: dict[str, Result],
    b: dict[str, Result],
    *,
    names: tuple[str, str] = ("a", "b"),
    settings: StatsSettings | None = None,
    same_candidates: bool | None = None,
) -> RunComparison:
    """Compare two runs given as {instance_id: result} (one result per instance)."""
    settings = settings or StatsSettings()
    common = sorted(a.keys() & b.keys())
    stats = paired_comparison(
        [a[i].resolved for i in common],
        [b[i].resolved for i in common],
        bootstrap=settings.bootstrap,
        seed=settings.seed,
        confidence=settings.confidence,
    )
    changed = [
        ChangedInstance(i, a[i].verdict, b[i].verdict, flipped_tests(a[i], b[i]))
        for i in common
        if a[i].verdict != b[i].verdict
    ]
    return RunComparison(
        a=names[0],
        b=names[1],
        common=common,
        only_in_a=sorted(a.keys() - b.keys()),
        only_in_b=sorted(b.keys() - a.keys()),
        stats=stats,
        resolved_only_a=[i for i in common if a[i].resolved and not b[i].resolved],
        resolved_only_b=[i for i in common if b[i].resolved and not a[i].resolved],
        same_candidates=same_candidates,
        changed=changed,
    )


def patch_digest(store: ResultStore, result: Result) -> str | None:
    """sha256 of the candidate patch a result evaluated (its first attempt's stored patch.diff); None when
    a patch existed but was not stored (then two runs cannot be shown to share their candidates)."""
    keys = sorted(k for k in result.log_files if k.endswith("/" + FILES.patch))
    data = store.get(result.log_files[keys[0]]) if keys else None
    if data is None and result.patch_exists:
        return None
    return hashlib.sha256(data or b"").hexdigest()


def same_candidates(store: ResultStore, a: dict[str, Result], b: dict[str, Result]) -> bool:
    """True when both runs evaluated the same patch on every common instance."""
    common = sorted(a.keys() & b.keys())
    pairs = [(a[i], b[i]) for i in common]
    with ThreadPoolExecutor(max_workers=16) as pool:
        digests = list(pool.map(lambda r: patch_digest(store, r), itertools.chain.from_iterable(pairs)))
    return bool(common) and all(
        digests[j] is not None and digests[j] == digests[j + 1] for j in range(0, len(digests), 2)
    )


def comparison_dict(c: PairedComparison) -> dict[str, Any]:
    """A paired comparison as report.json data."""
    return {
        "instances": c.n,
        "both": c.both,
        "only_a": c.only_a,
        "only_b": c.only_b,
        "neither": c.neither,
        "rate_a": round(c.rate_a, 6),
        "rate_b": round(c.rate_b, 6),
        "diff": round(c.diff, 6),
        "interval": c.interval.as_list(),
        "p_value": round(c.p_value, 6),
        "discordance": round(c.discordance, 6),
        "mdd_paired": None if c.mdd is None else round(c.mdd, 6),
        "mdd_unpaired": round(c.mdd_unpaired, 6),
    }


def pairwise(prim: list[Result], settings: StatsSettings) -> list[dict[str, Any]]:
    """Every pair of runs of a sweep compared on their common instances (b - a, a before b by name)."""
    by_run: dict[str, dict[str, Result]] = {}
    for r in prim:
        by_run.setdefault(r.run, {})[r.instance_id] = r
    out = []
    for ra, rb in itertools.combinations(sorted(by_run), 2):
        cmp = compare_runs(by_run[ra], by_run[rb], names=(ra, rb), settings=settings)
        if cmp.common:
            out.append({"a": ra, "b": rb, **comparison_dict(cmp.stats)})
    return out
