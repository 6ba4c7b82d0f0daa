"""calc: small arithmetic utilities."""

from calc.arith import add, div, mul, sub
from calc.expr import evaluate
from calc.stats import mean, median

__all__ = ["add", "div", "evaluate", "mean", "median", "mul", "sub"]
