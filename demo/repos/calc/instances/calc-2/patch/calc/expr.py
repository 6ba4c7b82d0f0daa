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
    """Evaluate an expression of integers and + - * / operators (* and / bind tighter)."""
    tokens = tokenize(text)
    terms = [tokens[0]]
    ops = []
    for i in range(1, len(tokens), 2):
        op, value = tokens[i], tokens[i + 1]
        if op in "*/":
            terms[-1] = OPS[op](terms[-1], value)
        else:
            ops.append(op)
            terms.append(value)
    result = terms[0]
    for op, value in zip(ops, terms[1:]):
        result = OPS[op](result, value)
    return result
