"""Make URL-friendly slugs."""


def slugify(text):
    """Hello World -> hello-world"""
    words = "".join(ch if ch.isalnum() else " " for ch in text.lower()).split()
    return "-".join(words)
