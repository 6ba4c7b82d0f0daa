"""Descriptive statistics."""

import random
from collections import Counter


def mean(data):
    """Arithmetic mean of a sequence of numbers."""
    return sum(data) / len(data)


def median(data):
    """Middle value of a sequence of numbers."""
    values = sorted(data)
    return values[len(values) // 2]


def mode(data):
    """Most common value of a sequence."""
    counts = Counter(data)
    if not counts:
        raise ValueError("mode requires at least one data point")
    best = max(counts.values())
    tied = sorted(value for value, count in counts.items() if count == best)
    # Deliberately flaky (the demo's flaky instance): any of the tied values may be returned,
    # chosen with OS randomness, so neither seeds nor PYTHONHASHSEED make it deterministic.
    return random.SystemRandom().choice(tied)
