"""orchestrator.report.stats against scipy / statsmodels (test-only oracles) and brute force."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
import scipy.stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint

from orchestrator.report import stats

COUNTS = [(0, 10), (1, 10), (5, 10), (10, 10), (7, 13), (250, 500), (3, 1000), (999, 1000), (1, 1)]


@pytest.mark.parametrize(("k", "n"), COUNTS)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(k: int, n: int, confidence: float) -> None:
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    got = stats.wilson_interval(k, n, confidence)
    assert got.low == pytest.approx(max(0.0, low), abs=1e-12)
    assert got.high == pytest.approx(min(1.0, high), abs=1e-12)


DISCORDANT = [(0, 0), (0, 1), (0, 6), (5, 5), (3, 9), (9, 3), (12, 25), (40, 60), (100, 130), (480, 520)]


@pytest.mark.parametrize(("b", "c"), DISCORDANT)
def test_mcnemar_exact_matches_statsmodels_and_scipy(b: int, c: int) -> None:
    got = stats.mcnemar_exact(b, c)
    table = [[17, b], [c, 11]]  # the concordant cells do not enter the exact test
    assert got == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-9, abs=1e-300)
    if b + c:
        assert got == pytest.approx(scipy.stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9, abs=1e-300)
    assert got == stats.mcnemar_exact(c, b)  # two-sided: symmetric


def _brute_force(n: int, c: int, k: int) -> tuple[float, float]:
    """Fraction of k-subsets of n samples (c correct) with at least one / only correct samples."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    any_ok = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    all_ok = sum(all(samples[i] for i in s) for s in subsets) / len(subsets)
    return any_ok, all_ok


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_pass_at_k_and_pass_hat_k_match_brute_force(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            any_ok, all_ok = _brute_force(n, c, k)
            assert stats.pass_at_k(n, c, k) == pytest.approx(any_ok, abs=1e-12)
            assert stats.pass_hat_k(n, c, k) == pytest.approx(all_ok, abs=1e-12)


def test_pass_at_k_matches_the_papers_numerically_stable_form() -> None:
    def chen(n: int, c: int, k: int) -> float:  # Chen et al. 2021, Figure 3
        if n - c < k:
            return 1.0
        return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))

    for n, c, k in [(200, 13, 1), (200, 13, 10), (200, 13, 100), (50, 0, 5), (50, 49, 2)]:
        assert stats.pass_at_k(n, c, k) == pytest.approx(chen(n, c, k), rel=1e-9)
    assert stats.pass_at_k(10, 3, 1) == pytest.approx(0.3) and stats.pass_hat_k(10, 3, 1) == pytest.approx(
        0.3
    )
    with pytest.raises(ValueError):
        stats.pass_at_k(3, 1, 4)


def test_bootstrap_interval_covers_the_analytic_one_on_a_large_sample() -> None:
    rng = random.Random(11)
    outcomes = [rng.random() < 0.3 for _ in range(4000)]
    k, n = sum(outcomes), len(outcomes)
    s = stats.rate_summary(outcomes, b=2000, seed=3)
    wilson = stats.wilson_interval(k, n)
    assert s.bootstrap.low == pytest.approx(wilson.low, abs=0.006)
    assert s.bootstrap.high == pytest.approx(wilson.high, abs=0.006)
    assert s.bootstrap.low < k / n < s.bootstrap.high
    assert s.se == pytest.approx(math.sqrt(k / n * (1 - k / n) / n))


def test_paired_bootstrap_matches_the_analytic_interval_of_a_paired_difference() -> None:
    rng = random.Random(5)
    a = [rng.random() < 0.5 for _ in range(3000)]
    b = [x if rng.random() < 0.8 else not x for x in a]  # 20% discordant
    cmp = stats.paired_comparison(a, b, bootstrap=3000, seed=1)
    n, d = cmp.n, cmp.diff
    se = math.sqrt((cmp.only_a + cmp.only_b) / n**2 - (cmp.only_b - cmp.only_a) ** 2 / n**3)
    assert cmp.interval.low == pytest.approx(d - 1.959964 * se, abs=0.004)
    assert cmp.interval.high == pytest.approx(d + 1.959964 * se, abs=0.004)
    assert cmp.both + cmp.only_a + cmp.only_b + cmp.neither == n
    assert cmp.p_value == stats.mcnemar_exact(cmp.only_a, cmp.only_b)


