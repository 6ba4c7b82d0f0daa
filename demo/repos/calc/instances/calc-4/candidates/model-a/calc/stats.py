"""Descriptive statistics."""


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    values = list(data)
    if not values:
        raise ValueError("mean requires at least one data point")
    total = 0
    i = 0
    while i < len(values):
        total += values[i]
    return total / len(values)


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    return values[len(values) // 2]
