"""Fast bootstrap resampling of values that take few distinct levels (0/1 outcomes, -1/0/1 differences)."""

from __future__ import annotations

import bisect
import itertools
import math
import random


class LevelSampler:
    """Resample n values that take few distinct levels by drawing how often each level is picked.

    The counts of one resample are multinomial; drawn as successive conditional binomials, each by
    inverting its CDF (tables cached), which costs O(levels * log n) per resample instead of O(n).
    """

    def __init__(self, levels: list[tuple[float, int]], n: int) -> None:
        self.levels = levels
        self.n = n
        self._cdfs: dict[tuple[int, float], list[float]] = {}

    def resample_sum(self, rng: random.Random) -> float:
        left, weight, total = self.n, self.n, 0.0
        for value, count in self.levels[:-1]:
            drawn = self._binomial(left, count / weight, rng) if left else 0
            total += value * drawn
            left -= drawn
            weight -= count
        return total + self.levels[-1][0] * left

    def _binomial(self, trials: int, p: float, rng: random.Random) -> int:
        if p <= 0.0:
            return 0
        if p >= 1.0:
            return trials
        cdf = self._cdfs.get((trials, p))
        if cdf is None:
            cdf = self._cdfs[(trials, p)] = _binomial_cdf(trials, p)
        return min(bisect.bisect_left(cdf, rng.random() * cdf[-1]), trials)


def _binomial_cdf(trials: int, p: float) -> list[float]:
    lp, lq, lf = math.log(p), math.log1p(-p), math.lgamma(trials + 1)
    pmf = (
        math.exp(lf - math.lgamma(i + 1) - math.lgamma(trials - i + 1) + i * lp + (trials - i) * lq)
        for i in range(trials + 1)
    )
    return list(itertools.accumulate(pmf))
