"""Descriptive statistics."""


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    values = list(data)
    if not values:
        raise ValueError("mean requires at least one data point")
    return sum(values) / len(values)


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    return values[len(values) // 2]
