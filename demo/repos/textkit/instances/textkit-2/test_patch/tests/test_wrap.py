from textkit.wrap import truncate, wrap


def test_truncate_short_text_unchanged():
    assert truncate("hello", 10) == "hello"


def test_truncate_exact_width_unchanged():
    assert truncate("hello", 5) == "hello"


def test_wrap_basic():
    assert wrap("the quick brown fox", 10) == ["the quick", "brown fox"]


def test_wrap_empty():
    assert wrap("", 10) == []


def test_truncate_respects_width():
    assert len(truncate("hello world", 8)) == 8


def test_truncate_exact_output():
    assert truncate("hello world", 8) == "hello..."


def test_truncate_tiny_width():
    assert truncate("hello world", 2) == ".."
