"""Descriptive statistics."""


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    return sum(data) / len(data)


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    return values[len(values) // 2]
