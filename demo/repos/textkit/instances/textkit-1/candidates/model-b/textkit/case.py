"""Convert identifiers and titles between letter cases."""

import re


def snake_case(text):
    """helloWorld -> hello_world"""
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", text).lower()


def camel_case(text):
    """hello_world -> helloWorld"""
    first, *rest = text.split("_")
    return first.lower() + "".join(word.capitalize() for word in rest)


def title_case(text):
    """the quick fox -> The Quick Fox"""
    return " ".join(word.capitalize() for word in text.split())
