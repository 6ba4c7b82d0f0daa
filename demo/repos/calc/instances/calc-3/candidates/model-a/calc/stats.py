"""Descriptive statistics."""


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    return sum(data) / len(data)


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    half, odd = divmod(len(values), 2)
    if odd:
        return values[half]
    return sum(values[half - 1 : half + 1]) / 2
