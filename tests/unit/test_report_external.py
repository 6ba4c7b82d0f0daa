"""External runs (official run reports, results files of resolved ids) against each other and sweeps.

The files under tests/fixtures/external are real public results (see their README)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from orchestrator.commands.report import compare_command
from orchestrator.errors import ConfigError
from orchestrator.report.aggregate import write_reports
from orchestrator.report.external import LIMITS, load_external, repo_of
from orchestrator.report.stats import StatsSettings, mcnemar_exact
from orchestrator.store import FileStore, SweepPaths
from tests.unit.test_report_aggregate import SWEEP, commit_all, make_result

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "external"
BASELINE = FIXTURES / "tdad-baseline.exp011_100_baseline.json"
TDD = FIXTURES / "tdad-tdd_prompt.v19_adaptive_100_resume52b.json"
OPENHANDS = FIXTURES / "openhands-codeact-claude-3-5-sonnet.verified50.results.json"


def test_official_run_report_is_read_with_its_verdicts() -> None:
    run = load_external(BASELINE)
    counts = {v: list(run.verdicts.values()).count(v) for v in set(run.verdicts.values())}
    assert run.kind == "run_report" and run.closed and run.total == 500
    assert counts == {"resolved": 9, "unresolved": 33, "empty_patch": 58}
    assert repo_of("django__django-11099") == "django/django"


def test_results_file_is_an_open_listing_matched_on_the_other_runs_instances() -> None:
    run = load_external(OPENHANDS)
    assert run.kind == "resolved_list" and not run.closed
    on = run.on(["astropy__astropy-12907", "django__django-11265", "django__django-99999"])
    assert on["astropy__astropy-12907"] == "resolved" and on["django__django-11265"] == "empty_patch"
    assert on["django__django-99999"] == "unresolved"


def test_compare_two_official_run_reports(capsys: pytest.CaptureFixture[str]) -> None:
    cmp = compare_command(str(BASELINE), str(TDD), None, StatsSettings(bootstrap=500))
    s = cmp.stats
    assert (s.n, s.both, s.only_a, s.only_b, s.neither) == (52, 3, 1, 14, 34)
    assert s.p_value == pytest.approx(mcnemar_exact(1, 14)) == pytest.approx(2 * 16 / 2**15)
    assert s.diff == pytest.approx(13 / 52)
    assert cmp.same_candidates is False and cmp.changed  # verdicts differ; no regression diff is printed
    out = " ".join(capsys.readouterr().out.split())
    assert "its official rate counts all 500 instances: 9/500" in out
    assert LIMITS in out and "flipped" not in out.replace("(which tests flipped)", "")
    assert f"B - A = +{100 * 13 / 52:.1f} points" in out


def test_compare_a_sweep_run_with_a_results_file(
    file_store: FileStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = ["astropy__astropy-12907", "astropy__astropy-13033", "django__django-11099", "django__django-11265"]
    verdicts = ["unresolved", "resolved", "resolved", "resolved"]
    commit_all(
        file_store, [make_result("mine", i, v, repo=repo_of(i)) for i, v in zip(ids, verdicts, strict=True)]
    )  # type: ignore[arg-type]
    cmp = compare_command(
        f"{SWEEP}:mine", str(OPENHANDS), f"file://{file_store.root}", StatsSettings(bootstrap=500)
    )
    # the results file resolves 12907 and 11099; 13033 is not listed (unresolved), 11265 had no patch
    assert cmp.common == sorted(ids)
    assert (cmp.stats.both, cmp.stats.only_a, cmp.stats.only_b) == (1, 2, 1)
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "every instance it does not list as resolved counts as unresolved; matched on the 4 instances" in out
    )


def test_report_with_external_runs(file_store: FileStore) -> None:
    ids = sorted(load_external(TDD).verdicts)[:20]
    commit_all(
        file_store, [make_result("mine", i, "resolved" if n % 2 else "unresolved") for n, i in enumerate(ids)]
    )
    write_reports(
        file_store, SWEEP, StatsSettings(bootstrap=200), [load_external(TDD), load_external(OPENHANDS)]
    )
    report = json.loads(file_store.get(SweepPaths(SWEEP).report("report.json")) or b"")
    tdd, oh = report["external"]
    assert (tdd["instances"], tdd["resolved"], oh["kind"]) == (52, 17, "resolved_list")
    (c,) = tdd["comparisons"]
    expected_b = sum(load_external(TDD).verdicts[i] == "resolved" for i in ids)
    assert c["instances"] == 20 and c["rate_b"] == round(expected_b / 20, 6)
    assert math.isclose(c["rate_a"], 0.5)
    html = (file_store.get(SweepPaths(SWEEP).report("report.html")) or b"").decode()
    assert 'id="table-external"' in html and "no per-test results" in html


def test_a_file_of_another_shape_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "preds.json"
    bad.write_text(json.dumps({"instance_id": "x", "model_patch": ""}))
    with pytest.raises(ConfigError, match="neither 'resolved_ids' nor 'resolved'"):
        load_external(bad)
    bad.write_text(json.dumps({"resolved": "x"}))
    with pytest.raises(ConfigError, match="'resolved' is not a list"):
        load_external(bad)


def test_report_piped_states_every_number_whole(file_store: FileStore) -> None:
    """`evalfleet report ... | cat`: no value is cut to fit 80 columns, and a list of resolved ids is not
    given a rate of its own."""
    import subprocess
    import sys

    ids = sorted(load_external(BASELINE).verdicts)[:12]
    commit_all(
        file_store,
        [
            make_result("a-model-with-a-long-name", i, "resolved" if n % 3 else "unresolved")
            for n, i in enumerate(ids)
        ],
    )
    evalfleet = str(Path(sys.executable).with_name("evalfleet"))
    done = subprocess.run(
        [
            evalfleet,
            "report",
            SWEEP,
            "--store",
            file_store.url,
            "--bootstrap",
            "200",
            "--external",
            str(OPENHANDS),
            "--external",
            str(BASELINE),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    assert "\u2026" not in done.stdout
    assert "26 resolved ids listed; no denominator of its own" in done.stdout
    assert "9/100 submitted instances resolved (9.0%, 95% Wilson [4.8, 16.2])" in done.stdout
    assert f"A=a-model-with-a-long-name  B={BASELINE.stem}: n 12" in done.stdout
    bad = subprocess.run(
        [evalfleet, "compare", str(FIXTURES / "README.md"), str(BASELINE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