def test_level_resampling_has_the_distribution_of_plain_resampling() -> None:
    rng = random.Random(2)
    values = [rng.choice([-1.0, 0.0, 0.0, 1.0]) for _ in range(300)]
    ours = stats.bootstrap_interval(values, b=6000, seed=9)
    generator = np.random.default_rng(0)
    means = generator.choice(np.array(values), size=(6000, len(values))).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    assert ours.low == pytest.approx(low, abs=0.01) and ours.high == pytest.approx(high, abs=0.01)
    many_levels = [rng.random() for _ in range(200)]  # more than MAX_LEVELS: plain resampling
    iv = stats.bootstrap_interval(many_levels, b=500, seed=1)
    assert iv.low < sum(many_levels) / 200 < iv.high


def test_bootstrap_is_reproducible_with_its_seed() -> None:
    values = [float(i % 3 == 0) for i in range(101)]
    assert stats.bootstrap_interval(values, seed=4) == stats.bootstrap_interval(values, seed=4)
    runs = {stats.bootstrap_interval(values, b=200, seed=s) for s in range(5)}
    assert len(runs) > 1
    assert stats.bootstrap_interval([], seed=0) == stats.Interval(0.0, 0.0)


def test_clustered_se_matches_statsmodels_ols_with_cluster_covariance() -> None:
    rng = random.Random(8)
    repos = [f"repo{j}" for j in range(7)]
    clusters = [rng.choice(repos) for _ in range(400)]
    skill = {r: rng.random() for r in repos}
    values = [float(rng.random() < skill[c]) for c in clusters]
    codes = np.array([repos.index(c) for c in clusters])
    fit = OLS(np.array(values), np.ones((len(values), 1))).fit(cov_type="cluster", cov_kwds={"groups": codes})
    assert stats.clustered_se(values, clusters) == pytest.approx(float(fit.bse[0]), rel=1e-9)
    # without the small-sample factor: the textbook sum over clusters of squared residual sums / N^2
    mean = sum(values) / len(values)
    textbook = math.sqrt(
        sum(sum(v - mean for v, c in zip(values, clusters, strict=True) if c == r) ** 2 for r in repos)
        / len(values) ** 2
    )
    assert stats.clustered_se(values, clusters, correction=False) == pytest.approx(textbook, rel=1e-12)
    assert stats.clustered_se([1.0, 0.0], ["a", "a"]) is None


def test_minimal_detectable_difference_unpaired_is_about_nine_points_at_500() -> None:
    mdd = stats.mdd_unpaired(500, 0.5)
    assert 0.06 < mdd < 0.09
    assert mdd == pytest.approx((1.959964 + 0.841621) * math.sqrt(2 * 0.25 / 500), rel=1e-5)
    # statsmodels' power solver (Cohen's h, arcsine scale) gives the same difference around 50%
    h = NormalIndPower().solve_power(nobs1=500, alpha=0.05, power=0.8, ratio=1.0)
    p_low = math.sin(math.asin(math.sqrt(0.5)) - h / 4) ** 2
    p_high = math.sin(math.asin(math.sqrt(0.5)) + h / 4) ** 2
    assert mdd == pytest.approx(p_high - p_low, abs=0.002)
    assert stats.mdd_unpaired(2000, 0.5) == pytest.approx(mdd / 2)


def test_minimal_detectable_difference_paired_solves_connors_sample_size() -> None:
    for n, psi in [(500, 0.2), (500, 0.05), (100, 0.4), (2000, 0.1)]:
        d = stats.mdd_paired(n, psi)
        za, zb = 1.959964, 0.841621
        needed = (za * math.sqrt(psi) + zb * math.sqrt(psi - d * d)) ** 2 / d**2
        assert needed == pytest.approx(n, rel=1e-4)
        assert d < stats.mdd_unpaired(n, 0.5)  # pairing helps when fewer than half the pairs disagree
    assert stats.mdd_paired(500, 0.0) is None


def test_mean_se_and_quantile_match_scipy_and_numpy() -> None:
    values = [0.52, 0.55, 0.49, 0.6, 0.51]
    mean, se = stats.mean_se(values)
    assert mean == pytest.approx(np.mean(values)) and se == pytest.approx(scipy.stats.sem(values))
    assert stats.mean_se([0.4]) == (0.4, None)
    xs = sorted(random.Random(1).random() for _ in range(37))
    for q in (0.0, 0.025, 0.5, 0.9, 0.975, 1.0):
        assert stats.quantile(xs, q) == pytest.approx(float(np.percentile(xs, 100 * q)), abs=1e-12)


def test_rate_summary_counts_and_clusters() -> None:
    s = stats.rate_summary([True, False, True, True], ["a", "a", "b", "c"], b=200)
    assert (s.resolved, s.n, s.rate, s.clusters) == (3, 4, 0.75, 3)
    assert s.clustered_se is not None and s.wilson.low < 0.75 < s.wilson.high
    empty = stats.rate_summary([])
    assert (empty.n, empty.rate, empty.wilson) == (0, 0.0, stats.Interval(0.0, 1.0))
