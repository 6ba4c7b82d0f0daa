from calc.expr import evaluate, tokenize


def test_tokenize():
    assert tokenize("12 + 3") == [12, "+", 3]


def test_evaluate_single_number():
    assert evaluate("42") == 42


def test_evaluate_addition():
    assert evaluate("1 + 2 + 3") == 6


def test_evaluate_subtraction():
    assert evaluate("10 - 4 - 3") == 3


def test_precedence():
    assert evaluate("2 + 3 * 4") == 14


def test_precedence_mixed():
    assert evaluate("2 * 3 + 4 * 5 - 6") == 20
