from textkit.slug import slugify


def test_slugify_simple():
    assert slugify("hello") == "hello"


def test_slugify_lowercase():
    assert slugify("Hello World") == "hello-world"


def test_slugify_collapses_separators():
    assert slugify("Hello,  World") == "hello-world"


def test_slugify_strips_edges():
    assert slugify("  --Hello World!-- ") == "hello-world"
