"""Evaluate simple arithmetic expressions such as ``2 + 3 * 4``."""

from calc.arith import add, div, mul, sub

OPS = {"+": add, "-": sub, "*": mul, "/": div}


def tokenize(text):
    """Split an expression into integer and operator tokens."""
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        expects_number = not tokens or isinstance(tokens[-1], str)
        if ch.isspace():
            i += 1
        elif ch.isdigit() or (ch == "-" and expects_number):
            j = i + 1
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
    result = tokens[0]
    for i in range(1, len(tokens), 2):
        result = OPS[tokens[i]](result, tokens[i + 1])
    return result
