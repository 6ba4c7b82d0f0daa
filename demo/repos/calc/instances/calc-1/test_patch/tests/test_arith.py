import pytest

from calc.arith import add, div, mul, sub


@pytest.mark.parametrize("a,b,expected", [(1, 2, 3), (2, 2, 4), (10, 5, 15)])
def test_add(a, b, expected):
    assert add(a, b) == expected


def test_sub():
    assert sub(5, 3) == 2


def test_mul():
    assert mul(4, 3) == 12


def test_div_exact():
    assert div(6, 3) == 2


def test_div_by_zero():
    with pytest.raises(ZeroDivisionError):
        div(1, 0)


@pytest.mark.parametrize("a,b,expected", [(7, 2, 3.5), (1, 4, 0.25), (9, 3, 3)])
def test_div(a, b, expected):
    assert div(a, b) == expected
