"""Basic arithmetic on numbers."""


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    """Divide a by b."""
    if b == 0:
        raise ZeroDivisionError("division by zero")
    quotient = a / b
    return int(quotient) if quotient.is_integer() else quotient
