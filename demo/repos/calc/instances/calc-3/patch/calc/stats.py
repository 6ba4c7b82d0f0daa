"""Descriptive statistics."""


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    return sum(data) / len(data)


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    n = len(values)
    mid = n // 2
    if n % 2 == 0:
        return (values[mid - 1] + values[mid]) / 2
    return values[mid]
