import pytest

from textkit.case import camel_case, snake_case, title_case


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


@pytest.mark.parametrize(
    "text,expected",
    [("HTTPServer", "http_server"), ("parseXMLFile", "parse_xml_file"), ("userID", "user_id")],
)
def test_snake_case_acronym(text, expected):
    assert snake_case(text) == expected
