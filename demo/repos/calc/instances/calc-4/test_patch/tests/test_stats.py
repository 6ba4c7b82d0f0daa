import pytest

from calc.stats import mean, median


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_single():
    assert median([7]) == 7


def test_mean_empty():
    with pytest.raises(ValueError, match="at least one"):
        mean([])


def test_mean_generator():
    assert mean(x for x in [2, 4]) == 3
