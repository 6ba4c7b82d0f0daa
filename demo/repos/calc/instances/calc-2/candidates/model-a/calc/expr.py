"""Evaluate simple arithmetic expressions such as ``2 + 3 * 4``."""

from calc.arith import add, div, mul, sub

OPS = {"+": add, "-": sub, "*": mul, "/": div}


def tokenize(text):
    """Split an expression into integer and operator tokens."""
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            tokens.append(int(text[i:j]))
            i = j
        elif ch in OPS:
            tokens.append(ch)
            i += 1
        else:
            raise ValueError(f"unexpected character {ch!r}")
    return tokens


def evaluate(text):
    """Evaluate an expression of integers and + - * / operators."""
    tokens = tokenize(text)
    # evaluate from the right so that the later operators are applied first
    result = tokens[-1]
    for i in range(len(tokens) - 2, 0, -2):
        result = OPS[tokens[i]](tokens[i - 1], result)
    return result
