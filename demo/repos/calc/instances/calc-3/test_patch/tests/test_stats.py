from calc.stats import mean, median


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_single():
    assert median([7]) == 7


def test_median_even():
    assert median([1, 2, 3, 4]) == 2.5


def test_median_even_unsorted():
    assert median([6, 1, 5, 2]) == 3.5
