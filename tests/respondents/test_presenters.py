"""How answers read on the review, thank-you and printable pages."""

import pytest

from questionnaires.selectors import questionnaire_definition
from respondents.presenters import describe_answer

pytestmark = pytest.mark.django_db


def test_matrix_rows_read_in_the_questionnaires_order_whatever_order_the_database_kept(open_questionnaire):
    definition = questionnaire_definition(open_questionnaire)
    matrix = definition.question("D1_Q7")
    first, second = (item.code for item in matrix.items[:2])
    as_saved = {first: "LOW", second: "HIGH"}
    as_jsonb_returns_it = {second: "HIGH", first: "LOW"}  # jsonb: shorter keys first
    assert describe_answer(definition, matrix, {"D1_Q7": as_jsonb_returns_it}, "en") == describe_answer(
        definition, matrix, {"D1_Q7": as_saved}, "en"
    )
    assert describe_answer(definition, matrix, {"D1_Q7": as_jsonb_returns_it}, "en").startswith("Isolation")
