"""calc: small arithmetic utilities."""

from calc.arith import add, div, mul, sub

__all__ = ["add", "div", "mul", "sub"]
