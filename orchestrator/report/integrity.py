"""Integrity as a verdict dimension of the report: per run, how many results were flagged and why.

``integrity_summary`` goes into report.json next to each run's verdicts; ``apply_flag_policy``
applies the report-time choice ``--flagged-as-unresolved`` to results read from storage before they
are counted: every result keeps both verdicts (the official one and the hardened one), so the choice
changes without re-running.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from workers.integrity.flags import KINDS, hardening_flag, kind_of
from workers.models import Result

MAX_EXAMPLES = 5


def _run_entry(results: list[Result]) -> dict[str, Any]:
    by_kind: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for r in results:
        seen: set[tuple[str, str]] = set()
        for flag in r.flags:
            kind, rule = kind_of(flag)
            if (kind, rule) in seen:
                continue  # one count per result and rule, however many paths it touched
            seen.add((kind, rule))
            by_kind[kind] += 1
            by_rule[f"{kind}: {rule}"] += 1
            ids = examples[f"{kind}: {rule}"]
            if r.instance_id not in ids and len(ids) < MAX_EXAMPLES:
                ids.append(r.instance_id)
    flagged = [r for r in results if r.flags]
    return {
        "results": len(results),
        "flagged": len(flagged),
        "flagged_resolved": sum(r.resolved for r in flagged),
        "resolved": sum(r.resolved for r in results),
        "hardened_resolved": sum(r.hardened_resolved for r in results),
        "by_kind": {k: by_kind[k] for k in KINDS if by_kind[k]},
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        "examples": {k: examples[k] for k in sorted(examples)},
    }


def integrity_summary(results: list[Result]) -> dict[str, Any]:
    """``{run: {results, flagged, flagged_resolved, resolved, hardened_resolved, by_kind, by_rule, examples}}``.

    ``resolved`` counts official verdicts, ``hardened_resolved`` hardened ones (every result, not one
    per instance).

    ``by_kind`` counts results per flag kind (restored, allowed, suspicious, evidence, refused),
    ``by_rule`` per kind and rule (e.g. ``suspicious: adds a pytest hook``), ``examples`` names up to
    five instance ids per rule. A result counts once per rule however many files it touched.
    """
    runs: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        runs[r.run].append(r)
    return {run: _run_entry(rs) for run, rs in sorted(runs.items())}


def apply_flag_policy(results: list[Result], flagged_as_unresolved: bool) -> list[Result]:
    """The results as a report counts them: with the option on, each result takes its hardened
    verdict (a resolved result with a ``suspicious:`` or ``evidence:`` flag becomes unresolved, reason
    ``flagged: <first such flag>; was: <reason>``); off, the official verdicts stand."""
    if not flagged_as_unresolved:
        return list(results)
    out = []
    for r in results:
        if r.resolved and not r.hardened_resolved:
            first = hardening_flag(r.flags) or "hardened verdict"
            r = r.model_copy(update={"verdict": "unresolved", "reason": f"flagged: {first}; was: {r.reason}"})
        out.append(r)
    return out


def verdict_policy(prim: list[Result], flagged_as_unresolved: bool) -> dict[str, Any]:
    """Which verdict the headline uses, and per run both resolve rates of ``prim`` (one stored result
    per instance, before ``apply_flag_policy``) with the number of flagged results."""
    runs: dict[str, list[Result]] = defaultdict(list)
    for r in prim:
        runs[r.run].append(r)
    out: dict[str, Any] = {}
    for run, rs in sorted(runs.items()):
        official, hard = sum(r.resolved for r in rs), sum(r.hardened_resolved for r in rs)
        out[run] = {
            "instances": len(rs),
            "official_resolved": official,
            "official_rate": round(official / len(rs), 6),
            "hardened_resolved": hard,
            "hardened_rate": round(hard / len(rs), 6),
            "flagged": sum(1 for r in rs if r.flags),
        }
    return {"headline": "hardened" if flagged_as_unresolved else "official", "runs": out}
