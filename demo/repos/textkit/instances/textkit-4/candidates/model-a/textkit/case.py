"""Convert identifiers and titles between letter cases."""


def snake_case(text):
    """helloWorld -> hello_world"""
    out = []
    for i, ch in enumerate(text):
        if ch.isupper() and i > 0:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def camel_case(text):
    """hello_world -> helloWorld"""
    first, *rest = text.split("_")
    return first.lower() + "".join(word.capitalize() for word in rest)


SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


def title_case(text):
    """the lord of the rings -> The Lord of the Rings"""
    words = [word.capitalize() for word in text.split()]
    for i in range(1, len(words)):
        if words[i].lower() in SMALL_WORDS:
            words[i] = words[i].lower()
    return " ".join(words)


def kebab_case(text):
    """helloWorld -> hello-world"""
    return snake_case(text).replace("_", "-")
