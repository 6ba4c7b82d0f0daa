"""Fit text into a given width."""


def truncate(text, width, suffix="..."):
    """Shorten text to at most width characters, marking the cut with suffix."""
    cut = max(width - len(suffix), 0)
    return text[:cut] + suffix


def wrap(text, width):
    """Break text into lines of at most width characters, at spaces."""
    lines = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines
