import pytest

from textkit.case import camel_case, kebab_case, snake_case, title_case


@pytest.mark.parametrize(
    "text,expected",
    [("helloWorld", "hello_world"), ("already_snake", "already_snake"), ("Name", "name")],
)
def test_snake_case(text, expected):
    assert snake_case(text) == expected


def test_camel_case():
    assert camel_case("hello_big_world") == "helloBigWorld"


def test_title_case_basic():
    assert title_case("the quick fox") == "The Quick Fox"


def test_kebab_case():
    assert kebab_case("helloWorld") == "hello-world"


@pytest.mark.parametrize(
    "text,expected",
    [
        pytest.param("the lord of the rings", "The Lord of the Rings", id="rings"),
        pytest.param("war and peace", "War and Peace", id="war-and-peace"),
        pytest.param("a tale of two cities", "A Tale of Two Cities", id="first-word"),
    ],
)
def test_title_case_small_words(text, expected):
    assert title_case(text) == expected
