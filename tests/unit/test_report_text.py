"""The words around the numbers: sentences that follow them, warnings, label widths, the progress rate."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.progress import SweepProgress, throughput
from orchestrator.report import sentences
from orchestrator.report.regression import comparison_dict
from orchestrator.report.stats import mdd_unpaired, paired_comparison
from orchestrator.report.svg import RatePoint, rate_chart, text_width


def comparison(a: list[bool], b: list[bool]) -> dict[str, object]:
    return {"a": "A", "b": "B", **comparison_dict(paired_comparison(a, b, bootstrap=200))}


def test_mdd_sentence_says_less_when_pairing_helps_and_more_when_it_does_not() -> None:
    base = [i % 5 == 0 for i in range(200)]
    near = comparison(base, [i % 5 == 0 or i % 50 == 1 for i in range(200)])  # 4 discordant
    coin = comparison(base, [i % 2 == 0 for i in range(200)])  # about half discordant
    assert near["mdd_paired"] < near["mdd_unpaired"]  # type: ignore[operator]
    assert coin["mdd_paired"] > coin["mdd_unpaired"]  # type: ignore[operator]
    s_near, s_coin = sentences.mdd_sentence(near), sentences.mdd_sentence(coin)
    assert "less than" in s_near and "more than" not in s_near and "does not help" not in s_near
    assert "more than" in s_coin and "pairing does not help" in s_coin
    assert f"{100 * coin['mdd_paired']:.1f} points paired" in s_coin  # type: ignore[operator]
    assert f"the {100 * coin['mdd_unpaired']:.1f} points two independent runs" in s_coin  # type: ignore[operator]
    same = comparison(base, base)
    assert "not defined" in sentences.mdd_sentence(same)


def test_unpaired_mdd_uses_the_two_rates() -> None:
    assert mdd_unpaired(300, 0.18, 0.2) == pytest.approx(
        2.8016 * ((0.18 * 0.82 + 0.2 * 0.8) / 300) ** 0.5, 1e-4
    )
    assert mdd_unpaired(500, 0.5) == mdd_unpaired(500, 0.5, 0.5)


def test_warnings_for_few_clusters_and_few_discordant_pairs() -> None:
    def run(clusters: int) -> dict[str, object]:
        return {"stats": {"clustered_se": 0.05, "clusters": clusters}}

    assert sentences.cluster_warning({"a": run(12), "b": run(10)}) is None
    warning = sentences.cluster_warning({"a": run(3), "b": run(12)})
    assert warning is not None and "only 3 repositories (fewer than 10) in 1 of 2 runs" in warning
    few = comparison([True] * 9 + [False] * 91, [False] * 100)
    many = comparison([True] * 10 + [False] * 90, [False] * 100)
    assert "rests on 9 discordant instances (fewer than 10)" in (sentences.discordance_warning(few) or "")
    assert sentences.discordance_warning(many) is None


def test_rate_chart_keeps_room_for_its_longest_value_label() -> None:
    svg = rate_chart("c", [RatePoint("run", 0.18, 0.14, 0.23, "18.0% (54/300)")], "t")
    assert ">18.0% (54/300)</text>" in svg
    x = float(svg.split('<text x="')[-1].split('"')[0])
    assert x + text_width("18.0% (54/300)") <= 900
    assert text_width("100.0% (13/13)") > 7 * len("100.0% (13/1")  # wider than the old 82 px box


def test_progress_rate_counts_only_this_runs_items_over_this_runs_time() -> None:
    now = [100.0]
    bar = SweepProgress(10, done=5, clock=lambda: now[0])
    with bar:
        for t in (110.0, 120.0, 130.0):
            now[0] = t
            bar.advance("resolved")
    assert bar.rate() == ("6.0/min", "0:00:20")  # 3 items in 30 s; 2 left
    assert throughput(3, 14.0, 0)[0] == "12.9/min"  # the "3/3 after 14 s" (was 302.7/min)
    assert throughput(0, 10.0, 5) == ("", "-:--:--")


def test_series_chart_labels_whole_dates_inside_the_chart() -> None:
    import re

    from orchestrator.report.svg import WIDTH, series_chart

    dates = [f"2026-01-{d:02d} 02:00" for d in range(1, 31)]
    points = [RatePoint("m", 0.5, 0.4, 0.6, "50.0% (5/10)")] * 30
    svg = series_chart("c", dates, {"model": points, "gold": [None] * 5 + points[5:]}, "t")
    shown = re.findall(
        r'<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle" font-size="11" fill="#888">(2026[^<]*)</text>',
        svg,
    )
    assert len(shown) >= 4 and all(label in dates for _, label in shown)  # whole dates, never elided
    for x, label in shown:
        assert float(x) - text_width(label, 11) / 2 >= 0 and float(x) + text_width(label, 11) / 2 <= WIDTH
    lefts = sorted(float(x) for x, _ in shown)
    assert all(b - a >= text_width(dates[0], 11) for a, b in itertools.pairwise(lefts))  # no overlap
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 55  # gold's line starts at its 6th sweep
