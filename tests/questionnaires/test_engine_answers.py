"""Cleaning what a respondent submits, for every question type. Pure: no database."""

import pytest

from questionnaires.engine.answers import AnswerError, clean_answer, submitted_for
from questionnaires.engine.definition import QuestionType

from .builders import choices, question

COUNTRIES = frozenset({"CA", "FR", "AU"})


def clean(q, submitted):
    return clean_answer(q, submitted, countries=COUNTRIES)


@pytest.mark.parametrize("kind", ["single_choice", "likert", "yes_no_dk"])
def test_one_choice_types_take_one_offered_code(kind):
    q = question("Q", kind)
    assert clean(q, {"Q": ["B"]}).value == "B"
    assert clean(q, {}).value is None
    assert clean(q, {"Q": ["  "]}).value is None
    with pytest.raises(AnswerError, match="one of the answers offered"):
        clean(q, {"Q": ["ELSEWHERE"]})
    with pytest.raises(AnswerError, match="only one"):
        clean(q, {"Q": ["A", "B"]})


def test_single_choice_other_asks_for_its_text():
    q = question("Q", "single_choice", options=choices("A", other="OTHER"))
    answer = clean(q, {"Q": ["OTHER"], "Q.other": ["  Regional service  "]})
    assert (answer.value, answer.other_text) == ("OTHER", "Regional service")
    with pytest.raises(AnswerError, match="specify"):
        clean(q, {"Q": ["OTHER"]})
    assert clean(q, {"Q": ["A"], "Q.other": ["ignored"]}).other_text == ""


def test_multiple_choice_keeps_the_questionnaires_order_and_limits():
    q = question(
        "Q",
        "multiple_choice",
        options=choices("A", "B", "C", "D", other="OTHER"),
        max_choices=3,
        min_choices=2,
    )
    assert clean(q, {"Q": ["C", "A"]}).value == ["A", "C"]
    assert clean(q, {"Q": ["C", "A", "A"]}).value == ["A", "C"]
    with pytest.raises(AnswerError, match="at most 3"):
        clean(q, {"Q": ["A", "B", "C", "D"]})
    with pytest.raises(AnswerError, match="at least 2"):
        clean(q, {"Q": ["A"]})
    with pytest.raises(AnswerError, match="among the answers offered"):
        clean(q, {"Q": ["A", "FROM_ANOTHER_QUESTION"]})
    answer = clean(q, {"Q": ["A", "OTHER"], "Q.other": ["Mentoring"]})
    assert (answer.value, answer.other_text) == (["A", "OTHER"], "Mentoring")


@pytest.mark.parametrize("kind", ["short_text", "long_text"])
def test_text_is_trimmed_and_limited(kind):
    q = question("Q", kind, max_length=20)
    assert clean(q, {"Q": ["  Staff training\r\n "]}).value == "Staff training"
    assert clean(q, {"Q": [""]}).value is None
    with pytest.raises(AnswerError, match="under 20 characters"):
        clean(q, {"Q": ["x" * 21]})
    with pytest.raises(AnswerError, match="cannot be stored"):
        clean(q, {"Q": ["nul\x00byte"]})


def test_text_has_a_hard_limit_even_without_max_length():
    with pytest.raises(AnswerError):
        clean(question("Q", "short_text"), {"Q": ["x" * 501]})
    with pytest.raises(AnswerError):
        clean(question("Q", "long_text"), {"Q": ["x" * 1_000_000]})


def test_number_checks_limits_and_accepts_a_decimal_comma():
    q = question("Q", "number", min_value=0, max_value=100)
    assert clean(q, {"Q": ["12"]}).value == "12"
    assert clean(q, {"Q": ["3,5"]}).value == "3.5"
    assert clean(q, {"Q": ["1e1"]}).value == "10"
    for bad, message in [
        ("abc", "Enter a number"),
        ("-1", "at least 0"),
        ("101", "at most 100"),
        ("NaN", "Enter a number"),
        ("Infinity", "Enter a number"),
        ("9" * 40, "Enter a number"),
    ]:
        with pytest.raises(AnswerError, match=message):
            clean(q, {"Q": [bad]})


@pytest.mark.parametrize(
    "hostile", ["1e999999999", "1e-999999999", "1e25", "-1e15", "1e-30", "0.00000000001"]
)
def test_numbers_that_would_overflow_or_lose_precision_are_refused(hostile):
    with pytest.raises(AnswerError):
        clean(question("Q", "number"), {"Q": [hostile]})


def test_numbers_at_the_limits_are_kept_exactly():
    q = question("Q", "number")
    assert clean(q, {"Q": ["0.0000000001"]}).value == "0.0000000001"
    assert clean(q, {"Q": ["99999999999999"]}).value == "99999999999999"
    assert clean(q, {"Q": ["2.50"]}).value == "2.5"
    assert clean(q, {"Q": ["0"]}).value == "0"
    assert clean(q, {"Q": ["1E+1"]}).value == "10"


def test_integer_only_number():
    q = question("Q", "number", integer_only=True)
    assert clean(q, {"Q": ["7.0"]}).value == "7"
    with pytest.raises(AnswerError, match="whole number"):
        clean(q, {"Q": ["7.5"]})


def test_country_takes_an_iso_code():
    q = question("Q", "country")
    assert clean(q, {"Q": ["CA"]}).value == "CA"
    with pytest.raises(AnswerError):
        clean(q, {"Q": ["XX"]})


def test_ranking_needs_each_rank_once():
    q = question("Q", "ranking")
    assert clean(q, {"Q.X": ["2"], "Q.Y": ["3"], "Q.Z": ["1"]}).value == ["Z", "X", "Y"]
    assert clean(q, {}).value is None
    with pytest.raises(AnswerError, match="each rank once"):
        clean(q, {"Q.X": ["1"], "Q.Y": ["1"], "Q.Z": ["2"]})
    with pytest.raises(AnswerError, match="every item a rank"):
        clean(q, {"Q.X": ["1"]})
    with pytest.raises(AnswerError, match="from 1 to 3"):
        clean(q, {"Q.X": ["4"], "Q.Y": ["1"], "Q.Z": ["2"]})


def test_matrix_takes_one_scale_point_per_row():
    q = question("Q", "matrix")
    assert clean(q, {"Q.X": ["A"], "Q.Z": ["C"]}).value == {"X": "A", "Z": "C"}
    with pytest.raises(AnswerError):
        clean(q, {"Q.X": ["NOPE"]})
    required = question("Q", "matrix", required=True)
    with pytest.raises(AnswerError, match="every row"):
        clean(required, {"Q.X": ["A"]})


@pytest.mark.parametrize("kind", list(QuestionType))
def test_a_saved_value_fills_the_form_back_to_the_same_value(kind):
    q = question("Q", kind)
    sample = {
        "single_choice": "B",
        "likert": "B",
        "yes_no_dk": "B",
        "multiple_choice": ["A", "C"],
        "short_text": "text",
        "long_text": "more text",
        "number": "12.5",
        "country": "FR",
        "ranking": ["Z", "X", "Y"],
        "matrix": {"X": "A", "Y": "C"},
    }[kind.value]
    assert clean(q, submitted_for(q, sample)).value == sample
