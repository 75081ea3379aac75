import pytest

from consultation.numbers import whole_number


@pytest.mark.parametrize(
    ("text", "digits", "expected"),
    [("42", 18, 42), ("007", 18, 7), ("", 18, None), ("-1", 18, None), ("²", 18, None), ("١٢", 18, None),
     ("1e3", 18, None), ("9" * 18, 18, 10**18 - 1), ("9" * 19, 18, None), ("1234567890", 9, None)],
)  # fmt: skip
def test_only_ascii_digits_within_the_limit_are_a_whole_number(text, digits, expected):
    assert whole_number(text, digits=digits) == expected
