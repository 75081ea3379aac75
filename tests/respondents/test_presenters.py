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


def test_an_unanswered_question_is_rendered_once_and_looks_as_if_rendered_afresh(
    open_questionnaire, monkeypatch
):
    from django.utils import translation

    from respondents import widgets
    from respondents.presenters import question_views

    definition = questionnaire_definition(open_questionnaire)
    domain = definition.domain_of["D1_Q4"]
    renders = []
    real_render = widgets.render_question
    monkeypatch.setattr(
        widgets, "render_question", lambda view: renders.append(view.code) or real_render(view)
    )

    def page(language: str, answers: dict) -> dict[str, str]:
        with translation.override(language):
            views = question_views(definition=definition, domain=domain, answers=answers, language=language)
            return {view.code: str(view.html) for view in views}

    senior = {"P_LEVEL": "SENIOR"}  # the domain shows
    first = page("en", senior)
    assert len(renders) == len(domain.questions)
    assert page("en", senior) == first and len(renders) == len(domain.questions)  # kept, not rendered again
    # As rendered afresh, in each language, and an answered question not from the kept HTML.
    with translation.override("en"):
        views = question_views(definition=definition, domain=domain, answers=senior, language="en")
        assert {view.code: str(real_render(view)) for view in views} == first
    french = page("fr", senior)
    assert french != first and "(obligatoire)" in "".join(french.values())
    answered = page("en", {**senior, "D1_Q3": "YES", "D1_Q4": "Unit X"})
    assert 'value="Unit X"' in answered["D1_Q4"] and "hidden" not in answered["D1_Q4"].split(">")[0]
    assert answered["D1_Q5"] != first["D1_Q5"]  # a follow-up shown now: its visible copy
    assert answered["D1_Q6"] == first["D1_Q6"] and 'id="q-D1_Q6" data-code="D1_Q6">' in first["D1_Q6"]
