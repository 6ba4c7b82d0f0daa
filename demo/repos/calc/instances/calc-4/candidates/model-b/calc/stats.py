"""Descriptive statistics."""


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    total = count = 0
    for value in data:
        total += value
        count += 1
    if count == 0:
        raise ValueError("mean requires at least one data point")
    return total / count


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    return values[len(values) // 2]
