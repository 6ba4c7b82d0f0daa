from textkit.slug import slugify


def test_slugify_simple():
    assert slugify("hello") == "hello"


def test_slugify_lowercase():
    assert slugify("Hello World") == "hello-world"
