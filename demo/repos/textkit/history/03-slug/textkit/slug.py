"""Make URL-friendly slugs."""


def slugify(text):
    """Hello World -> hello-world"""
    text = text.lower()
    return "".join(ch if ch.isalnum() else "-" for ch in text)
