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
    # first pass: fold the high-precedence operators into their left operand
    stack = [tokens[0]]
    for i in range(1, len(tokens), 2):
        op, value = tokens[i], tokens[i + 1]
        if op in ("*", "/"):
            stack[-1] = OPS[op](stack[-1], value)
        else:
            stack.extend([op, value])
    # second pass: + and - from left to right
    result = stack[0]
    for i in range(1, len(stack), 2):
        result = OPS[stack[i]](result, stack[i + 1])
    return result
