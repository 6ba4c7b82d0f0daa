from calc import stats
from calc.stats import mean, median


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_single():
    assert median([7]) == 7


def test_mode_single_winner():
    assert stats.mode([1, 2, 2, 3]) == 2


def test_mode_tie_returns_smallest():
    assert stats.mode([3, 3, 1, 1, 2]) == 1
