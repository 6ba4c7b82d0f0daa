"""A tiny calculator: the repository of evalfleet's SWE-bench Pro demo instance."""


def add(a, b):
    return a + b


def mean(values):
    return sum(values) / len(values) if values else 0


def clamp(x, low, high):
    return max(low, x)
