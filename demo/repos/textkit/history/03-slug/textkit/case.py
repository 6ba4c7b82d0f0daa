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


def title_case(text):
    """the quick fox -> The Quick Fox"""
    return " ".join(word.capitalize() for word in text.split())


def kebab_case(text):
    """helloWorld -> hello-world"""
    return snake_case(text).replace("_", "-")
